"""``hotline users``: dashboard accounts from the server's command line (add, list, disable,
enable, reset). Whoever runs it has the server, so it needs no sign-in; every change still goes to
the audit log, as "command line (<user>)".

The first account: ``hotline users add --first ...`` creates the first district administrator
(refused once any account exists); ``hotline serve`` does it by itself on a laptop.
"""

from __future__ import annotations

import getpass
import secrets
import sys

import click

from .accounts.audit import Actor
from .accounts.roles import ASSIGNABLE, ROLES
from .accounts.store import AccountError
from .phones import InvalidNumber, to_e164
from .cli_common import load_services, load_settings, with_running_redis
from .services import Services


def _services() -> Services:
    return load_services(with_running_redis(load_settings()))


def cli_actor() -> Actor:
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return Actor(f"command line ({who})", address="cli")


def _districts_of(services, account) -> list[str]:
    return [d.id for d in services.directory.districts if account.in_district(d.id)]


def _find(services, email: str):
    account = services.accounts.by_email(email)
    if account is None:
        click.echo(f"No account has the email {email}. `hotline users list` shows them.", err=True)
        sys.exit(1)
    return account


def _new_password(generate: bool) -> str:
    if generate:
        password = secrets.token_urlsafe(12)
        click.echo(f"Password (shown once, give it to the person): {password}")
        return password
    password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 10:
        click.echo("A password needs at least 10 characters.", err=True)
        sys.exit(2)
    return password


@click.group()
def users() -> None:
    """Dashboard accounts: one per person, with a role and a district (and school) scope."""


@users.command("add")
@click.option("--name", required=True, help="The person's name, as the audit log and incidents show it.")
@click.option("--email", required=True, help="Their email: what they sign in with (and SSO matches).")
@click.option("--role", type=click.Choice(ASSIGNABLE), default=None,
              help="district_admin, legal, safety, school_office or auditor (docs/dashboard.md).")
@click.option("--district", "districts", multiple=True,
              help="A district id (repeat for several); default: the only district served.")
@click.option("--school", "schools", multiple=True, help="For school_office: a school id (repeat for several).")
@click.option("--phone", default=None, help="Their phone, when it is a contact's number (names them on ACK).")
@click.option("--generate-password", is_flag=True, help="Make a random password and print it once.")
@click.option("--sso-only", is_flag=True, help="No password: the person signs in with the district's SSO.")
@click.option("--first", is_flag=True, help="The first account: a district administrator (refused once any exists).")
def add(name, email, role, districts, schools, phone, generate_password, sso_only, first) -> None:
    """Add an account."""
    services = _services()
    if first:
        if services.accounts.count():
            click.echo("Accounts exist already: ask a district administrator to add you.", err=True)
            sys.exit(1)
        role = role or "district_admin"
        if role != "district_admin":
            click.echo("The first account is a district administrator (--role district_admin).", err=True)
            sys.exit(2)
    if role is None:
        click.echo("Give --role: " + ", ".join(ASSIGNABLE), err=True)
        sys.exit(2)
    known = {d.id: d for d in services.directory.districts}
    if not districts:
        if len(known) != 1:
            click.echo(f"Give --district (one of {', '.join(known)}).", err=True)
            sys.exit(2)
        districts = tuple(known)
    for district_id in districts:
        if district_id not in known:
            click.echo(f"--district {district_id!r} is not served here; use one of {', '.join(known)}.", err=True)
            sys.exit(2)
    for school in schools:
        if not any(school in known[d].schools for d in districts):
            names = sorted(s for d in districts for s in known[d].schools)
            click.echo(f"--school {school!r} is in none of those districts; use one of {', '.join(names)}.", err=True)
            sys.exit(2)
    if phone:
        try:
            phone = to_e164(phone, known[districts[0]].region)
        except InvalidNumber:
            click.echo(f"--phone {phone!r} is not a phone number; write it with the area code.", err=True)
            sys.exit(2)
    password = None if sso_only else _new_password(generate_password)
    try:
        account = services.accounts.create(name=name, email=email, role=role, districts=list(districts),
                                           schools=list(schools), phone=phone, password=password)
    except AccountError as exc:
        click.echo(f"Not added: {exc}.", err=True)
        sys.exit(2)
    services.audit.record(districts, cli_actor(), "user_added", account.email, role=role, name=account.name,
                          schools=list(schools))
    click.echo(f"Added {account.name} <{account.email}>: {ROLES[role].label}, {', '.join(districts)}"
               f"{' (' + ', '.join(schools) + ')' if schools else ''}.")


@users.command("list")
def list_users() -> None:
    """List the accounts."""
    services = _services()
    for account in services.accounts.all():
        scope = ", ".join(account.districts) + (f" ({', '.join(account.schools)})" if account.schools else "")
        click.echo(f"{account.email:<32} {account.name:<24} {account.role:<15} {scope}"
                   f"{'  [disabled]' if account.disabled else ''}")


@users.command("disable")
@click.argument("email")
def disable(email: str) -> None:
    """Disable an account; its sessions end at once."""
    services = _services()
    account = _find(services, email)
    services.accounts.set_disabled(account, True)
    ended = services.web_sessions.end_all(account.id)
    services.audit.record(_districts_of(services, account), cli_actor(), "user_disabled", account.email,
                          sessions_ended=ended)
    click.echo(f"{account.name} is disabled; {ended} session(s) ended.")


@users.command("enable")
@click.argument("email")
def enable(email: str) -> None:
    """Enable a disabled account again."""
    services = _services()
    account = _find(services, email)
    services.accounts.set_disabled(account, False)
    services.audit.record(_districts_of(services, account), cli_actor(), "user_enabled", account.email)
    click.echo(f"{account.name} is enabled.")


@users.command("reset")
@click.argument("email")
@click.option("--generate-password", is_flag=True, help="Make a random password and print it once.")
def reset(email: str, generate_password: bool) -> None:
    """Set a new password; the account's sessions end at once."""
    services = _services()
    account = _find(services, email)
    services.accounts.set_password(account, _new_password(generate_password))
    ended = services.web_sessions.end_all(account.id)
    services.audit.record(_districts_of(services, account), cli_actor(), "password_reset", account.email,
                          sessions_ended=ended)
    click.echo(f"{account.name}'s password is changed; {ended} session(s) ended.")
