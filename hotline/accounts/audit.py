"""The audit log: who did what, when, from where. One Redis stream per district
(``hl:audit:<district>``), append-only: the hotline only ever adds entries (XADD) and trims those
older than the district's ``retention.audit`` (default 3 years; XTRIM MINID, since stream ids are
timestamps). FERPA (34 CFR 99.32) expects such a record of who accessed education records.

Recorded: every sign-in (and failed one), sign-out, view of an incident or of requests, export,
acknowledgement, close, request processed, and account change. Entries hold names, ids and
references, never the content of an incident or a request.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import redis

from ..store import key

FIELDS = ("time", "district", "actor", "email", "role", "action", "target", "address", "detail")
# The actions an entry may have, in docs/dashboard.md's words.
ACTIONS = ("sign_in", "sign_in_failed", "sign_out", "session_ended", "view_incident", "view_requests",
           "export_incidents", "export_requests", "export_audit", "acknowledge", "close", "request_processed",
           "user_added", "user_disabled", "user_enabled", "password_reset", "view_audit", "view_document")


@dataclass(frozen=True)
class Actor:
    """Who acts: a signed-in person, or the command line (``hotline users``)."""

    name: str
    email: str = ""
    role: str = ""
    address: str = ""
    account_id: str = ""


def _stream(district_id: str) -> str:
    return key("audit", district_id)


class AuditLog:
    def __init__(self, store: redis.Redis, clock=time.time):
        self.store = store
        self.clock = clock

    def record(self, districts, actor: Actor, action: str, target: str = "", **detail) -> None:
        """Append one entry to each district's log (an account of several districts signs in to all)."""
        if action not in ACTIONS:
            raise ValueError(f"unknown audit action {action!r}")
        now = self.clock()
        entry = {"t": repr(now), "actor": actor.name, "actor_id": actor.account_id, "email": actor.email,
                 "role": actor.role, "action": action, "target": str(target), "address": actor.address,
                 "detail": json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail else ""}
        with self.store.pipeline() as pipe:
            for district_id in dict.fromkeys(districts):
                pipe.xadd(_stream(district_id), {**entry, "district": district_id})
            pipe.execute()

    def entries(self, district_id: str, since: float | None = None, limit: int | None = None,
                newest_first: bool = True) -> list[dict]:
        start = f"{int(since * 1000)}-0" if since else "-"
        if newest_first:
            raw = self.store.xrevrange(_stream(district_id), "+", start, count=limit)
        else:
            raw = self.store.xrange(_stream(district_id), start, "+", count=limit)
        return [_entry(entry_id, values) for entry_id, values in raw]

    def trim(self, district_id: str, older_than: float) -> int:
        """Delete entries older than ``older_than`` (a timestamp): the district's retention."""
        return self.store.xtrim(_stream(district_id), minid=f"{int(older_than * 1000)}-0", approximate=False)


def _entry(entry_id: str, values: dict) -> dict:
    return {"id": entry_id, "t": float(values.get("t") or int(entry_id.split("-")[0]) / 1000),
            **{name: values.get(name, "") for name in FIELDS if name != "time"},
            "detail": json.loads(values["detail"]) if values.get("detail") else {}}
