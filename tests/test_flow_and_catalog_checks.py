"""`hotline check` on broken flows and catalogs: each problem names flows/<file>.yaml and the step,
or messages/<lang>.yaml and the key. The district points at its own copy of the content with
`content:` (how a district changes wording without touching code)."""

from __future__ import annotations

import shutil

import pytest
import yaml
from click.testing import CliRunner

from conftest import write_district
from hotline.cli import main
from hotline.content import flows_dir, messages_dir


def edit_yaml(path, change):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


CASES = [
    ("unknown step type", "flows/staff_help.yaml",
     lambda d: d["steps"].update(extra={"shout": "staff.help"}, help={"say": "staff.help", "next": "extra"}),
     "flows/staff_help.yaml: steps.extra: has no step type"),
    ("unreachable step", "flows/staff_help.yaml",
     lambda d: d["steps"].update(orphan={"end": "staff.help"}),
     "flows/staff_help.yaml: steps.orphan: cannot be reached"),
    ("route to a missing step", "flows/staff_left.yaml",
     lambda d: d["steps"]["left"].update(next="nowhere"),
     "flows/staff_left.yaml: steps.left.next: goes to 'nowhere'"),
    ("question without a timeout route", "flows/language.yaml",
     lambda d: d["steps"]["choose"].pop("on_timeout"),
     "flows/language.yaml: steps.choose.on_timeout: is missing"),
    ("unknown catalog key", "flows/staff_help.yaml",
     lambda d: d["steps"]["help"].update(end="staff.hepl"),
     "flows/staff_help.yaml: steps.help: uses the message key 'staff.hepl'"),
    ("unknown validator", "flows/staff_ice.yaml",
     lambda d: d["steps"]["agent_name"].update(expect="badge_number"),
     "flows/staff_ice.yaml: steps.agent_name.expect: 'badge_number' is not a validator"),
    ("unknown action", "flows/staff_left.yaml",
     lambda d: d["steps"]["left"].update({"do": "close_everything"}),
     "flows/staff_left.yaml: steps.left.do: 'close_everything' is not an action"),
    ("unknown fact", "flows/staff_ice.yaml",
     lambda d: d["steps"]["who"].update({"if": "is_principal"}),
     "flows/staff_ice.yaml: steps.who.if: 'is_principal' is not a fact"),
    ("loop without a question", "flows/staff_help.yaml",
     lambda d: d["steps"].update(help={"say": "staff.help", "next": "again"}, again={"goto": "help"}),
     "loops without waiting for the caller"),
    ("key missing from a catalog", "messages/es.yaml",
     lambda d: d["messages"].pop("staff.help"),
     "messages/es.yaml: messages.staff.help: is missing"),
    ("placeholders differ", "messages/so.yaml",
     lambda d: d["messages"].update({"staff.reporter.closed": "Dhacdada {incidnet} waa la xiray {contact}."}),
     "messages/so.yaml: messages.staff.reporter.closed: placeholders ['contact', 'incidnet'] differ"),
    ("an everyday reply as a keyword that closes an incident", "messages/es.yaml",
     lambda d: d["keywords"].update({"close": ["CLOSE", "LISTO"]}) or d["meta"].update(
         everyday_words=[*d["meta"].get("everyday_words", []), "LISTO"]),
     "messages/es.yaml: keywords.close: 'LISTO' is an everyday reply"),
    ("an English everyday reply as LEFT", "messages/vi.yaml",
     lambda d: d["keywords"].update({"left": ["LEFT", "OK"]}),
     "messages/vi.yaml: keywords.left: 'OK' is an everyday reply"),
    ("an everyday reply as ACK", "messages/en.yaml",
     lambda d: d["keywords"].update({"ack": ["ACK", "GOT IT"]}),
     "messages/en.yaml: keywords.ack: 'GOT IT' is an everyday reply"),
    ("a staff message that reads as blocking an officer", "messages/en.yaml",
     lambda d: d["messages"].update({"staff.ice.get_leader": "5 Do not let agents past the front office."}),
     "messages/en.yaml: messages.staff.ice.get_leader: reads as blocking or detaining an officer"),
    ("a translation that reads as blocking, by the catalog's own list", "messages/es.yaml",
     lambda d: d["messages"].update({"staff.ice.get_leader": "5 Impida que entren."}) or d["meta"].update(
         forbidden_staff_phrases=[*d["meta"].get("forbidden_staff_phrases", []), "impida"]),
     "messages/es.yaml: messages.staff.ice.get_leader: reads as blocking or detaining an officer"),
    ("a trigger that starts a flow at a missing step", "flows/lines.yaml",
     lambda d: d["staff"]["keywords"].update(emergency={"flow": "staff_ice", "step": "exigent"}),
     "flows/lines.yaml: staff.keywords.emergency.step: 'exigent' is not a step of staff_ice"),
    ("blank message", "messages/ar.yaml",
     lambda d: d["messages"].update({"common.goodbye": "  "}),
     "messages/ar.yaml: messages.common.goodbye: is blank"),
    ("line kind names a missing flow", "flows/lines.yaml",
     lambda d: d["staff"].update(sms="staff_hepl"),
     "flows/lines.yaml: staff.sms: 'staff_hepl' is not a flow"),
]


@pytest.mark.parametrize("what,file,change,expected", CASES, ids=[c[0] for c in CASES])
def test_check_names_file_and_step_or_key(tmp_path, monkeypatch, what, file, change, expected):
    content = tmp_path / "content"
    shutil.copytree(flows_dir(), content / "flows")
    shutil.copytree(messages_dir(), content / "messages")
    edit_yaml(content / file, change)
    district = write_district(tmp_path / "district", {"content": {"flows": "../content/flows",
                                                                  "messages": "../content/messages"}})
    monkeypatch.setenv("HOTLINE_DISTRICT", str(district))
    result = CliRunner().invoke(main, ["check"])   # output holds stdout and stderr
    assert expected in result.output, result.output
    if file.startswith("flows/") or any(word in expected for word in ("is blank", "placeholders", "everyday",
                                                                      "blocking")):
        assert result.exit_code == 1


def test_an_unchanged_copy_passes(tmp_path, monkeypatch):
    content = tmp_path / "content"
    shutil.copytree(flows_dir(), content / "flows")
    shutil.copytree(messages_dir(), content / "messages")
    district = write_district(tmp_path / "district", {"content": {"flows": "../content/flows",
                                                                  "messages": "../content/messages"}})
    monkeypatch.setenv("HOTLINE_DISTRICT", str(district))
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 0, result.output


def test_check_prints_the_language_table(monkeypatch):
    monkeypatch.delenv("HOTLINE_DISTRICT", raising=False)
    output = CliRunner().invoke(main, ["check"]).output
    table = {line.split()[0]: line for line in output.splitlines()[2:12] if line.startswith("  ") and line.split()}
    assert "TTS" in table["en"] and "yes" in table["en"]
    assert "interpreter" in table["so"] and "NO" in table["so"]
    assert "segments" in table["ar"]
    for code in ("en", "es", "ar", "vi", "so", "hmn", "my", "ksw", "rhg"):
        assert code in table


def test_the_protocols_first_replies_fit_three_segments_in_english_for_the_demo(monkeypatch):
    monkeypatch.delenv("HOTLINE_DISTRICT", raising=False)
    output = CliRunner().invoke(main, ["check"]).output
    assert "messages/en.yaml: the first reply" not in output, output


def test_check_warns_when_a_districts_names_push_the_first_reply_over_budget(tmp_path, monkeypatch):
    long_name = "Office of the General Counsel and Deputy Superintendent for Legal Affairs"
    district = write_district(tmp_path / "district", {"referral": {"name": long_name, "phone": "+13035550117"},
                                                      "contacts": {"safety": {"name": long_name}}})
    monkeypatch.setenv("HOTLINE_DISTRICT", str(district))
    result = CliRunner().invoke(main, ["check"])
    assert "warning: messages/en.yaml: the first reply of staff_ice is 4 SMS segments" in result.output, result.output
    assert result.exit_code == 0, "a warning, not a refusal: the protocol still goes out whole"
