"""The web phone simulator at /sim: several phones side by side that text and call the hotline's
lines, and see what the hotline sends out (the dry-run outbox) arrive on the right phone.

Registered only in development (app.py), so it does not exist in production or test settings.

The browser never holds the Twilio auth token. It calls the JSON endpoints below; they build the
form Twilio would send, sign it with the app's own token (TwilioPhone) and post it to the app
itself through a Flask test client, so no second HTTP server is needed and the request takes
exactly the path a real Twilio webhook takes (signature check included).

CSRF: these endpoints are not exempted. The page carries the token (a <meta> tag) and the script
sends it as the X-CSRFToken header, which Flask-WTF accepts. Even on a laptop, a page from another
site must not be able to report an incident through a running development hotline.

A call's state (its sid, where Twilio would post next, the last TwiML) is kept in Redis for an
hour, so the simulator works behind a server with several processes too.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import asdict

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from werkzeug.exceptions import BadRequest, HTTPException, NotFound

from ..phones import try_e164
from ..store import key
from . import twiml
from .phone import Call, TwilioPhone, flask_transport, new_sid

bp = Blueprint("sim", __name__, url_prefix="/sim")

CALL_TTL = 3600
MAX_REDIRECTS = 5        # Twilio follows <Redirect> by itself; so does the simulator, a few times
OUTBOX_BATCH = 200
DIAL_OUTCOMES = ("completed", "voicemail", "no-answer", "busy", "failed")

# The phones on the page: the demo district's people (districts/demo.yaml) and one free phone.
PHONES = (
    {"id": "desk", "name": "Front desk (Maria Lopez)", "number": "+13035550120", "line": "staff"},
    {"id": "legal", "name": "Legal office", "number": "+13035550110", "line": "staff"},
    {"id": "parent", "name": "A parent", "number": "+17205550142", "line": "family"},
    {"id": "any", "name": "Any number", "number": "+13035550199", "line": "staff", "editable": True},
)


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")


def _services():
    return current_app.extensions["hotline"]


@bp.url_value_preprocessor
def loopback_only(endpoint, values):
    """Only a browser on this machine, addressing it as itself: a page elsewhere that rebinds its
    own DNS name to 127.0.0.1 sends its own name as Host and gets nothing (DNS rebinding). A URL
    value preprocessor runs before any before_request (the CSRF check too), so nothing of the
    simulator, not even its CSRF error, answers another Host."""
    host = request.host.lower()
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    # The Host header is the client's to choose: the connection must come from this machine too
    # (`hotline serve --host 0.0.0.0` listens on the network).
    if name not in LOOPBACK_HOSTS or not _from_loopback(request.remote_addr):
        raise NotFound()


def _from_loopback(address: str | None) -> bool:
    try:
        return ipaddress.ip_address(address or "").is_loopback
    except ValueError:
        return False


def _phone() -> TwilioPhone:
    settings = current_app.config["HOTLINE_SETTINGS"]
    base = settings.public_url or request.host_url
    return TwilioPhone(base, settings.twilio_auth_token, flask_transport(current_app.test_client()))


def _lines() -> list[dict]:
    found = []
    for district in _services().directory.districts:
        for line in district.lines:
            found.append({"number": line.number, "kind": line.kind, "name": f"{line.name} ({district.name})"
                          if len(_services().directory.districts) > 1 else line.name})
    return found


def _payload() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise BadRequest("send a JSON object")
    return data


def _number(data: dict, name: str) -> str:
    number = try_e164(str(data.get(name, "")))
    if not number:
        raise BadRequest(f"{name}: not a phone number")
    return number


# --- Calls kept between requests -----------------------------------------------------------------

def _call_key(sid: str) -> str:
    return key("sim", "call", sid)


def _save(call: Call) -> None:
    state = {"sid": call.sid, "caller": call.caller, "line": call.line, "url": call.url, "turn": asdict(call.turn)}
    _services().redis.set(_call_key(call.sid), json.dumps(state), ex=CALL_TTL)


def _load(sid: str) -> Call:
    raw = _services().redis.get(_call_key(str(sid)[:64]))
    if not raw:
        raise NotFound("no such call (it ended or is more than an hour old)")
    state = json.loads(raw)
    turn_state = state["turn"]
    turn = twiml.VoiceTurn(**{**turn_state, "spoken": [twiml.Spoken(**s) for s in turn_state["spoken"]]})
    return Call(state["sid"], state["caller"], state["line"], turn, state["url"])


def _turn_json(turn: twiml.VoiceTurn) -> dict:
    gather = None
    if turn.gather:
        gather = {"input": turn.gather.get("input", "dtmf"), "numDigits": turn.gather.get("numDigits"),
                  "finishOnKey": turn.gather.get("finishOnKey")}
    dial = None
    if turn.dial:
        dial = {"numbers": [number for number, _ in turn.dial.get("numbers", []) if number],
                "has_action": bool(turn.dial.get("action"))}
    return {"spoken": [asdict(s) for s in turn.spoken], "gather": gather, "record": bool(turn.record),
            "dial": dial, "hangup": turn.hangup}


def _advance(phone: TwilioPhone, call: Call, step) -> Response:
    """Run one step of a call, then follow bare <Redirect>s as Twilio would; answer every turn heard."""
    turns = []
    try:
        step()
        turns.append(call.turn)
        for _ in range(MAX_REDIRECTS):
            turn = call.turn
            if turn.hangup or turn.gather or turn.record or turn.dial or not turn.redirect:
                break
            phone.silence(call)
            turns.append(call.turn)
    except AssertionError as exc:   # the app answered with an error status, or nothing was waiting
        return jsonify({"error": str(exc)[:300]}), 409
    turn = call.turn
    ended = turn.hangup or not (turn.gather or turn.record or turn.dial or turn.redirect)
    if ended:
        _services().redis.delete(_call_key(call.sid))
    else:
        _save(call)
    return jsonify({"call": call.sid, "turns": [_turn_json(t) for t in turns], "ended": ended})


@bp.errorhandler(HTTPException)
def json_error(error: HTTPException):
    """The page's script reads JSON; a refused CSRF token (400) or a lost call (404) included."""
    if not request.path.startswith("/sim/api/"):
        return error
    return jsonify({"error": error.description or error.name}), error.code or 500


# --- Page ----------------------------------------------------------------------------------------

@bp.get("/")
def page():
    settings = current_app.config["HOTLINE_SETTINGS"]
    return render_template("sim/index.html", phones=PHONES, lines=_lines(), dry_run=settings.dry_run)


@bp.get("/recording/<sid>")
def recording(sid: str):
    """The stand-in for a voicemail's recording URL (the simulator records no audio)."""
    return Response(f"Simulated voicemail {sid[:40]}: the web simulator records no audio.\n", mimetype="text/plain")


# --- JSON API ------------------------------------------------------------------------------------

@bp.post("/api/text")
def text():
    data = _payload()
    sender, line = _number(data, "from"), _number(data, "line")
    body = str(data.get("body", ""))[:1600]
    media = tuple(str(url) for url in data.get("media", []) if str(url).startswith(("http://", "https://")))[:10]
    phone = _phone()
    answer = phone.post("/sms", phone.text_form(sender, line, body, media))
    if answer.status != 200:
        return jsonify({"error": f"/sms answered {answer.status}", "detail": answer.text[:300]}), 502
    return jsonify({"replies": twiml.messages(answer.text)})


@bp.post("/api/call")
def call():
    data = _payload()
    caller, line = _number(data, "from"), _number(data, "line")
    phone = _phone()
    state = Call(new_sid("CA"), caller, line, twiml.VoiceTurn(), phone.base_url + "/voice")

    def ring():
        placed = phone.call(caller, line, sid=state.sid)
        state.turn, state.url = placed.turn, placed.url

    return _advance(phone, state, ring)


@bp.post("/api/answer")
def answer():
    """Answer a call the hotline placed (an outbox item): post to its script as Twilio would."""
    data = _payload()
    services = _services()
    item = next((i for i in services.outbound.outbox() if i["sid"] == data.get("sid") and i["kind"] == "call"), None)
    if item is None:
        raise NotFound("no such call in the outbox")
    phone = _phone()
    # The outbox keeps the URL Twilio would fetch; the simulator posts the same path to this app.
    path = item["url"].split("://", 1)[-1]
    path = path[path.find("/"):] if "/" in path else "/"
    # An outbound call: From is the hotline's line, To the contact (as Twilio reports them).
    state = Call(item["sid"], item["from"], item["to"], twiml.VoiceTurn(), phone.base_url + path)

    def pick_up():
        form = {**phone._voice_form(state, state.sid, state.caller, state.line, "in-progress"),
                "Direction": "outbound-api"}
        reply = phone.post(state.url, form)
        if reply.status != 200:
            raise AssertionError(f"{path} answered {reply.status}: {reply.text[:200]}")
        state.turn = twiml.voice_turn(reply.text)

    return _advance(phone, state, pick_up)


@bp.post("/api/press")
def press():
    data = _payload()
    digits = "".join(ch for ch in str(data.get("digits", "")) if ch in "0123456789*#")[:32]
    if not digits:
        raise BadRequest("digits: press at least one key")
    phone, state = _phone(), _load(data.get("call", ""))
    return _advance(phone, state, lambda: phone.press(state, digits))


@bp.post("/api/say")
def say():
    data = _payload()
    speech = str(data.get("speech", ""))[:200]
    phone, state = _phone(), _load(data.get("call", ""))
    return _advance(phone, state, lambda: phone.say(state, speech))


@bp.post("/api/silence")
def silence():
    phone, state = _phone(), _load(_payload().get("call", ""))
    return _advance(phone, state, lambda: phone.silence(state))


@bp.post("/api/record")
def record():
    phone, state = _phone(), _load(_payload().get("call", ""))
    recording_sid = new_sid("RE")
    url = phone.base_url + f"/sim/recording/{recording_sid}"
    return _advance(phone, state, lambda: phone.record(state, url, seconds=12))


@bp.post("/api/dial")
def dial():
    data = _payload()
    outcome = data.get("status", "completed")
    if outcome not in DIAL_OUTCOMES:
        raise BadRequest(f"status: one of {', '.join(DIAL_OUTCOMES)}")
    phone, state = _phone(), _load(data.get("call", ""))
    if not (state.turn.dial or {}).get("action"):
        _services().redis.delete(_call_key(state.sid))
        return jsonify({"call": state.sid, "turns": [], "ended": True})
    return _advance(phone, state, lambda: phone.connect(state, outcome))


@bp.post("/api/hangup")
def hangup():
    _services().redis.delete(_call_key(str(_payload().get("call", ""))[:64]))
    return jsonify({"ended": True})


@bp.get("/api/outbox")
def outbox():
    """What the hotline sent after sequence number ``since`` (dry-run mode only: with a Twilio account the
    messages really go out and are not kept here)."""
    services = _services()
    try:
        since = max(0, int(request.args.get("since", "0")))
    except ValueError:
        raise BadRequest("since: a count")
    if not services.settings.dry_run:
        return jsonify({"dry_run": False, "items": [], "next": since})
    items = services.outbound.outbox(since)[:OUTBOX_BATCH]
    return jsonify({"dry_run": True, "items": items, "next": items[-1]["seq"] if items else since})
