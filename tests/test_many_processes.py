"""The deployment topology of compose.yaml (web and worker replicas, one Redis) as plain processes, no
Docker: 20 districts in one folder, 200 staff texting ICE through two web processes (`hotline web`), one
web process and one worker killed (SIGKILL) mid-run, and every district's legal office reached
exactly once per incident. A text whose web process died is sent again to the other one with the
same MessageSid, as Twilio's fallback URL does (docs/going-live.md)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis
import requests
import yaml
from rq import Queue, Worker
from rq.registry import StartedJobRegistry

from conftest import ACCOUNT_SID, AUTH_TOKEN, PUBLIC_URL, kill_tree
from hotline.incidents.records import IncidentStore
from hotline.redis_server import free_port
from hotline.services import QUEUE_NAME
from hotline.sim.phone import TwilioPhone, new_sid
from hotline.store import connect
from hotline.testing.signing import signed_headers
from hotline.testing.large_districts import legal_of, lines_of, staff_of, write_large_district

REPO = Path(__file__).resolve().parent.parent
DISTRICTS = 20
REPORTERS = 10                   # per district: 200 ICE texts
KILL_AFTER = 70                  # texts sent before one web process and one worker die
INCIDENT_IN_BODY = re.compile(r"incident (\d+):")


def compose_topology() -> tuple[int, int, list[str]]:
    """(web replicas, worker replicas, the web command) as compose.yaml deploys them."""
    services = yaml.safe_load((REPO / "compose.yaml").read_text())["services"]
    assert set(services) == {"redis", "web", "worker"}
    assert "--appendonly" in services["redis"]["command"], "Redis with AOF"
    return (services["web"]["deploy"]["replicas"], services["worker"]["deploy"]["replicas"],
            services["web"]["command"])


def wait_until(predicate, timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


@pytest.fixture
def folder_of_districts(tmp_path):
    folder = tmp_path / "districts"
    for index in range(DISTRICTS):
        write_large_district(folder, index, schools=2, staff=2 + REPORTERS)
    return folder


@pytest.mark.slow
def test_two_web_two_workers_one_killed_each_and_every_office_reached_once(folder_of_districts, redis_url,
                                                                           fake_twilio, tmp_path):
    web_count, worker_count, web_command = compose_topology()
    assert (web_count, worker_count) == (2, 2)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_URL", "TWILIO_", "HOTLINE_"))}
    env.update({"REDIS_URL": redis_url, "HOTLINE_DISTRICT": str(folder_of_districts), "HOTLINE_ENV": "test",
                "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                "TWILIO_API_BASE_URL": fake_twilio.base_url, "HOTLINE_PUBLIC_URL": PUBLIC_URL,
                "HOTLINE_SECRET_KEY": "test-secret", "HOTLINE_VAR_DIR": str(tmp_path / "var"),
                "HOTLINE_LOG_LEVEL": "WARNING", "HOTLINE_RETRY_INTERVALS": "0,0,1"})
    logs = tmp_path / "logs"
    logs.mkdir()
    processes: list[subprocess.Popen] = []

    def start(args: list[str], name: str) -> subprocess.Popen:
        with open(logs / f"{name}.log", "wb") as log:
            process = subprocess.Popen(args, env=env, cwd=str(REPO), stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        processes.append(process)
        return process

    def log_tail() -> str:
        return "\n".join(f"--- {p.name}\n" + p.read_text(errors="replace")[-1500:] for p in sorted(logs.glob("*.log")))

    ports = [free_port() for _ in range(web_count)]
    try:
        # compose's web command, on loopback and a free port each.
        webs = []
        for port in ports:
            args = [sys.executable, "-m", *web_command]
            args[args.index("--host") + 1] = "127.0.0.1"
            args[args.index("--port") + 1] = str(port)
            webs.append(start(args, f"web-{port}"))
        workers = [start([sys.executable, "-m", "hotline", "worker"], f"worker-{n}") for n in range(worker_count)]
        for port in ports:
            assert wait_until(lambda port=port: _answers(port), 60), log_tail()
        queue = Queue(QUEUE_NAME, connection=redis.Redis.from_url(redis_url))   # RQ: bytes, not text
        assert wait_until(lambda: len(Worker.all(queue=queue)) == worker_count, 30), log_tail()

        texts = [(index, staff_of(index, 2 + n)) for n in range(REPORTERS) for index in range(DISTRICTS)]
        alive = list(ports)
        sent = Counter()
        lock = threading.Lock()
        killed = threading.Event()

        phone = TwilioPhone(PUBLIC_URL, AUTH_TOKEN, None, ACCOUNT_SID)

        def send(number: int, index: int, reporter: str) -> None:
            form = phone.text_form(reporter, lines_of(index)[0], "ICE", sid=new_sid("SM"))
            # Signed for the public URL, whichever process receives it (as behind one address).
            headers = signed_headers(AUTH_TOKEN, f"{PUBLIC_URL}/sms", form)
            for attempt in range(6):
                port = alive[(number + attempt) % len(alive)]
                try:
                    answer = requests.post(f"http://127.0.0.1:{port}/sms", data=form, timeout=10, headers=headers)
                except requests.RequestException:
                    continue            # that web process is gone: Twilio's fallback URL, the other one
                if answer.status_code == 200:
                    with lock:
                        sent["ok"] += 1
                        if sent["ok"] == KILL_AFTER and not killed.is_set():
                            killed.set()
                            alive.remove(ports[0])
                            kill_tree(webs[0].pid)
                            kill_tree(workers[0].pid)
                    return
            with lock:
                sent["failed"] += 1

        with ThreadPoolExecutor(max_workers=6) as pool:
            for number, (index, reporter) in enumerate(texts):
                pool.submit(send, number, index, reporter)
        assert killed.is_set() and sent == Counter(ok=len(texts)), (sent, log_tail())
        assert webs[0].poll() is not None and workers[0].poll() is not None, "one web and one worker were killed"

        def reached() -> Counter:
            found = Counter()
            for index in range(DISTRICTS):
                for message in fake_twilio.messages_to(legal_of(index)):
                    match = INCIDENT_IN_BODY.search(message["body"])
                    if match:
                        found[index, match.group(1)] += 1
            return found

        def settled() -> bool:
            return (len(reached()) == len(texts) and queue.count == 0
                    and StartedJobRegistry(queue=queue).count == 0)

        def unreached() -> list:
            """The incidents no legal office heard of, with their timelines (for the failure message)."""
            incidents = IncidentStore(connect(redis_url))
            found = []
            for index, reporter in texts:
                incident = incidents.for_reporter(f"d{index:03d}", reporter)
                if incident is None or (index, incident.id) not in reached():
                    timeline = incidents.timeline(f"d{index:03d}", incident.id) if incident else []
                    found.append((index, reporter[-4:], incident and incident.__dict__,
                                  [event["text"] for event in timeline]))
            return found

        # The killed worker's job is seen as abandoned within seconds and run again by the other one.
        assert wait_until(settled, 90, interval=0.5), (len(reached()), queue.count, unreached(), log_tail())
        time.sleep(1.0)                 # anything sent twice would have arrived by now
        counts = reached()
        assert len(counts) == len(texts), "every incident's legal office was texted"
        assert {count for count in counts.values()} == {1}, \
            f"texted more than once: {[key for key, count in counts.items() if count > 1]}"
        incidents = IncidentStore(connect(redis_url))
        for index, reporter in texts:
            incident = incidents.for_reporter(f"d{index:03d}", reporter)
            assert incident is not None, f"no incident for a reporter of d{index:03d}"
        for index in range(DISTRICTS):
            assert len({incident for (district, incident) in counts if district == index}) == REPORTERS
    finally:
        for process in processes:
            if process.poll() is None:
                kill_tree(process.pid)
        for process in processes:
            process.wait()


def _answers(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/heartbeat", timeout=1).status_code in (200, 503)
    except requests.RequestException:
        return False
