"""Signing in to the dashboard: one account per person (hotline/accounts/), a server-side session
per sign-in, role and scope checks on every view, and throttled attempts that never lock the owner
out.

The browser's cookie (Flask's signed session) holds only the random id of a session kept in Redis
(accounts/sessions.py), so signing out, disabling an account or resetting its password ends the
session at once, copied cookies included. Sessions end after 30 minutes of inactivity or 8 hours
in all, whichever comes first.

HOTLINE_ADMIN_PASSWORD(_HASH), the old shared password, still signs in (with the email left
empty) as one deprecated pseudo-account with what the password could do before; a warning is
logged at every such sign-in.
"""

from __future__ import annotations

import functools
import logging
import time
from urllib.parse import urlsplit

from flask import current_app, g, redirect, request, session, url_for
from werkzeug.exceptions import Forbidden, NotFound, Unauthorized
from werkzeug.security import check_password_hash

from ..accounts import alerts, throttle
from ..accounts.audit import Actor
from ..accounts.store import Account

log = logging.getLogger(__name__)

SESSION_KEY = "sid"
ENDED_KEY = "admin_ended"
IDLE_TIMEOUT = 30 * 60            # seconds without a click before signing in again
# Requests a page makes by itself (the incident list's auto-refresh) carry this query parameter.
# They must not count as activity, or a screen left open would never reach the idle timeout.
PASSIVE_PARAM = "auto"
SHARED_ID = "shared-password"


def now() -> float:
    """The clock, in one place so the timeouts and the throttle can be tested."""
    return time.time()


def _services():
    return current_app.extensions["hotline"]


# --- The deprecated shared password --------------------------------------------------------------

def shared_account() -> Account:
    return Account(id=SHARED_ID, name="Shared dashboard password", email="", role="shared_password",
                   districts=["*"])


def password_configured() -> bool:
    """Anyone can sign in: the shared password is set, or an account exists."""
    return bool(current_app.config["HOTLINE_SETTINGS"].admin_password_hash) or _services().accounts.count() > 0


def shared_password_matches(password: str) -> bool:
    """Constant-time check against the configured hash; always False when none is configured."""
    password_hash = current_app.config["HOTLINE_SETTINGS"].admin_password_hash
    if not password_hash or not password:
        return False
    try:
        return check_password_hash(password_hash, password)
    except (ValueError, TypeError):   # a malformed hash in the environment: nobody gets in
        return False


# --- Throttle ------------------------------------------------------------------------------------

def client_address() -> str:
    # ProxyFix (app.py) has already replaced remote_addr when HOTLINE_TRUSTED_PROXIES trusts a proxy;
    # an X-Forwarded-For from anyone else is ignored, so it cannot be used to reset the count.
    return request.remote_addr or "unknown"


def wait_before_attempt(email: str) -> float:
    """Seconds this attempt must wait (the progressive delay); 0 when it may be checked now."""
    _services().redis.ping()    # unreachable: RedisError, answered with the dashboard's 503 page
    return _services().throttle.wait(email, client_address(), now())


def attempt_failed(email: str) -> None:
    services = _services()
    count = services.throttle.failed(email, client_address(), now())
    account = services.accounts.by_email(email) if email else None
    if account and account.role == "legal" and count == throttle.ALERT_AFTER:
        for district in services.directory.districts:
            if account.in_district(district.id):
                alerts.enqueue(services, district.id, account.id, count)


def attempt_succeeded(email: str) -> None:
    _services().throttle.succeeded(email, client_address())


# --- Session -------------------------------------------------------------------------------------

def start_session(account: Account, method: str) -> None:
    # A fresh session on sign-in: nothing from before (a planted cookie) carries over.
    session.clear()
    session.permanent = True
    web = _services().web_sessions.start(account.id, client_address(), request.user_agent.string, method, now=now())
    session[SESSION_KEY] = web.id
    g.account, g.web_session = account, web


def end_session() -> None:
    if session.get(SESSION_KEY):
        _services().web_sessions.end(session[SESSION_KEY])
    session.clear()
    g.account = g.web_session = None


def ended_reason() -> str | None:
    """Why the last session ended on its own ("idle" or "limit"), once."""
    return session.pop(ENDED_KEY, None)


def _resolve(touch: bool) -> Account | None:
    session_id = session.get(SESSION_KEY)
    if not isinstance(session_id, str):
        return None
    services = _services()
    web = services.web_sessions.get(session_id)
    if web is None:                       # signed out, disabled, reset, or ended from another browser
        session.clear()
        return None
    moment = now()
    reason = services.web_sessions.expired(web, moment)
    if reason:
        end_session()
        # Told on the sign-in page, so nobody wonders why they have to sign in again.
        session[ENDED_KEY] = reason
        return None
    account = shared_account() if web.account == SHARED_ID else services.accounts.get(web.account)
    if web.account == SHARED_ID and not current_app.config["HOTLINE_SETTINGS"].admin_password_hash:
        account = None                     # the shared password was removed from the environment
    if account is None or account.disabled or account.password_changed > web.started:
        end_session()
        return None
    if touch:
        services.web_sessions.touch(web, moment)
    g.web_session = web
    return account


def current_account(touch: bool = False) -> Account | None:
    """The signed-in account of this request (resolved once per request)."""
    if "account" not in g:
        g.account = _resolve(touch)
    return g.account


def signed_in(touch: bool = True) -> bool:
    return current_account(touch) is not None


def actor() -> Actor:
    """Who is acting, for the audit log."""
    account = current_account()
    if account is None:
        return Actor("(not signed in)", address=client_address())
    return Actor(account.name, account.email, account.role, client_address(), account.id)


def account_districts(account: Account) -> list[str]:
    return [d.id for d in _services().directory.districts if account.in_district(d.id)]


def sso_label() -> str | None:
    """The identity provider's name for the sign-in button, when SSO is set up (sso.py)."""
    if "hotline_sso" not in current_app.extensions:
        return None
    return current_app.config["HOTLINE_SETTINGS"].oidc_label


def safe_next(target: str | None) -> str | None:
    """Only a path inside the dashboard: a login link must not send anyone to another site."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/admin") or target.startswith("//") \
            or "\\" in target:
        return None
    return target


def login_required(view=None, *, download: bool = False, permission: str | None = None):
    """Pages redirect to the sign-in page; form posts and downloads (``download=True``) answer 401,
    so a script or a stale form never mistakes the sign-in page for its result. With
    ``permission``, a signed-in account whose role lacks it gets 403."""

    def decorate(function):
        @functools.wraps(function)
        def checked(*args, **kwargs):
            account = current_account(touch=PASSIVE_PARAM not in request.args)
            if account is not None:
                if permission and not account.can(permission):
                    raise Forbidden(f"Your role ({account.role_info.label}) cannot do this.")
                return function(*args, **kwargs)
            if request.method in ("GET", "HEAD") and not download:
                return redirect(url_for("admin.login", next=request.full_path.rstrip("?")))
            raise Unauthorized("Sign in to the dashboard first.")

        return checked

    return decorate(view) if view is not None else decorate


def require(permission: str, *, download: bool = False):
    return login_required(download=download, permission=permission)


def district_or_404(district_id: str):
    """The district, when the signed-in account serves it; 404 otherwise (no hint it exists)."""
    account = current_account()
    try:
        district = _services().directory.get(district_id)
    except KeyError:
        raise NotFound()
    if account is None or not account.in_district(district.id):
        raise NotFound()
    return district
