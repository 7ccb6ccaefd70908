"""Generated districts at a large district's scale, for the scale benchmark and the many-process
test: the demo district's contacts, escalation and hours, with its own numbers, ``schools`` schools
and ``staff`` roster numbers (in CSV files its district file references, as `hotline roster import`
writes them, or inline)."""

from __future__ import annotations

import csv
from pathlib import Path

import yaml

from .districts import write_demo_copy

# Area codes in service in the US; each district takes one (numbers are 555-xxxx, 556-xxxx, ...).
AREA_CODES = ("201", "202", "203", "205", "206", "207", "208", "209", "210", "212", "213", "214", "215", "216",
              "217", "218", "219", "224", "225", "228", "229", "231", "234", "239", "240", "248", "251", "252",
              "253", "254", "256", "260", "262", "267", "269", "270", "276", "281", "301", "302", "304", "305",
              "307", "308", "309", "310", "312", "313", "314", "315", "316", "317", "318", "319", "320", "321")


def number(index: int, exchange: int, line: int) -> str:
    return f"+1{AREA_CODES[index]}{exchange:03d}{line:04d}"


def lines_of(index: int) -> tuple[str, str]:
    """The staff and family line of generated district ``index``."""
    return number(index, 556, 100), number(index, 556, 101)


def legal_of(index: int) -> str:
    return number(index, 556, 110)


def staff_of(index: int, member: int) -> str:
    """Roster number ``member`` of generated district ``index`` (up to 40,000 per district)."""
    return number(index, 555 + 2 * (member // 10_000), member % 10_000)


def write_large_district(folder: Path, index: int, schools: int = 200, staff: int = 10_000,
                         inline: bool = False) -> Path:
    """District ``d<index>`` in ``folder`` (d<index>.yaml, plus d<index>-schools.csv and -staff.csv)."""
    district_id = f"d{index:03d}"
    folder.mkdir(parents=True, exist_ok=True)
    contacts = {cid: {"number": number(index, 556, 110 + n)} for n, cid in enumerate(
        ("legal_office", "safety", "backup_counsel", "civil_rights", "designee", "family_liaison", "interpreter"))}
    school_rows = [[f"s{n:03d}", f"School {n}", number(index, 557, n), staff_of(index, n)] for n in range(schools)]
    staff_rows = [[staff_of(index, n), f"Staff {n}", "principal" if n < schools else "teacher", f"s{n % schools:03d}"]
                  for n in range(staff)]
    staff_line, family_line = lines_of(index)
    changes: dict = {
        "district": {"id": district_id, "name": f"Generated District {index}"},
        "lines": [{"number": staff_line, "kind": "staff", "name": "Staff line"},
                  {"number": family_line, "kind": "family", "name": "Family line"}],
        "contacts": contacts, "schools": {}, "roster": {},
        "resources": [],
    }
    path = folder / f"{district_id}.yaml"
    if inline:
        changes["schools"] = {sid: {"name": name, "office": office, "leader": leader}
                              for sid, name, office, leader in school_rows}
        changes["roster"] = {phone: {"name": name, "role": role, "school": school}
                             for phone, name, role, school in staff_rows}
        write_demo_copy(path, changes)
        data = yaml.safe_load(path.read_text())
    else:
        changes.update(schools_csv=f"{district_id}-schools.csv", roster_csv=f"{district_id}-staff.csv")
        write_demo_copy(path, changes)
        data = yaml.safe_load(path.read_text())
        _write_csv(folder / f"{district_id}-schools.csv", ["id", "name", "office", "leader"], school_rows)
        _write_csv(folder / f"{district_id}-staff.csv", ["phone", "name", "role", "school"], staff_rows)
    # The demo's own schools and roster are replaced, not merged.
    data["schools"] = changes["schools"]
    data["roster"] = changes["roster"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
