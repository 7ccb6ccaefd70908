"""Incidents: one enforcement or records event, with a short number people can say on the phone,
and a timeline of everything that happened to it (reported, each send, delivery, acknowledgement,
details, closed).

Stored in Redis (persistent: append-only in the embedded server). Drills have their own numbers
(``D12``) and index, so they never mix into real incident counts.
"""

from __future__ import annotations

import json
import time
from dataclasses import MISSING, asdict, dataclass, field
from collections.abc import Iterable, Iterator

import redis

from .store import key

TYPES = ("ice", "records")
STATUSES = ("open", "acknowledged", "closed")
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
    acknowledged_by: str | None = None      # a contact id, or "dashboard"
    acknowledged_name: str | None = None    # who, as people should read it
    acknowledged_at: float | None = None
    closed_at: float | None = None
    policy: dict = field(default_factory=dict)
    details: dict = field(default_factory=dict)
    escalation_started: bool = False
    all_failed_told: bool = False

    @property
    def verified(self) -> bool:
        return self.verification in ("roster", "code")

    @property
    def active(self) -> bool:
        return self.status != "closed"


_JSON_FIELDS = {"policy", "details"}
_BOOL_FIELDS = {"drill", "urgent", "escalation_started", "all_failed_told"}
_FLOAT_FIELDS = {"created", "acknowledged_at", "closed_at"}


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


class IncidentStore:
    def __init__(self, store: redis.Redis, clock=time.time):
        self.store = store
        self.clock = clock

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
        return [i for drills in (False, True) for i in self.list(district_id, drills) if i.active]

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

    # --- contacts and acknowledgement -----------------------------------------------------------
    def mark_notified(self, incident: Incident, number: str) -> None:
        self.store.sadd(self._contact_key(incident.district, number), incident.id)

    def awaiting(self, district_id: str, number: str) -> list[str]:
        """Incidents this contact was alerted to and nobody has acknowledged yet."""
        ids = sorted(self.store.smembers(self._contact_key(district_id, number)))
        found = []
        for incident_id in ids:
            incident = self.get(district_id, incident_id)
            if incident and incident.status == "open":
                found.append(incident_id)
            else:
                self.store.srem(self._contact_key(district_id, number), incident_id)
        return found

    def acknowledge(self, incident: Incident, contact_id: str, name: str) -> bool:
        """True for the first acknowledgement; later ones change nothing."""
        first = self.store.hsetnx(incident_key(incident.district, incident.id), "acknowledged_by", contact_id)
        if not first:
            fresh = self.get(incident.district, incident.id)
            incident.acknowledged_by, incident.acknowledged_name = fresh.acknowledged_by, fresh.acknowledged_name
            return False
        now = self.clock()
        self.update(incident, acknowledged_by=contact_id, acknowledged_name=name, acknowledged_at=now,
                    status="acknowledged" if incident.status == "open" else incident.status)
        return True

    def close(self, incident: Incident, by: str) -> bool:
        if incident.status == "closed":
            return False
        self.update(incident, status="closed", closed_at=self.clock())
        self.store.delete(self._reporter_key(incident.district, incident.reporter))
        self.add_event(incident, "closed", f"closed by {by}")
        return True

    def delete(self, district_id: str, incident_id: str, drill: bool) -> None:
        with self.store.pipeline() as pipe:
            pipe.delete(incident_key(district_id, incident_id), self._timeline(district_id, incident_id))
            pipe.zrem(self._index(district_id, drill), incident_id)
            pipe.execute()

    def older_than(self, district_id: str, cutoff: float, drills: bool) -> Iterable[str]:
        return self.store.zrangebyscore(self._index(district_id, drills), 0, cutoff)

    # --- keys -----------------------------------------------------------------------------------
    @staticmethod
    def _index(district_id: str, drill: bool) -> str:
        return key("drills" if drill else "incidents", district_id)

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
        return f"{len(value)} photo(s): " + " ".join(value)
    if value is None:
        return "(not given)"
    return str(value)
