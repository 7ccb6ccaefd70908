"""A phone that talks to the hotline the way Twilio does: form posts to the webhooks with the
parameters Twilio sends and an X-Twilio-Signature, following the TwiML that comes back.

The terminal simulator, the web simulator, the tests and the benchmarks all drive the hotline
through this, over HTTP or a Flask test client.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from collections.abc import Callable
from urllib.parse import urlsplit

from ..testing.signing import signed_headers
from . import twiml

DEFAULT_ACCOUNT_SID = "AC" + "0" * 32


@dataclass
class Answer:
    status: int
    text: str


Transport = Callable[[str, dict, dict], Answer]   # (absolute URL, form, headers) -> answer


def http_transport(timeout: float = 15.0) -> Transport:
    import requests

    session = requests.Session()

    def post(url: str, form: dict, headers: dict) -> Answer:
        response = session.post(url, data=form, headers=headers, timeout=timeout, allow_redirects=False)
        return Answer(response.status_code, response.text)

    return post


def flask_transport(client) -> Transport:
    def post(url: str, form: dict, headers: dict) -> Answer:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        base = f"{parts.scheme}://{parts.netloc}"
        response = client.post(path, data=form, headers=headers, base_url=base)
        return Answer(response.status_code, response.get_data(as_text=True))

    return post


def new_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


@dataclass
class Call:
    sid: str
    caller: str
    line: str
    turn: twiml.VoiceTurn
    url: str
    history: list[twiml.VoiceTurn] = field(default_factory=list)
    status: int = 200
    # Parameters Twilio repeats on every request of the call, e.g. StirVerstat (caller ID attestation).
    params: dict = field(default_factory=dict)


class TwilioPhone:
    def __init__(self, base_url: str, auth_token: str, transport: Transport,
                 account_sid: str = DEFAULT_ACCOUNT_SID):
        self.base_url = base_url.rstrip("/")
        self.auth_token = auth_token
        self.transport = transport
        self.account_sid = account_sid

    def post(self, path_or_url: str, form: dict, sign: bool = True) -> Answer:
        url = twiml.resolve(self.base_url + "/", path_or_url)
        headers = signed_headers(self.auth_token, url, form) if sign else {}
        return self.transport(url, form, headers)

    # --- SMS --------------------------------------------------------------------------------
    def text_form(self, sender: str, line: str, body: str, media: tuple[str, ...] = (),
                  sid: str | None = None) -> dict:
        form = {
            "MessageSid": sid or new_sid("SM"), "SmsSid": "", "AccountSid": self.account_sid,
            "MessagingServiceSid": "", "From": sender, "To": line, "Body": body, "NumMedia": str(len(media)),
            "NumSegments": "1", "SmsStatus": "received", "ApiVersion": "2010-04-01",
            "FromCountry": "US", "ToCountry": "US",
        }
        form["SmsSid"] = form["MessageSid"]
        for index, url in enumerate(media):
            form[f"MediaUrl{index}"] = url
            form[f"MediaContentType{index}"] = "image/jpeg"
        return form

    def text(self, sender: str, line: str, body: str, media: tuple[str, ...] = (), sid: str | None = None) -> list[str]:
        """Send an SMS to a line; returns the reply texts (raises on a non-200 answer)."""
        answer = self.post("/sms", self.text_form(sender, line, body, media, sid))
        if answer.status != 200:
            raise AssertionError(f"/sms answered {answer.status}: {answer.text[:200]}")
        return twiml.messages(answer.text)

    # --- Voice ------------------------------------------------------------------------------
    def _voice_form(self, call: Call | None, sid: str, caller: str, line: str, status: str) -> dict:
        return {"CallSid": sid, "AccountSid": self.account_sid, "From": caller, "To": line, "Caller": caller,
                "Called": line, "CallStatus": status, "Direction": "inbound", "ApiVersion": "2010-04-01",
                **(call.params if call else {})}

    def call(self, caller: str, line: str, sid: str | None = None, params: dict | None = None) -> Call:
        sid = sid or new_sid("CA")
        url = self.base_url + "/voice"
        params = dict(params or {})
        answer = self.post(url, {**self._voice_form(None, sid, caller, line, "ringing"), **params})
        if answer.status != 200:
            raise AssertionError(f"/voice answered {answer.status}: {answer.text[:200]}")
        turn = twiml.voice_turn(answer.text)
        return Call(sid, caller, line, turn, url, [turn], params=params)

    def _follow(self, call: Call, url: str, extra: dict) -> Call:
        form = {**self._voice_form(call, call.sid, call.caller, call.line, "in-progress"), **extra}
        target = twiml.resolve(call.url, url)
        answer = self.post(target, form)
        call.status = answer.status
        if answer.status != 200:
            raise AssertionError(f"{target} answered {answer.status}: {answer.text[:200]}")
        call.turn = twiml.voice_turn(answer.text)
        call.url = target
        call.history.append(call.turn)
        return call

    def press(self, call: Call, digits: str) -> Call:
        """Press keys: to a <Gather>, or during a <Record> (which ends it, as its finishOnKey)."""
        if call.turn.gather:
            return self._follow(call, call.turn.gather["action"], {"Digits": digits})
        node = call.turn.record
        if not node or digits not in node.get("finishOnKey", "1234567890*#"):
            raise AssertionError(f"nothing is listening for digits: {call.turn}")
        return self._follow(call, node["action"], {"Digits": digits, "RecordingUrl": "",
                                                   "RecordingDuration": "0"})

    def say(self, call: Call, speech: str) -> Call:
        node = call.turn.gather
        if not node:
            raise AssertionError(f"nothing is listening: {call.turn}")
        return self._follow(call, node["action"], {"SpeechResult": speech, "Confidence": "0.9"})

    def silence(self, call: Call) -> Call:
        """Say nothing: Twilio posts the Gather's action with no Digits (actionOnEmptyResult)."""
        node = call.turn.gather or call.turn.record
        if node and node.get("action"):
            return self._follow(call, node["action"], {})
        if call.turn.redirect:
            return self._follow(call, call.turn.redirect, {})
        raise AssertionError("the call is not waiting for anything")

    def record(self, call: Call, recording_url: str, seconds: int = 12, sid: str | None = None) -> Call:
        node = call.turn.record
        if not node:
            raise AssertionError(f"nothing is recording: {call.turn}")
        return self._follow(call, node["action"], {"RecordingUrl": recording_url, "RecordingDuration": str(seconds),
                                                   "RecordingSid": sid or new_sid("RE"), "Digits": "#"})

    def dial_result(self, call: Call, status: str) -> Call:
        node = call.turn.dial
        if not node:
            raise AssertionError(f"nothing is being dialled: {call.turn}")
        return self._follow(call, node["action"], {"DialCallStatus": status, "DialCallSid": new_sid("CA")})

    def connect(self, call: Call, outcome: str) -> Call:
        """How a <Dial> ends, as the simulators offer it: ``completed`` (the person picks up and, if
        the call is screened, presses 1), ``voicemail`` (a voicemail box picks up and presses
        nothing), or Twilio's ``no-answer``, ``busy``, ``failed``."""
        numbers = (call.turn.dial or {}).get("numbers") or []
        screened = bool(numbers and numbers[0][1])
        if outcome == "completed" and screened:
            self.pick_up(call, digits="1")
        elif outcome == "voicemail":
            if screened:
                self.pick_up(call)
            outcome = "completed"
        return self.dial_result(call, outcome)

    def pick_up(self, call: Call, digits: str | None = None, index: int = 0) -> twiml.VoiceTurn:
        """The person a <Dial> rings picks up and hears its <Number url> (the whisper); they press
        ``digits``, or nothing (as a voicemail box does). Returns everything they heard, ending as
        the last answer does. The caller's side goes on with dial_result()."""
        node = call.turn.dial
        if not node:
            raise AssertionError(f"nothing is being dialled: {call.turn}")
        number, url = node["numbers"][index]
        if not url:
            raise AssertionError("this dial has no whisper")
        form = {"CallSid": new_sid("CA"), "ParentCallSid": call.sid, "AccountSid": self.account_sid,
                "From": call.caller, "To": number, "Called": number, "CallStatus": "in-progress",
                "Direction": "outbound-dial", "ApiVersion": "2010-04-01"}
        target = twiml.resolve(call.url, url)
        answer = self.post(target, form)
        if answer.status != 200:
            raise AssertionError(f"{target} answered {answer.status}: {answer.text[:200]}")
        heard = twiml.voice_turn(answer.text)
        if heard.gather:
            extra = {"Digits": digits} if digits else {}
            action = twiml.resolve(target, heard.gather["action"])
            answer = self.post(action, {**form, **extra})
            if answer.status != 200:
                raise AssertionError(f"{action} answered {answer.status}: {answer.text[:200]}")
            after = twiml.voice_turn(answer.text)
            heard = replace(after, spoken=heard.spoken + after.spoken)
        return heard
