"""The composition root: settings, districts, content (flows and catalogs), Redis, the queue and
the outbound client, built once per process (the web app, a worker) and shared.

Jobs are module-level functions taking primitives (RQ's rule); they reach these services through
``current()``, which a worker builds from the environment and tests install explicitly.
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import redis
from rq import Queue

from . import content as content_paths
from .accounts.audit import AuditLog
from .accounts.sessions import SessionStore as WebSessionStore
from .accounts.store import AccountStore
from .accounts.throttle import Throttle
from .district import Directory, District, read_directory
from .engine import KeywordTable, load_flows
from .engine.flows import FlowSet
from .incidents.records import IncidentStore
from .lines import LineTable, load_lines
from .messages import Catalogs, load_catalogs
from .office_requests import RequestStore
from .outbound import Outbound
from .parse_cache import cache_for
from .problems import ConfigError, Problem
from .redis_urls import open_redis
from .reload import Reloader
from .sessions import SessionStore
from .settings import Settings, settings_from_env
from .store import connect
from .vocabulary import vocabulary

QUEUE_NAME = "hotline"


@dataclass
class Content:
    """One set of flows and catalogs (the repository's, or a district's own copy)."""

    flows: FlowSet
    catalogs: Catalogs
    lines: LineTable
    keywords: KeywordTable
    problems: list[Problem] = field(default_factory=list)


def load_content(flows_dir: Path, messages_dir: Path) -> Content:
    catalogs = load_catalogs(messages_dir)
    flows = load_flows(flows_dir, vocabulary(catalogs))
    lines, line_problems = load_lines(flows_dir / "lines.yaml", {f.id: set(f.steps) for f in flows.flows.values()})
    keywords = KeywordTable(catalogs.keyword_words())
    return Content(flows, catalogs, lines, keywords, catalogs.problems + flows.problems + line_problems)


_content_cache: dict[tuple[Path, Path], Content] = {}


def content_for_dirs(flows_dir: Path | None, messages_dir: Path | None) -> Content:
    # Every turn asks: the folders as given (None: the shipped ones) answer without resolving paths.
    cached = _content_cache.get((flows_dir, messages_dir))
    if cached is None:
        dirs = (flows_dir or content_paths.flows_dir(), messages_dir or content_paths.messages_dir())
        if dirs not in _content_cache:
            _content_cache[dirs] = load_content(*dirs)
        cached = _content_cache[(flows_dir, messages_dir)] = _content_cache[dirs]
    return cached


def check_configuration(settings: Settings) -> tuple[Directory, list[Problem]]:
    """Every problem in the district files, the flows and the catalogs they use."""
    base = content_for_dirs(None, None)
    # Parsed numbers and CSV rows are kept under var/cache: a start or reload with unchanged files
    # does not parse them again (parse_cache.py).
    directory, problems = read_directory(settings.district_path, base.catalogs.codes,
                                         cache_for(settings.var_dir / "cache" / "districts"))
    problems = list(problems) + list(base.problems)
    for district in directory.districts:
        if district.flows_dir or district.messages_dir:
            own = content_for_dirs(district.flows_dir, district.messages_dir)
            problems += [p for p in own.problems if p not in problems]
            for code in district.languages:
                if code not in own.catalogs:
                    problems.append(Problem(str(district.source), "district.languages",
                                            f"{code!r} has no catalog in {district.messages_dir}",
                                            f"add {code}.yaml there"))
    return directory, problems


class Services:
    def __init__(self, settings: Settings, directory: Directory | None = None, clock=time.time):
        self.settings = settings
        self.clock = clock
        if directory is None:
            directory, problems = check_configuration(settings)
            errors = [p for p in problems if not p.warning]
            if errors or not directory.districts:
                raise ConfigError(errors or [Problem(str(settings.district_path), "(file)", "defines no district",
                                                     "see docs/districts.md")])
        self.directory = directory

    def content(self, district: District) -> Content:
        return content_for_dirs(district.flows_dir, district.messages_dir)

    def validate_configuration(self) -> list[Problem]:
        """Every problem the district files have now (they are read again; nothing changes here)."""
        directory, problems = check_configuration(self.settings)
        if not directory.districts and not any(not p.warning for p in problems):
            problems.append(Problem(str(self.settings.district_path), "(file)", "defines no district",
                                    "see docs/districts.md"))
        return problems

    def reload(self) -> list[Problem]:
        """Read the district files again and use them, unless they have a problem: then the current
        configuration stays and the problems are returned (reload.py)."""
        directory, problems = check_configuration(self.settings)
        errors = [p for p in problems if not p.warning]
        if errors or not directory.districts:
            return errors or [Problem(str(self.settings.district_path), "(file)", "defines no district",
                                      "see docs/districts.md")]
        self.directory = directory      # one assignment: a request in flight keeps the one it read
        settle_heap(self.settings)
        return problems

    @cached_property
    def reloader(self) -> Reloader:
        return Reloader(self)

    @cached_property
    def redis(self) -> redis.Redis:
        if not self.settings.redis_url:
            raise RuntimeError("REDIS_URL is not set (hotline serve starts an embedded Redis and sets it)")
        return connect(self.settings.redis_url, self.settings.redis_tls)

    @cached_property
    def rq_redis(self) -> redis.Redis:
        # RQ stores pickled jobs: its connection must not decode responses.
        return open_redis(self.settings.redis_url, decode=False, tls=self.settings.redis_tls, socket_timeout=5,
                          socket_connect_timeout=0.5)

    @cached_property
    def queue(self) -> Queue:
        return Queue(QUEUE_NAME, connection=self.rq_redis)

    @cached_property
    def outbound(self) -> Outbound:
        return Outbound(self.settings, self.redis)

    @cached_property
    def sessions(self) -> SessionStore:
        return SessionStore(self.redis)

    @cached_property
    def incidents(self) -> IncidentStore:
        return IncidentStore(self.redis, self.clock)

    @cached_property
    def requests(self) -> RequestStore:
        return RequestStore(self.redis, self.clock)

    # --- Dashboard accounts (issue 14) ---------------------------------------------------------------
    @cached_property
    def accounts(self) -> AccountStore:
        return AccountStore(self.redis, self.clock)

    @cached_property
    def web_sessions(self) -> WebSessionStore:
        return WebSessionStore(self.redis, self.clock)

    @cached_property
    def audit(self) -> AuditLog:
        return AuditLog(self.redis, self.clock)

    @cached_property
    def throttle(self) -> Throttle:
        return Throttle(self.redis)

    def url(self, path: str) -> str | None:
        """An absolute URL Twilio can call, when the public URL is known."""
        return f"{self.settings.public_url}{path}" if self.settings.public_url else None


def settle_heap(settings: Settings) -> None:
    """Move everything built so far (a large district's thousands of roster entries, flows, catalogs)
    out of the garbage collector's way. Python's full collections walk every tracked object: with a
    10,000-number roster each request paid for it (benchmarks/scale.py: /sms p50 1.4-2x the demo's
    before, equal after). Not in tests, which build hundreds of apps in one process: frozen cycles
    are never collected."""
    if settings.environment != "test":
        gc.collect()
        gc.freeze()


_current: Services | None = None


def install(services: Services | None) -> None:
    global _current
    _current = services


def current() -> Services:
    """The services of this process; a worker builds them from the environment on first use."""
    global _current
    if _current is None:
        _current = Services(settings_from_env())
    return _current
