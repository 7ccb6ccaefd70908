"""One turn of a conversation: the host around the pure engine.

For a text or a call event it loads the conversation (Redis), decides which flow the message
belongs to (keywords interrupt), steps the engine, carries out the actions it asked for, saves
the conversation with its expiry and returns what to say. It never raises for Redis or queue
failures: the engine's replies are static data, and a failed action puts its own notice in the
reply (see actions.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import redis

from . import engine, optout, ratelimit, security
from .actions import ActionResult, execute
from .district import District, Line
from .engine import ActionSlot, Context, Event, KeywordMatch
from .engine.keywords import OPT_IN_WORDS, OPT_OUT_WORDS, reserved_word
from .facts import FACTS
from .phones import mask
from .render.values import Phone
from .services import Content, Services
from .sessions import call_key, sms_key

log = logging.getLogger(__name__)

STORE_ERRORS = (redis.RedisError, OSError)


@dataclass
class Turn:
    """Everything a turn knows; facts and actions read it."""

    services: Services
    district: District
    line: Line
    caller: str
    channel: str
    content: Content
    state: dict
    session_key: str
    store_ok: bool = True
    call_sid: str | None = None
    results: list[ActionResult] = field(default_factory=list)
    # False for a call whose caller ID the carrier could not vouch for (callerid.py): the roster
    # then proves nothing and the caller is asked for the staff code.
    caller_id_trusted: bool = True

    def roster_member(self):
        """The roster entry of the caller's number, when the number can be believed."""
        return self.district.roster.get(self.caller) if self.caller_id_trusted else None

    @property
    def lang(self) -> str:
        return self.state.get("lang") or self.district.default_language

    def voice_ready(self, lang: str | None = None) -> bool:
        """The language can be spoken: a Twilio voice, or a recording of every message the flows say."""
        catalog = self.content.catalogs.get(lang or self.lang)
        return catalog.voice is not None or (bool(catalog.audio)
                                              and self.content.flows.message_keys() <= catalog.audio)

    def liaison_open(self) -> bool:
        liaison = self.district.first_contact("liaison")
        return liaison is not None and self.district.is_open(liaison.hours)

    def fact(self, name: str, state: dict) -> bool:
        saved, self.state = self.state, state
        try:
            return FACTS[name](self) if name in FACTS else False
        finally:
            self.state = saved

    def context(self) -> Context:
        catalog = self.content.catalogs.get(self.lang)
        return Context(
            channel=self.channel,
            fact_source=self.fact,
            lists={
                "schools": [(s.id, s.name) for s in self.district.schools.values()],
                "languages": [(code, self.content.catalogs.get(code).name) for code in self.district.languages],
            },
            yes_words=frozenset(engine.normalize(w) for w in catalog.keywords.get("yes", ())),
            no_words=frozenset(engine.normalize(w) for w in catalog.keywords.get("no", ())),
            region=self.district.region,
            staff_code=self.district.staff_code,
        )

    def variables(self) -> dict:
        """What every message may use: the district's numbers, the answers so far, action results."""
        values = base_variables(self.district, self.line)
        for name, value in self.state.get("answers", {}).items():
            values[name] = Phone(value) if name.endswith("phone") and isinstance(value, str) \
                and value.startswith("+") else value
        school = self.district.schools.get(str(self.state.get("answers", {}).get("school", "")))
        values["school_name"] = school.name if school else ""
        if self.state.get("incident"):
            values["incident"] = self.state["incident"]
        for result in self.results:
            values.update(result.vars)
        return values


def base_variables(district: District, line: Line) -> dict:
    """The district's name and numbers: every message may use them."""
    values: dict[str, object] = {"district": district.name}
    for name, role in (("legal_phone", "legal"), ("safety_phone", "safety"), ("liaison_phone", "liaison"),
                       ("civil_rights_phone", "civil_rights")):
        contact = district.first_contact(role)
        values[name] = Phone(contact.number) if contact else ""
    help_contact = district.first_contact("liaison" if line.kind == "family" else "legal") \
        or district.first_contact("legal")
    values["help_phone"] = Phone(help_contact.number) if help_contact else ""
    values["resources"] = "; ".join(
        ", ".join(str(part) for part in (r.name, Phone(r.phone) if r.phone else None, r.url) if part)
        for r in district.resources) or "-"
    return values


@dataclass
class TurnResult:
    items: list
    variables: dict
    lang: str
    state: dict
    drill: bool = False
    silent: bool = False      # answer with an empty response (Twilio has answered, or a duplicate)


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
    state = turn.state
    if turn.store_ok:
        try:
            if turn.channel == "sms":
                _schedule_timeout(turn)
            turn.services.sessions.save(turn.session_key, state, _session_ttl(turn, state["flow"]))
        except STORE_ERRORS as exc:
            log.error("conversation not saved (%s): line=%s caller=%s", type(exc).__name__, turn.line.number,
                      mask(turn.caller))
    return TurnResult(_resolve_slots(outcome.replies, turn.results), turn.variables(), turn.lang, state,
                      drill=bool(state.get("drill")))


def _schedule_timeout(turn: Turn) -> None:
    """By text, a question nobody answers runs its timeout route later (an RQ scheduled job) — when
    that route has something to say or do; a route that ends quietly needs no timer at all."""
    from .jobs import cancel_sms_timeout, schedule_sms_timeout

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


def _start(turn: Turn, flow_id: str, **extra) -> TurnResult:
    flow = turn.content.flows[flow_id]
    keep = {k: turn.state[k] for k in ("verified", "language_chosen") if turn.state.get(k)}
    state = engine.new_state(flow, turn.lang, **{**keep, **extra})
    turn.state = state
    return _finish(turn, engine.start(flow, state, turn.context()))


def _load(services: Services, session_key: str) -> tuple[dict | None, bool]:
    try:
        return services.sessions.load(session_key), True
    except STORE_ERRORS as exc:
        log.error("conversation store unreachable (%s)", type(exc).__name__)
        return None, False


# --- Text messages ------------------------------------------------------------------------------

def handle_text(services: Services, district: District, line: Line, sender: str, body: str,
                media: tuple[str, ...] = ()) -> TurnResult:
    content = services.content(district)
    session_key = sms_key(district.id, line.number, sender)
    state, store_ok = _load(services, session_key)
    turn = Turn(services, district, line, sender, "sms", content, dict(state or {}), session_key, store_ok)
    if not media:
        reserved = reserved_word(body)
        if reserved and (reserved != "YES" or _opted_out(turn)):
            return _reserved(turn, reserved)
    ack = content.keywords.match(body, allowed={"ack"}) if line.kind == "staff" else None
    if ack and district.contact_by_number(sender):
        from .acknowledgement import acknowledge_by_text

        return acknowledge_by_text(turn, body, ack)
    if ack and (ack.whole or not _waiting_for_text(turn, state)):
        return TurnResult([engine.Reply("escalation.ack_not_contact")], turn.variables(), turn.lang, turn.state)

    triggers = content.lines.triggers(line)
    waiting = _waiting_step(turn, state)
    match = content.keywords.match(body, allowed=set(triggers), prefer_language=turn.lang,
                                   languages=district.languages) if body else None
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
        return TurnResult([engine.Reply("staff.code.locked")], turn.variables(), turn.lang, turn.state)
    event = Event("media", text=body, media=media) if media else Event("text", text=body)
    flow = content.flows[turn.state["flow"]]
    result = _finish(turn, engine.step(flow, turn.state, event, turn.context()))
    if waiting.expect == "staff_code":
        security.record_code_attempt(services, district, line.number, sender, "sms",
                                     accepted=bool(result.state.get("verified")))
    return result


def _start_by_keyword(turn: Turn, match: KeywordMatch, trigger, had_session: bool) -> TurnResult:
    extra = {"drill": trigger.drill} if trigger.drill else {}
    if match.keyword == "hello" or not had_session:
        # A greeting picks its language; any keyword starts a new conversation in its language.
        turn.state = {**turn.state, "lang": match.language}
        if match.keyword == "hello":
            extra["language_chosen"] = True
    return _start(turn, trigger.flow, **extra)


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
                call_sid=call_sid)
    # Decided on the call's first request and kept for the call: a later request cannot restore trust.
    turn.caller_id_trusted = caller_id_trusted and not (state or {}).get("caller_id_untrusted")
    if event is None or state is None:
        extra = {} if turn.caller_id_trusted else {"caller_id_untrusted": True}
        return _start(turn, content.lines.entry(line, "voice"), **extra)
    flow = content.flows[turn.state["flow"]]
    waiting = _waiting_step(turn, state)
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
    turn = Turn(services, district, line, number, "sms", content, dict(state), session_key)
    flow = content.flows[state["flow"]]
    return _finish(turn, engine.step(flow, turn.state, Event.timeout(), turn.context()))
