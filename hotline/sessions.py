"""Conversation state in Redis: one JSON document per conversation, with an expiry.

A text conversation is keyed by the line and the sender's number; a call by its CallSid. The
expiry comes from the flow (``session:`` in flows/*.yaml), capped for the family line by the
district's retention for family conversations, so a family's answers never outlive it.
"""

from __future__ import annotations

import json

import redis

from .store import key


def sms_key(district_id: str, line: str, number: str) -> str:
    return key("session", district_id, "sms", line, number)


def call_key(district_id: str, call_sid: str) -> str:
    return key("session", district_id, "voice", call_sid)


class SessionStore:
    def __init__(self, store: redis.Redis):
        self.store = store

    def load(self, session_key: str) -> dict | None:
        raw = self.store.get(session_key)
        if not raw:
            return None
        try:
            state = json.loads(raw)
        except ValueError:
            return None
        return state if isinstance(state, dict) else None

    def save(self, session_key: str, state: dict, ttl_seconds: float) -> None:
        self.store.set(session_key, json.dumps(state, ensure_ascii=False, separators=(",", ":")),
                       ex=max(1, int(ttl_seconds)))

    def delete(self, session_key: str) -> None:
        self.store.delete(session_key)
