"""Setting up and proving a district's Twilio numbers from the command line (`hotline twilio ...`).

``plan_setup`` compares each line's number in the account (Twilio's IncomingPhoneNumbers resource)
with what the hotline needs: its SMS and voice webhooks, and their fallbacks, at HOTLINE_PUBLIC_URL,
by POST. ``apply_setup`` changes what differs. Fallback URLs point at the same webhooks: Twilio
tries the fallback when the first attempt fails or times out, and with several web processes behind
one address, the second attempt usually lands on a healthy one (duplicate MessageSids are answered
once: channels/twilio_auth.py).

The doctor's probes: a text and a call whose status callbacks come to /status?probe=<token>, where
the hotline records them under that token (``record_probe``) instead of on an incident, so the
doctor can tell the operator that Twilio reached the hotline, not only that Twilio accepted a send.

These calls use the twilio client that outbound.py builds (the one place the client is configured,
TWILIO_API_BASE_URL included).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

import redis
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client
from twilio.twiml.voice_response import VoiceResponse

from .district import Directory, District, Line
from .messages import Catalogs
from .store import key

# The number's property -> the path on HOTLINE_PUBLIC_URL (or the method) the hotline needs.
WEBHOOKS: tuple[tuple[str, str], ...] = (
    ("sms_url", "/sms"), ("sms_method", "POST"), ("sms_fallback_url", "/sms"), ("sms_fallback_method", "POST"),
    ("voice_url", "/voice"), ("voice_method", "POST"), ("voice_fallback_url", "/voice"),
    ("voice_fallback_method", "POST"),
)
PROBE_TTL = 3600
FINAL_TEXT = ("delivered", "undelivered", "failed", "canceled")
FINAL_CALL = ("completed", "busy", "no-answer", "failed", "canceled")


@dataclass
class LinePlan:
    district: District
    line: Line
    sid: str | None = None
    changes: list[tuple[str, str | None, str]] = field(default_factory=list)   # (property, now, wanted)
    problem: str | None = None


def wanted_settings(public_url: str) -> dict[str, str]:
    base = public_url.rstrip("/")
    return {name: value if value == "POST" else base + value for name, value in WEBHOOKS}


def plan_setup(client: Client, directory: Directory, public_url: str) -> list[LinePlan]:
    """What `hotline twilio setup` would change, line by line (reads only)."""
    wanted = wanted_settings(public_url)
    plans = []
    for district in directory.districts:
        for line in district.lines:
            plan = LinePlan(district, line)
            try:
                found = client.incoming_phone_numbers.list(phone_number=line.number, limit=20)
            except TwilioRestException as exc:
                plan.problem = f"Twilio refused the lookup: {exc.msg} (error {exc.code})"
                plans.append(plan)
                continue
            exact = [number for number in found if number.phone_number == line.number]
            if not exact:
                plan.problem = ("is not a number of this Twilio account: buy or port it there, or fix the "
                                f"number in {district.source}")
            else:
                number = exact[0]
                plan.sid = number.sid
                for name, value in wanted.items():
                    current = getattr(number, name, None)
                    same = (current or "").upper() == value if name.endswith("method") else current == value
                    if not same:
                        plan.changes.append((name, current, value))
            plans.append(plan)
    return plans


def apply_setup(client: Client, plans: list[LinePlan]) -> list[LinePlan]:
    """Make the changes; returns the plans whose update Twilio refused (with the reason in problem)."""
    refused = []
    for plan in plans:
        if plan.problem or not plan.changes:
            continue
        try:
            client.incoming_phone_numbers(plan.sid).update(**{name: value for name, _, value in plan.changes})
        except TwilioRestException as exc:
            plan.problem = f"Twilio refused the update: {exc.msg} (error {exc.code})"
            refused.append(plan)
    return refused


# --- The doctor's probes ------------------------------------------------------------------------

def _probe_key(token: str) -> str:
    return key("probe", token)


def start_probe(store: redis.Redis) -> str:
    """A token for one probe's status callbacks (only tokens started here are recorded)."""
    token = secrets.token_hex(12)
    with store.pipeline() as pipe:
        pipe.rpush(_probe_key(token), "started")
        pipe.expire(_probe_key(token), PROBE_TTL)
        pipe.execute()
    return token


def record_probe(store: redis.Redis, token: str, status: str, error_code: int | None) -> bool:
    """Called by /status for a callback carrying ?probe=<token>; False for a token nobody started."""
    if not token.isalnum() or len(token) > 64 or not store.exists(_probe_key(token)):
        return False
    store.rpush(_probe_key(token), f"{status}:{error_code}" if error_code else status)
    return True


def probe_statuses(store: redis.Redis, token: str) -> list[str]:
    return [item for item in store.lrange(_probe_key(token), 0, -1) if item != "started"]


def test_text(catalogs: Catalogs, district: District, line: Line) -> str:
    return catalogs.render(district.default_language, "common.doctor_test", {"line": line.number}, "sms",
                           district.default_language).text


def test_call_twiml(catalogs: Catalogs, district: District) -> str:
    """What the test call says, in the district's default language (English where Twilio has no
    voice for it)."""
    language = district.default_language
    voice = catalogs.get(language).voice if language in catalogs else None
    if voice is None:
        language, voice = "en", catalogs.get("en").voice
    response = VoiceResponse()
    text = catalogs.render(language, "common.doctor_test", {"line": district.lines[0].number}, "voice", language).text
    if voice:
        response.say(text, voice=voice.say_voice, language=voice.language)
    else:
        response.say(text)
    response.hangup()
    return str(response)
