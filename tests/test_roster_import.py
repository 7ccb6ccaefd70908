"""Rosters and schools from the CSV files districts already keep: `hotline roster import` and
`hotline schools import` (every common way of writing a number, rejected rows with line numbers and
reasons, a dry run), district files that reference the CSVs, and the schools' immigration resource
people told of incidents at their school."""

from __future__ import annotations

import csv
import io

import pytest
from click.testing import CliRunner

from conftest import FRONT_DESK, LEGAL, PRINCIPAL, ROOSEVELT_DESK, STAFF_LINE, write_district
from hotline.cli import main
from hotline.content import messages_dir
from hotline.district import load_directory, read_directory
from hotline.messages import load_catalogs

LANGUAGES = load_catalogs(messages_dir()).codes
FORMATS = ("({a}) 555-{n:04d}", "{a}.555.{n:04d}", "+1 {a} 555 {n:04d}", "{a}-555-{n:04d}", "1{a}555{n:04d}")


def staff_rows(count: int) -> list[list[str]]:
    """``count`` staff spread over the demo's two schools, numbers written five different ways."""
    rows = []
    for i in range(count):
        area = ("719", "970")[i % 2]
        rows.append([FORMATS[i % len(FORMATS)].format(a=area, n=i // 2), f"Staff Member {i}", "teacher",
                     ("lincoln", "roosevelt")[i % 2]])
    return rows


def write_csv(path, header, rows, delimiter=","):
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def run(monkeypatch, district, *args):
    monkeypatch.setenv("HOTLINE_DISTRICT", str(district))
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def test_ten_thousand_staff_in_any_number_format(tmp_path, monkeypatch):
    district = write_district(tmp_path)
    source = write_csv(tmp_path / "hr-export.csv", ["Phone", "Full Name", "Title", "School"], staff_rows(10_000))
    result = run(monkeypatch, district, "roster", "import", str(source))
    assert result.exit_code == 0, result.output
    assert "10,000 rows: 10,000 staff to import, 0 rejected." in result.output
    assert "roster_csv: demo-staff.csv" in district.read_text(), "the district file references the CSV"
    loaded = load_directory(district, LANGUAGES).single
    assert len(loaded.roster) == 10_003, "the three inline staff and the ten thousand"
    assert loaded.roster["+17195550000"].name == "Staff Member 0"
    assert loaded.roster["+19705554999"].school == "roosevelt" and loaded.roster[FRONT_DESK].name == "Maria Lopez"
    assert run(monkeypatch, district, "check").exit_code == 0


BAD = [
    ["(303) 555-0160", "Ana Ruiz", "teacher", "lincoln"],                  # line 2: fine
    ["555-12", "Too Short", "clerk", "lincoln"],                           # line 3
    ["", "No Number", "clerk", "lincoln"],                                 # line 4
    ["303.555.0160", "Ana Again", "clerk", "lincoln"],                     # line 5: same as line 2
    ["+1 303 555 0161", "", "clerk", "lincoln"],                           # line 6: no name
    ["303-555-0162", "Cy Doe", "clerk", "atlantis"],                       # line 7: unknown school
    ["+13035550120", "Maria Lopez", "front desk", "lincoln"],              # line 8: in the district file
    ["3035550163", "Dee Ford", "immigration resource", "roosevelt"],       # line 9: fine
]


def test_bad_rows_are_listed_with_their_line_and_reason_and_the_rest_imported(tmp_path, monkeypatch):
    district = write_district(tmp_path)
    source = write_csv(tmp_path / "staff.csv", ["phone", "name", "role", "school"], BAD)
    result = run(monkeypatch, district, "roster", "import", str(source))
    assert result.exit_code == 1, "a rejected row is not silent"
    assert "8 rows: 2 staff to import, 6 rejected:" in result.output
    lines = [line.strip() for line in result.output.splitlines() if line.strip().startswith(f"{source}: line")]
    assert lines == [
        f"{source}: line 3: '555-12' is not a valid phone number — fix: write a full number, e.g. (303) 555-0120 "
        "or +13035550120",
        f"{source}: line 4: has no phone number — fix: fill in the phone column or delete the row",
        f"{source}: line 5: '303.555.0160' is already on line 2 — fix: keep one row per phone number",
        f"{source}: line 6: has no name — fix: fill in the name column (escalation texts name the reporter)",
        f"{source}: line 7: school 'atlantis' is not one of the district's schools — fix: use a school id "
        "(lincoln, roosevelt...) or import the schools first",
        f"{source}: line 8: +13035550120 is already in the district file's roster — fix: remove it there or from "
        "the CSV",
    ]
    written = (tmp_path / "demo-staff.csv").read_text()
    assert written == ("phone,name,role,school\n+13035550160,Ana Ruiz,teacher,lincoln\n"
                       "+13035550163,Dee Ford,immigration resource,roosevelt\n")
    assert run(monkeypatch, district, "check").exit_code == 0


def test_a_dry_run_reports_and_writes_nothing(tmp_path, monkeypatch):
    district = write_district(tmp_path)
    before = district.read_text()
    source = write_csv(tmp_path / "staff.csv", ["phone", "name", "role", "school"], BAD)
    result = run(monkeypatch, district, "roster", "import", str(source), "--dry-run")
    assert result.exit_code == 1 and "6 rejected:" in result.output and "Dry run: nothing written." in result.output
    assert district.read_text() == before and not (tmp_path / "demo-staff.csv").exists()


def test_a_file_without_the_columns_says_which_are_needed(tmp_path, monkeypatch):
    district = write_district(tmp_path)
    source = write_csv(tmp_path / "staff.csv", ["Employee", "Extension"], [["A", "12"]])
    result = run(monkeypatch, district, "roster", "import", str(source))
    assert result.exit_code == 2
    assert "has no phone or name column (the first row is 'Employee', 'Extension')" in result.output
    assert "fix: give the first row the column names: phone, name, role, school" in result.output


def test_semicolons_a_byte_order_mark_and_windows_1252_are_read(tmp_path, monkeypatch):
    district = write_district(tmp_path)
    source = tmp_path / "staff.csv"
    source.write_bytes("phone;name;role;school\n(303) 555-0170;José Núñez;conserje;lincoln\n".encode("cp1252"))
    assert run(monkeypatch, district, "roster", "import", str(source)).exit_code == 0
    assert load_directory(district, LANGUAGES).single.roster["+13035550170"].name == "José Núñez"
    source.write_bytes("\ufeffphone,name\n(303) 555-0171,Zoë Ng\n".encode("utf-8"))
    assert run(monkeypatch, district, "roster", "import", str(source)).exit_code == 0
    member = load_directory(district, LANGUAGES).single.roster["+13035550171"]
    assert (member.name, member.role, member.school) == ("Zoë Ng", "staff", None)


def test_schools_then_their_staff(tmp_path, monkeypatch):
    district = write_district(tmp_path)
    schools = write_csv(tmp_path / "sis-schools.csv", ["School ID", "School Name", "Office Phone", "Principal"], [
        ["whittier", "Whittier K-8", "(303) 555-0180", ""],
        ["Bad Id!", "Nowhere", "", ""],
        ["lincoln", "Lincoln again", "", ""],
        ["smith", "Smith Elementary", "12", ""],
    ])
    result = run(monkeypatch, district, "schools", "import", str(schools))
    assert result.exit_code == 1
    assert f"{schools}: line 3: 'Bad Id!' is not an id" in result.output
    assert f"{schools}: line 4: school 'lincoln' is already in the district file" in result.output
    assert f"{schools}: line 5: office '12' is not a valid phone number" in result.output
    assert "schools_csv: demo-schools.csv" in district.read_text()
    staff = write_csv(tmp_path / "staff.csv", ["phone", "name", "role", "school"],
                      [["303 555 0181", "Lee Park", "front desk", "whittier"]])
    assert run(monkeypatch, district, "roster", "import", str(staff)).exit_code == 0
    loaded = load_directory(district, LANGUAGES).single
    assert loaded.schools["whittier"].office == "+13035550180"
    assert loaded.roster["+13035550181"].school == "whittier"


def test_a_school_leader_left_out_of_a_new_roster_is_reported_at_once(tmp_path, monkeypatch):
    district = write_district(tmp_path)
    schools = write_csv(tmp_path / "schools.csv", ["id", "name", "office", "leader"],
                        [["whittier", "Whittier K-8", "", "(303) 555-0190"]])
    result = run(monkeypatch, district, "schools", "import", str(schools))
    assert result.exit_code == 1
    assert "schools.whittier.leader: is not a number in the roster" in result.output


def test_check_names_the_csv_file_and_line_of_a_bad_row(tmp_path, monkeypatch):
    district = write_district(tmp_path, {"roster_csv": "staff.csv"})
    source = write_csv(tmp_path / "staff.csv", ["phone", "name", "role", "school"],
                       [["(303) 555-0160", "Ana Ruiz", "teacher", "lincoln"], ["911", "Nine", "x", ""],
                        ["(303) 555-0161", "Bo", "x", "atlantis"]])
    result = run(monkeypatch, district, "check")
    assert result.exit_code == 1
    assert f"{source}: line 3: '911' is not a valid phone number" in result.output
    assert f"{source}: line 4: school 'atlantis' is not in schools" in result.output


def test_a_missing_csv_is_named_in_the_district_file(tmp_path):
    district = write_district(tmp_path, {"roster_csv": "nowhere.csv"})
    _, problems = read_directory(district, LANGUAGES)
    [problem] = [p for p in problems if p.key == "roster_csv"]
    assert "is not a file" in problem.message and "hotline roster import" in problem.fix


def test_a_folder_needs_to_be_told_which_district(tmp_path, monkeypatch):
    folder = tmp_path / "districts"
    write_district(folder, name="demo.yaml")
    other = (folder / "demo.yaml").read_text().replace("id: demo", "id: other").replace("+1303555", "+1612555")
    (folder / "other.yaml").write_text(other)
    source = write_csv(tmp_path / "staff.csv", ["phone", "name"], [["(612) 555-0170", "Ana"]])
    result = run(monkeypatch, folder, "roster", "import", str(source))
    assert result.exit_code == 2 and "--district (demo, other)" in result.output
    assert run(monkeypatch, folder, "roster", "import", str(source), "--district", "other").exit_code == 0
    assert "roster_csv: other-staff.csv" in (folder / "other.yaml").read_text()
    assert "roster_csv" not in (folder / "demo.yaml").read_text()


# --- Immigration resource people ------------------------------------------------------------------

RESOURCE_LINCOLN = "+13035550150"
RESOURCE_ROOSEVELT = "+13035550151"


@pytest.fixture
def resource_district(tmp_path):
    """Changes for make_hotline: a roster CSV beside the district file it writes (tmp_path/district0)."""
    (tmp_path / "district0").mkdir()
    write_csv(tmp_path / "district0" / "staff.csv", ["phone", "name", "role", "school"], [
        [RESOURCE_LINCOLN, "Rosa Vega", "immigration resource", "lincoln"],
        [RESOURCE_ROOSEVELT, "Tom Hale", "Immigration Resource", "roosevelt"],
    ])
    return {"roster_csv": "staff.csv"}


def test_the_schools_resource_person_is_told_of_an_incident_there(make_hotline, resource_district):
    hotline = make_hotline(resource_district)
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    hotline.run_jobs()
    [told] = [m["body"] for m in hotline.fake.messages_to(RESOURCE_LINCOLN)]
    assert told.startswith("For your information - ICE AT SCHOOL, incident 101: Lincoln Elementary")
    assert not hotline.fake.messages_to(RESOURCE_ROOSEVELT), "another school's resource person is not told"
    assert hotline.fake.messages_to(LEGAL) and hotline.fake.messages_to(PRINCIPAL)
    timeline = [e["text"] for e in hotline.services.incidents.timeline("demo", "101")]
    assert "texted immigration resource person" in timeline


def test_a_resource_person_reporting_is_not_told_their_own_incident(make_hotline, resource_district):
    hotline = make_hotline(resource_district)
    hotline.text(RESOURCE_ROOSEVELT, STAFF_LINE, "ICE")
    hotline.run_jobs()
    assert [m for m in hotline.fake.messages_to(RESOURCE_ROOSEVELT) if "For your information" in m["body"]] == []
    assert hotline.fake.messages_to(LEGAL)


def test_without_resource_people_nothing_changes(hotline):
    hotline.text(ROOSEVELT_DESK, STAFF_LINE, "ICE")
    hotline.run_jobs()
    assert hotline.services.incidents.get("demo", "101").policy["resource_people"] == []
