"""GET /healthz (Redis reachable, a worker seen recently, queue depth) and GET /heartbeat (no
escalation stuck): for load balancers and a district's own monitoring. 503 when unhealthy."""

from __future__ import annotations

import time

import redis
from flask import Blueprint, current_app, jsonify
from rq import Worker

from .incidents.reconciler import heartbeat
from .redis_urls import describe

bp = Blueprint("health", __name__)

WORKER_SEEN_WITHIN = 120   # seconds


def _services():
    return current_app.extensions["hotline"]


def worker_report(services) -> dict:
    workers = Worker.all(queue=services.queue)
    now = time.time()
    seen = [w for w in workers if w.last_heartbeat and now - w.last_heartbeat.timestamp() < WORKER_SEEN_WITHIN]
    return {"workers": len(seen), "queue_depth": services.queue.count,
            "scheduled": services.queue.scheduled_job_registry.count,
            "failed": services.queue.failed_job_registry.count}


@bp.get("/healthz")
def healthz():
    services = _services()
    report: dict = {"redis": False}
    try:
        services.redis.ping()
        report["redis"] = True
        report.update(worker_report(services))
    except (redis.RedisError, OSError, RuntimeError) as exc:     # RuntimeError: no REDIS_URL at all
        report["error"] = type(exc).__name__
    healthy = report["redis"] and report.get("workers", 0) > 0
    # The configuration generation this process serves, and whether its last reload was refused.
    # Not why: /healthz is public, and a problem can quote a roster number (hotline check says it).
    config = services.reloader.report()
    if services.reloader.failed:
        config["reload_refused"] = f"{len(services.reloader.failed)} problem(s): run hotline check"
    report["config"] = config
    # Which Redis this process uses (plain, TLS, Sentinel; a password or not): never the password.
    report["redis_connection"] = describe(services.settings.redis_url, services.settings.redis_tls)
    report["ok"] = healthy
    return jsonify(report), 200 if healthy else 503


@bp.get("/heartbeat")
def escalation_heartbeat():
    services = _services()
    try:
        healthy, report = heartbeat(services)
    except (redis.RedisError, OSError) as exc:
        healthy, report = False, {"error": type(exc).__name__}
    report["ok"] = healthy
    return jsonify(report), 200 if healthy else 503
