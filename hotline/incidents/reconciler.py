"""The reconciler: a scheduled job (every 15 s by default, RQ's cron in each worker) that finds escalations
that stalled and acts again, and the heartbeat a district's monitoring can poll.

An escalation stalls when a tier's timer is overdue (the scheduler that held it died, or its job
was lost) or a notification stayed claimed or retrying with no job to finish it (a worker killed
between RQ's retries). Acting again is safe: tiers run once, notifications are sent once.
"""

from __future__ import annotations

import logging
import time

from rq.job import Job
from rq.registry import ScheduledJobRegistry

from .. import queueing
from ..services import Services
from ..store import key
from . import escalation, ledger
from .contacts import ledger_key, parse_field

log = logging.getLogger(__name__)

# How often it runs and how late a timer may be come from the settings (HOTLINE_RECONCILE_INTERVAL,
# default 15 s; HOTLINE_TIMER_GRACE, default 20 s).
DELIVERY_STUCK = 120     # a notification unfinished this long is stuck (RQ's retries span ~52 s)
# A verified incident whose escalation never started this long after it was reported: the web
# process that created it died before it could queue the first tier (Twilio's retry of that text
# is a duplicate, so it does not start it either). Longer than the staff-code path's school
# question (1 minute), after which that path starts the escalation itself.
NOT_STARTED = 75
SCHEDULER_GRACE = 5      # a scheduled job this overdue means RQ's scheduler is not running
HEARTBEAT_KEY = key("heartbeat", "reconciler")


def _overdue_timers(services: Services, district_id: str, now: float) -> list[tuple[str, str, str]]:
    found = []
    for incident_id, value in services.redis.hgetall(key("timers", district_id)).items():
        due, next_tier, next_round = value.split("|")
        if now > float(due) + services.settings.timer_grace:
            found.append((incident_id, next_tier, next_round))
    return found


def _stuck_deliveries(services: Services, incident, now: float) -> list[str]:
    return [field for field, entry in ledger.entries(services.redis, ledger_key(incident)).items()
            if entry.status in ledger.PENDING and now - entry.at > DELIVERY_STUCK]


def release_overdue_jobs(services: Services, now: float) -> int:
    """Move scheduled jobs that are overdue to the queue. RQ's scheduler does this every second,
    but only the scheduler holding its lock; when that worker dies the lock outlives it by 60 s,
    and timers and retries (a killed job's among them) would wait that long."""
    registry = ScheduledJobRegistry(queue=services.queue)
    ids = registry.get_jobs_to_schedule(int(now - SCHEDULER_GRACE))
    if not ids:
        return 0
    moved = 0
    for job_id, job in zip(ids, Job.fetch_many(ids, connection=services.rq_redis)):
        with services.rq_redis.pipeline() as pipe:
            if job is not None:
                services.queue.enqueue_job(job, pipeline=pipe)
                moved += 1
            registry.remove(job_id, pipeline=pipe)
            pipe.execute()
    log.warning("reconciler: RQ's scheduler is behind; moved %d overdue job(s) to the queue", moved)
    return moved


def find_stalled(services: Services, now: float | None = None) -> dict[str, list]:
    """{'timers': [(district, incident, next tier, next round)], 'deliveries': [(district, incident, field)],
    'finished': [(district, incident)]}: overdue timers of open incidents, stuck notifications, and
    overdue timers of incidents acknowledged or closed since (which no longer matter). Reads only."""
    now = now or services.clock()
    stalled: dict[str, list] = {"timers": [], "deliveries": [], "finished": [], "unstarted": []}
    for district in services.directory.districts:
        for incident_id, next_tier, next_round in _overdue_timers(services, district.id, now):
            incident = services.incidents.get(district.id, incident_id)
            if incident is None or not incident.escalating:
                stalled["finished"].append((district.id, incident_id))
                continue
            stalled["timers"].append((district.id, incident_id, next_tier, next_round))
        for incident in services.incidents.open_incidents(district.id):
            if incident.escalating:
                for field in _stuck_deliveries(services, incident, now):
                    stalled["deliveries"].append((district.id, incident.id, field))
                if incident.verified and not incident.escalation_started and now - incident.created > NOT_STARTED:
                    stalled["unstarted"].append((district.id, incident.id))
    return stalled


def reconcile(services: Services) -> dict:
    # One reconciler at a time, whichever worker's cron enqueued it.
    if not services.redis.set(key("lock", "reconcile"), "1", nx=True, ex=services.settings.reconcile_interval):
        return {"skipped": "another run holds the lock"}
    now = services.clock()
    released = release_overdue_jobs(services, now)
    stalled = find_stalled(services, now)
    for district_id, incident_id in stalled["finished"]:
        services.redis.hdel(key("timers", district_id), incident_id)
    for district_id, incident_id, next_tier, next_round in stalled["timers"]:
        log.warning("reconciler: incident %s/%s timer overdue; acting now", district_id, incident_id)
        services.redis.hdel(key("timers", district_id), incident_id)
        if next_tier == "end":
            queueing.enqueue(services, "give_up", district_id, incident_id)
        else:
            queueing.enqueue(services, "run_tier", district_id, incident_id, int(next_tier), int(next_round))
    for district_id, incident_id in stalled["unstarted"]:
        incident = services.incidents.get(district_id, incident_id)
        if incident is not None and not incident.escalation_started:
            log.warning("reconciler: incident %s/%s was never escalated; starting now", district_id, incident_id)
            services.incidents.add_event(incident, "recovered", "the escalation had not started; started by the reconciler")
            escalation.start(services, incident)
    for district_id, incident_id, field in stalled["deliveries"]:
        log.warning("reconciler: incident %s/%s delivery %s stuck; sending again", district_id, incident_id,
                    field.split("|")[1])
        contact_id, channel, tier, round_ = parse_field(field)
        queueing.enqueue(services, "deliver", district_id, incident_id, contact_id, channel, tier, round_)
    summary = {"released": released, "timers": len(stalled["timers"]), "deliveries": len(stalled["deliveries"]),
               "unstarted": len(stalled["unstarted"]), "at": now}
    services.redis.hset(HEARTBEAT_KEY, mapping={"at": now, "acted": released + summary["timers"] + summary["deliveries"]
                                                + summary["unstarted"]})
    return summary


def heartbeat(services: Services) -> tuple[bool, dict]:
    """Healthy when the reconciler ran recently and nothing has been stalled past a second chance."""
    now = time.time()
    last = services.redis.hget(HEARTBEAT_KEY, "at")
    interval = services.settings.reconcile_interval
    stalled = find_stalled(services, now - interval * 2)   # still stalled after the reconciler had its go
    report = {
        "reconciler_last_run_seconds_ago": round(now - float(last), 1) if last else None,
        "stalled_timers": [f"{d}/{i}" for d, i, *_ in stalled["timers"]],
        "stuck_deliveries": [f"{d}/{i}" for d, i, _ in stalled["deliveries"]],
    }
    healthy = last is not None and now - float(last) < interval * 4 and not stalled["timers"] \
        and not stalled["deliveries"]
    return healthy, report
