"""The Redis connection and the key names every module shares.

All keys start with ``hl:`` so the hotline can share a Redis with other software, and RQ's own
keys stay under ``rq:``.
"""

from __future__ import annotations

import redis

from .redis_urls import RedisTLS, open_redis

# Short timeouts: a webhook must answer Twilio within seconds even when Redis is unreachable, and
# "Redis is down" must be learnt in well under a second (see the never-silent rule in DESIGN.md).
SOCKET_TIMEOUT = 0.5
CONNECT_TIMEOUT = 0.3


def connect(url: str, tls: RedisTLS | None = None, **options) -> redis.Redis:
    """The hotline's text connection: plain, TLS or Sentinel (redis_urls.py)."""
    options.setdefault("socket_timeout", SOCKET_TIMEOUT)
    options.setdefault("socket_connect_timeout", CONNECT_TIMEOUT)
    options.setdefault("health_check_interval", 10)
    # No automatic command retries: a webhook prefers a fast, honest failure to a slow one.
    options.setdefault("retry", None)
    return open_redis(url, decode=True, tls=tls, **options)


def key(*parts: object) -> str:
    return "hl:" + ":".join(str(p) for p in parts)
