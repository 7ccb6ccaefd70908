"""The test harness: a real Redis server (the embedded one), the local Twilio-compatible server,
RQ workers (in-process burst, or a subprocess), and the hotline driven the way Twilio drives it
(signed form posts), over a Flask test client or real HTTP.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from rq import SimpleWorker
from werkzeug.serving import make_server

from hotline.app import create_app
from hotline.redis_server import EmbeddedRedis, free_port
from hotline.services import Services, install
from hotline.settings import Settings
from hotline.sim.phone import TwilioPhone, flask_transport, http_transport
from hotline.store import connect
from hotline.testing.districts import ALWAYS_CLOSED, ALWAYS_OPEN, write_demo_copy  # noqa: F401 — for tests
from hotline.testing.fake_twilio import FakeTwilio

# The demo district's numbers (districts/demo.yaml); docs and tests rely on them.
STAFF_LINE = "+13035550100"
FAMILY_LINE = "+13035550101"
LEGAL = "+13035550110"
SAFETY = "+13035550111"
BACKUP = "+13035550112"
CIVIL_RIGHTS = "+13035550113"
DESIGNEE = "+13035550114"
LIAISON = "+13035550115"
INTERPRETER = "+13035550116"
LINCOLN_OFFICE = "+13035550130"
FRONT_DESK = "+13035550120"        # Maria Lopez, front desk, Lincoln Elementary
PRINCIPAL = "+13035550121"         # David Chen, principal, Lincoln Elementary (its leader)
ROOSEVELT_DESK = "+13035550122"
STRANGER = "+13035550199"          # not on the roster, not a contact
PARENT = "+17205550142"

ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "test-auth-token-" + "0" * 16
# Signatures are computed over this URL; nothing listens there (the fake's callbacks are refused fast).
PUBLIC_URL = "http://127.0.0.1:9"



def process_tree(pid: int) -> list[int]:
    found, frontier = [pid], [pid]
    while frontier:
        children = subprocess.run(["pgrep", "-P", str(frontier.pop())], capture_output=True, text=True).stdout.split()
        found += [int(child) for child in children]
        frontier += [int(child) for child in children]
    return found


def kill_pids(pids: list[int]) -> None:
    for each in pids:
        try:
            os.kill(each, signal.SIGKILL)
        except ProcessLookupError:
            pass


def kill_tree(pid: int) -> None:
    """SIGKILL a process and everything it started, as when its machine dies. (RQ puts each work
    horse in a process group of its own, so killing the worker's group would spare the horse.)"""
    kill_pids(process_tree(pid))


# --- Shared by the staff-line tests -----------------------------------------------------------------

# Every tier a second apart: escalation, widening and giving up within a test's patience.
FAST_TIERS = {"escalation": {"tiers": [
    {"notify": ["legal_office sms", "safety sms"], "wait": "1s"},
    {"notify": ["legal_office voice", "safety voice", "backup_counsel sms"], "wait": "1s"},
    {"notify": ["designee sms", "designee voice"], "wait": "1s"},
], "rounds": 1}}


def bodies(fake, number: str) -> list[str]:
    """The texts the Twilio server received for ``number``."""
    return [m["body"] for m in fake.messages_to(number)]


def incident(hotline, incident_id: str = "101"):
    return hotline.services.incidents.get("demo", incident_id)


def timeline_text(hotline, incident_id: str = "101") -> str:
    return "\n".join(e["text"] for e in hotline.services.incidents.timeline("demo", incident_id))


def write_district(folder: Path, changes: dict | None = None, name: str = "district.yaml") -> Path:
    """The demo district with ``changes`` merged in; office hours always open unless changed."""
    return write_demo_copy(folder / name, changes)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"), appendonly=False)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server):
    connect(redis_server.url).flushall()
    return redis_server.url


@pytest.fixture(scope="session")
def twilio_server():
    server = FakeTwilio(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def fake_twilio(twilio_server):
    twilio_server.reset()
    return twilio_server


def settings_for_tests(redis_url: str, district: Path, fake: FakeTwilio | None, public_url: str = PUBLIC_URL,
                  **changes) -> Settings:
    return Settings(
        environment="test", redis_url=redis_url, district_path=district,
        twilio_account_sid=ACCOUNT_SID if fake else None, twilio_auth_token=AUTH_TOKEN,
        twilio_api_base_url=fake.base_url if fake else None, public_url=public_url,
        secret_key="test-secret-key-" + "0" * 32, rest_timeout=2.0, retry_intervals=(0, 0, 0), var_dir=Path("var"),
    ).replace(**changes)


@dataclass
class Hotline:
    """The hotline under test, and the phone that talks to it as Twilio would."""

    app: object
    services: Services
    phone: TwilioPhone
    fake: FakeTwilio | None
    settings: Settings

    def text(self, sender: str, line: str, body: str, **kwargs) -> list[str]:
        return self.phone.text(sender, line, body, **kwargs)

    def call(self, caller: str, line: str):
        return self.phone.call(caller, line)

    def run_jobs(self, until=None, timeout: float = 10.0) -> bool:
        """Run queued (and due scheduled) jobs in this process until ``until()`` holds (or the queue is
        empty when no condition is given)."""
        deadline = time.monotonic() + timeout
        while True:
            worker = SimpleWorker([self.services.queue], connection=self.services.rq_redis)
            worker.log.setLevel("WARNING")
            worker.work(burst=True, with_scheduler=True, logging_level="WARNING")
            if until is None:
                if self.services.queue.count == 0:
                    return True
            elif until():
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)

    def outbox(self) -> list[dict]:
        return self.services.outbound.outbox()


@pytest.fixture
def make_hotline(redis_url, fake_twilio, tmp_path):
    made = []

    def make(changes: dict | None = None, dry_run: bool = False, **settings_changes) -> Hotline:
        district = write_district(tmp_path / f"district{len(made)}", changes)
        url = settings_changes.pop("redis_url", redis_url)
        settings = settings_for_tests(url, district, None if dry_run else fake_twilio, **settings_changes)
        app = create_app(settings)
        services = app.extensions["hotline"]
        phone = TwilioPhone(settings.public_url or "http://localhost", AUTH_TOKEN, flask_transport(app.test_client()),
                            ACCOUNT_SID)
        hotline = Hotline(app, services, phone, None if dry_run else fake_twilio, settings)
        made.append(hotline)
        return hotline

    yield make
    install(None)


@pytest.fixture
def hotline(make_hotline) -> Hotline:
    return make_hotline()


# --- The whole hotline over HTTP, with a worker in its own process -------------------------------

class LiveHotline(Hotline):
    server: object = None
    thread: threading.Thread | None = None
    workers: list = None
    log_dir: Path = None

    def start_worker(self) -> subprocess.Popen:
        env = dict(os.environ)
        env.update({
            "REDIS_URL": self.settings.redis_url, "HOTLINE_DISTRICT": str(self.settings.district_path),
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_API_BASE_URL": self.fake.base_url if self.fake else "", "HOTLINE_PUBLIC_URL": self.settings.public_url,
            "HOTLINE_ENV": self.settings.environment, "HOTLINE_RETRY_INTERVALS": ",".join(map(str, self.settings.retry_intervals)),
            "HOTLINE_REST_TIMEOUT": str(self.settings.rest_timeout), "HOTLINE_LOG_LEVEL": "INFO",
            "HOTLINE_RECONCILE_INTERVAL": str(self.settings.reconcile_interval),
            "HOTLINE_TIMER_GRACE": str(self.settings.timer_grace),
            # The same secret as the web app (signed document links) and the same documents folder.
            "HOTLINE_SECRET_KEY": self.settings.secret_key or "",
            "HOTLINE_DOCUMENTS_DIR": str(self.settings.documents_dir or ""),
        })
        if not self.fake:
            env.pop("TWILIO_ACCOUNT_SID")
        # Its output goes to a file, read by the privacy tests (a pipe nobody reads would fill and block).
        log = open(self.log_dir / f"worker{len(self.workers)}.log", "wb")
        process = subprocess.Popen([sys.executable, "-m", "hotline", "worker"], env=env, start_new_session=True,
                                   stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.workers.append(process)
        return process

    def worker_output(self) -> str:
        return "".join(path.read_text(errors="replace") for path in sorted(self.log_dir.glob("worker*.log")))

    def stop(self) -> None:
        trees = [process_tree(p.pid) for p in self.workers if p.poll() is None]
        for process in self.workers:
            if process.poll() is None:
                process.terminate()                     # RQ's warm shutdown
        for process in self.workers:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                pass
        for tree in trees:
            kill_pids(tree)                             # nothing left behind (its scheduler, a horse)
        for process in self.workers:
            process.wait()
        if self.server:
            self.server.shutdown()


@pytest.fixture
def make_live_hotline(redis_url, fake_twilio, tmp_path):
    made: list[LiveHotline] = []

    def make(changes: dict | None = None, worker: bool = True, dry_run: bool = False,
             **settings_changes) -> LiveHotline:
        port = free_port()
        district = write_district(tmp_path / f"live{len(made)}", changes)
        fake = None if dry_run else fake_twilio
        settings = settings_for_tests(redis_url, district, fake, public_url=f"http://127.0.0.1:{port}",
                                      **settings_changes)
        app = create_app(settings)
        services = app.extensions["hotline"]
        phone = TwilioPhone(settings.public_url, AUTH_TOKEN, http_transport(), ACCOUNT_SID)
        live = LiveHotline(app, services, phone, fake, settings)
        live.workers = []
        live.log_dir = tmp_path / f"live{len(made)}-logs"
        live.log_dir.mkdir()
        live.server = make_server("127.0.0.1", port, app, threaded=True)
        live.thread = threading.Thread(target=live.server.serve_forever, daemon=True)
        live.thread.start()
        if worker:
            live.start_worker()
        made.append(live)
        return live

    yield make
    for live in made:
        live.stop()
    install(None)
