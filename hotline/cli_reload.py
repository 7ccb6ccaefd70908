"""``hotline reload``: check the district files, then have every running web and worker process read
them again (reload.py). A file with a problem is refused here, and the running hotline keeps its
configuration."""

from __future__ import annotations

import sys

import click
import redis

from .cli_common import load_services, load_settings, with_running_redis
from .reload import CHECK_INTERVAL, request_reload


@click.command("reload")
def reload_command() -> None:
    """Check the district files and have the running hotline use them (no restart)."""
    settings = with_running_redis(load_settings())
    services = load_services(settings, "Not reloaded: the district files have problems; the running hotline keeps "
                                       "its configuration.", code=1)
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
