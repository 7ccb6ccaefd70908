"""The ``hotline`` command: serve, worker, sim, check, outbox, incidents, requests, purge, admin, users."""

from __future__ import annotations

import datetime as dt
import json
import sys

import click
import redis

from .cli_users import cli_actor, users as users_group
from .cli_translations import translations
from .cli_web import web
from .cli_import import roster, schools
from .cli_reload import reload_command
from .cli_twilio import twilio
from .exports import incident_summary, request_rows, to_csv
from .incidents.search import IncidentFilter, all_incidents, parse_day
from .cli_common import load_services, load_settings, with_running_redis
from .settings import Settings


def _services(settings: Settings | None = None):
    """The services of the running hotline (its Redis: REDIS_URL, or this folder's `hotline serve`)."""
    return load_services(with_running_redis(settings or load_settings()))


@click.group()
def main() -> None:
    """Safe Haven Hotline."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
@click.option("--sim-live", is_flag=True, help="Offer the web phone simulator even with a live Twilio account "
              "(it signs what it sends with the real auth token).")
def serve(host: str, port: int, sim_live: bool) -> None:
    """Run the hotline locally: embedded Redis, a worker and the web server (Ctrl-C stops all)."""
    from .devserver import serve as run

    run(load_settings(), host, port, sim_live=sim_live)


@main.command()
@click.option("--burst", is_flag=True, help="Run the queued jobs, then exit.")
def worker(burst: bool) -> None:
    """Run an RQ worker with its scheduler (and the reconciler's cron)."""
    from .logs import configure_logging
    from .worker import run_worker

    services = _services()
    configure_logging(services.settings.log_level)
    run_worker(services, burst=burst)


@main.command()
@click.option("--url", default="http://127.0.0.1:5000", show_default=True, help="The hotline to talk to.")
@click.option("--as", "me", default=None,
              help="Who you are: front-desk, legal, safety, parent, stranger, ... or a number (/phones lists them).")
@click.option("--line", default="staff", show_default=True, help="staff, family or a line's number.")
@click.option("--token", default=None, help="The auth token to sign with (default: TWILIO_AUTH_TOKEN, else "
              "var/dev-auth-token made by hotline serve).")
@click.option("--script", type=click.File(encoding="utf-8"), default=None,
              help="Run the commands in this file and print the transcript.")
@click.option("--twilio-api", default=None, help="Show what the hotline sends as seen by this Twilio-compatible API.")
@click.option("--account-sid", default=None, envvar="TWILIO_ACCOUNT_SID", help="With --twilio-api.")
@click.option("--district", "district_id", default=None,
              help="Whose phones, when HOTLINE_DISTRICT is a folder (default: its first district).")
def sim(url: str, me: str | None, line: str, token: str | None, script, twilio_api: str | None,
        account_sid: str | None, district_id: str | None) -> None:
    """A phone in the terminal: text and call the hotline as Twilio would, see what it sends."""
    from .sim.phonebook import UnknownDistrict, book_for
    from .sim.terminal import find_token, make_simulator, run_interactive, run_script

    token = find_token(token)
    if not token:
        click.echo("No auth token: start `hotline serve` in this folder first (it makes var/dev-auth-token), "
                   "or pass --token.", err=True)
        sys.exit(2)
    try:
        book = book_for(load_settings().district_path, district_id)
    except UnknownDistrict as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    simulator = make_simulator(url, token, click.echo, twilio_api, account_sid, book)
    simulator.me, simulator.line = book.person(me) if me else book.first_staff(), book.line(line)
    if script:
        run_script(simulator, script.read().splitlines())
    else:
        run_interactive(simulator)


@main.command()
def check() -> None:
    """Check the district files, flows and catalogs; print every problem and a language table."""
    from .check import run_check

    sys.exit(run_check(load_settings()))


@main.command()
@click.option("--follow", is_flag=True, help="Keep printing new items as they arrive.")
def outbox(follow: bool) -> None:
    """What the hotline sent while running without Twilio credentials (the dry-run outbox)."""
    import time

    services = _services()
    seen = 0
    while True:
        try:
            items = services.outbound.outbox(seen)
        except redis.ConnectionError:
            click.echo(f"Nothing answers at {services.settings.redis_url}: is `hotline serve` still running? "
                       "(Start it again, or set REDIS_URL.)", err=True)
            sys.exit(2)
        for item in items:
            when = dt.datetime.fromtimestamp(item["time"]).strftime("%H:%M:%S")
            what = item.get("body") or f"call, script {item.get('url')}"
            click.echo(f"{when} {item['kind']:<4} {item['from']} -> {item['to']}: {what}")
            seen = item["seq"]
        if not follow:
            break
        time.sleep(0.5)


@main.group()
def incidents() -> None:
    """Incident records."""


def _incident_rows(services, include_drills: bool, wanted: IncidentFilter | None = None):
    # Every incident (no cap: a flood must not push real ones out of an export), newest first.
    wanted = wanted or IncidentFilter()
    for one in services.directory.districts:
        for drills in ((False, True) if include_drills else (False,)):
            yield from ((d, i) for d, i in all_incidents(services, drills, [one]) if wanted.matches(d, i))


def _day(ctx, param, value):
    if value and parse_day(value) is None:
        raise click.BadParameter(f"{value!r} is not a day: write YYYY-MM-DD")
    return parse_day(value)


def search_options(command):
    """--number, --school, --since, --until: the dashboard's search, for list and export."""
    for option in reversed([
        click.option("--number", default="", help="Digits of the reporter's number, e.g. 0120."),
        click.option("--school", default="", help="A school id from the district file."),
        click.option("--since", default=None, callback=_day, help="Reported on or after this day (YYYY-MM-DD)."),
        click.option("--until", default=None, callback=_day, help="Reported on or before this day (YYYY-MM-DD)."),
    ]):
        command = option(command)
    return command


@incidents.command("list")
@click.option("--drills", is_flag=True, help="Include drills.")
@search_options
def incidents_list(drills: bool, number: str, school: str, since, until) -> None:
    services = _services()
    wanted = IncidentFilter(number=number, school=school, since=since, until=until)
    for district, incident in _incident_rows(services, drills, wanted):
        row = incident_summary(district, incident)
        click.echo(f"{row['id']:>5}  {row['reported']}  {row['status']:<12} {row['type']:<8} "
                   f"{'URGENT ' if row['urgent'] else ''}{row['school']} — {row['reporter']}"
                   f"{'  [DRILL]' if row['drill'] else ''}")


@incidents.command("show")
@click.argument("incident_id")
@click.option("--district", "district_id", default=None, help="District id (when several are served).")
def incidents_show(incident_id: str, district_id: str | None) -> None:
    services = _services()
    district = services.directory.get(district_id) if district_id else services.directory.single
    incident = services.incidents.get(district.id, incident_id)
    if incident is None:
        click.echo(f"No incident {incident_id} in {district.id}.", err=True)
        sys.exit(1)
    for name, value in incident_summary(district, incident).items():
        click.echo(f"{name:>16}: {value}")
    for name, value in incident.details.items():
        click.echo(f"{name:>16}: {value}")
    click.echo("timeline:")
    for event in services.incidents.timeline(district.id, incident.id):
        when = district.local(event["t"]).strftime("%Y-%m-%d %H:%M:%S")
        click.echo(f"  {when}  {event['kind']:<12} {event['text']}")


def _audit_export(services, action: str, items: list[tuple[str, str]]) -> None:
    """An export from the command line is in the audit log too, as "command line (<user>)"."""
    for district in services.directory.districts:
        ids = [item_id for district_id, item_id in items if district_id == district.id]
        services.audit.record([district.id], cli_actor(), action, ",".join(ids[:200]), count=len(ids), via="cli")


@incidents.command("export")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json", show_default=True)
@click.option("--drills", is_flag=True, help="Include drills.")
@search_options
def incidents_export(fmt: str, drills: bool, number: str, school: str, since, until) -> None:
    services = _services()
    rows = []
    wanted = IncidentFilter(number=number, school=school, since=since, until=until)
    for district, incident in _incident_rows(services, drills, wanted):
        row = incident_summary(district, incident)
        row["details"] = incident.details
        row["timeline"] = [{"time": district.local(e["t"]).isoformat(timespec="seconds"), "kind": e["kind"],
                            "text": e["text"]} for e in services.incidents.timeline(district.id, incident.id)]
        rows.append(row)
    _audit_export(services, "export_incidents", [(row["district"], row["id"]) for row in rows])
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    fields = ["district", "id", "type", "drill", "status", "urgent", "school", "reporter", "reported",
              "acknowledged_by", "acknowledged", "closed", "details"]
    click.echo(to_csv([{**row, "details": json.dumps(row["details"], ensure_ascii=False)} for row in rows], fields),
               nl=False)


@main.group()
def requests() -> None:
    """Office requests from the family line (emergency-contact updates, concerns, call-backs)."""


@requests.command("list")
@click.option("--status", type=click.Choice(["new", "processed"]), default=None)
def requests_list(status: str | None) -> None:
    services = _services()
    for row in request_rows(services, status):
        click.echo(f"{row['reference']:>6}  {row['received']}  {row['status']:<9} {row['type']:<15} "
                   f"{row['school']}")


@requests.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@click.option("--status", type=click.Choice(["new", "processed"]), default=None)
def requests_export(fmt: str, status: str | None) -> None:
    services = _services()
    rows = request_rows(services, status)
    _audit_export(services, "export_requests", [(row["district"], row["reference"]) for row in rows])
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    click.echo(to_csv(rows), nl=False)


@main.command()
def purge() -> None:
    """Delete what the districts' retention says is too old (processed requests, old incidents)."""
    from .retention import purge as run

    summary = run(_services())
    for district_id, counts in summary.items():
        click.echo(f"{district_id}: deleted {counts['requests']} processed requests, {counts['incidents']} incidents, "
                   f"{counts.get('audit', 0)} audit entries")


@main.group()
def admin() -> None:
    """Dashboard administration."""


@admin.command("hash-password")
@click.password_option()
def hash_password(password: str) -> None:
    """Print a hash for HOTLINE_ADMIN_PASSWORD_HASH (deprecated: use `hotline users`)."""
    from werkzeug.security import generate_password_hash

    from .settings import MIN_ADMIN_PASSWORD

    if len(password) < MIN_ADMIN_PASSWORD:
        click.echo(f"That password is {len(password)} characters; use at least {MIN_ADMIN_PASSWORD} (a passphrase of "
                   "a few words is easy to type and hard to guess).", err=True)
        sys.exit(2)
    click.echo(generate_password_hash(password))


main.add_command(users_group)
main.add_command(translations)   # issue 12: hotline translations export/import (cli_translations.py)
main.add_command(web)     # issue 13: the production web server (cli_web.py)
main.add_command(roster)     # hotline roster import (cli_import.py, issue 15)
main.add_command(schools)    # hotline schools import
main.add_command(reload_command)   # hotline reload (cli_reload.py, issue 15)
main.add_command(twilio)           # hotline twilio setup|doctor (cli_twilio.py, issue 15)


if __name__ == "__main__":
    main()
