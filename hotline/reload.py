"""Changing a district file without a restart: `hotline reload`, or SIGHUP to one process.

`hotline reload` checks the district files in its own process first; if they have a problem it says
which and the running hotline is not asked to change. Otherwise it raises a generation counter in
Redis. Every web and worker process looks at that counter at most every ``CHECK_INTERVAL`` seconds
(a web process before a request, a worker before it forks a job's work horse) and, when it moved,
reads the files again, *validating them again*: if they went bad in between, it keeps the
configuration it has and logs why, and /healthz shows it. The parse cache (parse_cache.py) makes
re-reading unchanged rosters cheap.

Incidents in flight are not affected: each snapshotted its escalation policy when it started.
Flows and catalogs are not reloaded (a restart loads them).
"""

from __future__ import annotations

import logging
import time

import redis

from .problems import Problem
from .store import key

log = logging.getLogger(__name__)

CHECK_INTERVAL = 2.0          # seconds between two looks at the counter, per process
GENERATION = key("config", "generation")


def request_reload(services) -> tuple[int | None, list[Problem]]:
    """Validate the files here; when they are sound, ask every process to reload. Returns the new
    generation (None when refused) and the problems found."""
    problems = services.validate_configuration()
    if any(not p.warning for p in problems):
        return None, problems
    return int(services.redis.incr(GENERATION)), problems


class Reloader:
    """One process's view of the configuration generation."""

    def __init__(self, services, clock=time.monotonic):
        self.services = services
        self.clock = clock
        self.next_check = 0.0
        self.generation: int | None = None      # the generation this process's configuration answers
        self.failed: list[Problem] = []         # why the last reload was refused (empty: it was not)

    def start(self) -> None:
        """Note the generation the files just read answer (at process start), so that a reload asked
        for before this process's first request or job is not taken as its starting point."""
        try:
            self.generation = int(self.services.redis.get(GENERATION) or 0)
        except (redis.RedisError, OSError, RuntimeError):
            pass                                # Redis not there yet: the first look sets it

    def maybe_reload(self) -> None:
        """Cheap when nothing changed (a clock read; one Redis GET every CHECK_INTERVAL). Never raises:
        a Redis outage must not stop a webhook or a job."""
        now = self.clock()
        if now < self.next_check:
            return
        self.next_check = now + CHECK_INTERVAL
        try:
            value = self.services.redis.get(GENERATION)
        except (redis.RedisError, OSError, RuntimeError):     # RuntimeError: no REDIS_URL at all
            return
        generation = int(value or 0)
        if self.generation is None and generation == 0:
            self.generation = 0                 # no reload was ever asked for: the files read at start are current
            return
        # A new generation, or Redis was unreachable at start (generation unknown) and a reload has
        # been asked for at some time: which files were read then is unknown, so read them again.
        # (A web process gunicorn's master starts later begins with the master's configuration.)
        if generation != self.generation:
            self.reload(generation)

    def reload(self, generation: int | None = None) -> bool:
        """Read the files again now (SIGHUP, or a new generation). False: kept the old configuration."""
        problems = self.services.reload()
        if generation is not None:
            self.generation = generation
        self.failed = [p for p in problems if not p.warning]
        if self.failed:
            log.warning("configuration reload refused, keeping the previous one: %d problem(s); first: %s",
                        len(self.failed), self.failed[0])
        else:
            log.info("configuration reloaded (generation %s): %d district(s)", self.generation,
                     len(self.services.directory.districts))
        return not self.failed

    def report(self) -> dict:
        report: dict = {"generation": self.generation}
        if self.failed:
            report["reload_refused"] = f"{len(self.failed)} problem(s); first: {self.failed[0]}"
        return report
