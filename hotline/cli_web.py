"""``hotline web``: the production web server (the Procfile's ``web`` process); see webserver.py."""

from __future__ import annotations

import signal
import sys

import click

from .problems import ConfigError
from .settings import settings_from_env
from .webserver import THREADS, run


@click.command("web")
@click.option("--host", default="0.0.0.0", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, envvar="PORT", help="Port to listen on.")
@click.option("--threads", default=THREADS, show_default=True, type=int,
              help="Threads answering requests (requests are read in full before one is used).")
def web(host: str, port: int, threads: int) -> None:
    """Run the web server that Twilio and the dashboard talk to (production)."""
    from .app import create_app

    try:
        app = create_app(settings_from_env())
    except ConfigError as exc:
        click.echo("The hotline cannot start:\n" + "\n".join(f"  {p}" for p in exc.problems), err=True)
        sys.exit(2)

    def stop(signum, frame):
        raise SystemExit(0)       # waitress's loop ends on SystemExit and stops its threads

    signal.signal(signal.SIGTERM, stop)
    run(app, host, port, threads=threads)
