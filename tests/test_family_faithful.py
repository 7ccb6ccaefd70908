"""Issue 12, section 1: what the family line says comes from the seeds and from the district's own
data (its safety contact's name, its area code, its parent portal), never from Denver's."""

from __future__ import annotations

from pathlib import Path

from conftest import FRONT_DESK, PARENT, STAFF_LINE, write_district
from hotline.content import messages_dir
from hotline.district import read_directory
from hotline.messages import load_catalogs
from hotline.phones import example_number, national

MILWAUKEE_FAMILY = "+14145550101"
LINES = [{"number": STAFF_LINE, "kind": "staff", "name": "Staff line"},
         {"number": MILWAUKEE_FAMILY, "kind": "family", "name": "Family line"}]


def bad_phone_hint(hotline, line: str, greeting: str) -> str:
    for answer in (greeting, "2", "Ana", "1", "1", "Rosa", "aunt"):
        hotline.text(PARENT, line, answer)
    return hotline.text(PARENT, line, "12")[0]


def test_the_bad_phone_hint_uses_the_districts_own_area_code(make_hotline):
    hotline = make_hotline({"lines": LINES})
    assert "for example (414) 555-0199" in bad_phone_hint(hotline, MILWAUKEE_FAMILY, "hello")
    hotline.text(PARENT, MILWAUKEE_FAMILY, "MENU")
    other = "+17205550143"
    for answer in ("hola", "2", "Ana", "1", "1", "Rosa", "tía"):
        hotline.text(other, MILWAUKEE_FAMILY, answer)
    reply = hotline.text(other, MILWAUKEE_FAMILY, "12")[0]
    assert "por ejemplo (414) 555-0199" in reply and "303" not in reply


def test_an_example_number_outside_north_america_comes_from_phonenumbers():
    assert national(example_number("GB")) == "0121 234 5678"
    assert example_number("US", "+16125550100") == "+16125550199"


def test_staff_texts_name_the_safety_contact_as_the_district_does(make_hotline):
    hotline = make_hotline({"contacts": {"safety": {"name": "School Safety Office"}}})
    reply = hotline.text(FRONT_DESK, STAFF_LINE, "ICE")[0]
    assert "No answer or not cooperative: School Safety Office (303) 555-0111" in reply
    assert "Department of Safety" not in reply
    catalogs = load_catalogs(messages_dir())
    rendered = catalogs.render("es", "staff.notify.failed", {"safety_name": "Oficina de Seguridad Escolar",
                                                             "legal_phone": "1", "safety_phone": "2"}).text
    assert "a Oficina de Seguridad Escolar" in rendered and "Departamento de Seguridad" not in rendered


def test_every_catalog_names_the_safety_contact_from_the_district():
    catalogs = load_catalogs(messages_dir())
    for code in catalogs.codes:
        for key in ("staff.ice.call_legal", "staff.notify.failed", "staff.reporter.nobody_answered"):
            assert "{safety_name}" in catalogs.get(code).entries[key].text, f"messages/{code}.yaml: {key}"


def test_without_a_portal_the_detained_answer_names_the_district(make_hotline, tmp_path):
    hotline = make_hotline({"contact_updates": None})
    for answer in ("hello", "1"):
        hotline.text(PARENT, "+13035550101", answer)
    reply = hotline.text(PARENT, "+13035550101", "5")[0]
    assert "at your school or in Demo Unified School District" in reply


def test_a_portal_address_must_be_a_web_address(tmp_path: Path):
    path = write_district(tmp_path, {"contact_updates": {"portal": "Parent Portal", "url": "portal.example.org"}})
    _, problems = read_directory(path, load_catalogs(messages_dir()).codes)
    assert any(p.key == "contact_updates.url" and "https://" in p.fix for p in problems), problems
