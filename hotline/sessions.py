"""Conversation state in Redis: one JSON document per conversation, with an expiry.

A text conversation is keyed by the line and the sender's number; a call by its CallSid. The
expiry comes from the flow (``session:`` in flows/*.yaml), capped for the family line by the
district's retention for family conversations, so a family's answers never outlive it.
"""

from __future__ import annotations

import json
from typing import NamedTuple

import redis

from .store import key


def sms_key(district_id: str, line: str, number: str) -> str:
    return key("session", district_id, "sms", line, number)


def call_key(district_id: str, call_sid: str) -> str:
    return key("session", district_id, "voice", call_sid)


class Loaded(NamedTuple):
    """A conversation as read: its state (None when there is none) and whether the store answered."""

    state: dict | None
    ok: bool


def decode(raw: str | bytes | None) -> dict | None:
    """The state stored under a session key (read with GET, possibly in someone's pipeline)."""
    if not raw:
        return None
    try:
        state = json.loads(raw)
    except ValueError:
        return None
    return state if isinstance(state, dict) else None


class SessionStore:
    def __init__(self, store: redis.Redis):
        self.store = store

    def load(self, session_key: str) -> dict | None:
        return decode(self.store.get(session_key))

    def save(self, session_key: str, state: dict, ttl_seconds: float, into: redis.client.Pipeline | None = None) -> None:
        """Store the state now, or, with ``into``, queue it on a pipeline its owner sends (together
        with its own writes: one round trip for a whole webhook)."""
        (into if into is not None else self.store).set(
            session_key, json.dumps(state, ensure_ascii=False, separators=(",", ":")), ex=max(1, int(ttl_seconds)))

    def delete(self, session_key: str) -> None:
        self.store.delete(session_key)
