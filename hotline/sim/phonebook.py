"""The names `hotline sim` knows phones by (``/as legal``, ``/line family``), taken from the district
the hotline serves: its lines by kind, its contacts by id and role, its roster by role, school and
name, its school offices. The demo district keeps the short names its walk-through uses."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..content import messages_dir
from ..district import District, read_directory

# Two phones that belong to nobody in any district: a parent and a stranger.
OUTSIDERS = {"parent": "+17205550142", "stranger": "+13035550199"}
# The demo district's people and lines (districts/demo.yaml), by the names the README uses.
DEMO_PEOPLE = {
    "front-desk": "+13035550120", "principal": "+13035550121", "roosevelt-desk": "+13035550122",
    "legal": "+13035550110", "safety": "+13035550111", "backup": "+13035550112", "civil-rights": "+13035550113",
    "designee": "+13035550114", "liaison": "+13035550115", "lincoln-office": "+13035550130", **OUTSIDERS,
}
DEMO_LINES = {"staff": "+13035550100", "family": "+13035550101"}
ROLE_NAMES = {"legal_backup": "backup", "civil_rights": "civil-rights"}


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@dataclass
class PhoneBook:
    people: dict[str, str]
    lines: dict[str, str]
    district: str = "demo"
    names: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        # A number shows under the first name it was given (contacts and roles before personal names).
        self.names = {}
        for name, number in [*self.people.items(), *((f"{k} line", v) for k, v in self.lines.items())]:
            self.names.setdefault(number, name)

    def person(self, name: str) -> str:
        return self.people.get(name, name)

    def line(self, name: str) -> str:
        return self.lines.get(name, name)

    def first_staff(self) -> str:
        """Who the simulator is at first: the front desk when there is one, else the first staff name."""
        return self.people.get("front-desk") or next(iter(self.people.values()))

    def listing(self) -> str:
        rows = [f"  {name:<24} {number}" for name, number in self.people.items()]
        rows += [f"  /line {name:<18} {number}" for name, number in self.lines.items()]
        return f"Phones of {self.district} (/as NAME, /line NAME):\n" + "\n".join(rows)

    def describe(self, number: str) -> str:
        name = self.names.get(number)
        return f"{name} {number}" if name else number


DEMO = PhoneBook(DEMO_PEOPLE, DEMO_LINES)


def _add(book: dict[str, str], name: str, number: str | None) -> None:
    if name and number and name not in book:
        book[name] = number


def phone_book(district: District) -> PhoneBook:
    """Names for ``district``'s phones; the demo district keeps its documented short names."""
    if district.id == "demo" and all(district.line(number) for number in DEMO_LINES.values()):
        return DEMO
    lines: dict[str, str] = {}
    for line in district.lines:
        _add(lines, line.kind, line.number)
        _add(lines, slug(line.name), line.number)
    people: dict[str, str] = {}
    for contact in district.contacts.values():
        _add(people, ROLE_NAMES.get(contact.role, contact.role), contact.number)
    for contact in district.contacts.values():
        _add(people, slug(contact.id), contact.number)
    for member in district.roster.values():
        _add(people, slug(member.role), member.number)
        if member.school:
            _add(people, f"{slug(member.school)}-{slug(member.role)}", member.number)
    for school in district.schools.values():
        _add(people, f"{slug(school.id)}-office", school.office)
    for member in district.roster.values():
        _add(people, slug(member.name), member.number)
    for name, number in OUTSIDERS.items():
        if number not in people.values():
            _add(people, name, number)
    return PhoneBook(people, lines, district.id)


class UnknownDistrict(LookupError):
    pass


def book_for(district_path: Path, district_id: str | None = None) -> PhoneBook:
    """The phone book of the district file (or of ``district_id`` in a folder; else its first district).
    Problems in the files do not matter here: `hotline check` reports them, the names still help."""
    known = [p.stem for p in messages_dir().glob("*.yaml")]
    directory, _ = read_directory(district_path, known)
    if not directory.districts:
        return DEMO
    if district_id is None:
        return phone_book(directory.districts[0])
    for district in directory.districts:
        if district.id == district_id:
            return phone_book(district)
    raise UnknownDistrict(f"no district {district_id!r} in {district_path}; "
                          f"use one of {', '.join(d.id for d in directory.districts)}")
