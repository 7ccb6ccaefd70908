"""Fixed-window counters in Redis: per-number limits on inbound messages, staff-code attempts and
dashboard sign-ins."""

from __future__ import annotations

import logging

import redis

from .store import key

log = logging.getLogger(__name__)


def allow(store: redis.Redis, bucket: str, scope: str, subject: str, *, limit: int, window: int,
          fail_open: bool = True) -> bool:
    """Count one attempt; False once more than ``limit`` happened within ``window`` seconds.

    ``fail_open`` decides what happens when Redis is unreachable: inbound messages are let
    through (a staff member must get the protocol), staff codes are refused (a guess must not
    slip past the limit).
    """
    try:
        with store.pipeline(transaction=False) as pipe:
            count_on(pipe, bucket, scope, subject, window)
            _, count = pipe.execute()
    except (redis.RedisError, OSError):
        return fail_open
    return count <= limit


def count_on(pipe: redis.client.Pipeline, bucket: str, scope: str, subject: str, window: int) -> None:
    """Queue one attempt on ``pipe`` (two commands; the second's result is the count in the window),
    so a caller can count in a round trip it makes anyway."""
    counter = key("rate", bucket, scope, subject)
    # SET NX EX opens the window (EXPIRE NX needs Redis 7; the embedded server is 6.2).
    pipe.set(counter, 0, ex=window, nx=True)
    pipe.incr(counter)


def reset(store: redis.Redis, bucket: str, scope: str, subject: str) -> None:
    store.delete(key("rate", bucket, scope, subject))
