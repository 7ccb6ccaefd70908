"""RQ jobs: module-level functions taking primitives, each a thin entry into the module that does
the work. Retries use RQ's own Retry (with backoff); timers use RQ's scheduler (enqueue_in).

Job settings are tuned so a worker killed mid-job is noticed in seconds (see worker.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import time

from rq import Retry, get_current_job
from rq.registry import ScheduledJobRegistry

from .services import Services, current

JOB_TIMEOUT = 60            # seconds; a REST call times out long before (HOTLINE_REST_TIMEOUT)
RESULT_TTL = 3600
FAILURE_TTL = 7 * 86400


def retry_policy(services: Services) -> Retry:
    """429s, 5xx and timeouts: try again after each interval (default 2, 5, 15, 30 s), then fall back."""
    intervals = list(services.settings.retry_intervals)
    return Retry(max=len(intervals), interval=intervals)


def enqueue(services: Services, func, *args):
    return services.queue.enqueue(func, *args, job_timeout=JOB_TIMEOUT, result_ttl=RESULT_TTL,
                                  failure_ttl=FAILURE_TTL, retry=retry_policy(services))


def enqueue_in(services: Services, seconds: float, func, *args, job_id: str | None = None):
    """Run ``func`` no sooner than ``seconds`` from now. RQ keeps due times in whole seconds and would
    round down (a tier could start up to a second early); rounding the due time up keeps it honest."""
    due = math.ceil(time.time() + max(0.0, seconds))
    return services.queue.enqueue_at(dt.datetime.fromtimestamp(due, dt.timezone.utc), func, *args,
                                     job_timeout=JOB_TIMEOUT, result_ttl=RESULT_TTL, failure_ttl=FAILURE_TTL,
                                     retry=retry_policy(services), job_id=job_id)


def _retries_left() -> int:
    job = get_current_job()
    return int(job.retries_left or 0) if job else 0


# --- Escalation ---------------------------------------------------------------------------------

def run_tier(district_id: str, incident_id: str, tier: int, round_: int) -> str:
    from . import escalation

    return escalation.run_tier(current(), district_id, incident_id, tier, round_)


def deliver(district_id: str, incident_id: str, contact_id: str, channel: str, tier: int, round_: int) -> str:
    from . import escalation

    return escalation.deliver(current(), district_id, incident_id, contact_id, channel, tier, round_,
                              retries_left=_retries_left())


def give_up(district_id: str, incident_id: str) -> str:
    from . import escalation

    return escalation.give_up(current(), district_id, incident_id)


def notify_reporter(district_id: str, incident_id: str, message: str, purpose: str, extra: dict) -> str:
    from . import escalation

    return escalation.notify_reporter(current(), district_id, incident_id, message, purpose, extra)


def notify_contacts(district_id: str, incident_id: str, message: str, purpose: str, exclude: list,
                    extra: dict) -> int:
    from . import escalation

    return escalation.notify_contacts(current(), district_id, incident_id, message, purpose, list(exclude), extra)


# --- Documents (photos staff send at the photo step) ---------------------------------------------

def collect_documents(district_id: str, incident_id: str, urls: list) -> str:
    from . import document_forwarding

    return document_forwarding.collect_and_forward(current(), district_id, incident_id, list(urls),
                                                   retries_left=_retries_left())


def forward_documents(district_id: str, incident_id: str) -> int:
    from . import document_forwarding

    return document_forwarding.forward(current(), district_id, incident_id, retries_left=_retries_left())


# --- Family line --------------------------------------------------------------------------------

def notify_office(district_id: str, reference: str) -> str:
    from . import office_notice

    return office_notice.notify_office(current(), district_id, reference)


# --- Conversations and upkeep -------------------------------------------------------------------

def _timeout_job_id(district_id: str, line: str, number: str) -> str:
    # One timer per conversation (a new question replaces the last one's), named without the number.
    return "sms-timeout-" + hashlib.sha256(f"{district_id}|{line}|{number}".encode()).hexdigest()[:24]


def schedule_sms_timeout(services: Services, district_id: str, line: str, number: str, seq: int,
                         seconds: float) -> None:
    enqueue_in(services, seconds, sms_timeout, district_id, line, number, seq,
               job_id=_timeout_job_id(district_id, line, number))


def cancel_sms_timeout(services: Services, district_id: str, line: str, number: str) -> None:
    job_id = _timeout_job_id(district_id, line, number)
    ScheduledJobRegistry(queue=services.queue).remove(job_id, delete_job=True)


def sms_timeout(district_id: str, line: str, number: str, seq: int) -> str:
    from . import timeouts

    return timeouts.run_sms_timeout(current(), district_id, line, number, seq)


def reconcile() -> dict:
    from . import reconciler

    return reconciler.reconcile(current())


def purge() -> dict:
    from . import retention

    return retention.purge(current())
