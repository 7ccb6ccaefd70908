"""The recording line: a district's bilingual staff record the family line's prompts by phone.

A call to ``recording_line.number`` asks for the PIN, then which language, then walks the
recordings that language still lacks (recordings.py says which): it speaks each English prompt
(or which piece, digit or name to say), records the translation, plays it back, and the caller
keeps it, records it again, skips it or stops. A kept recording is fetched from Twilio with the
account's credentials into the district's storage (recording_store.py) and from then on served by
the hotline. Until a language is complete, its callers keep the interpreter path.

The conversation state is a small record in Redis per call (it expires); nothing here goes through
the flow engine, whose flows speak to families.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from twilio.twiml.voice_response import Gather, VoiceResponse

from . import ratelimit, recording_store
from .variables import base_variables
from .district import District
from .outbound import RecordingUnavailable
from .phones import mask
from .recordings import missing_for_family_line, per_call_fields, slug
from .render.values import for_channel
from .services import Services
from .store import key

log = logging.getLogger(__name__)

STATE_TTL = 2 * 3600
PIN_TRIES = 3
RECORD_SECONDS = 60
STEP_URL = "/recording-line/step"
VALUE_NAMES = {"digit": "the digit", "reference": "the reference number", "label": "the option's name",
               "contact_phone": "the phone number", "school_name": "the school's name", "length": "the number",
               "max": "the number", "min": "the number", "language": "the language's name"}

ENGLISH = {"voice": "Polly.Joanna-Neural", "language": "en-US"}


@dataclass
class Session:
    services: Services
    district: District
    call_sid: str
    caller: str
    state: dict

    @property
    def store_key(self) -> str:
        return key("recording-line", self.district.id, self.call_sid)

    def save(self) -> None:
        self.services.redis.set(self.store_key, json.dumps(self.state), ex=STATE_TTL)

    @property
    def folder(self):
        return recording_store.storage_folder(self.district, self.services.settings.var_dir)


def find_district(services: Services, number: str) -> District | None:
    for district in services.directory.districts:
        if district.recording_line and district.recording_line.number == number:
            return district
    return None


def _say(node, text: str) -> None:
    node.say(text, **ENGLISH)


def _gather(response: VoiceResponse, text: str, **options) -> None:
    gather = Gather(action=STEP_URL, method="POST", action_on_empty_result=True, **options)
    _say(gather, text)
    response.append(gather)
    response.redirect(STEP_URL, method="POST")


def _bye(text: str) -> VoiceResponse:
    response = VoiceResponse()
    _say(response, text)
    response.hangup()
    return response


def _languages(session: Session) -> list[str]:
    """The district's languages a recording can serve (no Twilio voice), in the district's order."""
    catalogs = session.services.content(session.district).catalogs
    return [code for code in session.district.languages if code in catalogs and not catalogs.get(code).voice]


def _missing(session: Session, lang: str) -> list[str]:
    content = session.services.content(session.district)
    stored = recording_store.stored(session.folder, lang)
    missing = missing_for_family_line(content.catalogs, content.flows, lang,
                                      [s.name for s in session.district.schools.values()], stored)
    skipped = set(session.state.get("skipped", []))
    return [name for name in missing if name not in skipped]


def describe(session: Session, lang: str, name: str) -> str:
    """What to record, in English: the prompt, or which piece of it, digit or name."""
    if name.startswith("digits/"):
        return f"Say the digit {name.split('/', 1)[1]} in your language."
    if name.startswith("names/"):
        wanted = name.split("/", 1)[1]
        for school in session.district.schools.values():
            if slug(school.name) == wanted:
                return f"Say the name {school.name}, as families in your language say it."
        return f"Say the name {wanted.replace('-', ' ')}."
    content = session.services.content(session.district)
    catalogs = content.catalogs
    message, _, piece = name.rpartition(".")
    if not piece.isdigit() or message not in catalogs.get("en").entries:
        message, piece = name, ""
    values = for_channel(base_variables(session.district, session.district.line_of_kind("family")
                                        or session.district.lines[0]), "voice")
    english = catalogs.render("en", message, values, "voice").text
    if not piece:
        return f"Record the translation of: {english}"
    template = catalogs.get(lang).entries[message].form("voice") if message in catalogs.get(lang).entries else ""
    fields = per_call_fields(template)
    index = int(piece)
    if index == 1:
        where = f"before {VALUE_NAMES.get(fields[0], 'the value')}" if fields else "of the sentence"
    elif index > len(fields):
        where = f"after {VALUE_NAMES.get(fields[-1], 'the value')}"
    else:
        where = f"between {VALUE_NAMES.get(fields[index - 2], 'the value')} and " \
                f"{VALUE_NAMES.get(fields[index - 1], 'the value')}"
    return (f"This prompt is played in parts around values the hotline fills in. In English: {english} "
            f"Record part {index} of your translation: only the words {where}.")


def _prompt(session: Session) -> VoiceResponse:
    """The next recording this language lacks: say what it is, then record."""
    lang = session.state["lang"]
    missing = _missing(session, lang)
    if not missing:
        session.state["stage"] = "done"
        session.save()
        return _bye("Every recording this language needs is in place. Thank you. Goodbye.")
    name = missing[0]
    session.state.update(stage="record", target=name)
    session.save()
    response = VoiceResponse()
    _say(response, f"{len(missing)} to go. {describe(session, lang, name)} "
                   "After the beep, speak, then press the pound key.")
    response.record(action=STEP_URL, method="POST", max_length=RECORD_SECONDS, finish_on_key="#",
                    play_beep=True, timeout=5)
    response.redirect(STEP_URL, method="POST")
    return response


def start(services: Services, district: District, call_sid: str, caller: str) -> VoiceResponse:
    session = Session(services, district, call_sid, caller, {"stage": "pin", "tries": 0})
    session.save()
    log.info("recording line call district=%s from=%s", district.id, mask(caller))
    response = VoiceResponse()
    _gather(response, "Safe Haven recording line. Enter your PIN, then press the pound key.",
            input="dtmf", finish_on_key="#", timeout=10)
    return response


def step(services: Services, district: District, call_sid: str, caller: str, form: dict) -> VoiceResponse:
    raw = services.redis.get(key("recording-line", district.id, call_sid))
    if raw is None:
        return _bye("This recording session has ended. Please call again. Goodbye.")
    session = Session(services, district, call_sid, caller, json.loads(raw))
    stage = session.state.get("stage")
    digits = (form.get("Digits") or "")[:16]
    if stage == "pin":
        return _check_pin(session, digits)
    if stage == "language":
        return _choose_language(session, digits)
    if stage == "record":
        sid, url = form.get("RecordingSid", "")[:40], form.get("RecordingUrl", "")[:500]
        if not sid or not url:
            return _prompt(session)           # nothing recorded: the same prompt again
        session.state.update(stage="review", recording_sid=sid, recording_url=url)
        session.save()
        response = VoiceResponse()
        _say(response, "Here is your recording.")
        response.play(url)
        _gather(response, "To keep it, press 1. To record it again, press 2. To skip it, press 3. To stop, press 9.",
                input="dtmf", num_digits=1, timeout=8)
        return response
    if stage == "review":
        return _review(session, digits)
    return _bye("Goodbye.")


def _check_pin(session: Session, digits: str) -> VoiceResponse:
    services, district = session.services, session.district
    allowed = ratelimit.allow(services.redis, "recording-pin", district.id, session.caller, limit=10, window=3600,
                              fail_open=False)
    if allowed and digits == district.recording_line.pin:
        session.state.update(stage="language")
        session.save()
        return _ask_language(session)
    session.state["tries"] = session.state.get("tries", 0) + 1
    session.save()
    log.info("recording line: wrong PIN district=%s from=%s", district.id, mask(session.caller))
    if not allowed or session.state["tries"] >= PIN_TRIES:
        return _bye("That PIN is not right. Goodbye.")
    response = VoiceResponse()
    _gather(response, "That PIN is not right. Enter your PIN, then press the pound key.",
            input="dtmf", finish_on_key="#", timeout=10)
    return response


def _ask_language(session: Session) -> VoiceResponse:
    catalogs = session.services.content(session.district).catalogs
    choices = _languages(session)
    if not choices:
        return _bye("Every language of this district has a voice. Nothing to record. Goodbye.")
    text = " ".join(f"For {catalogs.get(code).english_name}, press {index}." for index, code in
                    enumerate(choices, start=1))
    response = VoiceResponse()
    _gather(response, f"Which language will you record? {text}", input="dtmf", num_digits=1, timeout=8)
    return response


def _choose_language(session: Session, digits: str) -> VoiceResponse:
    choices = _languages(session)
    if not digits.isdigit() or not 1 <= int(digits) <= len(choices):
        return _ask_language(session)
    session.state.update(lang=choices[int(digits) - 1], skipped=[])
    return _prompt(session)


def _review(session: Session, digits: str) -> VoiceResponse:
    state = session.state
    if digits == "1":
        try:
            audio = session.services.outbound.fetch_recording(state.get("recording_sid", ""))
            recording_store.save(session.folder, state["lang"], state["target"], audio)
        except (RecordingUnavailable, OSError, ValueError) as exc:
            log.error("recording line: could not keep %s/%s (%s)", state.get("lang"), state.get("target"), exc)
            response = VoiceResponse()
            _say(response, "That recording could not be saved. Please record it again.")
            response.redirect(STEP_URL + "?again=1", method="POST")
            state["stage"] = "record"
            session.save()
            return response
        log.info("recording line: kept %s/%s district=%s", state["lang"], state["target"], session.district.id)
        response = _prompt(session)
        saved = VoiceResponse()
        _say(saved, "Saved.")
        for verb in response.verbs:
            saved.append(verb)
        return saved
    if digits == "2":
        return _prompt(session)
    if digits == "3":
        state.setdefault("skipped", []).append(state.get("target"))
        return _prompt(session)
    if digits == "9":
        state["stage"] = "done"
        session.save()
        return _bye("Thank you. What you kept is saved. Goodbye.")
    response = VoiceResponse()
    _gather(response, "To keep it, press 1. To record it again, press 2. To skip it, press 3. To stop, press 9.",
            input="dtmf", num_digits=1, timeout=8)
    return response

