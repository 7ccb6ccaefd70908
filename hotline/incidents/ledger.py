"""Send-once bookkeeping: every outbound message or call is an entry in a ledger (a Redis hash per
incident or per notice stream), so that a job run twice never sends twice.

An entry moves queued -> claimed -> sent | failed (or retrying, between RQ retries). ``queued`` is
written before the job that sends is enqueued, so "has every planned send failed?" can be answered
from the ledger alone, before every job has run. A job that finds its
entry still ``claimed`` died mid-send (a worker killed, a timeout): before sending again it asks
Twilio whether the first attempt got through (outbound.find_sms/find_call) and, if so, records
that instead of sending a second time.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import redis

from ..outbound import Outbound, SendResult
from ..store import key

FINAL = ("sent", "failed", "skipped")
PENDING = ("queued", "claimed", "retrying")
SID_TTL = 14 * 86400


class TransientDeliveryError(Exception):
    """Raised inside a job so that RQ's Retry tries again later."""


@dataclass(frozen=True)
class Entry:
    status: str
    at: float
    sid: str | None = None
    error_code: int | None = None
    reason: str = ""
    delivery: str | None = None     # the latest delivery status Twilio reported


def read(store: redis.Redis, ledger: str, field: str) -> Entry | None:
    raw = store.hget(ledger, field)
    return Entry(**json.loads(raw)) if raw else None


def write(store: redis.Redis, ledger: str, field: str, entry: Entry) -> None:
    store.hset(ledger, field, json.dumps(entry.__dict__))


def queue(store: redis.Redis, ledger: str, field: str, clock=time.time) -> None:
    """Mark a send as planned (its job is about to be enqueued); an existing entry is kept."""
    store.hsetnx(ledger, field, json.dumps(Entry("queued", clock()).__dict__))


def entries(store: redis.Redis, ledger: str) -> dict[str, Entry]:
    return {field: Entry(**json.loads(raw)) for field, raw in store.hgetall(ledger).items()}


def index_sid(store: redis.Redis, sid: str, ledger: str, field: str) -> None:
    """Remember which entry a Twilio sid belongs to, for its delivery callbacks."""
    store.set(key("sid", sid), json.dumps([ledger, field]), ex=SID_TTL)


def entry_for_sid(store: redis.Redis, sid: str) -> tuple[str, str] | None:
    raw = store.get(key("sid", sid))
    return tuple(json.loads(raw)) if raw else None


@dataclass(frozen=True)
class Attempt:
    """What send_once did: already done before, recovered a send that got through, or sent now."""

    outcome: str                     # "done" | "recovered" | "sent" | "failed"
    entry: Entry
    result: SendResult | None = None


def send_once(store: redis.Redis, outbound: Outbound, ledger: str, field: str, *, channel: str, from_: str,
              to: str, marker: str, body: str | None = None, url: str | None = None,
              status_callback: str | None = None, clock=time.time) -> Attempt:
    previous = read(store, ledger, field)
    if previous and previous.status in FINAL:
        return Attempt("done", previous)
    if previous and previous.status == "claimed":
        finder = outbound.find_sms if channel == "sms" else outbound.find_call
        try:
            sid = finder(from_, to, previous.at, marker)
        except Exception:  # noqa: BLE001 — cannot tell: sending again is safer than staying silent
            sid = None
        if sid:
            entry = Entry("sent", clock(), sid, reason="recovered after an interrupted send")
            write(store, ledger, field, entry)
            index_sid(store, sid, ledger, field)
            return Attempt("recovered", entry)
    previous_at = clock()
    write(store, ledger, field, Entry("claimed", previous_at))
    if channel == "sms":
        result = outbound.send_sms(from_, to, body or "", status_callback=status_callback)
    else:
        result = outbound.place_call(from_, to, url or "", status_callback=status_callback)
    if result.ok:
        entry = Entry("sent", clock(), result.sid)
        write(store, ledger, field, entry)
        index_sid(store, result.sid, ledger, field)
        return Attempt("sent", entry, result)
    # An uncertain failure stays "claimed": the retry checks with Twilio before sending again.
    status = "claimed" if result.uncertain else ("retrying" if result.retryable else "failed")
    entry = Entry(status, previous_at if status == "claimed" else clock(), None, result.error_code, result.reason)
    write(store, ledger, field, entry)
    return Attempt("failed", entry, result)


def mark(store: redis.Redis, ledger: str, field: str, status: str, **changes) -> Entry:
    current = read(store, ledger, field) or Entry(status, time.time())
    entry = Entry(**{**current.__dict__, "status": status, **changes})
    write(store, ledger, field, entry)
    return entry
