"""Sign-in throttling that slows guessing without locking the owner out.

Failures are counted per account (the email typed) and per client address. After a few, each
next attempt must wait a delay that doubles with every failure, up to a cap (30 seconds). An
attempt made during the delay is answered "wait N seconds" without checking the password; once
the delay has passed, the right password always works, however many wrong ones came before. (A
hard lock would let anyone behind a shared proxy, or anyone who knows an email, lock the legal
office out in the middle of an incident.)

Counts are forgotten 15 minutes after the last failure and when the right password is given.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis

from ..store import key

FREE_FAILURES = 3          # failures before any delay
CAP = 30.0                 # seconds: the longest anyone ever waits
FORGET_AFTER = 15 * 60     # seconds after the last failure
ALERT_AFTER = 10           # failures on a legal account before the legal office gets a text


def delay_after(failures: int) -> float:
    if failures < FREE_FAILURES:
        return 0.0
    return min(CAP, float(2 ** (failures - FREE_FAILURES)))


@dataclass
class Failures:
    count: int = 0
    last: float = 0.0

    def ready_at(self) -> float:
        return self.last + delay_after(self.count) if self.count else 0.0


def _key(kind: str, subject: str) -> str:
    return key("signin-failures", kind, subject)


class Throttle:
    def __init__(self, store: redis.Redis):
        self.store = store

    def _read(self, kind: str, subject: str) -> Failures:
        raw = self.store.hgetall(_key(kind, subject))
        return Failures(int(raw.get("count", 0)), float(raw.get("last", 0))) if raw else Failures()

    def wait(self, email: str, address: str, now: float) -> float:
        """Seconds to wait before this attempt may be checked (0: check it now)."""
        ready = max(self._read("account", email).ready_at() if email else 0.0,
                    self._read("address", address).ready_at())
        return max(0.0, ready - now)

    def failed(self, email: str, address: str, now: float) -> int:
        """Record a wrong password; returns the account's failure count."""
        counts = []
        for kind, subject in (("account", email), ("address", address)):
            if not subject:
                continue
            with self.store.pipeline() as pipe:
                pipe.hincrby(_key(kind, subject), "count", 1)
                pipe.hset(_key(kind, subject), "last", now)
                pipe.expire(_key(kind, subject), FORGET_AFTER + int(CAP))
                count, _, _ = pipe.execute()
            counts.append(count)
        return counts[0] if email and counts else 0

    def succeeded(self, email: str, address: str) -> None:
        self.store.delete(_key("account", email), _key("address", address))
