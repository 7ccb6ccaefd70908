"""``hotline twilio setup [--check]`` and ``hotline twilio doctor``: a district's Twilio numbers
configured from its district files, and the whole loop proved before the first real morning
(twilio_admin.py has the how; docs/going-live.md the when)."""

from __future__ import annotations

import sys
import time

import click
import redis
from twilio.base.exceptions import TwilioRestException

from .district import Directory
from .outbound import Outbound
from .phones import try_e164
from .cli_common import load_services, load_settings, with_running_redis
from .services import Services
from .settings import Settings
from .twilio_admin import (FINAL_CALL, FINAL_TEXT, apply_setup, plan_setup, probe_statuses, start_probe,
                           test_call_twiml, test_text)


def _settings(need_redis: bool) -> Settings:
    settings = load_settings()
    missing = [name for name, value in (("TWILIO_ACCOUNT_SID", settings.twilio_account_sid),
                                        ("TWILIO_AUTH_TOKEN", settings.twilio_auth_token),
                                        ("HOTLINE_PUBLIC_URL", settings.public_url)) if not value]
    if missing:
        click.echo(f"Set {', '.join(missing)} first: this talks to your Twilio account, and Twilio must be told "
                   "the URL it calls (see docs/going-live.md).", err=True)
        sys.exit(2)
    if need_redis:
        settings = with_running_redis(settings, "Set REDIS_URL to the running hotline's Redis: the doctor learns "
                                                "there what Twilio told the hotline.")
    return settings


def _services(settings: Settings) -> Services:
    return load_services(settings, "The district files have problems (`hotline check`):")


@click.group()
def twilio() -> None:
    """Your Twilio numbers: configure their webhooks, and test the whole loop."""


@twilio.command()
@click.option("--check", is_flag=True, help="Only report what differs; change nothing (exit 1 if anything does).")
def setup(check: bool) -> None:
    """Point every line's SMS and voice webhooks (and fallbacks) at HOTLINE_PUBLIC_URL."""
    settings = _settings(need_redis=False)
    services = _services(settings)
    if not settings.public_url.startswith("https://"):
        click.echo(f"note: HOTLINE_PUBLIC_URL is {settings.public_url}; Twilio's webhooks should use https.")
    client = Outbound(settings, None).client        # the account's settings only: no Redis needed
    plans = plan_setup(client, services.directory, settings.public_url)
    bad = [plan for plan in plans if plan.problem]
    for plan in plans:
        where = f"{plan.district.id} {plan.line.name} {plan.line.number}"
        if plan.problem:
            click.echo(f"{where}: {plan.problem}", err=True)
        elif not plan.changes:
            click.echo(f"{where}: configured for the hotline")
        else:
            verb = "would change" if check else "changing"
            for name, old, new in plan.changes:
                click.echo(f"{where}: {verb} {name}: {old or '(not set)'} -> {new}")
    if check:
        pending = sum(len(plan.changes) for plan in plans)
        click.echo(f"{len(plans)} line(s): {pending} setting(s) to change, {len(bad)} problem(s)"
                   + (" (run `hotline twilio setup` to change them)" if pending else "") + ".")
        sys.exit(1 if pending or bad else 0)
    refused = apply_setup(client, plans)
    for plan in refused:
        click.echo(f"{plan.district.id} {plan.line.number}: {plan.problem}", err=True)
    changed = sum(len(plan.changes) for plan in plans if not plan.problem)
    click.echo(f"{len(plans)} line(s): {changed} setting(s) changed, {len(bad) + len(refused)} problem(s).")
    sys.exit(1 if bad or refused else 0)


def _wait(services: Services, token: str, final: tuple[str, ...], timeout: float, label: str) -> list[str]:
    shown: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        statuses = probe_statuses(services.redis, token)
        for status in statuses[len(shown):]:
            click.echo(f"  {label}: the hotline received Twilio's callback: {status}")
        shown = statuses
        if any(status.split(":")[0] in final for status in shown):
            return shown
        time.sleep(0.2)
    return shown


@twilio.command()
@click.argument("number")
@click.option("--district", "district_id", default=None, help="Which district's line (default: the first).")
@click.option("--line", "line_kind", default="staff", show_default=True, help="staff, family or the line's number.")
@click.option("--timeout", default=120.0, show_default=True, help="Seconds to wait for each callback.")
@click.option("--skip-call", is_flag=True, help="Only the test text.")
def doctor(number: str, district_id: str | None, line_kind: str, timeout: float, skip_call: bool) -> None:
    """Text and call NUMBER (your own phone) from a line and wait for Twilio's callbacks to reach the
    running hotline: proof that texts, calls and delivery reports all work."""
    settings = _settings(need_redis=True)
    services = _services(settings)
    directory = services.directory
    try:
        district = directory.get(district_id) if district_id else directory.districts[0]
    except KeyError:
        click.echo(f"No district {district_id!r}; use one of {', '.join(d.id for d in directory.districts)}.", err=True)
        sys.exit(2)
    line = district.line_of_kind(line_kind) or district.line(try_e164(line_kind, district.region) or "")
    to = try_e164(number, district.region)
    if line is None or to is None:
        click.echo(f"{'No such line: ' + line_kind if line is None else number + ' is not a phone number'}.", err=True)
        sys.exit(2)
    catalogs = services.content(district).catalogs
    callback = f"{settings.public_url}/status"
    ok = True
    # Incoming texts and calls reach the hotline only if the number's webhooks point at it.
    [plan] = [p for p in plan_setup(services.outbound.client, Directory((district,)), settings.public_url)
              if p.line.number == line.number]
    if plan.problem or plan.changes:
        ok = False
        click.echo(f"NOT READY: {line.number} " + (plan.problem or "does not send its webhooks to the hotline ("
                   + ", ".join(name for name, _, _ in plan.changes) + "): run `hotline twilio setup`"), err=True)
    else:
        click.echo(f"{line.name} {line.number}: its webhooks point at {settings.public_url}.")
    try:
        token = start_probe(services.redis)
    except redis.RedisError as exc:
        click.echo(f"Cannot reach Redis at {settings.redis_url} ({type(exc).__name__}).", err=True)
        sys.exit(2)
    click.echo(f"Texting {to} from {line.name} {line.number}...")
    sent = services.outbound.send_sms(line.number, to, test_text(catalogs, district, line),
                                      status_callback=f"{callback}?probe={token}")
    if not sent.ok:
        click.echo(f"  Twilio refused the text: {sent.reason or sent.error_code}", err=True)
        ok = False
    else:
        click.echo(f"  Twilio accepted it ({sent.sid}); waiting for the delivery callback at {callback}...")
        statuses = _wait(services, token, FINAL_TEXT, timeout, "text")
        if any(s.startswith("delivered") for s in statuses):
            click.echo("  OK: delivered, and Twilio's callback reached the hotline.")
        else:
            ok = False
            click.echo("  NOT PROVED: " + (f"last status {statuses[-1]}" if statuses else
                       f"no callback reached the hotline within {timeout:g} s: check that HOTLINE_PUBLIC_URL "
                       "is this hotline's public address and that the web process runs"), err=True)
    if not skip_call:
        token = start_probe(services.redis)
        click.echo(f"Calling {to} from {line.name} {line.number}: answer it...")
        try:
            call = services.outbound.client.calls.create(
                to=to, from_=line.number, twiml=test_call_twiml(catalogs, district),
                status_callback=f"{callback}?probe={token}",
                status_callback_event=["initiated", "ringing", "answered", "completed"])
        except TwilioRestException as exc:
            click.echo(f"  Twilio refused the call: {exc.msg} (error {exc.code})", err=True)
            click.echo("Some checks failed (above).")
            sys.exit(1)
        click.echo(f"  Twilio placed it ({call.sid}); waiting for its callbacks...")
        statuses = _wait(services, token, FINAL_CALL, timeout, "call")
        if any(s.startswith("completed") for s in statuses) and any(s.startswith("in-progress") for s in statuses):
            click.echo("  OK: answered and completed, and Twilio's callbacks reached the hotline.")
        else:
            ok = False
            click.echo("  NOT PROVED: " + (f"the call ended {statuses[-1]} without being answered" if statuses else
                       f"no callback reached the hotline within {timeout:g} s"), err=True)
    click.echo("All checks passed." if ok else "Some checks failed (above).")
    sys.exit(0 if ok else 1)
