"""What the Twilio webhooks share: finding the district and line a request was sent to, and
answering with TwiML even when something behind the webhook failed."""

from __future__ import annotations

import logging
import re

from flask import Response, current_app, request
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

from ..district import District, Line
from ..phones import try_e164
from ..services import Services

log = logging.getLogger(__name__)


def services() -> Services:
    return current_app.extensions["hotline"]


def twiml(response) -> Response:
    return Response(str(response), mimetype="application/xml")


def find_line(number: str) -> tuple[District, Line] | None:
    directory = services().directory
    # Twilio sends our own numbers in E.164: the exact lookup answers without parsing.
    return directory.by_number(number) or directory.by_number(try_e164(number) or number.strip())


_E164 = re.compile(r"\+[1-9]\d{6,14}")


def form_number(name: str) -> str:
    raw = request.form.get(name, "")
    # Twilio sends E.164: such a value is used as it is (parsing it would give back the same text,
    # or fail and fall back to it), saving phonenumbers' parse on every request.
    if _E164.fullmatch(raw):
        return raw
    return try_e164(raw) or raw.strip()[:32]


def sms_text(text: str) -> Response:
    response = MessagingResponse()
    response.message(text)
    return twiml(response)


def voice_text(text: str, hang_up: bool = True) -> Response:
    response = VoiceResponse()
    response.say(text)
    if hang_up:
        response.hangup()
    return twiml(response)


def default_text(key: str, district: District | None = None, **variables) -> str:
    """A message in the district's default language (or English), for answers with no conversation."""
    hotline = services()
    if district is None:
        district = hotline.directory.single
    catalogs = hotline.content(district).catalogs
    return catalogs.render(district.default_language, key, variables, "sms", district.default_language).text
