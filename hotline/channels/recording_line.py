"""The recording line's webhooks (issue 12): a call to the district's recording number (pointed at
/voice like the other lines, or at /recording-line) and each step of it."""

from __future__ import annotations

import logging

from flask import Blueprint, request

from .. import recording_line
from ..phones import mask
from .common import default_text, services, twiml, voice_text
from .twilio_auth import twilio_only

log = logging.getLogger(__name__)
bp = Blueprint("recording_line", __name__)


def answer_call():
    """A call to a recording line: the PIN question (also used by /voice for such numbers)."""
    hotline = services()
    district = recording_line.find_district(hotline, request.form.get("To", ""))
    if district is None:
        return voice_text(default_text("common.not_configured"))
    return twiml(recording_line.start(hotline, district, request.form.get("CallSid", "")[:64],
                                      request.form.get("From", "")[:32]))


@bp.post("/recording-line")
@twilio_only
def incoming():
    return answer_call()


@bp.post("/recording-line/step")
@twilio_only
def step():
    hotline = services()
    district = recording_line.find_district(hotline, request.form.get("To", ""))
    if district is None:
        log.warning("recording line step for an unknown number to=%s", mask(request.form.get("To")))
        return voice_text(default_text("common.not_configured"))
    try:
        response = recording_line.step(hotline, district, request.form.get("CallSid", "")[:64],
                                       request.form.get("From", "")[:32], request.form)
    except Exception:  # noqa: BLE001 — never Twilio's "application error" on a caller
        log.exception("recording line step failed district=%s", district.id)
        return voice_text("Something went wrong. Please call again. Goodbye.")
    return twiml(response)
