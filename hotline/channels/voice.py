"""Voice webhooks.

- POST /voice: a call to a line starts the line's voice flow.
- POST /voice/step?seq=N: what the caller did at step N (digits, a recording, silence, the result
  of a <Dial>). The sequence number makes a request Twilio sends twice recognisable: the second
  gets the first's TwiML and changes nothing.
- POST /voice/whisper: what a liaison or interpreter hears before being connected (the language).
- POST /voice/escalation, /voice/escalation/answer: the call to a contact; pressing 1 takes it.
- POST /voice/screen, /voice/screen/answer: what the legal office (or safety) hears when a staff
  call is put through: the incident and school, "press 1 to take it". Pressing 1 connects the call
  and takes the incident; no key (a voicemail box) hangs up that leg and the ringdown goes on.
- GET /audio/<district>/<lang>/<key>.mp3: recordings for languages without a Twilio voice.
"""

from __future__ import annotations

import functools
import logging
from urllib.parse import urlencode

from flask import Blueprint, abort, request, send_from_directory
from twilio.twiml.voice_response import Gather, VoiceResponse

from .. import ratelimit, recording_line, recording_store
from ..callerid import caller_id_trusted
from ..conversation import handle_call, screen_key
from ..engine import Event
from ..incidents import changes
from ..incidents.notices import render_for_contacts
from ..phones import mask
from ..render.values import for_channel
from ..render.voice import VoiceSetup, render_voice
from ..turn import TurnResult
from ..variables import base_variables
from ..security import add_event
from .common import default_text, find_line, form_number, services, twiml, voice_text
from .recording_line import answer_call as answer_recording_call
from .twilio_auth import first_time, remember_reply, remembered_reply, twilio_only

log = logging.getLogger(__name__)
bp = Blueprint("voice", __name__)

CALL_LIMIT, CALL_WINDOW = 10, 600     # calls per number per 10 minutes before they are turned away


def _event() -> Event:
    form = request.form
    if request.args.get("silence"):
        return Event("timeout")
    if "DialCallStatus" in form:
        return Event("dial_result", status=form.get("DialCallStatus", ""))
    if form.get("Digits") == "*":
        return Event("digits", text="*")     # the emergency key, even when it ended a recording
    if form.get("RecordingUrl"):
        return Event("recording", recording=form["RecordingUrl"][:500])
    if form.get("Digits"):
        return Event("digits", text=form["Digits"][:32])
    if form.get("SpeechResult"):
        return Event("text", text=form["SpeechResult"][:200])
    return Event("timeout")


def _setup(district, line, result: TurnResult, call_sid: str) -> VoiceSetup:
    hotline = services()
    content = hotline.content(district)
    seq = result.state.get("seq", 0)

    # Relative URLs: Twilio resolves them against the URL of this request (and signs what it calls).
    def dial_target(role: str):
        contact = district.first_contact(role)
        if contact is None:
            return None
        if line.kind == "family":
            return contact.number, "/voice/whisper?" + urlencode({"district": district.id, "lang": result.lang})
        incident = result.state.get("incident")
        if not incident:
            return contact.number, None
        return contact.number, "/voice/screen?" + urlencode({"district": district.id, "incident": incident,
                                                             "contact": contact.id, "parent": call_sid})

    def audio_url(lang: str, key: str) -> str:
        return f"/audio/{district.id}/{lang}/{key}.mp3"

    folder = recording_store.storage_folder(district, hotline.settings.var_dir)

    @functools.lru_cache(maxsize=16)
    def stored(lang: str) -> frozenset:
        # The district's recordings made by phone: the folder is read once per request and language.
        return recording_store.stored(folder, lang)

    return VoiceSetup(
        catalogs=content.catalogs, lang=result.lang, default=district.default_language, variables=result.variables,
        action_url=f"/voice/step?{urlencode({'seq': seq})}", audio_url=audio_url, dial_target=dial_target,
        caller_id=line.number,
        english_names={code: content.catalogs.get(code).english_name for code in district.languages},
        stored=stored)


def _answer(district, line, call_sid: str, event: Event | None, seq_key: str):
    hotline = services()
    caller = form_number("From")
    trusted = caller_id_trusted(request.form.get("StirVerstat"), district.require_attested_caller_id)
    if not trusted and event is None and caller in district.roster:
        log.warning("call from a roster number without believable caller ID line=%s from=%s verstat=%s",
                    line.number, mask(caller), request.form.get("StirVerstat", "(none)")[:40])
        add_event(hotline, district.id, "caller-id", f"call from roster number {mask(caller)} with caller ID "
                  f"{request.form.get('StirVerstat', 'not attested')[:40]}: asked for the staff code")
    try:
        result = handle_call(hotline, district, line, caller, call_sid, event, caller_id_trusted=trusted)
        if line.kind == "staff" and not result.stored:
            # Without the conversation store a call cannot walk the protocol step by step (each
            # keypress would start again): speak it whole, say FAILED, and put the caller through.
            body = str(_emergency_twiml(district, line))
        else:
            body = str(render_voice(result.items, _setup(district, line, result, call_sid)))
    except Exception:  # noqa: BLE001 — a caller must never hear Twilio's "application error"
        log.exception("voice turn failed line=%s from=%s", line.number, mask(caller))
        body = str(_emergency_twiml(district, line))
    remember_reply(hotline.redis, body, "voice", call_sid, seq_key)
    return twiml(body)


# What a staff call hears when the hotline cannot keep the conversation: the protocol's first
# steps, the FAILED notice with the numbers, then legal and safety are dialled in turn.
EMERGENCY_STAFF_KEYS = ("staff.ice.first_steps", "staff.ice.call_legal", "staff.ice.exception_line",
                        "staff.notify.failed")


def _emergency_twiml(district, line) -> VoiceResponse:
    response = VoiceResponse()
    catalogs = services().content(district).catalogs
    values = for_channel(base_variables(district, line), "voice")
    keys = EMERGENCY_STAFF_KEYS if line.kind == "staff" else ("common.error",)
    for key in keys:
        response.say(catalogs.render(district.default_language, key, values, "voice").text)
    if line.kind == "staff":
        for role in ("legal", "safety"):
            contact = district.first_contact(role)
            if contact:
                response.dial(contact.number, timeout=25)
    response.hangup()
    return response


@bp.post("/voice")
@twilio_only
def incoming_call():
    found = find_line(request.form.get("To", ""))
    if found is None and recording_line.find_district(services(), request.form.get("To", "")):
        return answer_recording_call()      # the district's recording line (issue 12)
    if found is None:
        log.warning("call to an unknown line to=%s", mask(request.form.get("To")))
        return voice_text(default_text("common.not_configured"))
    district, line = found
    call_sid = request.form.get("CallSid", "")[:64]
    hotline = services()
    if call_sid and not first_time(hotline.redis, "voice", call_sid, "0"):
        cached = remembered_reply(hotline.redis, "voice", call_sid, "0")
        if cached:
            return twiml(cached)
    log.info("call in line=%s from=%s sid=%s", line.number, mask(request.form.get("From")), call_sid)
    caller = form_number("From")
    if not ratelimit.allow(hotline.redis, "inbound-call", district.id, caller, limit=CALL_LIMIT, window=CALL_WINDOW):
        # Each call costs a Twilio minute and may start an incident: a number that keeps calling is
        # told whom to call and hung up on, before any conversation or incident.
        log.warning("call rate limited line=%s from=%s", line.number, mask(caller))
        return twiml(_rate_limited_twiml(district, line))
    return _answer(district, line, call_sid, None, "0")


def _rate_limited_twiml(district, line) -> VoiceResponse:
    catalogs = services().content(district).catalogs
    lang = district.default_language
    text = catalogs.render(lang, "common.rate_limited_call", for_channel(base_variables(district, line), "voice"),
                           "voice", lang).text
    response = VoiceResponse()
    voice = catalogs.get(lang).voice
    if voice:
        response.say(text, voice=voice.say_voice, language=voice.language)
    else:
        response.say(text)
    response.hangup()
    return response


@bp.post("/voice/step")
@twilio_only
def call_step():
    found = find_line(request.form.get("To", ""))
    if found is None:
        return voice_text(default_text("common.not_configured"))
    district, line = found
    call_sid = request.form.get("CallSid", "")[:64]
    seq = request.args.get("seq", "")[:12]
    seq_key = f"{seq}{'s' if request.args.get('silence') else ''}"
    hotline = services()
    if call_sid and not first_time(hotline.redis, "voice", call_sid, seq_key):
        cached = remembered_reply(hotline.redis, "voice", call_sid, seq_key)
        if cached:
            log.info("repeated call step %s/%s: same answer, no second effect", call_sid, seq_key)
            return twiml(cached)
    return _answer(district, line, call_sid, _event(), seq_key)


@bp.post("/voice/whisper")
@twilio_only
def whisper():
    hotline = services()
    lang = request.args.get("lang", "en")[:16]
    try:
        district = hotline.directory.get(request.args.get("district", ""))
    except KeyError:
        district = hotline.directory.single
    content = hotline.content(district)
    name = content.catalogs.get(lang).english_name if lang in content.catalogs else lang
    return voice_text(default_text("whisper.language", district, language=name), hang_up=False)


def _escalation_context():
    hotline = services()
    try:
        district = hotline.directory.get(request.args.get("district", ""))
    except KeyError:
        return None
    incident = hotline.incidents.get(district.id, request.args.get("incident", "")[:12])
    contact = district.contacts.get(request.args.get("contact", ""))
    if incident is None or contact is None:
        return None
    return district, incident, contact


@bp.post("/voice/escalation")
@twilio_only
def escalation_call():
    context = _escalation_context()
    if context is None:
        return voice_text("This alert is no longer available. Goodbye.")
    district, incident, contact = context
    hotline = services()
    response = VoiceResponse()
    query = urlencode({"district": district.id, "incident": incident.id, "contact": contact.id})
    gather = Gather(num_digits=1, timeout=8, action=f"/voice/escalation/answer?{query}", method="POST",
                    action_on_empty_result=True)
    text = render_for_contacts(hotline, district, incident, "escalation.voice", "voice")
    gather.say(text)
    gather.pause(length=1)
    gather.say(text)
    response.append(gather)
    response.redirect(f"/voice/escalation/answer?{query}", method="POST")
    return twiml(response)


@bp.post("/voice/escalation/answer")
@twilio_only
def escalation_answer():
    context = _escalation_context()
    if context is None:
        return voice_text("This alert is no longer available. Goodbye.")
    district, incident, contact = context
    hotline = services()
    if request.form.get("Digits", "") != "1":
        return voice_text(render_for_contacts(hotline, district, incident, "escalation.voice_no_input", "voice"))
    call_sid = request.form.get("CallSid", "")[:64]
    if call_sid and not first_time(hotline.redis, "ack-call", call_sid):
        cached = remembered_reply(hotline.redis, "ack-call", call_sid)
        if cached:
            return twiml(cached)
    actor = changes.Actor(contact.role, contact.id, contact.name, contact.number, "phone call")
    text = render_for_contacts(hotline, district, incident, _TAKE_SPOKEN[_take(hotline, district, incident, actor)],
                               "voice", contact=incident.holder_name or incident.responding_name or "")
    response = VoiceResponse()
    response.say(text)
    response.hangup()
    remember_reply(hotline.redis, str(response), "ack-call", call_sid)
    return twiml(response)


@bp.get("/audio/<district_id>/<lang>/<path:key>.mp3")
def audio(district_id: str, lang: str, key: str):
    hotline = services()
    try:
        district = hotline.directory.get(district_id)
    except KeyError:
        abort(404)
    catalogs = hotline.content(district).catalogs
    # The district's own recordings (made on its recording line) first, then messages/audio/.
    own = recording_store.path_of(recording_store.storage_folder(district, hotline.settings.var_dir), lang, key)
    if own is not None and lang in catalogs:
        return send_from_directory(own.parent, own.name, mimetype="audio/mpeg")
    if lang not in catalogs or not catalogs.get(lang).has_recording(key):
        abort(404)
    folder = catalogs.get(lang).path.parent / "audio" / lang
    return send_from_directory(folder, f"{key}.mp3", mimetype="audio/mpeg")



# --- Taking an incident by phone ---------------------------------------------------------------------

_TAKE_SPOKEN = {"taken": "escalation.voice_taken", "responding": "escalation.voice_responding",
                "refused": "escalation.voice_refused", "other": "escalation.taken_by_other"}


def _take(hotline, district, incident, actor: changes.Actor) -> str:
    """Take (or respond to) the incident by phone: "taken", "responding", "other" (someone else has
    it) or "refused" (this role may not take this incident)."""
    outcome = changes.take(hotline, district, incident, actor)
    if outcome.reason in ("taken", "yours"):
        return "taken"
    if outcome.reason in ("responding", "yours_responding"):
        return "responding"
    return "other" if outcome.reason in ("already_taken", "already_responding") else "refused"


def _screen_context():
    context = _escalation_context()
    parent = request.args.get("parent", "")[:64]
    return (*context, parent) if context and parent else None


@bp.post("/voice/screen")
@twilio_only
def screen():
    """The whisper a contact hears before a staff call is put through to them."""
    context = _screen_context()
    if context is None:
        return twiml(VoiceResponse())       # nothing to screen: put the call through
    district, incident, contact, parent = context
    hotline = services()
    query = urlencode({"district": district.id, "incident": incident.id, "contact": contact.id, "parent": parent})
    response = VoiceResponse()
    gather = Gather(num_digits=1, timeout=6, action=f"/voice/screen/answer?{query}", method="POST",
                    action_on_empty_result=True)
    gather.say(render_for_contacts(hotline, district, incident, "escalation.screen", "voice"))
    response.append(gather)
    response.hangup()
    return twiml(response)


@bp.post("/voice/screen/answer")
@twilio_only
def screen_answer():
    """1: the contact takes the call and the incident; anything else (a voicemail box) hangs up this
    leg, and the staff caller's ringdown tries the next contact."""
    context = _screen_context()
    if context is None:
        return twiml(VoiceResponse())
    district, incident, contact, parent = context
    hotline = services()
    response = VoiceResponse()
    if request.form.get("Digits", "") != "1":
        response.hangup()
        return twiml(response)
    hotline.redis.set(screen_key(parent), contact.id, ex=3600)
    actor = changes.Actor(contact.role, contact.id, contact.name, contact.number, "staff call")
    taken = _take(hotline, district, incident, actor)
    response.say(render_for_contacts(hotline, district, incident, _SCREEN_SPOKEN.get(taken, "escalation.screen_connecting"),
                                     "voice"))
    return twiml(response)


_SCREEN_SPOKEN = {"taken": "escalation.screen_taken", "responding": "escalation.screen_responding"}
