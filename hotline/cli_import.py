"""``hotline roster import staff.csv`` and ``hotline schools import schools.csv``: a district's own
exports (HR, student information system) turned into the normalised CSV its district file references.

Each row is checked (numbers parsed with phonenumbers into E.164, schools known, no duplicates);
rejected rows are listed with their line numbers and reasons and the others are written to the file
the district file names in ``roster_csv:`` / ``schools_csv:`` (added to the district file, at its end,
when it names none). ``--dry-run`` only reports. Columns: hotline/rosters.py and docs/districts.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .content import messages_dir
from .district import District, read_directory
from .phones import try_e164
from .problems import ConfigError
from .rosters import Rejected, Table, decode_csv, parse_schools, parse_staff, schools_csv, staff_csv
from .settings import settings_from_env
from .yamlfile import read_district_yaml

KEYS = {"staff": "roster_csv", "schools": "schools_csv"}


def _known_languages() -> list[str]:
    return [path.stem for path in messages_dir().glob("*.yaml")]


def _district(district_id: str | None) -> District:
    try:
        settings = settings_from_env()
    except ConfigError as exc:
        click.echo("Configuration problems:\n" + "\n".join(f"  {p}" for p in exc.problems), err=True)
        sys.exit(2)
    directory, problems = read_directory(settings.district_path, _known_languages())
    if not directory.districts:
        click.echo(f"No usable district in {settings.district_path}:\n" + "\n".join(f"  {p}" for p in problems),
                   err=True)
        sys.exit(2)
    if district_id is None:
        if len(directory.districts) > 1:
            click.echo(f"{settings.district_path} holds several districts: say which with --district "
                       f"({', '.join(d.id for d in directory.districts)}).", err=True)
            sys.exit(2)
        return directory.districts[0]
    try:
        return directory.get(district_id)
    except KeyError:
        click.echo(f"No district {district_id!r} in {settings.district_path}; use one of "
                   f"{', '.join(d.id for d in directory.districts)}.", err=True)
        sys.exit(2)


def _target(district: District, kind: str) -> tuple[Path, bool]:
    """Where the normalised CSV goes, and whether the district file already names it."""
    raw = read_district_yaml(district.source) or {}
    named = raw.get(KEYS[kind]) if isinstance(raw, dict) else None
    if named:
        return (district.source.parent / str(named)).resolve(), True
    return district.source.parent / f"{district.id}-{kind}.csv", False


def _inline_roster(district: District) -> set[str]:
    """Numbers listed in the district file itself (not in its roster CSV)."""
    raw = read_district_yaml(district.source) or {}
    roster = raw.get("roster") if isinstance(raw, dict) else None
    if not isinstance(roster, dict):
        return set()
    return {n for n in (try_e164(k, district.region) for k in roster) if n}


def _report(source: Path, table: Table, extra: list[Rejected], what: str) -> int:
    rejected = sorted([*table.rejected, *extra], key=lambda r: r.line)
    total = len(table.rows) + len(table.rejected)
    click.echo(f"{source}: {total:,} rows: {len(table.rows) - len(extra):,} {what} to import, "
               f"{len(rejected):,} rejected{':' if rejected else '.'}")
    for item in rejected:
        click.echo(f"  {item.describe(str(source))}")
    return len(rejected)


def _write(district: District, kind: str, text: str, count: int, what: str) -> None:
    target, named = _target(district, kind)
    target.write_text(text, encoding="utf-8")
    click.echo(f"Wrote {count:,} {what} to {target}.")
    if not named:
        relative = target.name
        with district.source.open("a", encoding="utf-8") as handle:
            handle.write(f"\n# Written by `hotline {'roster' if kind == 'staff' else 'schools'} import`.\n"
                         f"{KEYS[kind]}: {relative}\n")
        click.echo(f"{district.source} now references it: {KEYS[kind]}: {relative}")
    # The district as the hotline will read it now: problems the import caused elsewhere (a school
    # leader no longer on the roster, a roster row whose school was removed) show at once.
    directory, problems = read_directory(district.source, _known_languages())
    errors = [p for p in problems if not p.warning]
    if errors:
        click.echo(f"{len(errors)} problem(s) now stop the hotline from starting (fix them, then "
                   "`hotline check`):", err=True)
        for problem in errors[:20]:
            click.echo(f"  {problem}", err=True)
        sys.exit(1)
    click.echo("The district file checks out; `hotline reload` (or a restart) puts it to use.")


@click.group()
def roster() -> None:
    """The staff roster: import it from a CSV file."""


@roster.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--district", "district_id", default=None, help="Which district, when HOTLINE_DISTRICT is a folder.")
@click.option("--dry-run", is_flag=True, help="Check every row and report; write nothing.")
def roster_import(csv_file: Path, district_id: str | None, dry_run: bool) -> None:
    """Import staff from CSV_FILE (columns: phone, name, role, school)."""
    district = _district(district_id)
    table = parse_staff(decode_csv(csv_file.read_bytes()), district.region)
    if table.error:
        click.echo(f"{csv_file}: {table.error} — fix: {table.fix}", err=True)
        sys.exit(2)
    inline = _inline_roster(district)
    extra: list[Rejected] = []
    keep = []
    for row in table.rows:
        if row.school and row.school not in district.schools:
            extra.append(Rejected(row.line, f"school {row.school!r} is not one of the district's schools",
                                  f"use a school id ({', '.join(list(district.schools)[:6])}...) or import the "
                                  "schools first"))
        elif row.phone in inline:
            extra.append(Rejected(row.line, f"{row.phone} is already in the district file's roster",
                                  "remove it there or from the CSV"))
        else:
            keep.append(row)
    rejected = _report(csv_file, table, extra, "staff")
    if dry_run:
        click.echo("Dry run: nothing written.")
    else:
        _write(district, "staff", staff_csv(keep), len(keep), "staff")
    sys.exit(1 if rejected else 0)


@click.group()
def schools() -> None:
    """The district's schools: import them from a CSV file."""


@schools.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--district", "district_id", default=None, help="Which district, when HOTLINE_DISTRICT is a folder.")
@click.option("--dry-run", is_flag=True, help="Check every row and report; write nothing.")
def schools_import(csv_file: Path, district_id: str | None, dry_run: bool) -> None:
    """Import schools from CSV_FILE (columns: id, name, office, leader)."""
    district = _district(district_id)
    table = parse_schools(decode_csv(csv_file.read_bytes()), district.region)
    if table.error:
        click.echo(f"{csv_file}: {table.error} — fix: {table.fix}", err=True)
        sys.exit(2)
    raw = read_district_yaml(district.source) or {}
    inline = set(map(str, (raw.get("schools") or {}) if isinstance(raw, dict) else {}))
    extra = [Rejected(row.line, f"school {row.id!r} is already in the district file", "list it in one place")
             for row in table.rows if row.id in inline]
    keep = [row for row in table.rows if row.id not in inline]
    rejected = _report(csv_file, table, extra, "schools")
    if dry_run:
        click.echo("Dry run: nothing written.")
    else:
        _write(district, "schools", schools_csv(keep), len(keep), "schools")
    sys.exit(1 if rejected else 0)
