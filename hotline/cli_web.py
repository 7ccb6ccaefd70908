"""``hotline web``: the production web server (the Procfile's ``web`` process); see webserver.py."""

from __future__ import annotations

import sys

import click

from .problems import ConfigError
from .settings import settings_from_env
from .webprocesses import WebProcesses, default_processes
from .webserver import THREADS


@click.command("web")
@click.option("--host", default="0.0.0.0", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, envvar="PORT", help="Port to listen on.")
@click.option("--threads", default=THREADS, show_default=True, type=int,
              help="Threads answering requests in each process (requests are read in full before one is used).")
@click.option("--processes", type=click.IntRange(min=1), envvar="WEB_CONCURRENCY",
              help="Web server processes on the port [default: one per CPU core; env WEB_CONCURRENCY].")
def web(host: str, port: int, threads: int, processes: int | None) -> None:
    """Run the web server that Twilio and the dashboard talk to (production)."""
    from .app import create_app

    try:
        app = create_app(settings_from_env())
    except ConfigError as exc:
        click.echo("The hotline cannot start:\n" + "\n".join(f"  {p}" for p in exc.problems), err=True)
        sys.exit(2)

    WebProcesses(app, host, port, processes or default_processes(), threads).run()
