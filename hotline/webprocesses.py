"""Several web server processes on one port: gunicorn's master (its arbiter) supervises them, and each
one reads and answers requests with the hotline's waitress server (webserver.py).

Why both: the hotline's request work is Python holding the GIL, so one process uses one core
(benchmarks/README.md: one waitress process answered half what two processes did on 2 cores).
gunicorn's master is a well-kept supervisor: it opens the listening socket once, forks the
workers, restarts one that dies or stops sending its heartbeat (``timeout``), and stops them
gracefully on SIGTERM. gunicorn's own workers are not used: its sync and gthread workers read a
request body inside the worker thread, which is how six slow clients starved a 2x2 gunicorn
(docs/operations.md, "The web server"). ``WaitressWorker`` reads every request in full in its I/O
thread first, as ``hotline web`` did in one process.
"""

from __future__ import annotations

import os

from gunicorn.app.base import BaseApplication
from gunicorn.workers.base import Worker

from .webserver import THREADS, WebServer

# Seconds a worker may go without a heartbeat before the master restarts it. The heartbeat comes
# from the I/O thread (webserver.WebServer.serve_while), which never waits on a request.
HEARTBEAT_TIMEOUT = 30
# Seconds a stopping worker has to finish the requests it has already read.
GRACEFUL_TIMEOUT = 20


def default_processes() -> int:
    """One process per core this process may run on (``WEB_CONCURRENCY`` overrides it, as on
    Heroku-style platforms)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


class WaitressWorker(Worker):
    """A gunicorn worker process that serves with waitress on the master's listening sockets."""

    def run(self) -> None:
        server = WebServer(self.wsgi, threads=self.cfg.threads, sockets=[listener.sock for listener in self.sockets])
        # Stop when told to (SIGTERM sets alive to False) or when the master is gone.
        server.serve_while(lambda: self.alive and self.ppid == os.getppid(), heartbeat=self.notify,
                           drain=self.cfg.graceful_timeout)


class WebProcesses(BaseApplication):
    """``processes`` copies of ``app`` on ``host``:``port``, built once before the fork."""

    def __init__(self, app, host: str, port: int, processes: int, threads: int = THREADS):
        self.application = app
        self.options = {
            "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
            "workers": processes,
            "threads": threads,
            "worker_class": f"{__name__}.{WaitressWorker.__name__}",
            "timeout": HEARTBEAT_TIMEOUT,
            "graceful_timeout": GRACEFUL_TIMEOUT,
            # The app is built (and its configuration checked) in the master, once; workers share it.
            "preload_app": True,
            "accesslog": None,
            "errorlog": "-",
            # gunicorn 25+ opens a control socket in the home directory by default; nothing here uses it.
            "control_socket_disable": True,
        }
        if os.path.isdir("/dev/shm"):
            # The heartbeat is a file touched every second: in memory, not on a container's disk.
            self.options["worker_tmp_dir"] = "/dev/shm"
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            if name in self.cfg.settings:       # a setting newer than the installed gunicorn is left out
                self.cfg.set(name, value)

    def load(self):
        return self.application
