"""The reconciler: a scheduled job (every 15 s, RQ's cron in each worker) that finds escalations
that stalled and acts again, and the heartbeat a district's monitoring can poll.

An escalation stalls when a tier's timer is overdue (the scheduler that held it died, or its job
was lost) or a notification stayed claimed or retrying with no job to finish it (a worker killed
between RQ's retries). Acting again is safe: tiers run once, notifications are sent once.
"""

from __future__ import annotations

import logging
import time

from . import jobs, ledger
from .escalation import ledger_key, parse_field
from .services import Services
from .store import key

log = logging.getLogger(__name__)

INTERVAL = 15            # seconds between runs (worker.py registers it with RQ's cron)
TIMER_GRACE = 20         # a timer this late is overdue
DELIVERY_STUCK = 120     # a notification unfinished this long is stuck (RQ's retries span ~52 s)
HEARTBEAT_KEY = key("heartbeat", "reconciler")


def _overdue_timers(services: Services, district_id: str, now: float) -> list[tuple[str, str, str]]:
    found = []
    for incident_id, value in services.redis.hgetall(key("timers", district_id)).items():
        due, next_tier, next_round = value.split("|")
        if now > float(due) + TIMER_GRACE:
            found.append((incident_id, next_tier, next_round))
    return found


def _stuck_deliveries(services: Services, incident, now: float) -> list[str]:
    return [field for field, entry in ledger.entries(services.redis, ledger_key(incident)).items()
            if entry.status in ("claimed", "retrying") and now - entry.at > DELIVERY_STUCK]


def find_stalled(services: Services, now: float | None = None) -> dict[str, list]:
    """{'timers': [(district, incident, next)], 'deliveries': [(district, incident, field)]}."""
    now = now or services.clock()
    stalled: dict[str, list] = {"timers": [], "deliveries": []}
    for district in services.directory.districts:
        for incident_id, next_tier, next_round in _overdue_timers(services, district.id, now):
            incident = services.incidents.get(district.id, incident_id)
            if incident is None or incident.status != "open":
                services.redis.hdel(key("timers", district.id), incident_id)
                continue
            stalled["timers"].append((district.id, incident_id, next_tier, next_round))
        for incident in services.incidents.open_incidents(district.id):
            if incident.status == "open":
                for field in _stuck_deliveries(services, incident, now):
                    stalled["deliveries"].append((district.id, incident.id, field))
    return stalled


def reconcile(services: Services) -> dict:
    # One reconciler at a time, whichever worker's cron enqueued it.
    if not services.redis.set(key("lock", "reconcile"), "1", nx=True, ex=INTERVAL):
        return {"skipped": "another run holds the lock"}
    now = services.clock()
    stalled = find_stalled(services, now)
    for district_id, incident_id, next_tier, next_round in stalled["timers"]:
        log.warning("reconciler: incident %s/%s timer overdue; acting now", district_id, incident_id)
        services.redis.hdel(key("timers", district_id), incident_id)
        if next_tier == "end":
            jobs.enqueue(services, jobs.give_up, district_id, incident_id)
        else:
            jobs.enqueue(services, jobs.run_tier, district_id, incident_id, int(next_tier), int(next_round))
    for district_id, incident_id, field in stalled["deliveries"]:
        log.warning("reconciler: incident %s/%s delivery %s stuck; sending again", district_id, incident_id,
                    field.split("|")[1])
        contact_id, channel, tier, round_ = parse_field(field)
        jobs.enqueue(services, jobs.deliver, district_id, incident_id, contact_id, channel, tier, round_)
    summary = {"timers": len(stalled["timers"]), "deliveries": len(stalled["deliveries"]), "at": now}
    services.redis.hset(HEARTBEAT_KEY, mapping={"at": now, "acted": summary["timers"] + summary["deliveries"]})
    return summary


def heartbeat(services: Services) -> tuple[bool, dict]:
    """Healthy when the reconciler ran recently and nothing has been stalled past a second chance."""
    now = time.time()
    last = services.redis.hget(HEARTBEAT_KEY, "at")
    stalled = find_stalled(services, now - INTERVAL * 2)   # still stalled after the reconciler had its go
    report = {
        "reconciler_last_run_seconds_ago": round(now - float(last), 1) if last else None,
        "stalled_timers": [f"{d}/{i}" for d, i, *_ in stalled["timers"]],
        "stuck_deliveries": [f"{d}/{i}" for d, i, _ in stalled["deliveries"]],
    }
    healthy = last is not None and now - float(last) < INTERVAL * 4 and not stalled["timers"] \
        and not stalled["deliveries"]
    return healthy, report
