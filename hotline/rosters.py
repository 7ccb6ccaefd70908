"""Staff rosters and school lists from the CSV files districts already keep (an HR or SIS export).

Columns (the first row names them, in any order, any case; extra columns are ignored):

- staff: ``phone`` (or ``number``, ``mobile``, ``cell``), ``name``, ``role`` (optional, default
  ``staff``; ``immigration resource`` marks a site's designated immigration resource person), ``school``
  (optional, a school id);
- schools: ``id``, ``name``, ``office`` (optional phone), ``leader`` (optional phone of a roster member).

Numbers may be written any common way (``(303) 555-0120``, ``303.555.0120``, ``+1 303 555 0120``)
and are stored in E.164. A row that cannot be used is rejected with its line number and the reason;
the others are kept. Comma, semicolon and tab separated files, UTF-8 (with or without Excel's BOM) or
Windows-1252, are read.

Parsing a 10,000-row file costs a few tenths of a second of phonenumbers work, so the parsed rows are
kept keyed by the file's SHA-256: a start or reload with an unchanged file does not parse it again.
"""

from __future__ import annotations

import csv
import io
from dataclasses import astuple, dataclass, field
from pathlib import Path

from .parse_cache import ParseCache, cache_for, content_hash
from .phones import InvalidNumber, to_e164

RESOURCE_ROLE = "immigration resource"
STAFF_COLUMNS = ("phone", "name", "role", "school")
SCHOOL_COLUMNS = ("id", "name", "office", "leader")
_ALIASES = {
    "staff": {"number": "phone", "phone_number": "phone", "mobile": "phone", "cell": "phone",
              "cell_phone": "phone", "mobile_phone": "phone", "full_name": "name", "title": "role",
              "position": "role", "school_id": "school", "site": "school"},
    "schools": {"school": "id", "school_id": "id", "site": "id", "school_name": "name", "office_phone": "office",
                "phone": "office", "leader_phone": "leader", "principal": "leader"},
}


def is_resource_role(role: str | None) -> bool:
    return (role or "").strip().lower().replace("_", " ") == RESOURCE_ROLE


@dataclass(frozen=True)
class Rejected:
    line: int
    reason: str
    fix: str = ""

    def describe(self, file: str) -> str:
        return f"{file}: line {self.line}: {self.reason}" + (f" — fix: {self.fix}" if self.fix else "")


@dataclass(frozen=True)
class StaffRow:
    line: int
    phone: str
    name: str
    role: str
    school: str | None


@dataclass(frozen=True)
class SchoolRow:
    line: int
    id: str
    name: str
    office: str | None
    leader: str | None


@dataclass
class Table:
    """One CSV file read: the usable rows, the rejected ones, and a problem with the file as a whole."""

    rows: list = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    error: str | None = None        # the file cannot be used at all (unreadable, no header we know)
    fix: str = ""


def decode_csv(data: bytes) -> str:
    """UTF-8 (Excel's BOM dropped), else Windows-1252, which spreadsheets on Windows write."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _header_name(text: str, kind: str) -> str:
    name = "_".join(str(text or "").strip().lower().replace("-", " ").split())
    return _ALIASES[kind].get(name, name)


def _rows(text: str, kind: str, columns: tuple[str, ...], required: tuple[str, ...]):
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count) if any(d in first for d in ",;\t") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return None, f"is empty: the first row should name the columns ({', '.join(columns)})"
    names = [_header_name(h, kind) for h in header]
    missing = [c for c in required if c not in names]
    if missing:
        return None, (f"has no {' or '.join(missing)} column (the first row is "
                      f"{', '.join(repr(h) for h in header[:6])})")
    index = {name: names.index(name) for name in columns if name in names}

    def rows():
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            yield reader.line_num, {name: (row[i].strip() if i < len(row) else "") for name, i in index.items()}

    return rows(), None


def _cached(kind: str, data: bytes, region: str, parse, row_type, cache: ParseCache | None) -> Table:
    """``parse`` of the file's text, or what it gave for the same bytes before (this process or, with a
    cache folder, any process)."""
    cache = cache or cache_for(None)
    digest = content_hash(data)
    stored = cache.get(kind, digest, region)
    if isinstance(stored, dict):
        try:
            return Table([row_type(*row) for row in stored["rows"]], [Rejected(*r) for r in stored["rejected"]],
                         stored["error"], stored["fix"])
        except (KeyError, TypeError):
            pass        # an entry of another shape: parse again
    table = parse(decode_csv(data), region)
    cache.put(kind, digest, region, {"rows": [list(astuple(r)) for r in table.rows],
                                     "rejected": [list(astuple(r)) for r in table.rejected],
                                     "error": table.error, "fix": table.fix})
    return table


def _number(value: str, region: str) -> str:
    return to_e164(value, region)


def parse_staff(text: str, region: str = "US") -> Table:
    rows, error = _rows(text, "staff", STAFF_COLUMNS, ("phone", "name"))
    if error:
        return Table(error=error, fix=f"give the first row the column names: {', '.join(STAFF_COLUMNS)}")
    table = Table()
    seen: dict[str, int] = {}
    for line, row in rows:
        if not row.get("phone"):
            table.rejected.append(Rejected(line, "has no phone number", "fill in the phone column or delete the row"))
            continue
        try:
            phone = _number(row["phone"], region)
        except InvalidNumber:
            table.rejected.append(Rejected(line, f"{row['phone']!r} is not a valid phone number",
                                           "write a full number, e.g. (303) 555-0120 or +13035550120"))
            continue
        if phone in seen:
            table.rejected.append(Rejected(line, f"{row['phone']!r} is already on line {seen[phone]}",
                                           "keep one row per phone number"))
            continue
        if not row.get("name"):
            table.rejected.append(Rejected(line, "has no name", "fill in the name column (escalation texts name "
                                           "the reporter)"))
            continue
        seen[phone] = line
        table.rows.append(StaffRow(line, phone, row["name"], row.get("role") or "staff", row.get("school") or None))
    return table


def parse_schools(text: str, region: str = "US") -> Table:
    rows, error = _rows(text, "schools", SCHOOL_COLUMNS, ("id", "name"))
    if error:
        return Table(error=error, fix=f"give the first row the column names: {', '.join(SCHOOL_COLUMNS)}")
    table = Table()
    seen: dict[str, int] = {}
    for line, row in rows:
        school_id = row.get("id", "").strip().lower()
        if not school_id:
            table.rejected.append(Rejected(line, "has no id", "give every school a short id, e.g. lincoln"))
            continue
        if not all(ch.isalnum() or ch in "-_" for ch in school_id):
            table.rejected.append(Rejected(line, f"{row['id']!r} is not an id", "use letters, digits, - or _"))
            continue
        if school_id in seen:
            table.rejected.append(Rejected(line, f"{school_id!r} is already on line {seen[school_id]}",
                                           "keep one row per school"))
            continue
        numbers: dict[str, str | None] = {}
        for column in ("office", "leader"):
            numbers[column] = None
            if row.get(column):
                try:
                    numbers[column] = _number(row[column], region)
                except InvalidNumber:
                    numbers[column] = "!"
                    table.rejected.append(Rejected(line, f"{column} {row[column]!r} is not a valid phone number",
                                                   "write a full number, e.g. (303) 555-0130"))
        if "!" in numbers.values():
            continue
        seen[school_id] = line
        table.rows.append(SchoolRow(line, school_id, row.get("name") or school_id, numbers["office"],
                                    numbers["leader"]))
    return table


def read_staff(path: Path, region: str = "US", cache: ParseCache | None = None) -> Table:
    """The roster in ``path`` (OSError propagates for the caller to report)."""
    return _cached("staff", Path(path).read_bytes(), region, parse_staff, StaffRow, cache)


def read_schools(path: Path, region: str = "US", cache: ParseCache | None = None) -> Table:
    return _cached("schools", Path(path).read_bytes(), region, parse_schools, SchoolRow, cache)


def staff_csv(rows: list[StaffRow]) -> str:
    """The normalised roster a district file references (numbers in E.164)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(STAFF_COLUMNS)
    for row in rows:
        writer.writerow((row.phone, row.name, row.role, row.school or ""))
    return out.getvalue()


def schools_csv(rows: list[SchoolRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SCHOOL_COLUMNS)
    for row in rows:
        writer.writerow((row.id, row.name, row.office or "", row.leader or ""))
    return out.getvalue()
