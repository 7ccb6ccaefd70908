"""Finding incidents among all of them: by status, reporter's number, school and date, in pages.

The dashboard and ``hotline incidents export`` read every incident (IncidentStore.iter_all), never
the newest N: a flood of junk reports must not push a real incident out of sight. Sorting puts
open, urgent and verified incidents first, and the filters find one incident among thousands.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from dataclasses import dataclass, field

from collections.abc import Iterable

from ..district import District
from ..services import Services
from .records import STATUSES as STATES

STATUSES = (*STATES, "all")
PER_PAGE = 50


@dataclass(frozen=True)
class IncidentFilter:
    status: str = "all"
    number: str = ""             # digits anywhere in the reporter's number, e.g. "0120"
    school: str = ""             # a school id
    since: dt.date | None = None  # reported on or after this day (district time)
    until: dt.date | None = None  # reported on or before this day

    @property
    def active(self) -> bool:
        return bool(self.number or self.school or self.since or self.until)

    def matches(self, district: District, incident, ignore_status: bool = False) -> bool:
        if not ignore_status and self.status != "all" and incident.status != self.status:
            return False
        digits = "".join(ch for ch in self.number if ch.isdigit())
        if digits and digits not in "".join(ch for ch in incident.reporter or "" if ch.isdigit()):
            return False
        if self.school and (incident.school or "") != self.school:
            return False
        if self.since or self.until:
            day = district.local(incident.created).date()
            if (self.since and day < self.since) or (self.until and day > self.until):
                return False
        return True


def parse_day(text: str | None) -> dt.date | None:
    """A YYYY-MM-DD day, or None when empty or not a date (a search never fails on a typo)."""
    try:
        return dt.date.fromisoformat((text or "").strip()) if text and text.strip() else None
    except ValueError:
        return None


def all_incidents(services: Services, drills: bool = False,
                  districts: Iterable[District] | None = None) -> Iterator[tuple[District, object]]:
    """Every incident of ``districts`` (default: all of them): the dashboard passes the signed-in
    account's districts, so another district's incidents are never even read."""
    for district in (services.directory.districts if districts is None else districts):
        yield from ((district, incident) for incident in services.incidents.iter_all(district.id, drills))


def sort_key(item) -> tuple:
    """Still escalating (open, responding) before the rest; urgent, then verified (roster or code)
    first; then the newest."""
    _, incident = item
    return (not incident.escalating, not incident.urgent, not incident.verified, -incident.created)


@dataclass
class Page:
    items: list                  # (district, incident) on this page
    counts: dict                 # per status, for the filtered set
    total: int                   # matching the status too
    page: int
    pages: int
    per_page: int = PER_PAGE
    filter: IncidentFilter = field(default_factory=IncidentFilter)


def search(services: Services, wanted: IncidentFilter, page: int = 1, drills: bool = False,
           per_page: int = PER_PAGE, districts: Iterable[District] | None = None) -> Page:
    counts = {status: 0 for status in STATUSES}
    found = []
    for district, incident in all_incidents(services, drills, districts):
        if not wanted.matches(district, incident, ignore_status=True):
            continue
        counts[incident.status] = counts.get(incident.status, 0) + 1
        counts["all"] += 1
        if wanted.status in ("all", incident.status):
            found.append((district, incident))
    found.sort(key=sort_key)
    pages = max(1, math.ceil(len(found) / per_page))
    page = min(max(1, page), pages)
    return Page(found[(page - 1) * per_page: page * per_page], counts, len(found), page, pages, per_page, wanted)
