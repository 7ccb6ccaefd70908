"""One turn of a conversation: the host around the pure engine.

For a text or a call event it loads the conversation (Redis), decides which flow the message
belongs to (keywords interrupt), steps the engine, carries out the actions it asked for, saves
the conversation with its expiry and returns what to say. It never raises for Redis or queue
failures: the engine's replies are static data, and a failed action puts its own notice in the
reply (see actions.py).
"""

from __future__ import annotations

import logging

import redis

from . import engine, optout, queueing, ratelimit, security
from .actions import execute
from .district import District, Line
from .engine import ActionSlot, Event, KeywordMatch
from .engine.keywords import OPT_IN_WORDS, OPT_OUT_WORDS, reserved_word
from .facts import FACTS
from .phones import mask
from .services import Services
from .sessions import Loaded, call_key, sms_key
from .staff_commands import CONTACT_COMMANDS, command_incident_id, contact_command, lead_command
from .store import key
from .turn import ActionResult, Turn, TurnResult

log = logging.getLogger(__name__)

STORE_ERRORS = (redis.RedisError, OSError)


def _resolve_slots(replies: list, results: list[ActionResult]) -> list:
    items = []
    for item in replies:
        if isinstance(item, ActionSlot):
            items.extend(results[item.index].replies if item.index < len(results) else [])
        else:
            items.append(item)
    return items


def _session_ttl(turn: Turn, flow_id: str) -> float:
    flow = turn.content.flows.flows.get(flow_id)
    ttl = flow.session_ttl[turn.channel] if flow else 3600.0
    if turn.line.kind == "family":
        ttl = min(ttl, turn.district.retention.family_sessions)
    return ttl


def _waiting_step(turn: Turn, state: dict | None):
    if not state or state.get("done"):
        return None
    flow = turn.content.flows.flows.get(state.get("flow", ""))
    return flow.steps.get(state.get("step") or "") if flow else None


def _waiting_for_text(turn: Turn, state: dict | None) -> bool:
    """While a free-text answer is awaited, only a message that is a keyword alone interrupts
    ("ICE agent asked for records" is an answer, not a restart)."""
    waiting = _waiting_step(turn, state)
    return waiting is not None and waiting.kind == "ask" and waiting.expect == "text"


def _finish(turn: Turn, outcome: engine.Outcome) -> TurnResult:
    turn.state = outcome.state
    turn.results = execute(turn, outcome.actions)
    items = _resolve_slots(outcome.replies, turn.results)
    switch_to = turn.state.pop("switch_to", None)
    if switch_to in turn.content.flows.flows:
        # The flow handed over to another (switch_flow): start it in this same turn, keeping what
        # the conversation knows about the caller.
        flow = turn.content.flows[switch_to]
        kept = {k: turn.state[k] for k in ("verified", "language_chosen", "incident", "drill") if turn.state.get(k)}
        outcome = engine.start(flow, engine.new_state(flow, turn.lang, seq=turn.state.get("seq", 0), **kept),
                               turn.context())
        turn.state = outcome.state
        turn.results = execute(turn, outcome.actions)
        items = [i for i in items if not isinstance(i, engine.End)] + _resolve_slots(outcome.replies, turn.results)
    state = turn.state
    if turn.store_ok:
        try:
            if turn.channel == "sms":
                _schedule_timeout(turn)
        except STORE_ERRORS as exc:
            log.error("SMS timeout not scheduled (%s): line=%s caller=%s", type(exc).__name__, turn.line.number,
                      mask(turn.caller))
        _save(turn)
    return TurnResult(items, turn.variables(), turn.lang, state, drill=bool(state.get("drill")), stored=turn.store_ok)


def _schedule_timeout(turn: Turn) -> None:
    """By text, a question nobody answers runs its timeout route later (an RQ scheduled job) — when
    that route has something to say or do; a route that ends quietly needs no timer at all."""
    cancel_sms_timeout, schedule_sms_timeout = queueing.cancel_sms_timeout, queueing.schedule_sms_timeout
    waiting = _waiting_step(turn, turn.state)
    flow = turn.content.flows.flows.get(turn.state.get("flow", ""))
    if waiting is None or not waiting.on_timeout or engine.timeout_is_quiet(flow, waiting, "sms"):
        if turn.state.get("timer"):
            cancel_sms_timeout(turn.services, turn.district.id, turn.line.number, turn.caller)
            turn.state.pop("timer")
        return
    schedule_sms_timeout(turn.services, turn.district.id, turn.line.number, turn.caller, turn.state["seq"],
                         waiting.wait_seconds("sms"))
    turn.state["timer"] = True


def _start(turn: Turn, flow_id: str, step: str | None = None, keep: tuple[str, ...] = (), **extra) -> TurnResult:
    flow = turn.content.flows[flow_id]
    kept = {k: turn.state[k] for k in ("verified", "language_chosen", *keep) if turn.state.get(k)}
    state = engine.new_state(flow, turn.lang, **{**kept, **extra})
    turn.state = state
    return _finish(turn, engine.start(flow, state, turn.context(), step))


def _load(services: Services, session_key: str) -> Loaded:
    try:
        return Loaded(services.sessions.load(session_key), True)
    except STORE_ERRORS as exc:
        log.error("conversation store unreachable (%s)", type(exc).__name__)
        return Loaded(None, False)


# --- Text messages ------------------------------------------------------------------------------

def handle_text(services: Services, district: District, line: Line, sender: str, body: str,
                media: tuple[str, ...] = (), *, loaded: Loaded | None = None,
                writes: redis.client.Pipeline | None = None) -> TurnResult:
    """One text. ``loaded``: the conversation when the caller already read it (sms_key) in its own
    round trip; ``writes``: a pipeline the caller sends after the turn, on which the conversation's
    save is queued (the webhook's writes then cost one round trip)."""
    content = services.content(district)
    session_key = sms_key(district.id, line.number, sender)
    state, store_ok = loaded if loaded is not None else _load(services, session_key)
    turn = Turn(services, district, line, sender, "sms", content, dict(state or {}), session_key, store_ok,
                facts=FACTS, writes=writes)
    if not media:
        reserved = reserved_word(body)
        if reserved and (reserved != "YES" or _opted_out(turn)):
            return _reserved(turn, reserved)
    if line.kind == "staff" and body:
        answered = _staff_command(turn, body)
        if answered is not None:
            return answered

    triggers = content.lines.triggers(line)
    waiting = _waiting_step(turn, state)
    match = content.keywords.match(body, allowed=set(triggers), prefer_language=turn.lang,
                                   languages=district.languages) if body else None
    if match and triggers[match.keyword].whole and not command_incident_id(body, match)[0]:
        match = None          # a keyword that changes an incident counts only as the whole message
    if match and (match.whole or not _waiting_for_text(turn, state)):
        return _start_by_keyword(turn, match, triggers[match.keyword], had_session=state is not None)

    if waiting is None:
        return _start(turn, content.lines.entry(line, "sms"))
    if waiting.expect == "staff_code" and security.code_paused(services, district, sender, "sms"):
        return TurnResult([engine.Reply("staff.code.paused")], turn.variables(), turn.lang, turn.state)
    if waiting.expect == "staff_code" and not ratelimit.allow(services.redis, "staffcode", district.id, sender,
                                                              limit=5, window=3600, fail_open=False):
        security.add_event(services, district.id, "code-refused",
                           f"staff code not checked (too many from this number) from {mask(sender)} by text")
        turn.state = {**turn.state, "done": True, "step": None}
        _save(turn)
        return turn.answer("staff.code.locked")
    event = Event("media", text=body, media=media) if media else Event("text", text=body)
    flow = content.flows[turn.state["flow"]]
    result = _finish(turn, engine.step(flow, turn.state, event, turn.context()))
    if waiting.expect == "staff_code":
        security.record_code_attempt(services, district, line.number, sender, "sms",
                                     accepted=bool(result.state.get("verified")))
    return result


def _staff_command(turn: Turn, body: str) -> TurnResult | None:
    """ACK/CLOSE from contacts and LEAD from school leaders: whole messages only."""
    keywords = turn.content.keywords
    command = keywords.match(body, allowed=set(CONTACT_COMMANDS) | {"lead"})
    if command is None:
        return None
    whole = command_incident_id(body, command)[0]
    if command.keyword in CONTACT_COMMANDS:
        if turn.district.contact_by_number(turn.caller):
            return contact_command(turn, body, command)
        if whole:
            return turn.answer("escalation.ack_not_contact")
        return None
    return lead_command(turn, body, command) if whole else None


def _start_by_keyword(turn: Turn, match: KeywordMatch, trigger, had_session: bool) -> TurnResult:
    extra = {"drill": trigger.drill} if trigger.drill else {}
    if match.keyword == "hello" or not had_session:
        # A greeting picks its language; any keyword starts a new conversation in its language.
        turn.state = {**turn.state, "lang": match.language}
        if match.keyword == "hello":
            extra["language_chosen"] = True
    return _start(turn, trigger.flow, trigger.step, keep=trigger.keep, **extra)


def _save(turn: Turn) -> None:
    try:
        turn.services.sessions.save(turn.session_key, turn.state, _session_ttl(turn, turn.state["flow"]),
                                    into=turn.writes)
    except STORE_ERRORS as exc:
        turn.store_ok = False
        log.error("conversation not saved (%s): line=%s caller=%s", type(exc).__name__, turn.line.number,
                  mask(turn.caller))


def _opted_out(turn: Turn) -> bool:
    try:
        return optout.is_opted_out(turn.services.redis, turn.line.number, turn.caller)
    except STORE_ERRORS:
        return False


def _reserved(turn: Turn, word: str) -> TurnResult:
    """STOP/START/HELP and their kin: recorded, and answered by Twilio unless the district says not."""
    try:
        if word in OPT_OUT_WORDS:
            optout.opt_out(turn.services.redis, turn.line.number, turn.caller)
        elif word in OPT_IN_WORDS:
            optout.opt_in(turn.services.redis, turn.line.number, turn.caller)
    except STORE_ERRORS as exc:
        log.error("opt-out not recorded (%s) line=%s caller=%s", type(exc).__name__, turn.line.number,
                  mask(turn.caller))
    log.info("reserved word %s line=%s caller=%s", word, turn.line.number, mask(turn.caller))
    if turn.district.twilio_answers_reserved_words:
        return TurnResult([], {}, turn.lang, turn.state, silent=True)
    key = "reserved.stop" if word in OPT_OUT_WORDS else "reserved.start" if word in OPT_IN_WORDS else "reserved.help"
    return TurnResult([engine.Reply(key)], turn.variables(), turn.lang, turn.state)


# --- Calls --------------------------------------------------------------------------------------

def handle_call(services: Services, district: District, line: Line, caller: str, call_sid: str,
                event: Event | None, caller_id_trusted: bool = True) -> TurnResult:
    """A call's first request (event None) or a later one (digits, a recording, silence, a dial result)."""
    content = services.content(district)
    session_key = call_key(district.id, call_sid)
    state, store_ok = _load(services, session_key)
    turn = Turn(services, district, line, caller, "voice", content, dict(state or {}), session_key, store_ok,
                call_sid=call_sid, facts=FACTS)
    # Decided on the call's first request and kept for the call: a later request cannot restore trust.
    turn.caller_id_trusted = caller_id_trusted and not (state or {}).get("caller_id_untrusted")
    if event is None or state is None:
        extra = {} if turn.caller_id_trusted else {"caller_id_untrusted": True}
        return _start(turn, content.lines.entry(line, "voice"), **extra)
    flow = content.flows[turn.state["flow"]]
    waiting = _waiting_step(turn, state)
    if waiting is not None and waiting.kind == "dial" and event.kind == "dial_result" \
            and event.status == "completed" and line.kind == "staff" and not screened_in(services, call_sid):
        # A staff-line call is put through only after the person called pressed 1 (call screening):
        # a voicemail box that picked up is no answer, and the ringdown goes on.
        event = Event("dial_result", status="no-answer")
    if waiting is not None and event.kind == "digits" and event.text == "*" and line.kind == "staff" \
            and "exception" in flow.steps:
        # The emergency key: straight to the exception branch, from any step of the protocol.
        return _finish(turn, engine.start(flow, turn.state, turn.context(), "exception"))
    if waiting is not None and waiting.kind == "menu" and event.kind == "text":
        event = _speech_to_choice(turn, waiting, event)
    code_given = waiting is not None and waiting.expect == "staff_code" and event.kind in ("text", "digits")
    if code_given and (security.code_paused(services, district, caller, "voice") or
                       not ratelimit.allow(services.redis, "staffcode", district.id, caller, limit=5, window=3600,
                                           fail_open=False)):
        # Too many codes from this number, or from everyone (the district's budget): no checking;
        # the question's timeout route runs (by phone, the caller is still connected to the legal
        # office, unverified).
        turn.state["attempts"] = waiting.attempts
        event = Event("timeout")
        code_given = False
    result = _finish(turn, engine.step(flow, turn.state, event, turn.context()))
    if code_given:
        security.record_code_attempt(services, district, line.number, caller, "voice",
                                     accepted=bool(result.state.get("verified")))
    return result


def _speech_to_choice(turn: Turn, menu, event: Event) -> Event:
    """A spoken answer to a menu: a digit that was said, or the option whose label was said (in
    the caller's language). Anything else stays speech, which the menu answers as a wrong choice."""
    said = engine.words(event.text)
    for option in menu.options:
        if option.digit in said:
            return Event("digits", text=option.digit)
    for option in menu.options:
        label = engine.words(turn.content.catalogs.render(turn.lang, option.label, {}, "voice").text)
        if label and all(word in said for word in label):
            return Event("digits", text=option.digit)
    return event


def resume_after_timeout(services: Services, district: District, line: Line, number: str, seq: int) -> TurnResult | None:
    """An SMS conversation whose question went unanswered: run its timeout route, if still waiting."""
    content = services.content(district)
    session_key = sms_key(district.id, line.number, number)
    state, store_ok = _load(services, session_key)
    if not state or state.get("seq") != seq or state.get("done") or not store_ok:
        return None
    turn = Turn(services, district, line, number, "sms", content, dict(state), session_key, facts=FACTS)
    flow = content.flows[state["flow"]]
    return _finish(turn, engine.step(flow, turn.state, Event.timeout(), turn.context()))


# --- Call screening on the staff line ---------------------------------------------------------------

def screen_key(call_sid: str) -> str:
    return key("screened", call_sid)


def screened_in(services: Services, call_sid: str | None) -> bool:
    """The person the staff call was put through to pressed 1 (voice.py's screening whisper)."""
    try:
        return bool(call_sid) and bool(services.redis.exists(screen_key(call_sid)))
    except STORE_ERRORS:
        return True     # cannot tell: keep the caller connected rather than ring on
