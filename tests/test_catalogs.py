"""Catalog completeness: every key a flow or the code uses exists in every language with the same
placeholders; keywords are safe; reviews are honest; fallback is visible, never blank."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import hotline
from hotline.catalog_rules import CHANGING_KEYWORDS
from hotline.content import flows_dir, messages_dir
from hotline.engine import load_flows, normalize
from hotline.engine.keywords import RESERVED_WORDS
from hotline.engine.validators import VALIDATOR_KEYS
from hotline.incidents.records import STATUSES, TYPES
from hotline.messages import Catalogs, Entry, load_catalogs, placeholders
from hotline.office_requests import TYPES as REQUEST_TYPES

CATALOGS = load_catalogs(messages_dir())
ENGLISH = CATALOGS.get("en")
DEMO_LANGUAGES = ("en", "es", "ar", "vi", "so", "hmn", "my", "ksw", "rhg")
KEY_PATTERN = re.compile(r"[\"']((?:common|staff|family|escalation|office|reserved|language|format|whisper|voice)"
                         r"\.[a-z_]+(?:\.[a-z_]+)*)[\"']")


def keys_used_by_code() -> set[str]:
    found = set()
    for path in Path(hotline.__file__).parent.rglob("*.py"):
        if path.name == "district.py":      # its "escalation.tiers" etc. are district-file keys
            continue
        found.update(KEY_PATTERN.findall(path.read_text(encoding="utf-8")))
    # Keys built from a value: escalation.kind.<type>, staff.status.<status>, office.kind.<type>.
    found.update(f"escalation.kind.{t}" for t in TYPES)
    found.update(f"staff.notify.started_{t}" for t in TYPES)
    found.update(f"staff.status.{s}" for s in STATUSES)
    found.update(f"office.kind.{t}" for t in REQUEST_TYPES)
    return found | set(VALIDATOR_KEYS)


def test_the_catalogs_load_without_errors():
    assert [str(p) for p in CATALOGS.problems if not p.warning] == []
    assert set(DEMO_LANGUAGES) <= set(CATALOGS.codes)


def test_every_key_used_by_flows_and_code_is_in_english():
    used = load_flows(flows_dir()).message_keys() | keys_used_by_code()
    assert "staff.notify.failed" in used and "family.rights.detained" in used
    missing = sorted(used - set(ENGLISH.entries))
    assert missing == []


def test_every_english_key_is_used():
    """No dead text: a message nobody can receive is one a translator would still translate."""
    used = load_flows(flows_dir()).message_keys() | keys_used_by_code()
    assert sorted(set(ENGLISH.entries) - used) == []


@pytest.mark.parametrize("code", DEMO_LANGUAGES[1:])
def test_every_language_has_every_key_with_the_same_placeholders(code):
    catalog = CATALOGS.get(code)
    assert sorted(set(ENGLISH.entries) - set(catalog.entries)) == []
    for key, entry in ENGLISH.entries.items():
        assert placeholders(catalog.entries[key].text) == placeholders(entry.text), key
    assert set(catalog.keywords) == set(ENGLISH.keywords)


@pytest.mark.parametrize("code", DEMO_LANGUAGES)
def test_keywords_are_safe(code):
    catalog = CATALOGS.get(code)
    seen: dict[str, str] = {}
    for keyword_id, phrases in catalog.keywords.items():
        for phrase in phrases:
            word = normalize(phrase)
            assert word, f"{code}: empty keyword under {keyword_id}"
            assert not word.isdigit(), f"{code}: digits cannot be a keyword ({phrase})"
            if not (code == "en" and keyword_id == "yes"):
                assert word.upper() not in RESERVED_WORDS, f"{code}: {phrase} is a Twilio reserved word"
            assert seen.setdefault(word, keyword_id) == keyword_id, f"{code}: {phrase} under two ids"


def test_greetings_pick_one_language_each():
    owners: dict[str, set[str]] = {}
    for code in DEMO_LANGUAGES:
        for phrase in CATALOGS.get(code).keywords.get("hello", ()):
            owners.setdefault(normalize(phrase), set()).add(code)
    shared = {word: codes for word, codes in owners.items() if len(codes) > 1}
    assert shared == {}


def test_translations_are_marked_unreviewed_until_a_person_reviews_them():
    for code in DEMO_LANGUAGES[1:]:
        catalog = CATALOGS.get(code)
        assert catalog.reviewed is False, f"{code} says reviewed"
        assert "review" in catalog.note.lower()


def test_voices_are_declared_only_where_twilio_has_one():
    voiced = {code for code in DEMO_LANGUAGES if CATALOGS.get(code).voice}
    assert voiced == {"en", "es", "ar", "vi"}


def test_language_names_are_their_own():
    names = {code: CATALOGS.get(code).name for code in DEMO_LANGUAGES}
    assert names["es"] == "Español" and names["so"] == "Soomaali" and names["hmn"] == "Hmoob"
    assert names["ar"] == "العربية" and names["rhg"] == "Ruáingga"
    assert CATALOGS.get("ar").direction == "rtl" and CATALOGS.get("rhg").direction == "ltr"


def test_a_missing_translation_falls_back_visibly_never_blank(caplog):
    partial = Catalogs({"en": ENGLISH, "so": CATALOGS.get("so")}, [])
    so = partial.get("so")
    saved = so.entries.pop("common.goodbye")
    try:
        rendered = partial.render("so", "common.goodbye")
        assert rendered.text == ENGLISH.entries["common.goodbye"].text and rendered.fell_back
        assert "catalog fallback: key=common.goodbye wanted=so used=en" in caplog.text
    finally:
        so.entries["common.goodbye"] = saved
    assert partial.render("so", "no.such.key").text == "[no.such.key]"


def test_the_district_default_comes_before_english():
    catalogs = Catalogs({"en": ENGLISH, "es": CATALOGS.get("es"),
                         "so": type(CATALOGS.get("so"))(**{**CATALOGS.get("so").__dict__, "entries": {}})}, [])
    assert catalogs.render("so", "common.goodbye", default="es").language == "es"


def test_entries_pick_the_form_for_the_channel():
    entry = Entry("long text", sms="short", voice="spoken")
    assert (entry.form("sms"), entry.form("voice"), Entry("only").form("voice")) == ("short", "spoken", "only")


def test_no_staff_message_in_any_catalog_reads_as_blocking_or_detaining_an_officer():
    """Every staff.* message, every form, against English's list and the catalog's own
    (meta.forbidden_staff_phrases, docs/languages.md)."""
    for code in DEMO_LANGUAGES:
        assert CATALOGS.get(code).forbidden_staff_phrases, f"{code} has no list of its own"
    assert [str(p) for p in CATALOGS.problems if "blocking" in p.message] == []


def test_no_keyword_that_changes_an_incident_is_an_everyday_reply():
    for code in DEMO_LANGUAGES:
        assert CATALOGS.get(code).everyday_words, f"{code} lists no everyday replies"
    everyday = {normalize(w) for code in DEMO_LANGUAGES for w in CATALOGS.get(code).everyday_words}
    for code in DEMO_LANGUAGES:
        for keyword in CHANGING_KEYWORDS:
            for phrase in CATALOGS.get(code).keywords.get(keyword, ()):
                assert normalize(phrase) not in everyday, (code, keyword, phrase)
    assert [w for w in CATALOGS.get("es").keywords.get("done", ()) if normalize(w) in {"listo", "terminado"}] == []


def test_the_review_corrections_stay_applied():
    """Issue 12, section 3: words a review of the drafts found misleading for families."""
    arabic = CATALOGS.get("ar").entries
    for key in ("family.rights.opt_agents", "family.rights.agents", "family.rights.records"):
        assert "عملاء" not in arabic[key].text, f"ar {key}: bare 'agents' reads as clients or spies"
    assert "الجنسية" not in arabic["family.rights.status"].text, "citizenship, not nationality"
    assert "احتُجز" in arabic["family.rights.detained"].text and "حدِّث" in arabic["family.rights.detained"].text
    hmong = CATALOGS.get("hmn")
    assert "XAIV" not in hmong.keywords["menu"], '"xaiv 1" is an answer, not a restart'
    for key in ("family.rights.opt_agents", "family.rights.agents", "family.rights.records"):
        assert "tub ceev xwm" not in hmong.entries[key].text, f"hmn {key}: that is the police"
    somali = CATALOGS.get("so").entries
    assert "ilaa sharcigu" not in somali["family.rights.records"].text, '"until" where "unless" is meant'
    assert "saraakiisha socdaalka" in somali["family.rights.agents"].text
    spanish = CATALOGS.get("es").entries
    assert "recoger" in spanish["family.rights.detained"].text, "who can pick your child up"
    for code in CATALOGS.codes:
        for key, entry in CATALOGS.get(code).entries.items():
            if key.startswith("family."):
                assert "Departamento de Seguridad" not in entry.text and "đặc vụ" not in entry.text, (code, key)
    rohingya = CATALOGS.get("rhg").entries
    for key in ("family.menu.update", "family.update.ask_contact_name", "family.update.confirm",
                "family.rights.status", "family.rights.school"):
        for word in ("Emergency", "emergency", "citizen", "Constitution", "President"):
            assert word not in rohingya[key].text, f"rhg {key}: English word {word!r}"
    for code in ("es", "ar", "vi", "my", "ksw"):
        # The short SMS forms dropped "or you feel this promise was broken": the full text is sent.
        assert CATALOGS.get(code).entries["family.rights.report"].sms is None, code
    karen = CATALOGS.get("ksw").entries
    assert "immigration" in karen["family.rights.agents"].text or "တၢ်ဟဲနုာ်ကၢၤ" in karen["family.rights.agents"].text
