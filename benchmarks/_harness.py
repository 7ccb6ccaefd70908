"""What the benchmarks share: starting the pieces (embedded Redis, the fake Twilio, the web server,
an RQ worker), district copies, pre-signed Twilio requests, a keep-alive load client, percentiles,
tables and the machine description.

Everything a benchmark starts lives in one ``Stack`` (a context manager): a temporary folder, and
the processes it started, which it stops by their own ids on the way out.
"""

from __future__ import annotations

import datetime as dt
import http.client
import os
import platform
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self
from urllib.parse import urlencode, urlsplit

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from hotline.incidents import states
from hotline.incidents.records import IncidentStore
from hotline.redis_server import EmbeddedRedis, free_port
from hotline.testing.districts import write_demo_copy
from hotline.testing.fake_twilio import FakeTwilio
from hotline.testing.signing import signed_headers

PYTHON = sys.executable

# The demo district's numbers (districts/demo.yaml).
STAFF_LINE = "+13035550100"
FAMILY_LINE = "+13035550101"
LEGAL = "+13035550110"
SAFETY = "+13035550111"

ACCOUNT_SID = "AC" + "b" * 32
AUTH_TOKEN = "bench-auth-token-" + "0" * 16
SECRET_KEY = "bench-secret-key-" + "0" * 16



# --- Machine and numbers ------------------------------------------------------------------------

def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    found = []
    for name in ("flask", "waitress", "gunicorn", "redis", "rq", "twilio"):
        try:
            found.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            pass
    return ", ".join(found)


def machine_info() -> dict[str, str]:
    return {
        "date": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "cpu": cpu_model(),
        "cores": f"{cores()} usable ({os.cpu_count()} online)",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "os": f"{platform.system()} {platform.release()}",
        "packages": versions(),
    }


def print_header(title: str, notes: list[str] = ()) -> None:
    print(f"== {title} ==")
    for name, value in machine_info().items():
        print(f"  {name:9} {value}")
    for note in notes:
        print(f"  note:     {note}")
    print(flush=True)


def percentile(values, p: float) -> float:
    """Nearest-rank percentile: the smallest value with at least p% of the values at or below it."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, -(-len(ordered) * p // 100))   # ceil(n * p / 100)
    return ordered[int(rank) - 1]


def summary(values) -> dict[str, float]:
    values = list(values)
    return {"n": len(values), "p50": percentile(values, 50), "p90": percentile(values, 90),
            "p99": percentile(values, 99), "max": max(values) if values else float("nan"),
            "mean": sum(values) / len(values) if values else float("nan")}


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def table(headers: list[str], rows: list[list[object]]) -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row):
        return "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths)))

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule] + [line(r) for r in cells[1:]])


def verdict(met: bool) -> str:
    return "MET" if met else "MISSED"


# --- District copies ----------------------------------------------------------------------------

def write_district(path: Path, changes: dict | None = None) -> Path:
    """A copy of districts/demo.yaml, always open (legal and family), with ``changes`` merged in."""
    return write_demo_copy(path, changes)


def sender(index: int) -> str:
    """Distinct, valid US mobile-looking numbers: +1720555xxxx, then +1720556xxxx, ..."""
    return f"+1720{555 + index // 10000}{index % 10000:04d}"


# --- Twilio-like requests -----------------------------------------------------------------------

def sms_form(sender_number: str, line: str, body: str) -> dict[str, str]:
    sid = "SM" + secrets.token_hex(16)
    return {"MessageSid": sid, "SmsSid": sid, "AccountSid": ACCOUNT_SID, "MessagingServiceSid": "",
            "From": sender_number, "To": line, "Body": body, "NumMedia": "0", "NumSegments": "1",
            "SmsStatus": "received", "ApiVersion": "2010-04-01", "FromCountry": "US", "ToCountry": "US"}


@dataclass(frozen=True)
class Prepared:
    """One POST, ready to send: the encoded form and its headers (with X-Twilio-Signature)."""

    path: str
    body: bytes
    headers: dict


def prepare(public_url: str, path: str, form: dict, token: str = AUTH_TOKEN) -> Prepared:
    headers = signed_headers(token, public_url.rstrip("/") + path, form)
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    return Prepared(path, urlencode(form).encode(), headers)


def post_once(url: str, prepared: Prepared, timeout: float = 10.0) -> tuple[int, str]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request("POST", prepared.path, body=prepared.body, headers=prepared.headers)
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        conn.close()


# --- The load client ----------------------------------------------------------------------------

@dataclass
class LoadResult:
    concurrency: int
    wall: float
    latencies: list[float]
    errors: int
    wrong: int
    client_cpu: float                 # CPU seconds the load client used (all its threads)
    server_cpu: float = 0.0           # CPU seconds of the server processes, when given
    redis_cpu: float = 0.0
    first_error: str = ""
    machine_busy: float = 0.0         # CPU seconds the whole machine was busy (all processes, all cores)

    @property
    def other_cpu(self) -> float:
        """CPU seconds used by processes outside this benchmark (other people's tests, ...)."""
        return max(0.0, self.machine_busy - self.client_cpu - self.server_cpu - self.redis_cpu)

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.count / self.wall if self.wall else 0.0


def run_load(base_url: str, per_sender: list[list[Prepared]], duration: float, expect: str | None = None,
             server_pids=(), redis_pid: int | None = None, timeout: float = 10.0,
             rate: float | None = None, seed: int = 1) -> LoadResult:
    """Each sender (a thread with its own keep-alive connection) posts its requests until its list or
    ``duration`` runs out: back to back (closed loop: latency = send to last byte), or, with
    ``rate`` (requests/s offered by all senders together), each on its own fixed schedule with a
    random phase (open loop: latency = scheduled time to last byte, so a request held up behind a
    slow one counts its wait)."""
    import random

    rng = random.Random(seed)
    period = len(per_sender) / rate if rate else 0.0
    phases = [rng.uniform(0, period) for _ in per_sender]
    parts = urlsplit(base_url)
    concurrency = len(per_sender)
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    errors = [0] * concurrency
    wrong = [0] * concurrency
    first_error: list[str] = []
    start = threading.Barrier(concurrency + 1)
    deadline = [0.0]

    def sender_loop(index: int) -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        mine = latencies[index]
        start.wait()
        end = deadline[0]
        clock = time.perf_counter
        next_at = end - duration + phases[index]
        for item in per_sender[index]:
            if period:
                pause = next_at - clock()
                if pause > 0:
                    time.sleep(pause)
                t0, next_at = next_at, next_at + period
            else:
                t0 = clock()
            if t0 >= end:
                break
            try:
                conn.request("POST", item.path, body=item.body, headers=item.headers)
                response = conn.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException) as exc:
                errors[index] += 1
                if not first_error:
                    first_error.append(f"{type(exc).__name__}: {exc}")
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
                continue
            mine.append(clock() - t0)
            if response.status != 200:
                errors[index] += 1
                if not first_error:
                    first_error.append(f"HTTP {response.status}: {data[:200]!r}")
            elif expect is not None and expect.encode() not in data:
                wrong[index] += 1
                if not first_error:
                    first_error.append(f"unexpected answer: {data[:200]!r}")
        conn.close()

    threads = [threading.Thread(target=sender_loop, args=(i,), daemon=True) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    server_before = process_cpu(server_pids)
    redis_before = process_cpu([redis_pid]) if redis_pid else 0.0
    cpu_before = time.process_time()
    busy_before = machine_busy()
    deadline[0] = time.perf_counter() + duration
    t0 = time.perf_counter()
    start.wait()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - t0
    return LoadResult(concurrency, wall, [x for lat in latencies for x in lat], sum(errors), sum(wrong),
                      time.process_time() - cpu_before, process_cpu(server_pids) - server_before,
                      (process_cpu([redis_pid]) - redis_before) if redis_pid else 0.0,
                      first_error[0] if first_error else "", machine_busy() - busy_before)


def split_among(items: list, senders: int) -> list[list]:
    return [items[i::senders] for i in range(senders)]


# --- Reading what reached the fake Twilio -------------------------------------------------------

class FakeLog:
    """The fake's REST requests, read incrementally: each call returns only the requests that
    arrived since the previous one. ``fake.requests`` deep-copies the whole list on every call,
    which, polled every few milliseconds on a 2-core machine, would take CPU from the processes
    being measured; this reads the fake's own list under its lock instead."""

    def __init__(self, fake: FakeTwilio):
        self.fake = fake
        self.cursor = 0

    def new(self) -> list[dict]:
        with self.fake._lock:
            items = self.fake._requests[self.cursor:]
            self.cursor += len(items)
            return [dict(item) for item in items]


# --- Processes ----------------------------------------------------------------------------------

_TICKS = os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def machine_busy() -> float:
    """CPU seconds the machine has been busy since boot, all cores (from /proc/stat)."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / _TICKS


class RunMeter:
    """CPU of the whole run: this process and every child it started and waited for (gunicorn and
    its workers, the RQ worker and its work horses, Redis), against the machine's total busy time,
    so a report can say how much of the machine other people's processes used meanwhile."""

    def __init__(self) -> None:
        self.wall0 = time.monotonic()
        self.busy0 = machine_busy()
        self.ours0 = self._ours()

    @staticmethod
    def _ours() -> float:
        import resource

        total = 0.0
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
            usage = resource.getrusage(who)
            total += usage.ru_utime + usage.ru_stime
        return total

    def report(self) -> str:
        wall = time.monotonic() - self.wall0
        busy = machine_busy() - self.busy0
        ours = self._ours() - self.ours0
        other = max(0.0, busy - ours)
        return (f"run time {wall:.0f} s; CPU: this benchmark {ours:.0f} s, other processes on the machine {other:.0f} s "
                f"({other / wall * 100:.0f}% of one core on average; {cores()} cores = {cores() * 100}%)")


def process_cpu(pids) -> float:
    """User + system CPU seconds of these processes (not their children)."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / _TICKS
    return total


def wait_for_port(port: int, process: subprocess.Popen | None = None, timeout: float = 30.0) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process {process.args[:3]} exited with {process.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listened on port {port} within {timeout:.0f}s")


@dataclass
class WebProcess:
    """A web server process: the hotline's own (waitress, hotline/webserver.py) or gunicorn."""

    process: subprocess.Popen
    port: int
    workers: int
    threads: int
    worker_class: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def label(self) -> str:
        if self.worker_class == "waitress":
            return f"waitress --processes {self.workers} --threads {self.threads}"
        if self.worker_class == "sync":
            return f"sync -w {self.workers}"
        return f"gthread -w {self.workers} --threads {self.threads}"

    def pids(self) -> list[int]:
        return [self.process.pid, *children(self.process.pid)]

    def settle(self, timeout: float = 30.0, threshold: float = 0.05) -> None:
        """Wait until the workers have finished booting (they use under ``threshold`` of a core)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            before = process_cpu(self.pids())
            time.sleep(0.5)
            if process_cpu(self.pids()) - before < threshold * 0.5:
                return

    def wait_workers(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while len(children(self.process.pid)) < self.workers:
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn workers did not all start")
            time.sleep(0.05)


@dataclass
class Stack:
    """Everything a benchmark runs, stopped in reverse order on exit."""

    name: str = "bench"
    tmp: Path = field(init=False)
    redis: EmbeddedRedis | None = None
    fake: FakeTwilio | None = None
    processes: list[subprocess.Popen] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix=f"hotline-{self.name}-"))

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # Redis and the fake Twilio
    def start_redis(self, appendonly: bool = False) -> EmbeddedRedis:
        self.redis = EmbeddedRedis(self.tmp / "redis", appendonly=appendonly)
        self.redis.start()
        return self.redis

    def redis_pid(self) -> int | None:
        return self.redis.process.pid if self.redis and self.redis.process else None

    def start_fake(self, **options) -> FakeTwilio:
        self.fake = FakeTwilio(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, **options)
        self.fake.start()
        return self.fake

    def env(self, district: Path, public_url: str, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "REDIS_URL": self.redis.url if self.redis else "",
            "HOTLINE_DISTRICT": str(district),
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_API_BASE_URL": self.fake.base_url if self.fake else "",
            "HOTLINE_PUBLIC_URL": public_url,
            "HOTLINE_ENV": "test",
            "HOTLINE_SECRET_KEY": SECRET_KEY,
            "HOTLINE_LOG_LEVEL": "WARNING",
            "HOTLINE_VAR_DIR": str(self.tmp / "var"),
        })
        if not self.fake:
            env.pop("TWILIO_ACCOUNT_SID")
        # benchmarks/ importable by the processes we start (the bare app, the bare job).
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(BENCH_DIR), str(REPO), env.get("PYTHONPATH", "")) if p)
        env.update(extra)
        return env

    # Processes
    def _popen(self, args: list[str], env: dict, log_name: str) -> subprocess.Popen:
        with open(self.tmp / f"{log_name}.log", "ab") as log:
            process = subprocess.Popen(args, env=env, cwd=str(REPO), stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        self.processes.append(process)
        return process

    def start_gunicorn(self, app: str, env: dict, port: int | None = None, workers: int = 2, threads: int = 2,
                       worker_class: str = "gthread") -> WebProcess:
        port = port or free_port()
        args = [PYTHON, "-m", "gunicorn", "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
                "--timeout", "30", "--log-level", "warning"]
        if worker_class == "sync":
            args += ["--worker-class", "sync"]
        else:
            args += ["--worker-class", "gthread", "--threads", str(threads)]
        process = self._popen(args + [app], env, f"gunicorn-{port}")
        wait_for_port(port, process)
        server = WebProcess(process, port, workers, threads, worker_class)
        server.wait_workers()
        return server

    def start_web(self, app: str, env: dict, port: int | None = None, threads: int = 8,
                  processes: int = 1) -> WebProcess:
        """The hotline's production server: ``hotline web`` (as the Procfile runs it) for the hotline,
        benchmarks/_serve.py (the same server classes and settings) for any other app factory."""
        port = port or free_port()
        if app == "hotline.app:create_app()":
            args = [PYTHON, "-m", "hotline", "web", "--host", "127.0.0.1", "--port", str(port), "--threads", str(threads),
                    "--processes", str(processes)]
        else:
            args = [PYTHON, str(BENCH_DIR / "_serve.py"), app, str(port), str(threads), str(processes)]
        process = self._popen(args, env, f"web-{port}")
        wait_for_port(port, process)
        server = WebProcess(process, port, processes, threads, "waitress")
        server.wait_workers()
        return server

    def start_server(self, app: str, env: dict, config: tuple[str, int, int], port: int | None = None) -> WebProcess:
        """``app`` on a (server, processes, threads) configuration, e.g. procfile_web_config()'s."""
        kind, processes, threads = config
        if kind == "waitress":
            return self.start_web(app, env, port=port, threads=threads, processes=processes)
        return self.start_gunicorn(app, env, port=port, workers=processes, threads=threads, worker_class=kind)

    def start_worker(self, env: dict) -> subprocess.Popen:
        return self._popen([PYTHON, "-m", "hotline", "worker"], env, "worker")

    def stop_process(self, process: subprocess.Popen, timeout: float = 15.0) -> None:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process in self.processes:
            self.processes.remove(process)

    def log_tail(self, name_prefix: str, lines: int = 20) -> str:
        out = []
        for path in sorted(self.tmp.glob(f"{name_prefix}*.log")):
            out += path.read_text(errors="replace").splitlines()[-lines:]
        return "\n".join(out)

    def close(self) -> None:
        for process in reversed(list(self.processes)):
            self.stop_process(process)
        if self.fake:
            self.fake.stop()
            self.fake = None
        if self.redis:
            self.redis.stop()
            self.redis = None
        shutil.rmtree(self.tmp, ignore_errors=True)


def procfile_web_config() -> tuple[str, int, int]:
    """(server, processes, threads) of the Procfile's web process, so benchmarks measure what ships."""
    from hotline.webprocesses import default_processes
    from hotline.webserver import THREADS

    line = next(text for text in (REPO / "Procfile").read_text().splitlines() if text.startswith("web:"))
    threads = re.search(r"--threads (\d+)", line)
    if "hotline web" in line:
        processes = re.search(r"--processes (\d+)", line)
        return ("waitress", int(processes.group(1)) if processes else default_processes(),
                int(threads.group(1)) if threads else THREADS)
    workers = int(re.search(r"--workers (\d+)", line).group(1))
    return ("gthread", workers, int(threads.group(1))) if threads else ("sync", workers, 1)


def close_quietly(store: IncidentStore, incident) -> None:
    """Close an incident in the store (the reporter's next ICE opens a new one) without the notices
    a real CLOSE sends: they would keep the worker busy during the next measurement."""
    store.apply(incident, states.ACTIVE, {"status": "closed", "closed_by": "benchmark", "closed_at": time.time()})
