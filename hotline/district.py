"""The district model: lines, contacts, schools, staff roster, languages, hours and escalation policy.

A district file is YAML (documented in docs/districts.md, example in districts/demo.yaml).
``load_directory`` reads one file or a folder of them; every problem names the file, the key
and the fix, and all problems are collected before anything is raised so ``hotline check`` can
print them together.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from .durations import parse_duration
from .phones import InvalidNumber, to_e164
from .problems import ConfigError, Problem
from .rosters import is_resource_role, read_schools, read_staff
from .parse_cache import ParseCache, cache_for, content_hash
from .yamlfile import parse_district_yaml

LINE_KINDS = ("staff", "family")
CHANNELS = ("sms", "voice")
CONTACT_ROLES = (
    "legal",          # the legal office: every district needs one
    "legal_backup",   # backup counsel
    "safety",         # Department of Safety / school police
    "crisis",         # crisis and emergency response team (a student or parent detained)
    "designee",       # the superintendent or designee
    "civil_rights",   # receives families' concerns
    "liaison",        # the family liaison line (talk to a person)
    "interpreter",    # an interpreter line for languages without a voice
    "other",
)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS_RANGE = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")


@dataclass(frozen=True)
class Line:
    number: str
    kind: str
    name: str
    entry: str | None = None                       # flow started by a message that is no keyword
    keywords: dict[str, str] = field(default_factory=dict)  # keyword id -> flow id (overrides)


@dataclass(frozen=True)
class Contact:
    id: str
    name: str
    number: str
    role: str
    hours: str | None = None   # a key of office_hours; None means always reachable


@dataclass(frozen=True)
class School:
    id: str
    name: str
    office: str | None = None   # the school office's number (emergency-contact updates)
    leader: str | None = None   # a roster number: told of every incident at the school


@dataclass(frozen=True)
class StaffMember:
    number: str
    name: str
    role: str
    school: str | None


@dataclass(frozen=True)
class Notify:
    contact: str
    channel: str


@dataclass(frozen=True)
class Tier:
    notify: tuple[Notify, ...]
    wait: float


@dataclass(frozen=True)
class EscalationPolicy:
    tiers: tuple[Tier, ...]
    after_hours_tiers: tuple[Tier, ...]
    rounds: int
    drill_contacts: tuple[str, ...]
    tell_school_leader: bool = True

    def tiers_for(self, legal_open: bool) -> tuple[Tier, ...]:
        return self.tiers if legal_open or not self.after_hours_tiers else self.after_hours_tiers


@dataclass(frozen=True)
class OfficeHours:
    weekly: dict[int, tuple[tuple[dt.time, dt.time], ...]]
    closed: frozenset[dt.date] = frozenset()

    def is_open(self, moment: dt.datetime) -> bool:
        if moment.date() in self.closed:
            return False
        now = moment.time()
        return any(start <= now < end for start, end in self.weekly.get(moment.weekday(), ()))


@dataclass(frozen=True)
class Retention:
    family_sessions: float = 24 * 3600
    processed_requests: float = 30 * 86400
    incidents: float | None = None  # None: kept until the district removes them
    audit: float = 3 * 365 * 86400  # the dashboard's audit log (issue 14): three years unless changed


@dataclass(frozen=True)
class StaffCodeLimit:
    """The district's budget of wrong staff codes, across all numbers, by text and by phone: more
    than ``failures`` within ``window`` seconds and the code is refused for ``cooldown`` seconds."""

    failures: int = 20
    window: float = 15 * 60
    cooldown: float = 15 * 60


@dataclass(frozen=True)
class Resource:
    name: str
    phone: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class ContactUpdates:
    """Where families update emergency contacts themselves, besides their school's office (the
    detained-parent answer names it): e.g. the district's Parent Portal and its address."""

    portal: str
    url: str | None = None


@dataclass(frozen=True)
class RecordingLine:
    """A Twilio number where the district's bilingual staff record prompts by phone (issue 12)."""

    number: str
    pin: str
    storage: Path | None = None    # where kept recordings go; None: <var>/recordings/<district id>


@dataclass(frozen=True)
class District:
    id: str
    name: str
    timezone: ZoneInfo
    region: str
    default_language: str
    languages: tuple[str, ...]
    lines: tuple[Line, ...]
    contacts: dict[str, Contact]
    schools: dict[str, School]
    roster: dict[str, StaffMember]
    office_hours: dict[str, OfficeHours]
    escalation: EscalationPolicy
    staff_code: str | None
    twilio_answers_reserved_words: bool
    retention: Retention
    resources: tuple[Resource, ...]
    source: Path
    flows_dir: Path | None = None
    messages_dir: Path | None = None
    contact_updates: ContactUpdates | None = None
    recording_line: RecordingLine | None = None
    # Where staff direct the officers (003: "referred immediately to the Superintendent or
    # designee"; 004: "directed to the BPS Office of Legal Advisor"): a name and a number staff can
    # read out or hand over. None: the legal contact.
    referral: Resource | None = None

    def referral_office(self) -> tuple[str, str | None]:
        """(name, number) of the office officers are referred to."""
        if self.referral:
            return self.referral.name, self.referral.phone
        legal = self.first_contact("legal")
        return (legal.name, legal.number) if legal else ("the legal office", None)
    # issue 13: wrong staff codes a district tolerates, and whether a call needs attested caller ID
    staff_code_limit: StaffCodeLimit = StaffCodeLimit()
    require_attested_caller_id: bool = False
    roster_csv: Path | None = None       # the roster_csv / schools_csv the file references, if any
    schools_csv: Path | None = None

    def now(self) -> dt.datetime:
        return dt.datetime.now(self.timezone)

    def local(self, timestamp: float) -> dt.datetime:
        return dt.datetime.fromtimestamp(timestamp, self.timezone)

    def is_open(self, hours: str | None, moment: dt.datetime | None = None) -> bool:
        if hours is None:
            return True
        return self.office_hours[hours].is_open(moment or self.now())

    def contacts_with_role(self, role: str) -> list[Contact]:
        return list(self._contacts_by_role.get(role, ()))

    def first_contact(self, role: str) -> Contact | None:
        found = self.contacts_with_role(role)
        return found[0] if found else None

    # Indexes by number, built on first use: every webhook looks a number up, and a large district
    # has thousands of roster numbers (the frozen dataclass still allows cached_property).
    @cached_property
    def _contacts_by_number(self) -> dict[str, tuple[Contact, ...]]:
        index: dict[str, list[Contact]] = {}
        for contact in self.contacts.values():
            index.setdefault(contact.number, []).append(contact)
        return {number: tuple(found) for number, found in index.items()}

    @cached_property
    def _contacts_by_role(self) -> dict[str, tuple[Contact, ...]]:
        index: dict[str, list[Contact]] = {}
        for contact in self.contacts.values():         # in the file's order: the first is the first asked
            index.setdefault(contact.role, []).append(contact)
        return {role: tuple(found) for role, found in index.items()}

    @cached_property
    def _lines_by_number(self) -> dict[str, Line]:
        return {line.number: line for line in self.lines}

    @cached_property
    def _resource_people(self) -> dict[str, tuple[str, ...]]:
        index: dict[str, list[str]] = {}
        for member in self.roster.values():
            if member.school and is_resource_role(member.role):
                index.setdefault(member.school, []).append(member.number)
        return {school: tuple(numbers) for school, numbers in index.items()}

    def contact_by_number(self, number: str) -> list[Contact]:
        return list(self._contacts_by_number.get(number, ()))

    def line(self, number: str) -> Line | None:
        return self._lines_by_number.get(number)

    def resource_people(self, school_id: str | None) -> tuple[str, ...]:
        """The school's designated immigration resource people (roster role "immigration resource")."""
        return self._resource_people.get(school_id or "", ())

    def line_of_kind(self, kind: str) -> Line | None:
        return next((line for line in self.lines if line.kind == kind), None)

    def school_leader(self, school_id: str | None) -> str | None:
        school = self.schools.get(school_id or "")
        return school.leader if school else None

    def legal_open(self, moment: dt.datetime | None = None) -> bool:
        legal = self.first_contact("legal")
        return self.is_open(legal.hours if legal else None, moment)


@dataclass(frozen=True)
class Directory:
    """Every district a deployment serves, found by the Twilio number a request was sent to."""

    districts: tuple[District, ...]

    @cached_property
    def _by_number(self) -> dict[str, tuple[District, Line]]:
        index: dict[str, tuple[District, Line]] = {}
        for district in self.districts:
            for line in district.lines:
                index.setdefault(line.number, (district, line))
        return index

    @cached_property
    def _by_id(self) -> dict[str, District]:
        return {district.id: district for district in self.districts}

    def by_number(self, number: str) -> tuple[District, Line] | None:
        return self._by_number.get(number)

    def get(self, district_id: str) -> District:
        return self._by_id[district_id]

    @property
    def single(self) -> District:
        return self.districts[0]


class _Reader:
    """Walks one district file, collecting problems that name the file and the key."""

    def __init__(self, path: Path, cache: ParseCache | None = None, digest: str = ""):
        self.path = path
        self.problems: list[Problem] = []
        # The E.164 form of each number written in this file ("" for an invalid one), from the parse
        # cache when the file is unchanged: phonenumbers is most of the cost of a large inline roster.
        self.cache, self.digest = cache or cache_for(None), digest
        self.numbers: dict[str, str] | None = None
        self.numbers_region = ""
        self.new_numbers = False

    def problem(self, key: str, message: str, fix: str = "") -> None:
        self.problems.append(Problem(str(self.path), key, message, fix))

    def problem_in(self, file: Path, key: str, message: str, fix: str = "") -> None:
        """A problem in a file the district file references (a roster or school CSV)."""
        self.problems.append(Problem(str(file), key, message, fix))

    def warn(self, key: str, message: str, fix: str = "") -> None:
        """Printed by `hotline check`; the hotline still starts."""
        self.problems.append(Problem(str(self.path), key, message, fix, warning=True))

    def mapping(self, data: Any, key: str, required: bool = True) -> dict:
        if data is None and not required:
            return {}
        if not isinstance(data, dict):
            self.problem(key, "is missing" if data is None else f"should be a mapping, not {type(data).__name__}",
                         "see docs/districts.md for the layout")
            return {}
        return data

    def text(self, data: dict, key: str, path: str, required: bool = True, default: str | None = None) -> str | None:
        value = data.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.problem(f"{path}.{key}" if path else key, "is missing", "add it (see docs/districts.md)")
            return default
        if isinstance(value, (dict, list)):
            self.problem(f"{path}.{key}" if path else key, "should be text", "write a single value")
            return default
        return str(value).strip()

    def number(self, value: Any, key: str, region: str) -> str | None:
        if self.numbers is None or region != self.numbers_region:
            stored = self.cache.get("numbers", self.digest, region) if self.digest else None
            self.numbers, self.numbers_region = (stored if isinstance(stored, dict) else {}), region
        text = str(value)
        found = self.numbers.get(text)
        if found is None:
            try:
                found = to_e164(value, region)
            except InvalidNumber:
                found = ""
            self.numbers[text] = found
            self.new_numbers = True
        if not found:
            self.problem(key, f"{value!r} is not a valid phone number",
                         "write it in international form, e.g. +13035550100")
            return None
        return found

    def save_numbers(self) -> None:
        if self.new_numbers and self.digest and self.numbers is not None:
            self.cache.put("numbers", self.digest, self.numbers_region, self.numbers)

    def one_of(self, value: Any, key: str, known: Iterable[str], what: str) -> str | None:
        """``value`` if it names one of ``known`` (or is None); else a problem, and None."""
        if value is None:
            return None
        known = list(known)
        if str(value) in known:
            return str(value)
        self.problem(key, f"{value!r} is not in {what}", f"use one of {', '.join(known) or f'(define {what} first)'}")
        return None

    def duration(self, value: Any, key: str, default: float) -> float:
        if value is None:
            return default
        try:
            return parse_duration(value)
        except ValueError as exc:
            self.problem(key, str(exc), "write e.g. 45s, 3m or 12h")
            return default


def _staff_code_limit(reader: _Reader, data: Any) -> StaffCodeLimit:
    default = StaffCodeLimit()
    raw = reader.mapping(data, "district.staff_code_limit", required=False)
    failures = raw.get("failures", default.failures)
    if not isinstance(failures, int) or isinstance(failures, bool) or failures < 1:
        reader.problem("district.staff_code_limit.failures", f"{failures!r} is not a whole number of at least 1",
                       "e.g. 20")
        failures = default.failures
    return StaffCodeLimit(
        failures,
        reader.duration(raw.get("window"), "district.staff_code_limit.window", default.window),
        reader.duration(raw.get("cooldown"), "district.staff_code_limit.cooldown", default.cooldown))


def _hours(reader: _Reader, data: Any, key: str) -> OfficeHours:
    weekly: dict[int, list[tuple[dt.time, dt.time]]] = {}
    closed: set[dt.date] = set()
    for day_key, value in reader.mapping(data, key).items():
        day_key = str(day_key).lower()
        if day_key == "closed":
            for item in value or []:
                try:
                    closed.add(item if isinstance(item, dt.date) else dt.date.fromisoformat(str(item)))
                except ValueError:
                    reader.problem(f"{key}.closed", f"{str(item)!r} is not a date (year-month-day)",
                                   "write a real date as 2026-12-25")
            continue
        days = {"weekdays": range(5), "weekend": range(5, 7), "daily": range(7)}.get(day_key)
        if days is None:
            if day_key not in WEEKDAYS:
                reader.problem(f"{key}.{day_key}", "is not a day",
                               f"use {', '.join(WEEKDAYS)}, weekdays, weekend, daily or closed")
                continue
            days = [WEEKDAYS.index(day_key)]
        ranges = value if isinstance(value, list) else [value]
        for text in ranges:
            match = _HOURS_RANGE.match(str(text).strip())
            if not match:
                reader.problem(f"{key}.{day_key}", f"{text!r} is not a time range", 'write e.g. "07:30-17:00"')
                continue
            h1, m1, h2, m2 = (int(g) for g in match.groups())
            try:
                start, end = dt.time(h1, m1), dt.time(23, 59, 59) if (h2, m2) == (24, 0) else dt.time(h2, m2)
            except ValueError:
                reader.problem(f"{key}.{day_key}", f"{text!r} is not a time range", 'write e.g. "07:30-17:00"')
                continue
            for day in days:
                if start < end:
                    weekly.setdefault(day, []).append((start, end))
                elif start > end:
                    # An overnight range ("18:00-07:00"): open from the start to midnight, and on the
                    # next day from midnight to the end. ("00:00-00:00" is a day with no hours.)
                    weekly.setdefault(day, []).append((start, dt.time.max))
                    if end > dt.time(0, 0):
                        weekly.setdefault((day + 1) % 7, []).append((dt.time(0, 0), end))
    return OfficeHours({d: tuple(r) for d, r in weekly.items()}, frozenset(closed))


def _tiers(reader: _Reader, data: Any, key: str, contacts: dict[str, Contact], default_wait: float,
           reported: frozenset[str] = frozenset()) -> tuple[Tier, ...]:
    """The tiers under ``key``. A contact in ``reported`` is defined but already has a problem of its own
    (a bad number): naming it again in every tier would only bury the real mistake."""
    if data is None:
        return ()
    if not isinstance(data, list) or not data:
        reader.problem(key, "should be a list of tiers", "see docs/districts.md, 'escalation'")
        return ()
    tiers = []
    for index, item in enumerate(data):
        tier_key = f"{key}[{index}]"
        item = reader.mapping(item, tier_key)
        notify = []
        skipped = False
        for entry in item.get("notify") or []:
            parts = str(entry).split()
            contact_id = parts[0] if parts else ""
            channel = parts[1] if len(parts) > 1 else "sms"
            if contact_id in reported:
                skipped = True
                continue
            if contact_id not in contacts:
                reader.problem(f"{tier_key}.notify", f"{contact_id!r} is not a contact",
                               f"use one of: {', '.join(contacts) or '(no contacts defined)'}")
                continue
            if channel not in CHANNELS or len(parts) > 2:
                reader.problem(f"{tier_key}.notify", f"{entry!r}: the channel should be sms or voice",
                               'write e.g. "legal_office sms"')
                continue
            notify.append(Notify(contact_id, channel))
        if not notify and not skipped:
            reader.problem(f"{tier_key}.notify", "names nobody", 'list contacts, e.g. ["legal_office sms"]')
        tiers.append(Tier(tuple(notify), reader.duration(item.get("wait"), f"{tier_key}.wait", default_wait)))
    return tuple(tiers)


def _contact_updates(reader: _Reader, data: Any) -> ContactUpdates | None:
    if data is None:
        return None
    data = reader.mapping(data, "contact_updates")
    portal = reader.text(data, "portal", "contact_updates")
    url = reader.text(data, "url", "contact_updates", required=False)
    if url and not re.match(r"^https?://", url):
        reader.problem("contact_updates.url", f"{url!r} is not a web address", "write it as https://...")
        url = None
    return ContactUpdates(portal, url) if portal else None


def _recording_line(reader: _Reader, data: Any, region: str, path: Path) -> RecordingLine | None:
    if data is None:
        return None
    data = reader.mapping(data, "recording_line")
    number = reader.number(data.get("number"), "recording_line.number", region) if data.get("number") else None
    if data.get("number") is None:
        reader.problem("recording_line.number", "is missing", "the Twilio number staff call to record prompts")
    pin = str(data.get("pin") or "")
    if not re.fullmatch(r"\d{4,8}", pin):
        reader.problem("recording_line.pin", "should be 4 to 8 digits", 'e.g. "2468" (quoted), known only to the recorders')
        return None
    storage = data.get("storage")
    folder = (path.parent / str(storage)).resolve() if storage else None
    return RecordingLine(number, pin, folder) if number else None


def _csv_path(reader: _Reader, root: dict, key: str) -> Path | None:
    """The CSV file ``key`` names, relative to the district file (None when it names none)."""
    value = root.get(key)
    if not value:
        return None
    file = (reader.path.parent / str(value)).resolve()
    if not file.is_file():
        reader.problem(key, f"{file} is not a file", f"give a CSV file relative to the district file "
                       f"(`hotline {'roster' if key == 'roster_csv' else 'schools'} import` writes one)")
        return None
    return file


def _csv_rows(reader: _Reader, file: Path, key: str, region: str, read) -> list:
    try:
        table = read(file, region, reader.cache)
    except OSError as exc:
        reader.problem(key, f"{file} cannot be read: {exc.strerror}", "check the file's permissions")
        return []
    if table.error:
        reader.problem_in(file, "(header)", table.error, table.fix)
    for rejected in table.rejected:
        reader.problem_in(file, f"line {rejected.line}", rejected.reason, rejected.fix)
    return table.rows


def load_district(path: Path, known_languages: Iterable[str],
                  cache: ParseCache | None = None) -> tuple[District | None, list[Problem]]:
    """Read one district file. Returns the district (None when it cannot be used) and its problems.
    ``cache``: where parsed numbers and CSV rows are kept between loads (default: this process)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        reader = _Reader(path, cache)
        reader.problem("(file)", f"cannot be read: {exc.strerror}", "check HOTLINE_DISTRICT")
        return None, reader.problems
    reader = _Reader(path, cache, content_hash(data))
    try:
        raw = parse_district_yaml(data.decode("utf-8"))
    except UnicodeDecodeError:
        reader.problem("(file)", "is not UTF-8 text", "save it as UTF-8")
        return None, reader.problems
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "(file)"
        reader.problem(where, f"is not valid YAML: {getattr(exc, 'problem', exc)}", "fix the indentation or quoting")
        return None, reader.problems
    try:
        return _read_district(reader, path, raw, known_languages)
    finally:
        reader.save_numbers()


def _read_district(reader: _Reader, path: Path, raw: Any,
                   known_languages: Iterable[str]) -> tuple[District | None, list[Problem]]:
    root = reader.mapping(raw, "(file)")
    info = reader.mapping(root.get("district"), "district")

    district_id = reader.text(info, "id", "district", default="district")
    if district_id and not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", district_id):
        reader.problem("district.id", f"{district_id!r} should be lower-case letters, digits, - or _",
                       "e.g. demo or denver")
    name = reader.text(info, "name", "district", default=district_id)
    region = (reader.text(info, "country", "district", required=False, default="US") or "US").upper()
    tz_name = reader.text(info, "timezone", "district", default="UTC")
    try:
        timezone = ZoneInfo(tz_name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        reader.problem("district.timezone", f"{tz_name!r} is not a time zone", "use an IANA name, e.g. America/Denver")
        timezone = ZoneInfo("UTC")

    known = set(known_languages)
    languages = info.get("languages") or []
    if not isinstance(languages, list) or not languages:
        reader.problem("district.languages", "should list at least one language", "e.g. [en, es]")
        languages = ["en"]
    for code in languages:
        if str(code) not in known:
            reader.problem("district.languages", f"{code!r} is not a language the hotline has messages for",
                           f"use one of {', '.join(sorted(known))}, or add messages/{code}.yaml")
    languages = [str(code) for code in languages if str(code) in known] or ["en"]
    default_language = reader.text(info, "default_language", "district", required=False, default=languages[0])
    if default_language not in languages:
        reader.problem("district.default_language", f"{default_language!r} is not in district.languages",
                       "add it to district.languages or pick one listed there")
        default_language = languages[0]

    staff_code = info.get("staff_code")
    if staff_code is not None and not re.fullmatch(r"\d{4,8}", str(staff_code)):
        reader.problem("district.staff_code", "should be 4 to 8 digits", 'e.g. "482193" (quoted; 6 or more digits)')
        staff_code = None
    staff_code_limit = _staff_code_limit(reader, info.get("staff_code_limit"))
    require_attested = info.get("require_attested_caller_id", False)
    if not isinstance(require_attested, bool):
        reader.problem("district.require_attested_caller_id", f"{require_attested!r} is not true or false",
                       "write true or false")
        require_attested = False

    office_hours = {str(k): _hours(reader, v, f"office_hours.{k}")
                    for k, v in reader.mapping(root.get("office_hours"), "office_hours", required=False).items()}

    contacts: dict[str, Contact] = {}
    unusable: set[str] = set()       # contacts defined with a bad number: reported once, not in every tier
    unusable_roles: set[str] = set()
    for contact_id, item in reader.mapping(root.get("contacts"), "contacts").items():
        key = f"contacts.{contact_id}"
        item = reader.mapping(item, key)
        role = reader.text(item, "role", key, default="other")
        if role not in CONTACT_ROLES:
            reader.problem(f"{key}.role", f"{role!r} is not a role", f"use one of {', '.join(CONTACT_ROLES)}")
        number = reader.number(item.get("number"), f"{key}.number", region) if item.get("number") else None
        if number is None and item.get("number") is None:
            reader.problem(f"{key}.number", "is missing", "add the contact's phone number, e.g. +13035550110")
        hours = reader.one_of(item.get("hours"), f"{key}.hours", office_hours, "office_hours")
        if not number:
            unusable.add(str(contact_id))
            unusable_roles.add(str(role))
        if number:
            contacts[str(contact_id)] = Contact(str(contact_id), reader.text(item, "name", key, default=str(contact_id)),
                                                number, role, hours)
    if not any(c.role == "legal" for c in contacts.values()) and "legal" not in unusable_roles:
        reader.problem("contacts", "has no legal contact (role: legal)",
                       "add the legal office: contacts: {legal_office: {name: ..., number: ..., role: legal}}")
    # Without these roles the family line still works, but what was meant for them reaches the legal
    # office (office_notice.py, the family line's help number): legal, but a district should know.
    for role, what in (("civil_rights", "families' concerns (discrimination, harassment) go to the legal office"),
                       ("liaison", "families' call-back requests and voicemails go to the legal office, and the "
                                   "family line never offers to connect a person")):
        if not any(c.role == role for c in contacts.values()) and role not in unusable_roles:
            reader.warn("contacts", f"has no {role} contact (role: {role}): {what}",
                        f"add one, e.g. contacts: {{{role}: {{name: ..., number: ..., role: {role}}}}}")

    roster: dict[str, StaffMember] = {}
    schools: dict[str, School] = {}
    for school_id, item in reader.mapping(root.get("schools"), "schools", required=False).items():
        key = f"schools.{school_id}"
        item = reader.mapping(item, key)
        office = reader.number(item["office"], f"{key}.office", region) if item.get("office") else None
        leader = reader.number(item["leader"], f"{key}.leader", region) if item.get("leader") else None
        schools[str(school_id)] = School(str(school_id), reader.text(item, "name", key, default=str(school_id)),
                                         office, leader)
    schools_file = _csv_path(reader, root, "schools_csv")
    if schools_file:
        for row in _csv_rows(reader, schools_file, "schools_csv", region, read_schools):
            if row.id in schools:
                reader.problem_in(schools_file, f"line {row.line}", f"school {row.id!r} is also in the district file",
                                  "list each school in one place")
                continue
            schools[row.id] = School(row.id, row.name, row.office, row.leader)
    for raw_number, item in reader.mapping(root.get("roster"), "roster", required=False).items():
        key = f"roster.{raw_number}"
        number = reader.number(raw_number, key, region)
        item = reader.mapping(item, key)
        school = reader.one_of(item.get("school"), f"{key}.school", schools, "schools")
        if number:
            if number in roster:
                reader.problem(key, "is listed twice in the roster", "keep one entry per number")
            roster[number] = StaffMember(number, reader.text(item, "name", key, default="Staff"),
                                         reader.text(item, "role", key, required=False, default="staff"), school)
    roster_file = _csv_path(reader, root, "roster_csv")
    if roster_file:
        for row in _csv_rows(reader, roster_file, "roster_csv", region, read_staff):
            if row.school and row.school not in schools:
                reader.problem_in(roster_file, f"line {row.line}", f"school {row.school!r} is not in schools",
                                  f"use a school id: {', '.join(list(schools)[:8]) or '(define schools first)'}")
                continue
            if row.phone in roster:
                reader.problem_in(roster_file, f"line {row.line}", f"{row.phone} is also in the district file's roster",
                                  "list each staff number in one place")
                continue
            roster[row.phone] = StaffMember(row.phone, row.name, row.role, row.school)
    for school in schools.values():
        if school.leader and school.leader not in roster:
            reader.problem(f"schools.{school.id}.leader", "is not a number in the roster",
                           "add the school leader to the roster")

    lines: list[Line] = []
    seen_numbers: set[str] = set()
    raw_lines = root.get("lines")
    if not isinstance(raw_lines, list) or not raw_lines:
        reader.problem("lines", "should list at least one line", "see docs/districts.md, 'lines'")
        raw_lines = []
    for index, item in enumerate(raw_lines):
        key = f"lines[{index}]"
        item = reader.mapping(item, key)
        number = reader.number(item.get("number"), f"{key}.number", region)
        kind = reader.text(item, "kind", key, default="family")
        if kind not in LINE_KINDS:
            reader.problem(f"{key}.kind", f"{kind!r} is not a line kind", f"use {' or '.join(LINE_KINDS)}")
            continue
        if number in seen_numbers:
            reader.problem(f"{key}.number", f"{number} is listed twice", "give every line its own Twilio number")
            continue
        if number:
            seen_numbers.add(number)
            keywords = reader.mapping(item.get("keywords"), f"{key}.keywords", required=False)
            lines.append(Line(number, kind, reader.text(item, "name", key, required=False, default=f"{kind} line"),
                              item.get("entry"), {str(k): str(v) for k, v in keywords.items()}))

    escalation = reader.mapping(root.get("escalation"), "escalation", required=False)
    default_wait = reader.duration(escalation.get("wait"), "escalation.wait", 180.0)
    tiers = _tiers(reader, escalation.get("tiers"), "escalation.tiers", contacts, default_wait, frozenset(unusable))
    if not tiers:
        # The default: legal and safety at once; after the wait, a call to both and backup counsel.
        legal = [c.id for c in contacts.values() if c.role == "legal"][:1]
        safety = [c.id for c in contacts.values() if c.role == "safety"][:1]
        backup = [c.id for c in contacts.values() if c.role == "legal_backup"][:1]
        designee = [c.id for c in contacts.values() if c.role == "designee"][:1]
        first = tuple(Notify(c, "sms") for c in legal + safety)
        second = tuple(Notify(c, "voice") for c in legal + safety) + tuple(Notify(c, "sms") for c in backup)
        third = tuple(Notify(c, ch) for c in designee for ch in CHANNELS)
        tiers = tuple(Tier(n, default_wait) for n in (first, second, third) if n)
    after_hours = _tiers(reader, escalation.get("after_hours_tiers"), "escalation.after_hours_tiers", contacts,
                         default_wait, frozenset(unusable))
    rounds = escalation.get("rounds", 2)
    if not isinstance(rounds, int) or isinstance(rounds, bool) or not 1 <= rounds <= 10:
        reader.problem("escalation.rounds", f"{rounds!r} should be a whole number from 1 to 10",
                       "how many times the tiers repeat before the reporter is told nobody answered")
        rounds = 2
    drill_contacts = escalation.get("drill_contacts") or [c.id for c in contacts.values() if c.role == "legal"][:1]
    drill_contacts = [reader.one_of(c, "escalation.drill_contacts", contacts, "contacts") for c in drill_contacts
                      if str(c) not in unusable]
    policy = EscalationPolicy(tiers, after_hours, rounds, tuple(c for c in drill_contacts if c),
                              bool(escalation.get("tell_school_leader", True)))

    retention_raw = reader.mapping(root.get("retention"), "retention", required=False)
    incidents_keep = retention_raw.get("incidents", "keep")
    retention = Retention(
        reader.duration(retention_raw.get("family_sessions"), "retention.family_sessions", 24 * 3600),
        reader.duration(retention_raw.get("processed_requests"), "retention.processed_requests", 30 * 86400),
        None if incidents_keep == "keep" else reader.duration(incidents_keep, "retention.incidents", 0) or None,
        reader.duration(retention_raw.get("audit"), "retention.audit", 3 * 365 * 86400),
    )

    resources = []
    for index, item in enumerate(root.get("resources") or []):
        key = f"resources[{index}]"
        item = reader.mapping(item, key)
        phone = reader.number(item["phone"], f"{key}.phone", region) if item.get("phone") else None
        resources.append(Resource(reader.text(item, "name", key, default="") or "", phone,
                                  reader.text(item, "url", key, required=False)))

    referral = None
    if root.get("referral") is not None:
        item = reader.mapping(root.get("referral"), "referral")
        if not item.get("name") or not item.get("phone"):
            reader.problem("referral", "needs a name and a phone", "e.g. referral: {name: Office of Legal Advisor, "
                           "phone: \"+13035550117\"}, or leave it out to refer officers to the legal contact")
        else:
            referral = Resource(str(item["name"]), reader.number(item["phone"], "referral.phone", region), None)

    content = reader.mapping(root.get("content"), "content", required=False)
    flows_dir = messages_dir = None
    for content_key in ("flows", "messages"):
        if content.get(content_key):
            folder = (path.parent / str(content[content_key])).resolve()
            if not folder.is_dir():
                reader.problem(f"content.{content_key}", f"{folder} is not a folder",
                               "give a folder relative to the district file")
            elif content_key == "flows":
                flows_dir = folder
            else:
                messages_dir = folder

    contact_updates = _contact_updates(reader, root.get("contact_updates"))
    recording_line = _recording_line(reader, root.get("recording_line"), region, path)

    if not lines:
        return None, reader.problems
    return District(
        id=district_id or "district", name=name or "", timezone=timezone, region=region,
        default_language=default_language, languages=tuple(languages), lines=tuple(lines), contacts=contacts,
        schools=schools, roster=roster, office_hours=office_hours, escalation=policy,
        staff_code=str(staff_code) if staff_code is not None else None,
        twilio_answers_reserved_words=bool(info.get("twilio_answers_reserved_words", True)),
        retention=retention, resources=tuple(resources), source=path,
        flows_dir=flows_dir, messages_dir=messages_dir, referral=referral, contact_updates=contact_updates,
        recording_line=recording_line, staff_code_limit=staff_code_limit, require_attested_caller_id=require_attested,
        roster_csv=roster_file, schools_csv=schools_file,
    ), reader.problems


def district_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml"))
    return [path]


def read_directory(path: Path, known_languages: Iterable[str],
                   cache: ParseCache | None = None) -> tuple[Directory, list[Problem]]:
    """All districts under ``path`` (a file or a folder) and every problem found in them."""
    known = list(known_languages)
    problems: list[Problem] = []
    files = district_files(path)
    if not files:
        problems.append(Problem(str(path), "(folder)", "holds no district files", "add a <district>.yaml"))
    districts: list[District] = []
    owner_of_number: dict[str, str] = {}
    for file in files:
        district, found = load_district(file, known, cache)
        problems.extend(found)
        if district is None:
            continue
        if any(d.id == district.id for d in districts):
            problems.append(Problem(str(file), "district.id", f"{district.id!r} is used by another district file",
                                    "give each district its own id"))
            continue
        for line in district.lines:
            if line.number in owner_of_number:
                problems.append(Problem(str(file), "lines", f"{line.number} is also a line of "
                                        f"{owner_of_number[line.number]}", "give every line its own Twilio number"))
            owner_of_number[line.number] = str(file)
        districts.append(district)
    return Directory(tuple(districts)), problems


def load_directory(path: Path, known_languages: Iterable[str]) -> Directory:
    directory, problems = read_directory(path, known_languages)
    errors = [p for p in problems if not p.warning]
    if errors or not directory.districts:
        raise ConfigError(errors or [Problem(str(path), "(file)", "defines no usable district", "")])
    return directory
