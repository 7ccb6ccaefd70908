"""Incident records: one enforcement or records event, with a short number people can say on the
phone, and a timeline of everything that happened to it (reported, each send, delivery, taken,
details, closed).

Stored in Redis (persistent: append-only in the embedded server). Drills have their own numbers
(``D12``) and index, so they never mix into real incident counts. Which state an incident may move
to, and who may move it, is the state model's business (states.py); this module stores the result
atomically (``apply``), so two people acting at once leave exactly one holder.
"""

from __future__ import annotations

import json
import time
from dataclasses import MISSING, asdict, dataclass, field
from collections.abc import Iterable, Iterator

import redis

from ..store import key

TYPES = ("ice", "records", "detain")
STATUSES = ("open", "responding", "taken", "closed")
FIRST_NUMBER = 101
REPORTER_LINK_TTL = 24 * 3600


@dataclass
class Incident:
    district: str
    id: str
    type: str
    drill: bool
    line: str
    reporter: str
    reporter_name: str
    reporter_role: str
    school: str | None
    verification: str            # roster | code | pending
    created: float
    status: str = "open"
    urgent: bool = False
    urgent_at: float | None = None
    acknowledged_by: str | None = None      # who has it (a legal role): a contact id, or "dashboard"
    acknowledged_name: str | None = None    # who, as people should read it
    acknowledged_at: float | None = None
    acknowledged_person: str | None = None  # the person, when an account names one (docs/dashboard.md)
    responding_by: str | None = None        # safety (or crisis) responding while legal is still sought
    responding_name: str | None = None
    responding_at: float | None = None
    lead_by: str | None = None              # the school leader who took charge on site
    lead_name: str | None = None
    lead_at: float | None = None
    left_at: float | None = None            # the reporter said the officers left
    closed_by: str | None = None
    closed_at: float | None = None
    policy: dict = field(default_factory=dict)
    details: dict = field(default_factory=dict)
    escalation_started: bool = False
    escalation_ended_at: float | None = None   # every tier and round ran and no legal role took it
    all_failed_told: bool = False

    @property
    def verified(self) -> bool:
        return self.verification in ("roster", "code")

    @property
    def active(self) -> bool:
        return self.status != "closed"

    @property
    def escalating(self) -> bool:
        """Still looking for a legal role to take it (responding safety does not stop that)."""
        return self.status in ("open", "responding")

    @property
    def holder_name(self) -> str:
        """Who has it, as people should read it ("" when no legal role has taken it)."""
        return self.acknowledged_name or self.acknowledged_by or ""


_JSON_FIELDS = {"policy", "details"}
_BOOL_FIELDS = {"drill", "urgent", "escalation_started", "all_failed_told"}
_FLOAT_FIELDS = {"created", "escalation_ended_at", "urgent_at", "acknowledged_at", "responding_at", "lead_at", "left_at", "closed_at"}


def _encode(name: str, value) -> str:
    if name in _JSON_FIELDS:
        return json.dumps(value, ensure_ascii=False)
    if name in _BOOL_FIELDS:
        return "1" if value else "0"
    return "" if value is None else str(value)


def _decode(raw: dict[str, str]) -> Incident:
    values: dict = {}
    for name, spec in Incident.__dataclass_fields__.items():
        if name not in raw:
            # Unset fields are not stored (see create); required ones read back as None.
            if spec.default is MISSING and spec.default_factory is MISSING:
                values[name] = None
            continue
        text = raw[name]
        if name in _JSON_FIELDS:
            values[name] = json.loads(text or "{}")
        elif name in _BOOL_FIELDS:
            values[name] = text == "1"
        elif name in _FLOAT_FIELDS:
            values[name] = float(text) if text else None
        else:
            values[name] = text or None
    values["reporter_name"] = values.get("reporter_name") or ""
    values["reporter_role"] = values.get("reporter_role") or ""
    return Incident(**values)


def incident_key(district_id: str, incident_id: str) -> str:
    return key("incident", district_id, incident_id)


# A compare-and-set on the incident's hash: apply the changes only if the status is one of the
# allowed ones and the guard field is still unset. One script, so it is atomic across processes.
_APPLY = """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return 0 end
if not string.find(' ' .. ARGV[1] .. ' ', ' ' .. status .. ' ', 1, true) then return 0 end
if ARGV[2] ~= '' and redis.call('HEXISTS', KEYS[1], ARGV[2]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
return 1
"""


class IncidentStore:
    def __init__(self, store: redis.Redis, clock=time.time):
        self.store = store
        self.clock = clock
        self._apply = store.register_script(_APPLY)

    # --- creation and lookup --------------------------------------------------------------------
    def next_id(self, district_id: str, drill: bool) -> str:
        counter = key("seq", district_id, "drill" if drill else "incident")
        self.store.setnx(counter, FIRST_NUMBER - 1)
        number = self.store.incr(counter)
        return f"D{number}" if drill else str(number)

    def create(self, *, district_id: str, type: str, drill: bool, line: str, reporter: str, reporter_name: str,
               reporter_role: str, school: str | None, verification: str, policy: dict) -> Incident:
        incident = Incident(district_id, self.next_id(district_id, drill), type, drill, line, reporter,
                            reporter_name, reporter_role, school, verification, self.clock(), policy=policy)
        with self.store.pipeline() as pipe:
            # Unset fields stay absent: acknowledge() relies on HSETNX of acknowledged_by.
            pipe.hset(incident_key(district_id, incident.id),
                      mapping={k: _encode(k, v) for k, v in asdict(incident).items() if v is not None})
            pipe.zadd(self._index(district_id, drill), {incident.id: incident.created})
            pipe.zadd(self._active_index(district_id), {incident.id: incident.created})
            pipe.set(self._reporter_key(district_id, reporter), incident.id, ex=REPORTER_LINK_TTL)
            pipe.execute()
        return incident

    def get(self, district_id: str, incident_id: str) -> Incident | None:
        raw = self.store.hgetall(incident_key(district_id, str(incident_id).upper()))
        return _decode(raw) if raw else None

    def update(self, incident: Incident, **changes) -> Incident:
        for name, value in changes.items():
            setattr(incident, name, value)
        self.store.hset(incident_key(incident.district, incident.id),
                        mapping={k: _encode(k, v) for k, v in changes.items()})
        return incident

    def list(self, district_id: str, drills: bool = False, limit: int = 500) -> list[Incident]:
        ids = self.store.zrevrange(self._index(district_id, drills), 0, limit - 1)
        incidents = []
        with self.store.pipeline() as pipe:
            for incident_id in ids:
                pipe.hgetall(incident_key(district_id, incident_id))
            for raw in pipe.execute():
                if raw:
                    incidents.append(_decode(raw))
        return incidents

    def iter_all(self, district_id: str, drills: bool = False, batch: int = 500) -> Iterator[Incident]:
        """Every incident, newest first, read ``batch`` at a time (issue 13: no cap, so a flood of
        junk cannot push a real incident out of the dashboard or an export)."""
        index = self._index(district_id, drills)
        start = 0
        while True:
            ids = self.store.zrevrange(index, start, start + batch - 1)
            if not ids:
                return
            with self.store.pipeline() as pipe:
                for incident_id in ids:
                    pipe.hgetall(incident_key(district_id, incident_id))
                found = pipe.execute()
            yield from (_decode(raw) for raw in found if raw)
            start += batch

    def open_incidents(self, district_id: str) -> list[Incident]:
        """Every incident not closed yet, drills included, however many incidents came after it
        (an index of its own: a flood of newer reports never hides one from the reconciler)."""
        ids = self.store.zrevrange(self._active_index(district_id), 0, -1)
        with self.store.pipeline() as pipe:
            for incident_id in ids:
                pipe.hgetall(incident_key(district_id, incident_id))
            found = [_decode(raw) for raw in pipe.execute() if raw]
        return [incident for incident in found if incident.active]

    def link_reporter(self, incident: Incident, number: str) -> None:
        """Let ``number`` (the reporter, or a school leader who took charge) reach the incident by
        STATUS, LEFT and EMERGENCY."""
        self.store.set(self._reporter_key(incident.district, number), incident.id, ex=REPORTER_LINK_TTL)

    def for_reporter(self, district_id: str, number: str) -> Incident | None:
        incident_id = self.store.get(self._reporter_key(district_id, number))
        incident = self.get(district_id, incident_id) if incident_id else None
        return incident if incident and incident.active else None

    # --- timeline -------------------------------------------------------------------------------
    def add_event(self, incident: Incident, kind: str, text: str, **data) -> None:
        event = {"t": self.clock(), "kind": kind, "text": text}
        if data:
            event["data"] = data
        self.store.rpush(self._timeline(incident.district, incident.id), json.dumps(event, ensure_ascii=False))

    def timeline(self, district_id: str, incident_id: str) -> list[dict]:
        return [json.loads(item) for item in self.store.lrange(self._timeline(district_id, incident_id), 0, -1)]

    def record_detail(self, incident: Incident, name: str, value) -> None:
        details = dict(incident.details)
        details[name] = value
        self.update(incident, details=details)
        self.add_event(incident, "detail", f"{name.replace('_', ' ')}: {_describe(value)}", field=name)

    # --- contacts and state changes -----------------------------------------------------------
    def mark_notified(self, incident: Incident, number: str) -> None:
        self.store.sadd(self._contact_key(incident.district, number), incident.id)

    def awaiting(self, district_id: str, number: str) -> list[str]:
        """Incidents this contact was alerted to that no legal role has taken yet."""
        ids = sorted(self.store.smembers(self._contact_key(district_id, number)))
        found = []
        for incident_id in ids:
            incident = self.get(district_id, incident_id)
            if incident and incident.escalating:
                found.append(incident_id)
            else:
                self.store.srem(self._contact_key(district_id, number), incident_id)
        return found

    def apply(self, incident: Incident, from_states: Iterable[str], changes: dict, guard: str | None = None) -> bool:
        """Apply ``changes`` if the incident is (still) in one of ``from_states`` and ``guard`` is
        unset; True if this call changed it. ``incident`` is refreshed from Redis either way."""
        values = [item for name, value in changes.items() for item in (name, _encode(name, value))]
        applied = bool(self._apply(keys=[incident_key(incident.district, incident.id)],
                                   args=[" ".join(from_states), guard or "", *values]))
        fresh = self.get(incident.district, incident.id)
        if fresh is not None:
            incident.__dict__.update(fresh.__dict__)
        if applied and changes.get("status") == "closed":
            self.store.delete(self._reporter_key(incident.district, incident.reporter))
            self.store.zrem(self._active_index(incident.district), incident.id)
        return applied

    def delete(self, district_id: str, incident_id: str, drill: bool) -> None:
        with self.store.pipeline() as pipe:
            pipe.delete(incident_key(district_id, incident_id), self._timeline(district_id, incident_id))
            pipe.zrem(self._index(district_id, drill), incident_id)
            pipe.zrem(self._active_index(district_id), incident_id)
            pipe.execute()

    def older_than(self, district_id: str, cutoff: float, drills: bool) -> Iterable[str]:
        return self.store.zrangebyscore(self._index(district_id, drills), 0, cutoff)

    # --- keys -----------------------------------------------------------------------------------
    @staticmethod
    def _index(district_id: str, drill: bool) -> str:
        return key("drills" if drill else "incidents", district_id)

    @staticmethod
    def _active_index(district_id: str) -> str:
        return key("active", district_id)

    @staticmethod
    def _timeline(district_id: str, incident_id: str) -> str:
        return key("incident", district_id, incident_id, "timeline")

    @staticmethod
    def _reporter_key(district_id: str, number: str) -> str:
        return key("reporter", district_id, number)

    @staticmethod
    def _contact_key(district_id: str, number: str) -> str:
        return key("awaiting", district_id, number)


def _describe(value) -> str:
    if isinstance(value, list):
        # Not the URLs: Twilio's media links are for the documents job, never for the dashboard.
        return f"{len(value)} photo(s)"
    if value is None:
        return "(not given)"
    return str(value)
