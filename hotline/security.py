"""The security timeline and the district's budget of wrong staff codes.

A per-number limit (conversation.py) does not stop guessing from many numbers: caller ID is free
to spoof and numbers are cheap. So each district also has a budget of wrong codes across all
numbers, by text and by phone (district ``staff_code_limit``, default 20 in 15 minutes). Once it is
spent, the code is refused for a cool-down, whoever sends it, and the legal office is texted once.
The protocol and the numbers to call are never withheld: only the code check pauses.

Every code attempt (right, wrong, refused) lands on the district's security timeline, which the
dashboard shows. It carries the last four digits of a number at most, never the code typed.
"""

from __future__ import annotations

import json
import logging
import secrets

import redis

from .district import District
from .phones import mask
from . import queueing
from .services import Services
from .store import key

log = logging.getLogger(__name__)

TIMELINE_KEEP = 2000          # newest events kept per district
STORE_ERRORS = (redis.RedisError, OSError)


def _timeline_key(district_id: str) -> str:
    return key("security", district_id, "timeline")


def add_event(services: Services, district_id: str, kind: str, text: str) -> None:
    """Add to the security timeline; a store failure is logged, never raised into a webhook."""
    event = json.dumps({"t": services.clock(), "kind": kind, "text": text}, ensure_ascii=False)
    try:
        with services.redis.pipeline() as pipe:
            pipe.lpush(_timeline_key(district_id), event)
            pipe.ltrim(_timeline_key(district_id), 0, TIMELINE_KEEP - 1)
            pipe.execute()
    except STORE_ERRORS as exc:
        log.error("security timeline not written (%s)", type(exc).__name__)


def timeline(services: Services, district_id: str, limit: int = 200) -> list[dict]:
    """The newest events first."""
    return [json.loads(item) for item in services.redis.lrange(_timeline_key(district_id), 0, limit - 1)]


# --- The staff-code budget -----------------------------------------------------------------------

def _failures_key(district_id: str) -> str:
    return key("security", district_id, "code-failures")


def _cooldown_key(district_id: str) -> str:
    return key("security", district_id, "code-cooldown")


def code_paused(services: Services, district: District, number: str, channel: str) -> bool:
    """True while the district's code check is paused (its budget of wrong codes is spent). A
    store failure counts as paused: a guess must not slip past the budget."""
    try:
        paused = bool(services.redis.exists(_cooldown_key(district.id)))
    except STORE_ERRORS:
        return True
    if paused:
        add_event(services, district.id, "code-refused",
                  f"staff code not checked (paused after too many wrong codes) from {mask(number)} by {channel}")
    return paused


def paused_until(services: Services, district: District) -> float | None:
    """When the paused code check resumes (a timestamp), or None when it is not paused."""
    ttl = services.redis.ttl(_cooldown_key(district.id))
    return services.clock() + ttl if ttl and ttl > 0 else None


def record_code_attempt(services: Services, district: District, line_number: str, number: str, channel: str,
                        accepted: bool) -> None:
    """Put the attempt on the timeline; a wrong one counts against the district's budget."""
    how = "text" if channel == "sms" else "phone"
    if accepted:
        add_event(services, district.id, "code-accepted", f"staff code accepted from {mask(number)} by {how}")
        return
    add_event(services, district.id, "code-wrong", f"wrong staff code from {mask(number)} by {how}")
    limit = district.staff_code_limit
    now = services.clock()
    try:
        # A sliding window: one member per failure, scored by its time.
        with services.redis.pipeline() as pipe:
            pipe.zadd(_failures_key(district.id), {f"{now}:{secrets.token_hex(4)}": now})
            pipe.zremrangebyscore(_failures_key(district.id), 0, now - limit.window)
            pipe.zcard(_failures_key(district.id))
            pipe.expire(_failures_key(district.id), int(limit.window) + 60)
            _, _, failures, _ = pipe.execute()
        if failures < limit.failures:
            return
        if not services.redis.set(_cooldown_key(district.id), str(now), nx=True, ex=int(limit.cooldown)):
            return        # already paused: the office was told when the pause began
        services.redis.delete(_failures_key(district.id))
    except STORE_ERRORS as exc:
        log.error("staff-code budget not updated (%s)", type(exc).__name__)
        return
    minutes = max(1, round(limit.window / 60))
    add_event(services, district.id, "code-paused",
              f"staff code paused for {round(limit.cooldown / 60)} min: {failures} wrong codes in {minutes} min")
    log.warning("staff code paused district=%s failures=%d window=%ss", district.id, failures, limit.window)
    try:
        queueing.enqueue(services, "send_staff_code_alert", district.id, line_number, failures, minutes)
    except STORE_ERRORS as exc:
        add_event(services, district.id, "alert-failed", f"the legal office could not be texted ({type(exc).__name__})")


def send_staff_code_alert(services: Services, district_id: str, line_number: str, failures: int,
                          minutes: int) -> str:
    """Text the legal office that the staff code is under attack (once per pause; jobs.py)."""
    district = services.directory.get(district_id)
    legal = district.first_contact("legal")
    if legal is None:
        return "no legal contact"
    catalogs = services.content(district).catalogs
    lang = district.default_language
    body = catalogs.render(lang, "staff.code.attack",
                           {"failures": failures, "minutes": minutes,
                            "cooldown": max(1, round(district.staff_code_limit.cooldown / 60))}, "sms", lang).text
    result = services.outbound.send_sms(line_number, legal.number, body)
    if result.ok:
        add_event(services, district_id, "alert-sent", f"legal office texted ({mask(legal.number)}) about the attack")
        return "sent"
    add_event(services, district_id, "alert-failed", f"texting the legal office failed ({result.reason or 'error'})")
    if result.retryable:
        raise RuntimeError("staff-code alert: Twilio asked to try again")
    return "failed"
