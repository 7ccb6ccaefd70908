"""The flow interpreter: ``step(flow, state, event, context) -> Outcome``.

Pure: no I/O, no clock, no Flask, Redis or Twilio. The state is a plain JSON-able dict the
caller stores; the outcome says what to tell the caller (replies, as catalog keys) and what to
do (actions, carried out by the host). Replies that depend on an action's result are marked by
an ``ActionSlot`` at the place the action ran; the host fills it with what happened.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from collections.abc import Callable, Mapping

from .model import Flow, Step
from .validators import VALIDATORS, Answer, Limits

# A flow that runs this many steps without waiting for the caller has a loop; validation catches
# most, and this guard keeps a bad flow from hanging a webhook.
MAX_STEPS_PER_EVENT = 64

EVENT_KINDS = ("start", "text", "digits", "media", "timeout", "dial_result", "recording")


@dataclass(frozen=True)
class Event:
    kind: str
    text: str = ""
    media: tuple[str, ...] = ()
    status: str | None = None      # dial_result: Twilio's DialCallStatus
    recording: str | None = None   # recording: the RecordingUrl

    @classmethod
    def start(cls) -> Event:
        return cls("start")

    @classmethod
    def timeout(cls) -> Event:
        return cls("timeout")


@dataclass(frozen=True)
class Context:
    """What the engine may know of the conversation besides its state; built by the host."""

    channel: str                                   # "sms" or "voice"
    facts: Mapping[str, bool] = field(default_factory=dict)
    # Facts that depend on the conversation as it changes within one event (the language just
    # chosen, say) are asked of this function, with the current state, when an `if:` step runs.
    fact_source: Callable[[str, dict], bool] | None = None
    # name -> [(value, label)]: the numbered choices of an ask with `from:` (schools) or of
    # `expect: language` (languages: (code, the language's own name)).
    lists: Mapping[str, list] = field(default_factory=dict)
    yes_words: frozenset[str] = frozenset()
    no_words: frozenset[str] = frozenset()
    region: str = "US"
    staff_code: str | None = None


@dataclass(frozen=True)
class Choice:
    digit: str
    label: str                 # a catalog key, or literal text when literal is True
    literal: bool = False
    value: str | None = None   # for list choices: the item (a school id, a language code)


@dataclass(frozen=True)
class Input:
    expect: str                # validator name; "dial" while a call is being connected
    choices: tuple[Choice, ...] = ()
    max_length: int | None = None
    max_digits: int | None = None
    optional: bool = False
    timeout: float = 0.0
    list_name: str | None = None


@dataclass(frozen=True)
class Reply:
    key: str
    vars: dict = field(default_factory=dict)
    input: Input | None = None     # set on the question a conversation now waits on


@dataclass(frozen=True)
class ActionSlot:
    """Where the host puts what an action reports (an incident number, a FAILED notice)."""

    index: int


@dataclass(frozen=True)
class Dial:
    targets: tuple[str, ...]
    timeout: float


@dataclass(frozen=True)
class End:
    """The flow ended: voice hangs up; SMS sends what came before."""


@dataclass(frozen=True)
class Action:
    name: str
    args: dict = field(default_factory=dict)


@dataclass
class Outcome:
    state: dict
    replies: list = field(default_factory=list)    # Reply | ActionSlot | Dial | End
    actions: list[Action] = field(default_factory=list)

    def act(self, name: str, **args) -> None:
        self.actions.append(Action(name, args))
        self.replies.append(ActionSlot(len(self.actions) - 1))


def new_state(flow: Flow, lang: str, **extra) -> dict:
    state = {"flow": flow.id, "step": None, "lang": lang, "attempts": 0, "answers": {}, "done": False,
             "seq": 0, "dial_index": 0}
    state.update(extra)
    return state


def start(flow: Flow, state: dict, context: Context, at: str | None = None) -> Outcome:
    """Run ``flow`` from its first step (or from step ``at``: a keyword that jumps into a flow, such
    as EMERGENCY into the protocol's exception branch) with ``state`` (from new_state)."""
    outcome = Outcome(copy.deepcopy(state))
    outcome.state["seq"] = outcome.state.get("seq", 0) + 1
    outcome.state["attempts"] = 0
    _run(flow, at if at in flow.steps else flow.start, outcome, context)
    return outcome


def step(flow: Flow, state: dict, event: Event, context: Context) -> Outcome:
    """Apply one event to a conversation waiting in ``flow``."""
    if event.kind == "start":
        return start(flow, state, context)
    outcome = Outcome(copy.deepcopy(state))
    current = outcome.state
    current["seq"] = current.get("seq", 0) + 1
    step_id = current.get("step")
    if current.get("done") or step_id not in flow.steps:
        # Nothing is waiting (the flow ended): the flow's start is the best answer to anything.
        _run(flow, flow.start, outcome, context)
        return outcome
    waiting = flow.steps[step_id]

    if waiting.kind == "dial":
        _after_dial(flow, waiting, event, outcome, context)
        return outcome

    if event.kind == "timeout":
        current["attempts"] = current.get("attempts", 0) + 1
        if context.channel == "voice" and current["attempts"] < waiting.attempts:
            _prompt(flow, waiting, outcome, context, reprompt=True)     # silence: ask again
            return outcome
        _run(flow, waiting.on_timeout, outcome, context)
        return outcome

    answer = Answer(text=event.text, media=event.media, recording=event.recording)
    verdict = VALIDATORS[waiting.expect or "choice"](answer, _limits(waiting, context))
    if not verdict.ok:
        current["attempts"] = current.get("attempts", 0) + 1
        if current["attempts"] >= waiting.attempts:
            current["attempts"] = 0
            if waiting.on_fail:
                _run(flow, waiting.on_fail, outcome, context)
                return outcome
            outcome.replies.append(Reply("common.help"))
        else:
            outcome.replies.append(Reply(verdict.problem, dict(verdict.problem_vars)))
        _prompt(flow, waiting, outcome, context, reprompt=True)
        return outcome

    value = verdict.value
    next_step = waiting.next
    if waiting.kind == "menu":
        option = next(o for o in waiting.options if o.digit == value)
        next_step, value = option.next, option.value or value
    elif waiting.expect == "language":
        current["lang"] = context.lists["languages"][int(value) - 1][0]
        current["language_chosen"] = True
        value = current["lang"]
    elif waiting.limits.get("from"):
        value = context.lists[waiting.limits["from"]][int(value) - 1][0]
    if waiting.save:
        current["answers"][waiting.save] = value
        if waiting.record:
            outcome.act("record", field=waiting.save, value=value)
    current["attempts"] = 0
    _run(flow, next_step, outcome, context)
    return outcome


def _limits(waiting: Step, context: Context) -> Limits:
    if waiting.kind == "menu":
        choices = [o.digit for o in waiting.options]
    elif waiting.expect == "language" or waiting.limits.get("from"):
        name = "languages" if waiting.expect == "language" else waiting.limits["from"]
        choices = [str(i + 1) for i in range(len(context.lists.get(name, [])))]
    elif waiting.expect == "yes_no":
        choices = ["1", "2"]
    else:
        choices = []
    return Limits(waiting.limits, choices, context.yes_words, context.no_words, context.region, context.staff_code)


def _choices(waiting: Step, context: Context) -> tuple[Choice, ...]:
    if waiting.kind == "menu":
        return tuple(Choice(o.digit, o.label) for o in waiting.options)
    if waiting.expect == "yes_no":
        return (Choice("1", "common.yes"), Choice("2", "common.no"))
    name = "languages" if waiting.expect == "language" else waiting.limits.get("from")
    if name:
        return tuple(Choice(str(i + 1), str(label), literal=True, value=str(value))
                     for i, (value, label) in enumerate(context.lists.get(name, [])))
    return ()


def _prompt(flow: Flow, waiting: Step, outcome: Outcome, context: Context, reprompt: bool = False) -> None:
    limits = waiting.limits
    input_ = Input(
        expect="choice" if waiting.kind == "menu" else (waiting.expect or "choice"),
        choices=_choices(waiting, context),
        max_length=limits.get("max_length"),
        max_digits=limits.get("max"),
        optional=bool(limits.get("optional")),
        timeout=waiting.wait_seconds(context.channel),
        list_name="languages" if waiting.expect == "language" else limits.get("from"),
    )
    outcome.replies.append(Reply(waiting.prompt or "common.help", dict(waiting.vars), input_))
    outcome.state["step"] = waiting.id
    if not reprompt:
        outcome.state["attempts"] = 0


def _after_dial(flow: Flow, waiting: Step, event: Event, outcome: Outcome, context: Context) -> None:
    state = outcome.state
    if event.kind == "dial_result" and event.status == "completed":
        state["dial_index"] = 0
        _run(flow, waiting.next, outcome, context)
        return
    # Nobody answered (busy, no-answer, failed) or the caller did something else: ring down.
    state["dial_index"] = state.get("dial_index", 0) + 1
    if state["dial_index"] < len(waiting.targets):
        outcome.replies.append(Dial((waiting.targets[state["dial_index"]],), waiting.wait_seconds("voice")))
        return
    state["dial_index"] = 0
    _run(flow, waiting.on_no_answer or waiting.next, outcome, context)


def timeout_is_quiet(flow: Flow, waiting: Step, channel: str) -> bool:
    """Whether the timeout route of ``waiting`` ends without saying or doing anything on this
    channel, whatever the facts (both ways of an `if:` are followed, except `on_voice`)."""
    seen: set[str] = set()
    frontier = [waiting.on_timeout]
    while frontier:
        step_id = frontier.pop()
        if step_id is None or step_id in seen:
            continue
        seen.add(step_id)
        current = flow.steps[step_id]
        if current.only and current.only != channel:
            frontier.append(current.next)
            continue
        if current.say or current.kind in ("ask", "menu", "do", "dial"):
            return False
        if current.kind == "if":
            if current.condition == "on_voice":
                frontier.append(current.then if channel == "voice" else current.otherwise)
            else:
                frontier += [current.then, current.otherwise]
        elif current.kind != "end":
            frontier.append(current.next)
    return True


def _fact(context: Context, name: str, state: dict) -> bool:
    if name in context.facts:
        return bool(context.facts[name])
    return bool(context.fact_source(name, state)) if context.fact_source else False


def _run(flow: Flow, step_id: str | None, outcome: Outcome, context: Context) -> None:
    """Walk steps from ``step_id`` until one waits for the caller or the flow ends."""
    state = outcome.state
    for _ in range(MAX_STEPS_PER_EVENT):
        if step_id is None:
            state["done"], state["step"] = True, None
            return
        current = flow.steps[step_id]
        if current.only and current.only != context.channel:
            step_id = current.next
            continue
        state["done"] = False
        for key in current.say:
            outcome.replies.append(Reply(key, dict(current.vars)))
        if current.kind in ("ask", "menu"):
            _prompt(flow, current, outcome, context)
            return
        if current.kind == "do":
            outcome.act(current.action or "", **current.args)
            if current.action == "set_language" and current.args.get("language"):
                state["lang"] = current.args["language"]
            step_id = current.next
        elif current.kind == "if":
            step_id = current.then if _fact(context, current.condition or "", state) else current.otherwise
        elif current.kind == "dial":
            if context.channel == "voice":
                state["step"], state["dial_index"] = current.id, 0
                outcome.replies.append(Dial((current.targets[0],), current.wait_seconds("voice")))
                return
            # By text there is nobody to connect: the step's say already gave the number to call.
            step_id = current.next
        elif current.kind == "end":
            state["done"], state["step"] = True, None
            outcome.replies.append(End())
            return
        else:  # say, goto
            step_id = current.next
    outcome.replies.append(Reply("common.error"))
    state["done"], state["step"] = True, None
