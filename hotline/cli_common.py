"""What the `hotline` commands share: reading the settings, finding the running hotline's Redis,
and building the services, each failing with a clear message and exit code 2 (never a traceback).
Below cli.py and every cli_*.py module."""

from __future__ import annotations

import sys
from typing import NoReturn

import click

from .problems import ConfigError
from .services import Services
from .settings import Settings, serve_redis_url, settings_from_env

NO_REDIS = ("REDIS_URL is not set and no `hotline serve` is running in this folder: start one, or point "
            "REDIS_URL at the hotline's Redis.")


def fail(exc: ConfigError, heading: str = "Configuration problems:", code: int = 2) -> NoReturn:
    click.echo(heading + "\n" + "\n".join(f"  {p}" for p in exc.problems), err=True)
    sys.exit(code)


def load_settings() -> Settings:
    try:
        return settings_from_env()
    except ConfigError as exc:
        fail(exc)


def with_running_redis(settings: Settings, missing: str = NO_REDIS) -> Settings:
    """The settings with REDIS_URL, or the Redis of the `hotline serve` running in this folder (it
    leaves its URL in var/); exits with ``missing`` when there is neither."""
    if not settings.redis_url and serve_redis_url(settings.var_dir):
        settings = settings.replace(redis_url=serve_redis_url(settings.var_dir))
    if not settings.redis_url:
        click.echo(missing, err=True)
        sys.exit(2)
    return settings


def load_services(settings: Settings, heading: str = "Configuration problems:", code: int = 2) -> Services:
    try:
        return Services(settings)
    except ConfigError as exc:
        fail(exc, heading, code)
