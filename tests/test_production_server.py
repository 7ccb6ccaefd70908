"""Issue 13: the production web server, started exactly as the Procfile says: it keeps answering
Twilio while many clients trickle their requests a byte a second (slowloris), and its processes
(gunicorn's master supervising waitress workers, hotline/webprocesses.py) share the port, are
replaced when one dies and all stop on SIGTERM."""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from hotline.redis_server import free_port
from hotline.sim.phone import TwilioPhone, http_transport
from hotline.sim.twiml import messages

from conftest import ACCOUNT_SID, AUTH_TOKEN, FRONT_DESK, LEGAL, STAFF_LINE, kill_tree, process_tree, write_district

ROOT = Path(__file__).resolve().parent.parent
SLOW_CLIENTS = 50
WEB_PROCESSES = 2


def procfile_command(name: str) -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"the Procfile has no {name} process")


def production_env(redis_url: str, district: Path, fake, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOTLINE_", "TWILIO_"))}
    env.update({
        # The Procfile's commands are found on PATH, as on a host where the package is installed.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        "PORT": str(port), "REDIS_URL": redis_url, "HOTLINE_DISTRICT": str(district),
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_API_BASE_URL": fake.base_url,
        "HOTLINE_PUBLIC_URL": f"http://127.0.0.1:{port}", "HOTLINE_SECRET_KEY": "k" * 64,
        "HOTLINE_ADMIN_PASSWORD": "a long enough password", "HOTLINE_RETRY_INTERVALS": "0,0",
        # As a platform sets it (the default is one process per core, which differs between machines).
        "WEB_CONCURRENCY": str(WEB_PROCESSES),
        # HOTLINE_ENV unset: production, as deployed.
    })
    return env


class Trickler:
    """Connections that send headers promising a 60 KB body, then one byte a second."""

    def __init__(self, port: int, count: int):
        self.sockets: list[socket.socket] = []
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sock.sendall(b"POST /sms HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded"
                         b"\r\nContent-Length: 60000\r\n\r\n")
            self.sockets.append(sock)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._trickle, daemon=True)
        self.thread.start()

    def _trickle(self) -> None:
        while not self.stop.wait(1.0):
            for sock in self.sockets:
                try:
                    sock.send(b"a")
                except OSError:
                    pass

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        for sock in self.sockets:
            sock.close()


@dataclass
class Production:
    base: str
    port: int
    web: subprocess.Popen          # the master: `exec hotline web`
    log: Path

    def web_workers(self) -> list[int]:
        return [pid for pid in process_tree(self.web.pid) if pid != self.web.pid]


@pytest.fixture
def production(redis_url, fake_twilio, tmp_path):
    port = free_port()
    district = write_district(tmp_path / "district")
    env = production_env(redis_url, district, fake_twilio, port)
    logs = open(tmp_path / "procfile.log", "wb")
    processes = [subprocess.Popen(["bash", "-c", "exec " + procfile_command(name)], env=env, cwd=tmp_path,
                                  start_new_session=True, stdout=logs, stderr=subprocess.STDOUT)
                 for name in ("web", "worker")]
    logs.close()
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:     # /healthz is 200 once the web server answers and the worker has registered
            try:
                if requests.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
                raise AssertionError("the Procfile's processes did not start:\n"
                                     + (tmp_path / "procfile.log").read_text(errors="replace")[-3000:])
            time.sleep(0.2)
        yield Production(base, port, processes[0], tmp_path / "procfile.log")
    finally:
        for process in processes:
            kill_tree(process.pid)
            process.wait()


def test_procfile_runs_the_buffering_server():
    command = shlex.split(procfile_command("web"))
    assert command[:2] == ["hotline", "web"], "the Procfile's web process is `hotline web` (hotline/webserver.py)"


def test_an_ice_text_is_answered_while_fifty_clients_trickle(production, fake_twilio):
    base, port = production.base, production.port
    trickler = Trickler(port, SLOW_CLIENTS)
    try:
        time.sleep(2.0)        # every slow connection is open and has sent some of its body
        phone = TwilioPhone(base, AUTH_TOKEN, http_transport(timeout=10), ACCOUNT_SID)
        started = time.monotonic()
        answer = phone.post("/sms", phone.text_form(FRONT_DESK, STAFF_LINE, "ICE"))
        answered = time.monotonic() - started
        assert answer.status == 200
        assert any("ICE AT SCHOOL" in text for text in messages(answer.text)), answer.text
        assert answered < 1.0, f"the ICE text took {answered:.2f} s to answer"
        sent = fake_twilio.wait_for_messages(LEGAL, timeout=max(0.1, 2.0 - (time.monotonic() - started)))
        assert "incident" in sent[0]["params"]["Body"].lower()
        # The slow connections are still open (they were not simply refused): the server holds them
        # without a thread each.
        assert requests.get(base + "/healthz", timeout=2).status_code == 200
    finally:
        trickler.close()


@pytest.mark.slow
def test_a_request_that_takes_too_long_to_arrive_is_cut_off(production):
    port = production.port
    from hotline.webserver import CHECK_INTERVAL, REQUEST_READ_TIMEOUT

    trickler = Trickler(port, 1)
    try:
        deadline = time.monotonic() + REQUEST_READ_TIMEOUT + CHECK_INTERVAL + 5
        sock = trickler.sockets[0]
        sock.settimeout(1)
        closed = False
        while time.monotonic() < deadline and not closed:
            try:
                closed = sock.recv(1024) == b""
            except socket.timeout:
                continue
            except OSError:
                closed = True
        assert closed, "a request trickled for longer than the read deadline was not closed"
    finally:
        trickler.close()


def test_no_server_header(production):
    response = requests.get(production.base + "/healthz", timeout=2)
    assert "Server" not in response.headers


def _ice(production, sender: str = FRONT_DESK) -> list[str]:
    phone = TwilioPhone(production.base, AUTH_TOKEN, http_transport(timeout=10), ACCOUNT_SID)
    answer = phone.post("/sms", phone.text_form(sender, STAFF_LINE, "ICE"))
    assert answer.status == 200, answer.text
    return messages(answer.text)


def _wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(what)


def test_the_web_processes_share_the_port_and_a_dead_one_is_replaced(production, fake_twilio):
    first = _wait_for(lambda: (w := production.web_workers()) and len(w) == WEB_PROCESSES and w, 15,
                      f"hotline web did not start {WEB_PROCESSES} processes")
    os.kill(first[0], signal.SIGKILL)          # a worker dies (the OOM killer, a crash)
    # The other, on the same port, keeps answering at once; the master starts a new one in its place.
    assert any("ICE AT SCHOOL" in text for text in _ice(production)), "no protocol while a worker was dead"
    replaced = _wait_for(lambda: (w := production.web_workers()) and len(w) == WEB_PROCESSES
                         and first[0] not in w and w, 15, "the dead web process was not replaced")
    assert first[1] in replaced
    assert any("ICE AT SCHOOL" in text for text in _ice(production, "+13035550177"))
    assert fake_twilio.wait_for_messages(LEGAL, timeout=5)


def test_sigterm_stops_every_web_process(production):
    workers = _wait_for(lambda: (w := production.web_workers()) and len(w) == WEB_PROCESSES and w, 15,
                        f"hotline web did not start {WEB_PROCESSES} processes")
    production.web.send_signal(signal.SIGTERM)
    assert production.web.wait(timeout=30) == 0, production.log.read_text(errors="replace")[-2000:]
    for pid in workers:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", production.port), timeout=1)


def test_a_stopping_process_finishes_the_requests_it_has_read():
    """SIGTERM (alive = False) stops accepting, but a request already read is answered in full."""
    from hotline.webserver import WebServer

    started = threading.Event()

    def slow_app(environ, start_response):
        started.set()
        time.sleep(2.5)           # longer than the I/O loop's 1 s poll: the stop is seen mid-request
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"answered after the stop"]

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = WebServer(slow_app, sockets=[listener])
    serving = threading.Event()
    serving.set()
    thread = threading.Thread(target=server.serve_while, args=(serving.is_set, lambda: None), daemon=True)
    thread.start()
    answers = []
    client = threading.Thread(target=lambda: answers.append(requests.get(f"http://127.0.0.1:{port}/", timeout=10)))
    client.start()
    assert started.wait(5), "the request never reached the app"
    serving.clear()                         # as the master's SIGTERM does (alive = False)
    client.join(10)
    thread.join(15)
    assert not thread.is_alive(), "the server did not stop"
    assert answers and answers[0].status_code == 200 and answers[0].text == "answered after the stop"
    listener.close()
