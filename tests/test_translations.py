"""The translation workflow (issue 12): per-message review state, export to PO (Babel) or CSV, and a
validated import with a dry run. Round trip: export, edit, import, identical catalog semantics."""

from __future__ import annotations

import csv
import io
import shutil

import pytest
from babel.messages.pofile import read_po, write_po
from click.testing import CliRunner

from conftest import write_district
from test_admin import PASSWORD_HASH, sign_in
from hotline.cli import main
from hotline.content import messages_dir
from hotline.messages import load_catalogs
from hotline.translations import review_states


@pytest.fixture()
def content(tmp_path, monkeypatch):
    """A district with its own copy of the catalogs (what a district's office would edit)."""
    folder = tmp_path / "messages"
    shutil.copytree(messages_dir(), folder)
    monkeypatch.setenv("HOTLINE_DISTRICT", str(write_district(tmp_path / "d", {"content": {"messages": str(folder)}})))
    return folder


def run(*args) -> tuple[int, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.output


def semantics(folder, code):
    catalog = load_catalogs(folder).get(code)
    return {k: (e.text, e.sms, e.voice) for k, e in catalog.entries.items()}, dict(catalog.keywords)


def test_an_unedited_round_trip_changes_nothing(content, tmp_path):
    before = (content / "so.yaml").read_text(encoding="utf-8")
    code, output = run("translations", "export", "so", "--format", "po", "-o", tmp_path / "so.po")
    assert code == 0 and "0 reviewed" in output
    code, output = run("translations", "import", tmp_path / "so.po")
    assert code == 0 and "so: 0 translation(s) changed" in output, output
    assert (content / "so.yaml").read_text(encoding="utf-8") == before


def test_po_round_trip_edit_review_import(content, tmp_path):
    before_entries, before_keywords = semantics(content, "so")
    run("translations", "export", "so", "--format", "po", "-o", tmp_path / "so.po")
    with (tmp_path / "so.po").open("rb") as handle:
        po = read_po(handle)
    edited = "Ilmo kasta wuxuu xaq u leeyahay dugsi dadweyne. (dib loo eegay)"
    for message in po:
        if message.context == "family.rights.school":
            assert message.fuzzy and message.id.startswith("Every child has the right")
            message.string = edited
            message.flags.discard("fuzzy")          # the reviewer checked it
        if message.context == "family.menu.prompt#voice":
            message.flags.discard("fuzzy")          # checked, but its text form stays unreviewed
    with (tmp_path / "so.po").open("wb") as handle:
        write_po(handle, po, width=0)

    code, output = run("translations", "import", tmp_path / "so.po", "--dry-run", "--reviewer", "Hodan A.")
    assert code == 0, output
    assert '-  family.rights.school: "Ilmo kasta' in output and f'+  family.rights.school: "{edited}"' in output
    assert "Dry run: nothing was changed." in output
    assert semantics(content, "so") == (before_entries, before_keywords)

    code, output = run("translations", "import", tmp_path / "so.po", "--reviewer", "Hodan A.")
    assert code == 0 and "1 translation(s) changed, 1 message(s) reviewed" in output, output
    after_entries, after_keywords = semantics(content, "so")
    assert after_entries["family.rights.school"][0] == edited
    assert {k: v for k, v in after_entries.items() if k != "family.rights.school"} == \
        {k: v for k, v in before_entries.items() if k != "family.rights.school"}
    assert after_keywords == before_keywords
    states = review_states(load_catalogs(content), "so")
    assert states["family.rights.school"] == "reviewed"
    assert states["family.menu.prompt"] == "unreviewed", "one fuzzy form keeps the message unreviewed"
    assert "Hodan A." in (content / "reviews" / "so.yaml").read_text(encoding="utf-8")

    # Exported again: the reviewed entry is no longer fuzzy.
    code, output = run("translations", "export", "so")
    assert '#. not reviewed yet\n#, fuzzy, python-brace-format\nmsgctxt "family.rights.school"' not in output
    assert f'msgctxt "family.rights.school"\nmsgid "Every child has the right' in output
    assert 'msgstr "' + edited in output


def test_a_message_changed_in_english_is_unreviewed_in_every_language(content, tmp_path, monkeypatch):
    for lang in ("es", "so"):
        run("translations", "export", lang, "--format", "csv", "-o", tmp_path / f"{lang}.csv")
        rows = list(csv.DictReader(io.StringIO((tmp_path / f"{lang}.csv").read_text(encoding="utf-8"))))
        for row in rows:
            row["reviewed"] = "yes" if row["context"].startswith("family.rights.status") else "no"
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        (tmp_path / f"{lang}.csv").write_text(out.getvalue(), encoding="utf-8")
        assert run("translations", "import", tmp_path / f"{lang}.csv")[0] == 0
    catalogs = load_catalogs(content)
    assert review_states(catalogs, "es")["family.rights.status"] == "reviewed"
    assert review_states(catalogs, "so")["family.rights.status"] == "reviewed"

    english = (content / "en.yaml").read_text(encoding="utf-8")
    (content / "en.yaml").write_text(english.replace("The district does not ask for or keep",
                                                     "The district never asks for or keeps"), encoding="utf-8")
    catalogs = load_catalogs(content)
    for lang in ("es", "so"):
        assert review_states(catalogs, lang)["family.rights.status"] == "changed", lang
    code, output = run("check")
    assert "review: es: English changed since the review of 1 message(s): family.rights.status" in output
    assert "review: so: English changed since the review of 1 message(s): family.rights.status" in output


def test_the_import_is_validated_and_changes_nothing_when_wrong(content, tmp_path):
    run("translations", "export", "vi", "--format", "csv", "-o", tmp_path / "vi.csv")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "vi.csv").read_text(encoding="utf-8"))))
    for row in rows:
        if row["context"] == "family.update.sent":
            row["translation"] = "Đã gửi. Số tham chiếu của quý vị là {referense}."
        if row["context"] == "keywords.menu":
            row["translation"] = "MENU, STOP"
        if row["context"] == "family.rights.help":
            row["translation"] = "Trợ giúp pháp lý miễn phí: {resources}. " * 12
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    (tmp_path / "vi.csv").write_text(out.getvalue(), encoding="utf-8")
    before = (content / "vi.yaml").read_text(encoding="utf-8")
    code, output = run("translations", "import", tmp_path / "vi.csv")
    assert code == 1
    assert "vi.csv: family.update.sent: placeholders ['referense'] differ from English ['reference']" in output
    assert "keywords.menu: 'STOP' is a word Twilio reserves" in output
    assert "family.rights.help:" in output and "over the budget of 3" in output
    assert (content / "vi.yaml").read_text(encoding="utf-8") == before


def test_the_dashboard_language_page_shows_per_message_review(make_hotline):
    hotline = make_hotline(admin_password_hash=PASSWORD_HASH)
    client = hotline.app.test_client()
    assert sign_in(client).status_code == 302
    page = client.get("/admin/languages").get_data(as_text=True)
    english = load_catalogs(messages_dir()).get("en")
    total = len(english.entries) + len(english.keywords)
    assert "Messages reviewed" in page and f"{total}/{total}" in page and f"0/{total}" in page
    assert "not reviewed" in page and "<code>family.rights.status</code>" in page
