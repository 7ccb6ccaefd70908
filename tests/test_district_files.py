"""District files: the demo loads as documented, and every broken file names the file, the key
and the fix — both when loading and through `hotline check`."""

from __future__ import annotations

import pytest
import yaml
from click.testing import CliRunner

from conftest import FAMILY_LINE, FRONT_DESK, LEGAL, STAFF_LINE, write_district
from hotline.cli import main
from hotline.content import demo_district, messages_dir
from hotline.district import load_directory, read_directory
from hotline.messages import load_catalogs
from hotline.problems import ConfigError

LANGUAGES = load_catalogs(messages_dir()).codes


def test_demo_district_has_the_documented_numbers():
    district = load_directory(demo_district(), LANGUAGES).single
    assert district.name == "Demo Unified School District"
    assert str(district.timezone) == "America/Denver"
    assert {(line.kind, line.number) for line in district.lines} == {("staff", STAFF_LINE), ("family", FAMILY_LINE)}
    assert district.contacts["legal_office"].number == LEGAL
    assert district.contacts["safety"].number == "+13035550111"
    assert district.contacts["backup_counsel"].number == "+13035550112"
    assert district.contacts["civil_rights"].number == "+13035550113"
    assert district.schools["lincoln"].office == "+13035550130"
    assert district.roster[FRONT_DESK].school == "lincoln"
    assert district.roster["+13035550121"].role == "principal"
    assert district.roster["+13035550122"].school == "roosevelt"
    assert district.languages == ("en", "es", "ar", "vi", "so", "hmn", "my", "ksw", "rhg")


def test_numbers_are_parsed_to_e164(tmp_path):
    path = write_district(tmp_path, {"contacts": {"legal_office": {"number": "(303) 555-0110"}}})
    district = load_directory(path, LANGUAGES).single
    assert district.contacts["legal_office"].number == "+13035550110"


BROKEN = [
    # (what, change to the demo district, key that must be named, words in the message)
    ("bad number", {"contacts": {"safety": {"number": "555-CALL"}}}, "contacts.safety.number", "not a valid phone"),
    ("unknown language", {"district": {"languages": ["en", "xx"]}}, "district.languages", "'xx'"),
    ("line listed twice", {"lines": [{"number": STAFF_LINE, "kind": "staff"}, {"number": STAFF_LINE, "kind": "family"}]},
     "lines[1].number", "listed twice"),
    ("missing legal contact", {"contacts": {"legal_office": {"role": "other"}}}, "contacts", "no legal contact"),
    ("bad time zone", {"district": {"timezone": "Mars/Olympus"}}, "district.timezone", "not a time zone"),
    ("unknown line kind", {"lines": [{"number": STAFF_LINE, "kind": "teachers"}]}, "lines[0].kind", "not a line kind"),
    ("tier names an unknown contact", {"escalation": {"tiers": [{"notify": ["lawyer sms"]}]}},
     "escalation.tiers[0].notify", "'lawyer' is not a contact"),
    ("tier with a bad channel", {"escalation": {"tiers": [{"notify": ["safety fax"]}]}},
     "escalation.tiers[0].notify", "sms or voice"),
    ("bad wait", {"escalation": {"tiers": [{"notify": ["safety sms"], "wait": "soon"}]}},
     "escalation.tiers[0].wait", "not a duration"),
    ("roster school unknown", {"roster": {"+13035550123": {"name": "X", "role": "clerk", "school": "atlantis"}}},
     "roster.+13035550123.school", "not in schools"),
    ("bad hours", {"office_hours": {"legal": {"weekdays": "9 to 5"}}}, "office_hours.legal.weekdays",
     "not a time range"),
    ("contact hours unknown", {"contacts": {"legal_office": {"hours": "nights"}}}, "contacts.legal_office.hours",
     "not in office_hours"),
    ("staff code not digits", {"district": {"staff_code": "open sesame"}}, "district.staff_code", "4 to 8 digits"),
    ("default language not offered", {"district": {"default_language": "es", "languages": ["en"]}},
     "district.default_language", "not in district.languages"),
    ("bad rounds", {"escalation": {"rounds": 0}}, "escalation.rounds", "from 1 to 10"),
]


@pytest.mark.parametrize("what,change,key,words", BROKEN, ids=[case[0] for case in BROKEN])
def test_a_broken_district_file_names_file_and_key(tmp_path, what, change, key, words):
    path = write_district(tmp_path, change)
    with pytest.raises(ConfigError) as raised:
        load_directory(path, LANGUAGES)
    matching = [p for p in raised.value.problems if p.key == key]
    assert matching, f"no problem for {key}; got {[str(p) for p in raised.value.problems]}"
    assert matching[0].file == str(path)
    assert words in matching[0].message
    assert matching[0].fix, "every problem says how to fix it"


def test_invalid_yaml_names_the_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("district:\n  id: demo\n  name: [unclosed\n")
    directory, problems = read_directory(path, LANGUAGES)
    assert not directory.districts
    assert problems[0].file == str(path) and problems[0].key.startswith("line ")


def test_check_prints_every_problem_and_fails(tmp_path, monkeypatch):
    path = write_district(tmp_path, {"contacts": {"safety": {"number": "12"}}, "district": {"languages": ["en", "zz"]}})
    monkeypatch.setenv("HOTLINE_DISTRICT", str(path))
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 1
    assert f"{path}: contacts.safety.number" in result.output
    assert f"{path}: district.languages: 'zz'" in result.output


def test_check_passes_on_the_repository(monkeypatch):
    monkeypatch.delenv("HOTLINE_DISTRICT", raising=False)
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 0, result.output
    assert "OK: the hotline can start" in result.output


def test_a_folder_of_districts_routes_by_the_number_called(tmp_path, make_hotline, redis_url):
    folder = tmp_path / "districts"
    write_district(folder, name="demo.yaml")
    other = yaml.safe_load((folder / "demo.yaml").read_text())
    other["district"].update(id="riverside", name="Riverside School District")
    other["lines"] = [{"number": "+16125550100", "kind": "staff"}, {"number": "+16125550101", "kind": "family"}]
    (folder / "riverside.yaml").write_text(yaml.safe_dump(other))
    hotline = make_hotline(district_path=folder)
    assert [d.id for d in hotline.services.directory.districts] == ["demo", "riverside"]
    demo_reply = hotline.text("+17205550142", FAMILY_LINE, "hello")[0]
    riverside_reply = hotline.text("+17205550142", "+16125550101", "hello")[0]
    assert "Demo Unified School District" in demo_reply
    assert "Riverside School District" in riverside_reply


def test_two_districts_cannot_share_a_line(tmp_path):
    folder = tmp_path / "districts"
    write_district(folder, name="a.yaml")
    twin = yaml.safe_load((folder / "a.yaml").read_text())
    twin["district"]["id"] = "twin"
    (folder / "b.yaml").write_text(yaml.safe_dump(twin))
    _, problems = read_directory(folder, LANGUAGES)
    assert any(p.file.endswith("b.yaml") and p.key == "lines" and "also a line of" in p.message for p in problems)
