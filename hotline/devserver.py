"""``hotline serve``: the whole hotline on one machine, with nothing installed but the package.

An embedded Redis (append-only, under var/), an RQ worker (a child process, restarted if it
dies) and the web server, with the demo district and no Twilio account: outbound texts and calls
go to the dry-run outbox (``hotline outbox``, ``hotline sim``, the dashboard). Ctrl-C stops the
web server, then the worker, then Redis.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import click
from .accounts.first_run import ensure_first_accounts
from .problems import ConfigError
from .redis_server import EmbeddedRedis
from .settings import Settings, local_secret, write_serve_redis_url
from .webserver import WebServer


def prepare(settings: Settings, host: str, port: int, sim_live: bool = False) -> tuple[Settings, dict[str, Path]]:
    """Fill in what a local run needs and a deployment would set: tokens and keys under var/."""
    made: dict[str, Path] = {}
    var = settings.var_dir
    changes: dict = {"environment": settings.environment if os.environ.get("HOTLINE_ENV") else "development",
                     "sim_live": sim_live}
    if not settings.twilio_auth_token:
        token, made["Twilio auth token (the simulator signs with it)"] = local_secret(var, "dev-auth-token")
        changes["twilio_auth_token"] = token
    if not settings.secret_key:
        changes["secret_key"], _ = local_secret(var, "secret-key")
    if not settings.public_url:
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        changes["public_url"] = f"http://{shown}:{port}"
    return settings.replace(**changes), made


def child_environment(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "REDIS_URL": settings.redis_url or "",
        "TWILIO_AUTH_TOKEN": settings.twilio_auth_token or "",
        "HOTLINE_DISTRICT": str(settings.district_path),
        "HOTLINE_PUBLIC_URL": settings.public_url or "",
        "HOTLINE_ENV": settings.environment,
        "HOTLINE_SECRET_KEY": settings.secret_key or "",
        "HOTLINE_VAR_DIR": str(settings.var_dir),
    })
    return env


class WorkerProcess:
    """`hotline worker` as a child process, started again if it dies."""

    def __init__(self, env: dict[str, str]):
        self.env = env
        self.process: subprocess.Popen | None = None
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._supervise, name="worker-supervisor", daemon=True)

    def start(self) -> None:
        self._spawn()
        self.thread.start()

    def _spawn(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "hotline", "worker"], env=self.env,
                                        start_new_session=True)

    def _supervise(self) -> None:
        while not self.stopping.wait(1.0):
            if self.process and self.process.poll() is not None and not self.stopping.is_set():
                click.echo(f"worker exited ({self.process.returncode}); starting a new one", err=True)
                self._spawn()

    def hangup(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGHUP)

    def stop(self, timeout: float = 15.0) -> None:
        self.stopping.set()
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)      # RQ's warm shutdown: finish the current job
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def serve(settings: Settings, host: str, port: int, sim_live: bool = False) -> None:
    from .app import create_app

    settings, made = prepare(settings, host, port, sim_live)
    redis_server = None
    if not settings.redis_url:
        redis_server = EmbeddedRedis(settings.var_dir / "redis")
        settings = settings.replace(redis_url=redis_server.start())
        click.echo(f"Redis: embedded, data in {redis_server.data_dir} ({settings.redis_url})")
    else:
        click.echo(f"Redis: {settings.redis_url}")
    worker = None
    url_file = write_serve_redis_url(settings.var_dir, settings.redis_url)
    try:
        try:
            app = create_app(settings)
        except ConfigError as exc:
            click.echo("The hotline cannot start:\n" + "\n".join(f"  {p}" for p in exc.problems), err=True)
            raise SystemExit(2)
        # First run: no account yet (and no deprecated shared password): make the first ones.
        services = app.extensions["hotline"]
        if not settings.admin_password_hash:
            made.update(ensure_first_accounts(settings, services.accounts, services.audit,
                                              [d.id for d in services.directory.districts]))
        worker = WorkerProcess(child_environment(settings))
        worker.start()
        # The production server (webserver.py), so what is tried locally is what runs live.
        server = WebServer(app, host, port)
        _banner(app, settings, made, server.port)
        stop = threading.Event()

        def request_stop(signum, frame):
            stop.set()

        # Ctrl-C and a service manager's SIGTERM both stop everything. Set explicitly: a shell
        # starting `hotline serve` in the background leaves SIGINT ignored otherwise.
        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        hangup = threading.Event()
        signal.signal(signal.SIGHUP, lambda signum, frame: hangup.set())
        thread = threading.Thread(target=server.serve_forever, name="web", daemon=True)
        thread.start()
        while not stop.wait(0.5):
            if hangup.is_set():
                # SIGHUP: read the district files again here and in the worker (reload.py).
                hangup.clear()
                worker.hangup()
                services = app.extensions["hotline"]
                if services.reloader.reload():
                    click.echo("District files reloaded.")
                else:
                    click.echo("District files NOT reloaded, the previous configuration stays:\n" +
                               "\n".join(f"  {p}" for p in services.reloader.failed), err=True)
        click.echo("\nStopping: web server, worker, Redis...")
        server.shutdown()
    finally:
        url_file.unlink(missing_ok=True)
        if worker:
            worker.stop()
        if redis_server:
            redis_server.stop()
    click.echo("Stopped.")


def _banner(app, settings: Settings, made: dict[str, Path], port: int) -> None:
    services = app.extensions["hotline"]
    base = settings.public_url
    click.echo(f"Safe Haven Hotline is running on {base}  (Ctrl-C to stop)")
    for district in services.directory.districts:
        lines = ", ".join(f"{line.name} {line.number}" for line in district.lines)
        click.echo(f"  {district.name}: {lines}")
    click.echo(f"  Twilio: {'dry run (no account): messages go to the outbox' if settings.dry_run else 'live'}")
    if settings.development and (settings.dry_run or settings.sim_live):
        simulator = f"http://127.0.0.1:{port}/sim or `hotline sim`"
    else:
        simulator = "`hotline sim` (the web one is off with a live Twilio account: --sim-live turns it on)"
    click.echo(f"  Health: {base}/healthz   Dashboard: {base}/admin   Phone simulator: {simulator}")
    for what, path in made.items():
        click.echo(f"  {what}: {path}")
    time.sleep(0)
