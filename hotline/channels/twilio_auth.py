"""Security for every Twilio-facing endpoint: the X-Twilio-Signature check, recognising a request
Twilio sent twice (a repeated MessageSid/CallSid step), and per-number rate limits.

The signature is checked with twilio's RequestValidator against the URL Twilio called: the
public URL (HOTLINE_PUBLIC_URL) when it is set, else the URL this request arrived at (with
X-Forwarded-* honoured only when HOTLINE_TRUSTED_PROXIES says proxies are trusted, through
Werkzeug's ProxyFix). The query string is taken exactly as sent. Validation is never skipped:
without a token the app does not start (``hotline serve`` makes a local development token).
"""

from __future__ import annotations

import functools
import logging
from urllib.parse import urlsplit

import redis
from flask import Response, current_app, request
from twilio.request_validator import RequestValidator

from ..phones import mask
from ..store import key

log = logging.getLogger(__name__)

# A signed request replayed within this window has no second effect. Twilio retries within
# minutes; a week also covers a replay of a captured request long after (signatures carry no time).
DEDUPE_TTL = 7 * 24 * 3600
# A retried webhook gets the first answer again. Twilio retries within seconds, so the answer
# (which may hold what a family typed) is kept only briefly.
REPLY_CACHE_TTL = 300


def _raw_path() -> str:
    """The path and query exactly as the client sent them (Werkzeug re-quotes request.url)."""
    environ = request.environ
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        parts = urlsplit(raw)
        return parts.path + (f"?{parts.query}" if parts.query else "") if parts.scheme else raw
    return request.full_path.rstrip("?")


def called_url() -> str:
    """The URL Twilio signed: HOTLINE_PUBLIC_URL (the app's root as Twilio sees it) + the path."""
    settings = current_app.config["HOTLINE_SETTINGS"]
    root = settings.public_url or request.host_url
    return root.rstrip("/") + _raw_path()


def signature_valid() -> bool:
    token = current_app.config["HOTLINE_SETTINGS"].twilio_auth_token
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token or not signature:
        return False
    return RequestValidator(token).validate(called_url(), request.form, signature)


def forbidden() -> Response:
    return Response("Forbidden: this endpoint only accepts requests signed by Twilio.\n", status=403,
                    mimetype="text/plain")


def twilio_only(view):
    """Refuse (403, nothing read or written) any request without a valid Twilio signature."""

    @functools.wraps(view)
    def checked(*args, **kwargs):
        if not signature_valid():
            log.warning("refused unsigned or wrongly signed request to %s from=%s", request.path,
                        mask(request.form.get("From")))
            return forbidden()
        return view(*args, **kwargs)

    return checked


def first_time(store: redis.Redis, *parts: str) -> bool:
    """True the first time this request (e.g. a MessageSid) is seen; a store failure counts as first."""
    try:
        return bool(store.set(key("seen", *parts), "1", nx=True, ex=DEDUPE_TTL))
    except (redis.RedisError, OSError):
        return True


def remember_reply(store: redis.Redis, body: str, *parts: str) -> None:
    try:
        store.set(key("reply", *parts), body, ex=REPLY_CACHE_TTL)
    except (redis.RedisError, OSError):
        pass


def remembered_reply(store: redis.Redis, *parts: str) -> str | None:
    try:
        return store.get(key("reply", *parts))
    except (redis.RedisError, OSError):
        return None
