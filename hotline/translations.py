"""The translation workflow of a district's language-services office: per-message review state,
export in a translator's format (PO through Babel, or CSV) and a validated import.

Review state lives next to the catalogs, in ``messages/reviews/<lang>.yaml``: for each reviewed
message, the fingerprint of the English source it was reviewed against, who and when. A message
counts as reviewed only while English still has that fingerprint, so a message changed in English
becomes unreviewed in every language at once, without anyone editing eight files.

A PO file has one entry per message form: context = the key (``key#sms`` / ``key#voice`` for the
shorter text and the spoken forms; ``keywords.<id>`` for the words that start flows), msgid = the
English source, msgstr = the translation, and the *fuzzy* flag = not reviewed (translators' tools
show it). Importing a file applies the translations and takes the review state from it: an entry
without the fuzzy flag (or with ``reviewed: yes`` in CSV) is reviewed against today's English.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import hashlib
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from babel.messages.catalog import Catalog as POCatalog
from babel.messages.pofile import read_po, write_po

from .engine.keywords import RESERVED_WORDS, normalize
from .messages import SOURCE_LANGUAGE, Catalog, Catalogs, Entry, placeholders
from .segments import count_segments

SMS_BUDGET = 3          # segments (as `hotline check`)
FORMS = ("text", "sms", "voice")
STATES = ("reviewed", "unreviewed", "changed")     # changed: English changed since the review


# --- Review state ------------------------------------------------------------------------------

def fingerprint(value: Entry | Iterable[str]) -> str:
    """What a review is valid for: the English source (every form of a message, or the keywords)."""
    if isinstance(value, Entry):
        data = [value.text, value.sms, value.voice]
    else:
        data = list(value)
    return hashlib.sha256(json.dumps(data, ensure_ascii=False).encode()).hexdigest()[:12]


def reviews_path(catalog: Catalog) -> Path:
    return catalog.path.parent / "reviews" / f"{catalog.code}.yaml"


def load_reviews(catalog: Catalog) -> dict[str, dict]:
    path = reviews_path(catalog)
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(k): v for k, v in data.items() if isinstance(v, dict)}


def source_fingerprints(catalogs: Catalogs) -> dict[str, str]:
    english = catalogs.get(SOURCE_LANGUAGE)
    found = {key: fingerprint(entry) for key, entry in english.entries.items()}
    found.update({f"keywords.{kid}": fingerprint(words) for kid, words in english.keywords.items()})
    return found


def review_states(catalogs: Catalogs, code: str) -> dict[str, str]:
    """reviewed / unreviewed / changed for every message and keyword id of the language."""
    sources = source_fingerprints(catalogs)
    if code == SOURCE_LANGUAGE:
        return {key: "reviewed" for key in sources}
    reviews = load_reviews(catalogs.get(code))
    states = {}
    for key, source in sources.items():
        review = reviews.get(key)
        states[key] = "unreviewed" if review is None else \
            "reviewed" if review.get("source") == source else "changed"
    return states


@dataclass
class ReviewSummary:
    code: str
    total: int
    reviewed: int
    changed: list[str]
    unreviewed: list[str]


def review_summary(catalogs: Catalogs, code: str) -> ReviewSummary:
    states = review_states(catalogs, code)
    return ReviewSummary(code, len(states), sum(1 for s in states.values() if s == "reviewed"),
                         sorted(k for k, s in states.items() if s == "changed"),
                         sorted(k for k, s in states.items() if s == "unreviewed"))


# --- Units: one translatable form --------------------------------------------------------------

@dataclass
class Unit:
    context: str          # key, key#sms, key#voice, keywords.<id>
    english: str
    translation: str
    state: str
    note: str = ""


def _split_context(context: str) -> tuple[str, str]:
    key, _, form = context.partition("#")
    return key, form or "text"


def units(catalogs: Catalogs, code: str) -> list[Unit]:
    english = catalogs.get(SOURCE_LANGUAGE)
    catalog = catalogs.get(code)
    states = review_states(catalogs, code)
    found: list[Unit] = []
    for key, source in english.entries.items():
        theirs = catalog.entries.get(key) if catalog.code == code else None
        for form in FORMS:
            english_form = getattr(source, form)
            their_form = getattr(theirs, form) if theirs else None
            if form != "text" and not english_form and not their_form:
                continue
            context = key if form == "text" else f"{key}#{form}"
            note = {"sms": "shorter form for text messages", "voice": "spoken form (phone calls)"}.get(form, "")
            found.append(Unit(context, english_form or source.text, their_form or "", states[key], note))
    for keyword_id, words in english.keywords.items():
        theirs = catalog.keywords.get(keyword_id, ()) if catalog.code == code else ()
        found.append(Unit(f"keywords.{keyword_id}", ", ".join(words), ", ".join(theirs),
                          states[f"keywords.{keyword_id}"], "words people text to start this; comma-separated"))
    return found


# --- Export ------------------------------------------------------------------------------------

def export_po(catalogs: Catalogs, code: str) -> bytes:
    catalog = catalogs.get(code)
    po = POCatalog(project="Safe Haven Hotline", version=None, fuzzy=False,
                   header_comment=f"# Safe Haven Hotline: messages in {catalog.english_name} ({catalog.name}).\n"
                                  f"# Language code: {code}\n"
                                  "# Fuzzy = not reviewed yet: remove the flag once a fluent reader has checked\n"
                                  "# the entry. Keep every {placeholder} exactly as in English.")
    for unit in units(catalogs, code):
        comments = [c for c in (unit.note, {"changed": "English changed since this was reviewed",
                                            "unreviewed": "not reviewed yet"}.get(unit.state, "")) if c]
        po.add(unit.english, unit.translation, context=unit.context, auto_comments=comments,
               flags=() if unit.state == "reviewed" else ("fuzzy",))
    out = io.BytesIO()
    write_po(out, po, width=0, omit_header=False, include_previous=False)
    return out.getvalue()


CSV_COLUMNS = ["language", "context", "english", "translation", "reviewed", "note"]


def export_csv(catalogs: Catalogs, code: str) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    for unit in units(catalogs, code):
        writer.writerow({"language": code, "context": unit.context, "english": unit.english,
                         "translation": unit.translation, "reviewed": "yes" if unit.state == "reviewed" else "no",
                         "note": unit.note + ("; English changed since the review" if unit.state == "changed" else "")})
    return out.getvalue()


# --- Import ------------------------------------------------------------------------------------

@dataclass
class ImportResult:
    code: str
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    diff: str = ""
    changed: list[str] = field(default_factory=list)      # contexts whose translation changed
    reviewed: int = 0
    catalog_text: str = ""
    reviews: dict = field(default_factory=dict)


def read_file(path: Path) -> tuple[str | None, list[tuple[str, str, bool]]]:
    """(language code, [(context, translation, reviewed)]) from a PO or CSV file."""
    if path.suffix.lower() == ".csv":
        rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
        code = rows[0].get("language") if rows else None
        return code, [(r.get("context", ""), r.get("translation", "") or "", (r.get("reviewed", "") or "").strip()
                       .lower() in ("yes", "y", "true", "1")) for r in rows]
    with path.open("rb") as handle:
        po = read_po(handle)
    match = re.search(r"Language code: (\S+)", po.header_comment or "")
    found = []
    for message in po:
        if not message.id or not message.context:
            continue
        found.append((message.context, message.string if isinstance(message.string, str) else "", not message.fuzzy))
    return (match.group(1) if match else None), found


def plan_import(catalogs: Catalogs, path: Path, code: str | None = None, reviewer: str = "",
                today: dt.date | None = None) -> ImportResult:
    """Validate ``path`` against English and compute the new catalog and review file (nothing written)."""
    file_code, rows = read_file(path)
    code = code or file_code
    result = ImportResult(code or "?")
    if not code or code not in catalogs or code == SOURCE_LANGUAGE:
        result.errors.append(f"{path}: no translated language to import into (found {code!r}); "
                             f"fix: export again, or give --lang with one of {', '.join(c for c in catalogs.codes if c != SOURCE_LANGUAGE)}")
        return result
    english = catalogs.get(SOURCE_LANGUAGE)
    catalog = catalogs.get(code)
    current = {u.context: u for u in units(catalogs, code)}
    sources = source_fingerprints(catalogs)
    reviews = dict(load_reviews(catalog))
    today = today or dt.date.today()
    new_forms: dict[str, dict[str, str]] = {}
    new_keywords: dict[str, tuple[str, ...]] = {}
    flags: dict[str, list[bool]] = {}
    for context, translation, reviewed in rows:
        where = f"{path.name}: {context}"
        if context not in current:
            result.errors.append(f"{where}: is not a message of the hotline; fix: remove it, or export again")
            continue
        key, form = _split_context(context)
        translation = translation if translation.strip() else ""    # spaces matter (a prefix's last one)
        if context.startswith("keywords."):
            words = tuple(w.strip() for w in translation.split(",") if w.strip())
            if translation and words != tuple(catalog.keywords.get(key[len("keywords."):], ())):
                new_keywords[key[len("keywords."):]] = words
                result.changed.append(context)
        elif translation and translation != current[context].translation:
            new_forms.setdefault(key, {})[form] = translation
            result.changed.append(context)
        if translation:
            flags.setdefault(key, []).append(reviewed)
    # A message is reviewed only when every one of its forms in the file is (text, sms, voice); a
    # review still valid for today's English is kept as it was (who and when).
    for key, marks in flags.items():
        if all(marks):
            if reviews.get(key, {}).get("source") != sources[key]:
                reviews[key] = {"source": sources[key], "by": reviewer or "translator", "on": today.isoformat()}
        else:
            reviews.pop(key, None)
    _validate_messages(result, path, english, catalog, new_forms)
    _validate_keywords(result, path, catalog, new_keywords)
    result.reviews = {k: reviews[k] for k in sorted(reviews)}
    result.reviewed = sum(1 for k, r in reviews.items() if r.get("source") == sources.get(k))
    if result.errors:
        return result
    before = catalog.path.read_text(encoding="utf-8")
    after = apply_to_yaml(before, new_forms, new_keywords)
    result.catalog_text = after
    result.diff = "".join(difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                               f"messages/{code}.yaml", f"messages/{code}.yaml (imported)"))
    return result


def _validate_messages(result: ImportResult, path: Path, english: Catalog, catalog: Catalog,
                       new_forms: dict[str, dict[str, str]]) -> None:
    for key, forms in new_forms.items():
        source = english.entries[key]
        old = catalog.entries.get(key) or Entry("")
        merged = {f: forms.get(f, getattr(old, f)) for f in FORMS}
        english_any = set().union(*(placeholders(f) for f in source.forms()))
        try:
            text_placeholders = placeholders(merged["text"] or "")
            other = [placeholders(merged[f]) for f in ("sms", "voice") if merged[f]]
        except ValueError as exc:
            result.errors.append(f"{path.name}: {key}: a brace is not closed ({exc}); fix: write {{name}} exactly")
            continue
        if text_placeholders != placeholders(source.text):
            result.errors.append(f"{path.name}: {key}: placeholders {sorted(text_placeholders)} differ from English "
                                 f"{sorted(placeholders(source.text))}; fix: keep every {{placeholder}} exactly as in English")
        for found in other:
            if found - english_any:
                result.errors.append(f"{path.name}: {key}: placeholders {sorted(found - english_any)} are not in "
                                     f"English; fix: use only {sorted(english_any)}")
        sms = merged["sms"] or merged["text"]
        segments = count_segments(sms).segments
        if segments > SMS_BUDGET:
            result.warnings.append(f"{path.name}: {key}: {segments} SMS segments, over the budget of {SMS_BUDGET}; "
                                   "consider a shorter #sms form")


def _validate_keywords(result: ImportResult, path: Path, catalog: Catalog,
                       new_keywords: dict[str, tuple[str, ...]]) -> None:
    merged = {**catalog.keywords, **new_keywords}
    seen: dict[str, str] = {}
    for keyword_id, words in merged.items():
        for word in words:
            norm = normalize(word)
            where = f"{path.name}: keywords.{keyword_id}: {word!r}"
            if not norm:
                result.errors.append(f"{where} is empty after folding; fix: use letters")
            elif norm.isdigit():
                result.errors.append(f"{where} is digits, which answer menus; fix: use a word")
            elif norm.upper() in RESERVED_WORDS:
                result.errors.append(f"{where} is a word Twilio reserves (STOP, HELP...); fix: use another word")
            elif seen.setdefault(norm, keyword_id) != keyword_id:
                result.errors.append(f"{where} is also a keyword of {seen[norm]}; fix: keep it under one id")


# --- Writing the catalog, keeping its comments and layout -------------------------------------

def _entry_lines(key: str, forms: dict[str, str | None]) -> list[str]:
    def quoted(value: str) -> str:
        return json.dumps(value, ensure_ascii=False)
    present = {f: v for f, v in forms.items() if v}
    if set(present) == {"text"}:
        return [f"  {key}: {quoted(present['text'])}\n"]
    return [f"  {key}:\n", *(f"    {f}: {quoted(present[f])}\n" for f in FORMS if f in present)]


def _section(lines: list[str], name: str) -> tuple[int, int]:
    start = next((i for i, line in enumerate(lines) if line.rstrip() == f"{name}:"), None)
    if start is None:
        return len(lines), len(lines)
    end = next((i for i in range(start + 1, len(lines)) if lines[i] and not lines[i][0].isspace()
                and not lines[i].startswith("#") and lines[i].strip()), len(lines))
    return start + 1, end


def _find(lines: list[str], key: str, lo: int, hi: int) -> tuple[int, int] | None:
    pattern = re.compile(r'^  "?' + re.escape(key) + r'"?:(\s|$)')
    for i in range(lo, hi):
        if pattern.match(lines[i]):
            j = i + 1
            while j < hi and lines[j].startswith("    "):
                j += 1
            return i, j
    return None


def apply_to_yaml(text: str, forms: dict[str, dict[str, str]], keywords: dict[str, tuple[str, ...]]) -> str:
    lines = text.splitlines(keepends=True)
    parsed = yaml.safe_load(text) or {}
    messages = parsed.get("messages") or {}
    for key, changes in forms.items():
        raw = messages.get(key)
        old = {"text": raw} if isinstance(raw, str) else dict(raw or {})
        merged = {f: changes.get(f, old.get(f)) for f in FORMS}
        lo, hi = _section(lines, "messages")
        found = _find(lines, key, lo, hi)
        new = _entry_lines(key, merged)
        if found:
            lines[found[0]:found[1]] = new
        else:
            lines[hi:hi] = new
    for keyword_id, words in keywords.items():
        lo, hi = _section(lines, "keywords")
        quoted_id = f'"{keyword_id}"' if keyword_id in ("yes", "no") else keyword_id
        new = [f"  {quoted_id}: {json.dumps(list(words), ensure_ascii=False)}\n"]
        found = _find(lines, keyword_id, lo, hi)
        if found:
            lines[found[0]:found[1]] = new
        else:
            lines[hi:hi] = new
    return "".join(lines)


def write_import(catalogs: Catalogs, result: ImportResult) -> None:
    catalog = catalogs.get(result.code)
    catalog.path.write_text(result.catalog_text, encoding="utf-8")
    path = reviews_path(catalog)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = ("# Per-message review state of messages/{code}.yaml, written by `hotline translations import`.\n"
              "# A message counts as reviewed while its English source still has this fingerprint.\n").format(
        code=result.code)
    path.write_text(header + yaml.safe_dump(result.reviews, allow_unicode=True, sort_keys=True, width=1000),
                    encoding="utf-8")
