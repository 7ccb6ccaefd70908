"""The mistakes a new district made in its first district file, each through `hotline check` the way
the district's IT office runs it: a clear message naming the file, the key and the fix, never a
traceback, and no follow-on errors burying the real one."""

from __future__ import annotations

import datetime as dt

from click.testing import CliRunner

from conftest import write_district
from hotline.cli import main
from hotline.content import messages_dir
from hotline.district import load_directory
from hotline.messages import load_catalogs

LANGUAGES = load_catalogs(messages_dir()).codes


def check(monkeypatch, path):
    monkeypatch.setenv("HOTLINE_DISTRICT", str(path))
    result = CliRunner().invoke(main, ["check"])
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), \
        f"hotline check crashed: {result.exception!r}"
    assert "Traceback" not in result.output
    return result


def problem_lines(output: str) -> list[str]:
    return [line.strip() for line in output.splitlines() if line.startswith("  /")]


def test_an_impossible_closed_date_is_a_problem_not_a_traceback(tmp_path, monkeypatch):
    path = write_district(tmp_path, {"office_hours": {"legal": {"closed": ["DATE"]}}})
    path.write_text(path.read_text().replace("DATE", "2027-13-01"))   # unquoted: YAML would read a date
    result = check(monkeypatch, path)
    assert result.exit_code == 1
    assert problem_lines(result.output) == [
        f"{path}: office_hours.legal.closed: '2027-13-01' is not a date (year-month-day) — fix: write a real "
        "date as 2026-12-25"]


def test_an_unquoted_real_date_still_closes_the_office(tmp_path):
    path = write_district(tmp_path, {"office_hours": {"legal": {"daily": "00:00-24:00", "closed": ["DATE"]}}})
    path.write_text(path.read_text().replace("DATE", "2026-12-25"))
    hours = load_directory(path, LANGUAGES).single.office_hours["legal"]
    assert hours.closed == {dt.date(2026, 12, 25)}
    assert not hours.is_open(dt.datetime(2026, 12, 25, 12, 0)) and hours.is_open(dt.datetime(2026, 12, 24, 12, 0))


def test_an_overnight_range_is_open_through_the_night(tmp_path, monkeypatch):
    path = write_district(tmp_path, {"office_hours": {"legal": {"daily": "00:00-00:00", "weekdays": "18:00-07:00"}}})
    assert check(monkeypatch, path).exit_code == 0
    hours = load_directory(path, LANGUAGES).single.office_hours["legal"]
    monday = dt.date(2026, 11, 30)
    at = lambda day, hh, mm=0: dt.datetime.combine(monday + dt.timedelta(days=day), dt.time(hh, mm))  # noqa: E731
    assert hours.is_open(at(0, 18)) and hours.is_open(at(0, 23, 59)) and hours.is_open(at(1, 0))
    assert hours.is_open(at(1, 6, 59)) and not hours.is_open(at(1, 7)) and not hours.is_open(at(0, 12))
    assert hours.is_open(at(5, 6)), "Friday night's hours run into Saturday morning"
    assert not hours.is_open(at(5, 18)) and not hours.is_open(at(6, 6)), "no hours on the weekend otherwise"


def test_a_day_without_hours_stays_closed(tmp_path):
    path = write_district(tmp_path, {"office_hours": {"legal": {"daily": "00:00-00:00"}}})
    hours = load_directory(path, LANGUAGES).single.office_hours["legal"]
    saturday = dt.date(2026, 12, 5)
    assert not any(hours.is_open(dt.datetime.combine(saturday, dt.time(h))) for h in range(24))


def test_an_unquoted_staff_code_keeps_its_leading_zero(tmp_path, monkeypatch):
    path = write_district(tmp_path, {"district": {"staff_code": "CODE"}})
    path.write_text(path.read_text().replace("'CODE'", "07341").replace("CODE", "07341"))
    assert "staff_code: 07341" in path.read_text(), "the file holds the unquoted code"
    assert check(monkeypatch, path).exit_code == 0
    assert load_directory(path, LANGUAGES).single.staff_code == "07341", "not the octal 3809"


def test_a_bad_phone_number_is_one_problem_not_five(tmp_path, monkeypatch):
    # safety is named in four tiers of the demo district: each used to add "'safety' is not a contact".
    path = write_district(tmp_path, {"contacts": {"safety": {"number": "555-CALL"}}})
    result = check(monkeypatch, path)
    assert result.exit_code == 1
    assert problem_lines(result.output) == [
        f"{path}: contacts.safety.number: '555-CALL' is not a valid phone number — fix: write it in "
        "international form, e.g. +13035550100"]


def test_a_bad_legal_number_is_not_also_a_missing_legal_office(tmp_path, monkeypatch):
    path = write_district(tmp_path, {"contacts": {"legal_office": {"number": "12"}}})
    lines = problem_lines(check(monkeypatch, path).output)
    assert len(lines) == 1 and "contacts.legal_office.number" in lines[0]


def test_an_unknown_contact_in_a_tier_is_still_named(tmp_path, monkeypatch):
    path = write_district(tmp_path, {"escalation": {"tiers": [{"notify": ["lawyer sms"]}]}})
    result = check(monkeypatch, path)
    assert result.exit_code == 1 and "escalation.tiers[0].notify: 'lawyer' is not a contact" in result.output


def test_missing_liaison_and_civil_rights_are_warned_about(tmp_path, monkeypatch):
    path = write_district(tmp_path, {"contacts": {"family_liaison": {"role": "other"}, "civil_rights": {"role": "other"}},
                                     "escalation": {"drill_contacts": ["legal_office"]}})
    result = check(monkeypatch, path)
    assert result.exit_code == 0, "the hotline can still start"
    assert "2 warning(s):" in result.output
    assert f"{path}: contacts: has no civil_rights contact (role: civil_rights): families' concerns" in result.output
    assert f"{path}: contacts: has no liaison contact (role: liaison): families' call-back requests" in result.output
    assert "fix: add one" in result.output


def test_the_demo_district_has_no_warnings(monkeypatch):
    """No warning about the district file. (The per-language SMS-length lines about the protocol's
    first reply in UCS-2 languages are about the catalogs, and are expected.)"""
    monkeypatch.delenv("HOTLINE_DISTRICT", raising=False)
    result = CliRunner().invoke(main, ["check"])
    file_warnings = [line for line in result.output.splitlines()
                     if "warning" in line and "the first reply of" not in line]
    assert result.exit_code == 0 and file_warnings == [], file_warnings
    assert "messages/en.yaml: the first reply" not in result.output
