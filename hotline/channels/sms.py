"""POST /sms: an inbound text (Twilio's form) -> one conversation turn -> <Response><Message>.

Whatever fails behind it, the answer is 200 with TwiML: on the staff line an ICE or RECORDS text
always gets the protocol, with the FAILED notice when notifying could not be done.
"""

from __future__ import annotations

import logging

import redis
from flask import Blueprint, request
from twilio.twiml.messaging_response import MessagingResponse

from .. import ratelimit
from ..conversation import handle_text
from ..variables import base_variables
from ..engine import Reply
from ..phones import mask
from ..render.sms import drill_prefix, render_sms
from ..sessions import Loaded, decode, sms_key
from .common import default_text, find_line, form_number, services, sms_text, twiml
from .twilio_auth import ANSWERED, admit, awaited_reply, remember_reply, remembered_reply, twilio_only

log = logging.getLogger(__name__)
bp = Blueprint("sms", __name__)

MAX_MEDIA = 10                      # Twilio delivers at most 10 media items per message
INBOUND_LIMIT, INBOUND_WINDOW = 30, 60   # texts per number per minute before we stop answering


def _media() -> tuple[str, ...]:
    try:
        count = min(int(request.form.get("NumMedia", "0") or 0), MAX_MEDIA)
    except ValueError:
        count = 0
    urls = (request.form.get(f"MediaUrl{i}", "") for i in range(count))
    return tuple(u for u in urls if u.startswith(("https://", "http://")))[:MAX_MEDIA]


@bp.post("/sms")
@twilio_only
def inbound_sms():
    hotline = services()
    found = find_line(request.form.get("To", ""))
    if found is None:
        log.warning("text to an unknown line to=%s", mask(request.form.get("To")))
        return sms_text(default_text("common.not_configured"))
    district, line = found
    sender = form_number("From")
    body = request.form.get("Body", "")[:1600]
    sid = request.form.get("MessageSid", "")[:64]
    session_key = sms_key(district.id, line.number, sender)
    admission = admit(hotline.redis, "sms", sid, "inbound", district.id, sender, limit=INBOUND_LIMIT,
                      window=INBOUND_WINDOW, read=session_key)
    if not admission.first:
        if admission.earlier == ANSWERED:
            # Answered before: the same answer while it is kept, else nothing (a replay days later).
            log.info("repeated MessageSid %s: answered before, no second effect", sid)
            return twiml(remembered_reply(hotline.redis, "sms", sid) or MessagingResponse())
        cached = awaited_reply(hotline.redis, "sms", sid)
        if cached is not None:
            log.info("repeated MessageSid %s: the first answer again, no second effect", sid)
            return twiml(cached)
        # The first attempt never answered (its web process died): answer this one. Starting an
        # incident is idempotent for the same reporter, and silence is not an answer.
        log.warning("repeated MessageSid %s: the first attempt did not finish; answering now", sid)
    elif not admission.allowed:
        first_over = ratelimit.allow(hotline.redis, "inbound-told", district.id, sender, limit=1,
                                     window=INBOUND_WINDOW)
        log.warning("rate limited line=%s from=%s", line.number, mask(sender))
        if not first_over:
            return twiml(MessagingResponse())
        return twiml(_render(district, line, ["common.rate_limited"], district.default_language))

    media = _media()
    log.info("sms in line=%s from=%s sid=%s chars=%d media=%d", line.number, mask(sender), sid, len(body),
             len(media))
    content = hotline.content(district)
    # The conversation read with the admission (unless it was a repeat: it may have moved since),
    # and its save sent with the reply cache below: two round trips for the whole text.
    loaded = Loaded(decode(admission.value), admission.answered) if admission.first else None
    writes = hotline.redis.pipeline(transaction=False)
    try:
        result = handle_text(hotline, district, line, sender, body, media, loaded=loaded, writes=writes)
        if result.silent:
            texts = []
        else:
            prefix = drill_prefix(content.catalogs, result.lang, district.default_language) if result.drill else ""
            texts = render_sms(result.items, content.catalogs, result.lang, district.default_language,
                               result.variables, prefix)
    except Exception:  # noqa: BLE001 — a bug must not leave a front desk without the protocol
        log.exception("sms turn failed line=%s from=%s", line.number, mask(sender))
        texts = emergency_texts(district, line, body)
    response = MessagingResponse()
    for text in texts:
        response.message(text)
    body_xml = str(response)
    if sid:
        remember_reply(writes, body_xml, "sms", sid)
    _send(writes, line, sender)
    return twiml(body_xml)


def _send(writes: redis.client.Pipeline, line, sender: str) -> None:
    """One round trip for what the text leaves behind: the conversation and the answer for a repeat."""
    try:
        writes.execute()
    except (redis.RedisError, OSError) as exc:
        log.error("conversation and reply cache not saved (%s): line=%s caller=%s", type(exc).__name__, line.number,
                  mask(sender))
    finally:
        writes.reset()


def emergency_texts(district, line, body: str) -> list[str]:
    """Static answers for when a turn could not run at all."""
    hotline = services()
    content = hotline.content(district)
    lang = district.default_language
    match = content.keywords.match(body, allowed={"ice", "records", "drill"})
    keys = ["common.error"]
    if line.kind == "staff" and match:
        first = "staff.records.first_steps" if match.keyword == "records" else "staff.ice.first_steps"
        keys = [first, "staff.notify.failed"]
        lang = match.language
    return render_sms([Reply(k) for k in keys], content.catalogs, lang, district.default_language,
                      base_variables(district, line))


def _render(district, line, keys: list[str], lang: str) -> MessagingResponse:
    content = services().content(district)
    response = MessagingResponse()
    for text in render_sms([Reply(k) for k in keys], content.catalogs, lang, district.default_language,
                           base_variables(district, line)):
        response.message(text)
    return response
