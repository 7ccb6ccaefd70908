"""How Twilio signs the webhooks it sends (the ``X-Twilio-Signature`` header).

Written from Twilio's published description of the scheme, not by calling twilio's own
``RequestValidator``: the fake Twilio server signs its callbacks with this, and the hotline checks
them with the twilio library, so the two stay independent and a bug in one cannot hide in the other.

The scheme: take the full URL Twilio requested (scheme, host, port, path and query string exactly
as configured), append every POST parameter as name immediately followed by value, with the names
in case-sensitive sorted order (a repeated name contributes each of its values, sorted), then
HMAC-SHA1 that string keyed with the account's auth token and base64-encode the digest.
GET webhooks carry their parameters in the URL, so they are signed over the URL alone.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping

SIGNATURE_HEADER = "X-Twilio-Signature"

ParamValue = str | Iterable[str]


def _values(params: Mapping[str, ParamValue], name: str) -> list[str]:
    # A werkzeug/Flask MultiDict hands back only the first value for params[name].
    getlist = getattr(params, "getlist", None)
    raw = getlist(name) if getlist is not None else params[name]
    if isinstance(raw, (str, bytes)) or not isinstance(raw, Iterable):
        raw = [raw]
    return [value.decode() if isinstance(value, bytes) else str(value) for value in raw]


def twilio_signature(auth_token: str, url: str, params: Mapping[str, ParamValue] | None = None) -> str:
    """The X-Twilio-Signature Twilio would send for a request to ``url`` with these POST params."""
    payload = url
    for name in sorted(params or {}):
        # Identical repeated values count once: twilio's RequestValidator de-duplicates them
        # (sorted(set(values))), and the hotline validates with it.
        for value in sorted(set(_values(params, name))):
            payload += name + value
    digest = hmac.new(auth_token.encode("utf-8"), payload.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def signed_headers(auth_token: str, url: str, params: Mapping[str, ParamValue] | None = None) -> dict[str, str]:
    """Headers carrying the signature, ready to pass to requests or a Flask test client."""
    return {SIGNATURE_HEADER: twilio_signature(auth_token, url, params)}
