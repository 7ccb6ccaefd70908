"""POST /status: Twilio's delivery callbacks for messages and calls we sent.

Each lands on the incident's timeline; a text that failed or was undelivered makes the escalation
call that contact instead (escalation.on_delivery_status).
"""

from __future__ import annotations

import logging

from flask import Blueprint, request
from twilio.twiml.messaging_response import MessagingResponse

from ..incidents.escalation import on_delivery_status
from ..twilio_admin import record_probe
from .common import services, twiml
from .twilio_auth import twilio_only

log = logging.getLogger(__name__)
bp = Blueprint("status", __name__)


def _error_code() -> int | None:
    raw = request.form.get("ErrorCode", "")
    return int(raw) if raw.isdigit() else None


@bp.post("/status")
@twilio_only
def delivery_status():
    form = request.form
    sid = (form.get("MessageSid") or form.get("CallSid") or "")[:64]
    status = (form.get("MessageStatus") or form.get("CallStatus") or "")[:32]
    probe = request.args.get("probe")
    if probe and status:
        # `hotline twilio doctor`'s test text or call: recorded for the doctor, on no incident.
        try:
            record_probe(services().redis, probe[:64], status, _error_code())
        except Exception:  # noqa: BLE001 — the doctor then reports that no callback arrived
            log.exception("probe status not recorded")
        return twiml(MessagingResponse())
    if sid and status:
        try:
            outcome = on_delivery_status(services(), sid, status, _error_code())
            log.info("status %s %s -> %s", sid, status, outcome)
        except Exception:  # noqa: BLE001 — Twilio would retry a 500; the reconciler covers what is missed
            log.exception("status callback for %s not recorded", sid)
    return twiml(MessagingResponse())
