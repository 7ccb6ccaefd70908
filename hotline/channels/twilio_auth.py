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
import time
from typing import NamedTuple
from urllib.parse import parse_qs, urlparse, urlsplit

import redis
from flask import Response, current_app, request
from twilio.request_validator import RequestValidator, add_port, compare, remove_port

from ..phones import mask
from ..ratelimit import count_on
from ..store import key

log = logging.getLogger(__name__)

# A signed request replayed within this window has no second effect. Twilio retries within
# minutes; a week also covers a replay of a captured request long after (signatures carry no time).
DEDUPE_TTL = 7 * 24 * 3600
# A retried webhook gets the first answer again. Twilio retries within seconds, so the answer
# (which may hold what a family typed) is kept only briefly.
REPLY_CACHE_TTL = 300
# What the dedupe key says: the first attempt is still running (or died), or it was answered.
PENDING, ANSWERED = "pending", "answered"


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
    validator, url = RequestValidator(token), called_url()
    parsed = urlparse(url)
    if "bodySHA256" in parse_qs(parsed.query):
        return validator.validate(url, request.form, signature)
    # What RequestValidator.validate does for a form post (Twilio signs the URL with or without its
    # port), but stopping at the first match: it computes both HMACs every time, and the signature
    # check was 13% of an inbound text's time (benchmarks/README.md).
    # The URL as it is first (what Twilio usually signs), then with the port added or removed.
    other = remove_port(parsed) if parsed.port else add_port(parsed)
    return any(compare(validator.compute_signature(candidate, request.form), signature)
               for candidate in (parsed.geturl(), other))


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
        return bool(store.set(key("seen", *parts), PENDING, nx=True, ex=DEDUPE_TTL))
    except (redis.RedisError, OSError):
        return True


class Admission(NamedTuple):
    first: bool             # not a repeated MessageSid
    allowed: bool           # the sender is within the rate limit
    value: str | None       # what the ``read`` key held
    answered: bool          # the store answered (a failure admits: see admit)
    earlier: str | None = None   # for a repeat: PENDING or ANSWERED (its first attempt's state)


def admit(store: redis.Redis, channel: str, sid: str, bucket: str, scope: str, subject: str, *, limit: int,
          window: int, read: str | None = None) -> Admission:
    """One Redis round trip for what every inbound request asks first: is it new (not a repeated
    MessageSid) and, if not, did its first attempt answer; is its sender within the rate limit
    (ratelimit's counter); and what does the ``read`` key (the conversation) hold? A store
    failure admits: a staff member must get the protocol. A repeat counts towards the limit too
    (Twilio repeats rarely; the limit is generous)."""
    try:
        # No MULTI/EXEC: each command stands alone, and a transaction would cost two more.
        with store.pipeline(transaction=False) as pipe:
            if sid:
                seen = key("seen", channel, sid)
                pipe.set(seen, PENDING, nx=True, ex=DEDUPE_TTL)
                pipe.get(seen)
            count_on(pipe, bucket, scope, subject, window)
            if read:
                pipe.get(read)
            results = pipe.execute()
    except (redis.RedisError, OSError):
        return Admission(True, True, None, False)
    value = results.pop() if read else None
    first = bool(results[0]) if sid else True
    return Admission(first, results[-1] <= limit, value, True, None if first else results[1])


def remember_reply(store: redis.Redis | redis.client.Pipeline, body: str, *parts: str) -> None:
    """Keep the answer for a repeat of this request, and mark the request answered for the whole
    dedupe window: a replay after the answer expired then has no second effect either (``store``
    may be a pipeline its owner sends)."""
    try:
        store.set(key("reply", *parts), body, ex=REPLY_CACHE_TTL)
        store.set(key("seen", *parts), ANSWERED, ex=DEDUPE_TTL)
    except (redis.RedisError, OSError):
        pass


def remembered_reply(store: redis.Redis, *parts: str) -> str | None:
    try:
        return store.get(key("reply", *parts))
    except (redis.RedisError, OSError):
        return None


# How long a repeated request waits for the first attempt's answer before answering itself.
REPEAT_WAIT = 3.0


def awaited_reply(store: redis.Redis, *parts: str, wait: float = REPEAT_WAIT) -> str | None:
    """The first attempt's answer to a repeated request, waiting up to ``wait`` seconds while the
    first attempt may still be running. None: it never answered (its process died mid-request,
    as when Twilio calls the fallback URL): the caller must then answer the request itself, or
    the front desk would get nothing at all."""
    deadline = time.monotonic() + wait
    while True:
        reply = remembered_reply(store, *parts)
        if reply is not None or time.monotonic() >= deadline:
            return reply
        time.sleep(0.1)
