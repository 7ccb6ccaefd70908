"""Putting work on the queue by name: the domain says *which* job (``"run_tier"``) and RQ imports
``hotline.jobs.run_tier`` in the worker. The domain never imports ``jobs.py`` (the entry points sit
above it), so imports point one way (see DESIGN.md, "Layers").

Retries use RQ's own Retry (with the intervals from the settings); timers use RQ's scheduler.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import time

from rq import Retry
from rq.registry import ScheduledJobRegistry

from .services import Services

JOBS_MODULE = "hotline.jobs"
JOB_TIMEOUT = 60            # seconds; a REST call times out long before (HOTLINE_REST_TIMEOUT)
RESULT_TTL = 3600
FAILURE_TTL = 7 * 86400


def retry_policy(services: Services) -> Retry:
    """429s, 5xx and timeouts: try again after each interval (default 2, 5, 15, 30 s), then fall back."""
    intervals = list(services.settings.retry_intervals)
    return Retry(max=len(intervals), interval=intervals)


def job_path(name: str) -> str:
    return f"{JOBS_MODULE}.{name}"


def enqueue(services: Services, name: str, *args, job_timeout: int = JOB_TIMEOUT):
    return enqueue_path(services, job_path(name), *args, job_timeout=job_timeout)


def enqueue_path(services: Services, path: str, *args, job_timeout: int = JOB_TIMEOUT):
    """A job given by its dotted path (one outside hotline.jobs), with the same retries and TTLs."""
    return services.queue.enqueue(path, *args, job_timeout=job_timeout, result_ttl=RESULT_TTL,
                                  failure_ttl=FAILURE_TTL, retry=retry_policy(services))


def enqueue_in(services: Services, seconds: float, name: str, *args, job_id: str | None = None):
    """Run job ``name`` no sooner than ``seconds`` from now. RQ keeps due times in whole seconds and
    would round down (a tier could start up to a second early); rounding the due time up keeps it
    honest."""
    due = math.ceil(time.time() + max(0.0, seconds))
    return services.queue.enqueue_at(dt.datetime.fromtimestamp(due, dt.timezone.utc), job_path(name), *args,
                                     job_timeout=JOB_TIMEOUT, result_ttl=RESULT_TTL, failure_ttl=FAILURE_TTL,
                                     retry=retry_policy(services), job_id=job_id)


# --- The one timer per SMS conversation ----------------------------------------------------------

def _timeout_job_id(district_id: str, line: str, number: str) -> str:
    # One timer per conversation (a new question replaces the last one's), named without the number.
    return "sms-timeout-" + hashlib.sha256(f"{district_id}|{line}|{number}".encode()).hexdigest()[:24]


def schedule_sms_timeout(services: Services, district_id: str, line: str, number: str, seq: int,
                         seconds: float) -> None:
    enqueue_in(services, seconds, "sms_timeout", district_id, line, number, seq,
               job_id=_timeout_job_id(district_id, line, number))


def cancel_sms_timeout(services: Services, district_id: str, line: str, number: str) -> None:
    job_id = _timeout_job_id(district_id, line, number)
    ScheduledJobRegistry(queue=services.queue).remove(job_id, delete_job=True)
