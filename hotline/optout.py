"""Opt-outs: a number that texted STOP to a line gets nothing more from that line.

Twilio blocks such sends itself (error 21610); keeping our own record means we never try, and the
escalation moves on to the contact's next channel at once.
"""

from __future__ import annotations

import redis

from .store import key


def _key(line: str) -> str:
    return key("optout", line)


def opt_out(store: redis.Redis, line: str, number: str) -> None:
    store.sadd(_key(line), number)


def opt_in(store: redis.Redis, line: str, number: str) -> bool:
    """Returns whether the number had opted out."""
    return bool(store.srem(_key(line), number))


def is_opted_out(store: redis.Redis, line: str, number: str) -> bool:
    return bool(store.sismember(_key(line), number))
