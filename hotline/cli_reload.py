"""``hotline reload``: check the district files, then have every running web and worker process read
them again (reload.py). A file with a problem is refused here, and the running hotline keeps its
configuration."""

from __future__ import annotations

import sys

import click
import redis

from .problems import ConfigError
from .reload import CHECK_INTERVAL, request_reload
from .services import Services
from .settings import serve_redis_url, settings_from_env


@click.command("reload")
def reload_command() -> None:
    """Check the district files and have the running hotline use them (no restart)."""
    try:
        settings = settings_from_env()
    except ConfigError as exc:
        click.echo("Configuration problems:\n" + "\n".join(f"  {p}" for p in exc.problems), err=True)
        sys.exit(2)
    if not settings.redis_url and serve_redis_url(settings.var_dir):
        settings = settings.replace(redis_url=serve_redis_url(settings.var_dir))
    if not settings.redis_url:
        click.echo("REDIS_URL is not set and no `hotline serve` is running in this folder: set REDIS_URL to the "
                   "hotline's Redis.", err=True)
        sys.exit(2)
    try:
        services = Services(settings)
    except ConfigError as exc:
        click.echo("Not reloaded: the district files have problems; the running hotline keeps its configuration.\n"
                   + "\n".join(f"  {p}" for p in exc.problems), err=True)
        sys.exit(1)
    try:
        generation, problems = request_reload(services)
    except redis.RedisError as exc:
        click.echo(f"Cannot reach Redis at {settings.redis_url} ({type(exc).__name__}); nothing was reloaded.",
                   err=True)
        sys.exit(2)
    for problem in problems:
        click.echo(f"  warning: {problem}")
    if generation is None:
        click.echo("Not reloaded: the district files have problems; the running hotline keeps its configuration.\n"
                   + "\n".join(f"  {p}" for p in problems if not p.warning), err=True)
        sys.exit(1)
    districts = services.directory.districts
    click.echo(f"Reload requested (configuration generation {generation}): {len(districts)} district(s), "
               f"{sum(len(d.roster) for d in districts):,} roster numbers. Web processes use it within "
               f"{CHECK_INTERVAL:.0f} s, workers before their next job; /healthz shows each process's generation.")
