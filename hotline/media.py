"""Which URLs are Twilio's media (a recording, an MMS photo), and so may become links on the
dashboard. Anything else a caller typed, even a well-formed https URL, stays text: a link labelled
"recording" must not lead to a page of the caller's choosing."""

from __future__ import annotations

from urllib.parse import urlsplit

TWILIO_MEDIA_HOST = "api.twilio.com"


def media_kind(value: object, api_base: str | None = None) -> str | None:
    """"recording", "photo" or None. ``api_base`` (TWILIO_API_BASE_URL) is a Twilio-compatible
    server standing in for api.twilio.com (tests, a regional edge)."""
    if not isinstance(value, str) or any(ch.isspace() or ch in "\"'<>" for ch in value):
        return None
    parts = urlsplit(value)
    hosts = {("https", TWILIO_MEDIA_HOST)}
    if api_base:
        base = urlsplit(api_base)
        hosts.add((base.scheme, base.netloc.lower()))
    if (parts.scheme, parts.netloc.lower()) not in hosts or parts.username or parts.password:
        return None
    path = parts.path.lower()
    if "/recordings/" in path:
        return "recording"
    if "/media/" in path:
        return "photo"
    return None
