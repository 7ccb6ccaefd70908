"""The RQ worker, tuned so the hotline recovers from a dead worker in seconds, not minutes.

RQ's defaults suit batch jobs: a worker killed with SIGKILL leaves its job "started" until a
heartbeat TTL of at least 60 s runs out, and registries are cleaned every 10 minutes. For an
escalation that is too slow, so:

- job_monitoring_interval = 2 s, and the heartbeat grace is 3 s instead of RQ's fixed 60 s
  (HotlineWorker.get_heartbeat_ttl): a killed job is seen as abandoned ~5 s after its last beat;
- maintenance_interval = 5 s and worker_ttl = 20 s (so the worker wakes from its blocking
  dequeue every 5 s): a surviving or new worker moves the abandoned job back to the queue (RQ's
  Retry) within seconds;
- every job is idempotent (ledger.py), so a job re-run after a kill never sends twice.

The worker also runs RQ's scheduler (for timers) and, in a thread, RQ's cron for the reconciler
(every 15 s) and the retention purge (hourly). docs/operations.md has the numbers and the bounds.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time

from rq import Queue, Worker
from rq.cron import CronScheduler

from . import jobs
from .redis_urls import open_redis
from .services import QUEUE_NAME, Services, install, settle_heap

log = logging.getLogger(__name__)

JOB_MONITORING_INTERVAL = 2
HEARTBEAT_GRACE = 3
MAINTENANCE_INTERVAL = 5
WORKER_TTL = 20
PURGE_INTERVAL = 3600


class HotlineWorker(Worker):
    reloader = None            # set by make_worker: the process's reload.Reloader
    hangup = None              # a threading.Event set by SIGHUP

    def execute_job(self, job, queue):
        # Before the fork: the work horse inherits whatever configuration the parent holds.
        if self.reloader is not None:
            if self.hangup is not None and self.hangup.is_set():
                self.hangup.clear()
                self.reloader.reload()
            else:
                self.reloader.maybe_reload()
        return super().execute_job(job, queue)

    def get_heartbeat_ttl(self, job, working_time: float = 0.0) -> int:
        if job.timeout and job.timeout > 0:
            remaining = job.timeout - working_time
            return int(max(1, min(remaining, self.job_monitoring_interval))) + HEARTBEAT_GRACE
        return self.job_monitoring_interval + HEARTBEAT_GRACE


def make_worker(services: Services, name: str | None = None) -> HotlineWorker:
    # Its own connection: RQ sizes its socket timeout for the blocking dequeue, which a connection
    # shared with the cron thread (short timeouts, made first) would not have.
    connection = open_redis(services.settings.redis_url, decode=False, tls=services.settings.redis_tls)
    worker = HotlineWorker(
        [Queue(QUEUE_NAME, connection=connection)], connection=connection, name=name,
        job_monitoring_interval=JOB_MONITORING_INTERVAL, maintenance_interval=MAINTENANCE_INTERVAL,
        worker_ttl=WORKER_TTL,
        # Job descriptions carry arguments; never log them (privacy: no phone numbers in logs).
        log_job_description=False,
    )
    worker.reloader = services.reloader
    worker.hangup = _hangup
    return worker


# SIGHUP asks this worker to read the district files again before its next job (reload.py).
_hangup = threading.Event()


def _on_hangup(signum, frame) -> None:
    _hangup.set()


def start_cron(services: Services, stop: threading.Event) -> threading.Thread:
    """Enqueue the reconciler and the purge on their intervals, using RQ's CronScheduler."""
    cron = CronScheduler(connection=services.rq_redis, logging_level="WARNING")
    cron.register(jobs.reconcile, QUEUE_NAME, interval=services.settings.reconcile_interval, job_timeout=60)
    cron.register(jobs.purge, QUEUE_NAME, interval=PURGE_INTERVAL, job_timeout=300)

    def loop() -> None:
        while not stop.is_set():
            try:
                cron.enqueue_jobs()
                delay = cron.calculate_sleep_interval()
            except Exception as exc:  # noqa: BLE001 — Redis away: try again shortly
                log.warning("cron: %s; retrying", type(exc).__name__)
                delay = 2.0
            stop.wait(max(0.5, min(delay, 5.0)))

    thread = threading.Thread(target=loop, name="hotline-cron", daemon=True)
    thread.start()
    return thread


def prepare(services: Services) -> None:
    """Build what every job needs once, before RQ forks a work horse per job: the services (the
    district files, flows and catalogs), the job modules and the twilio client. Without this
    each job rebuilt them: ~240 ms a job instead of ~30 (benchmarks/README.md)."""
    install(services)
    services.reloader.start()
    for district in services.directory.districts:
        services.content(district)
    if not services.settings.dry_run:
        services.outbound.client.api.v2010.account.messages  # noqa: B018 — loads the client's modules
    settle_heap(services.settings)


def run_worker(services: Services, with_scheduler: bool = True, burst: bool = False) -> None:
    """Run until asked to stop; a worker that quits on a Redis error is started again."""
    prepare(services)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGHUP, _on_hangup)
    stop = threading.Event()
    if not burst:
        start_cron(services, stop)
    backoff = 1.0
    try:
        while True:
            worker = make_worker(services)
            started = time.monotonic()
            worker.work(burst=burst, with_scheduler=with_scheduler, logging_level=services.settings.log_level)
            # RQ records a warm shutdown (SIGTERM/SIGINT) here, whether or not a job was running.
            if burst or worker._shutdown_requested_date is not None:
                break
            # RQ's worker leaves its loop on a Redis timeout: wait, then listen again.
            backoff = 1.0 if time.monotonic() - started > 30 else min(backoff * 2, 15.0)
            log.warning("worker stopped unexpectedly (pid %s); restarting in %.0fs", os.getpid(), backoff)
            time.sleep(backoff)
    finally:
        stop.set()
