"""Signing in to the dashboard: one password set by the district's administrator, checked in
constant time, with attempts limited per client address, and sessions that end after 30 minutes
of inactivity or 8 hours in all, whichever comes first.

The session is Flask's signed cookie (SECRET_KEY). It holds only two timestamps: when the person
signed in and when they last did something. Nothing about incidents or families is in it.
"""

from __future__ import annotations

import functools
import time
from urllib.parse import urlsplit

import redis
from flask import current_app, redirect, request, session, url_for
from werkzeug.exceptions import Unauthorized
from werkzeug.security import check_password_hash

from .. import ratelimit
from ..store import key

SESSION_KEY = "admin"
ENDED_KEY = "admin_ended"
IDLE_TIMEOUT = 30 * 60            # seconds without a click before signing in again
SIGNIN_LIMIT, SIGNIN_WINDOW = 5, 300
# Requests a page makes by itself (the incident list's auto-refresh) carry this query parameter.
# They must not count as activity, or a screen left open would never reach the idle timeout.
PASSIVE_PARAM = "auto"


def now() -> float:
    """The clock, in one place so the idle timeout can be tested."""
    return time.time()


# --- Password ------------------------------------------------------------------------------------

def password_configured() -> bool:
    return bool(current_app.config["HOTLINE_SETTINGS"].admin_password_hash)


def password_matches(password: str) -> bool:
    """Constant-time check against the configured hash; always False when none is configured."""
    password_hash = current_app.config["HOTLINE_SETTINGS"].admin_password_hash
    if not password_hash or not password:
        return False
    try:
        return check_password_hash(password_hash, password)
    except (ValueError, TypeError):   # a malformed hash in the environment: nobody gets in
        return False


# --- Rate limit ------------------------------------------------------------------------------------

def client_address() -> str:
    # ProxyFix (app.py) has already replaced remote_addr when HOTLINE_TRUSTED_PROXIES trusts a proxy;
    # an X-Forwarded-For from anyone else is ignored, so it cannot be used to reset the count.
    return request.remote_addr or "unknown"


def _store() -> redis.Redis:
    return current_app.extensions["hotline"].redis


def attempt_allowed() -> bool:
    """Count one sign-in attempt from this address. Fails closed: with Redis unreachable a guess
    must not slip past the limit (and the dashboard could show nothing anyway)."""
    # Unreachable: RedisError, which the dashboard answers with its 503 page, rather than a
    # misleading "too many attempts".
    _store().ping()
    return ratelimit.allow(_store(), "signin", "admin", client_address(), limit=SIGNIN_LIMIT,
                           window=SIGNIN_WINDOW, fail_open=False)


def retry_after() -> int:
    """Seconds until this address may try again (the window's remaining time)."""
    try:
        remaining = _store().ttl(key("rate", "signin", "admin", client_address()))
    except (redis.RedisError, OSError):
        return SIGNIN_WINDOW
    return remaining if remaining and remaining > 0 else SIGNIN_WINDOW


def forget_attempts() -> None:
    """After a correct password: the office behind one address should not lock itself out."""
    try:
        ratelimit.reset(_store(), "signin", "admin", client_address())
    except (redis.RedisError, OSError):
        pass


# --- Session -------------------------------------------------------------------------------------

def start_session() -> None:
    # A fresh session on sign-in: nothing from before (a planted cookie) carries over.
    session.clear()
    session.permanent = True
    moment = now()
    session[SESSION_KEY] = {"at": moment, "seen": moment}


def end_session() -> None:
    session.clear()


def ended_reason() -> str | None:
    """Why the last session ended on its own ("idle" or "limit"), once."""
    return session.pop(ENDED_KEY, None)


def signed_in(touch: bool = True) -> bool:
    """True while the session is valid; ``touch`` records this request as activity."""
    state = session.get(SESSION_KEY)
    if not isinstance(state, dict):
        return False
    moment = now()
    try:
        started, seen = float(state["at"]), float(state["seen"])
    except (KeyError, TypeError, ValueError):
        return False
    # Flask re-signs a permanent session on every request, so its cookie lifetime slides; the
    # sign-in time makes PERMANENT_SESSION_LIFETIME (8 hours, app.py) a hard limit.
    lifetime = current_app.permanent_session_lifetime.total_seconds()
    if moment - seen > IDLE_TIMEOUT or moment - started > lifetime:
        end_session()
        # Told on the sign-in page, so nobody wonders why they have to sign in again.
        session[ENDED_KEY] = "idle" if moment - seen > IDLE_TIMEOUT else "limit"
        return False
    if touch:
        session[SESSION_KEY] = {"at": started, "seen": moment}
    return True


def safe_next(target: str | None) -> str | None:
    """Only a path inside the dashboard: a login link must not send anyone to another site."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/admin") or target.startswith("//") \
            or "\\" in target:
        return None
    return target


def login_required(view=None, *, download: bool = False):
    """Pages redirect to the sign-in page; form posts and downloads (``download=True``) answer 401,
    so a script or a stale form never mistakes the sign-in page for its result."""

    def decorate(function):
        @functools.wraps(function)
        def checked(*args, **kwargs):
            if signed_in(touch=PASSIVE_PARAM not in request.args):
                return function(*args, **kwargs)
            if request.method in ("GET", "HEAD") and not download:
                return redirect(url_for("admin.login", next=request.full_path.rstrip("?")))
            raise Unauthorized("Sign in to the dashboard first.")

        return checked

    return decorate(view) if view is not None else decorate
