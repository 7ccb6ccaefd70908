"""Load flows/*.yaml into Flow objects and check them.

Every problem names ``flows/<file>.yaml`` and the step (``steps.<id>``), says what is wrong and
how to fix it. What the host offers (actions, facts, lists, catalog keys) is passed in as a
Vocabulary so the engine stays free of the rest of the hotline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..durations import parse_duration
from ..problems import Problem
from ..yamlfile import read_yaml
from .model import (
    CHANNELS,
    DEFAULT_ATTEMPTS,
    DEFAULT_SESSION_TTL,
    STEP_KINDS,
    WAITING_KINDS,
    Flow,
    Option,
    Step,
)
from .validators import VALIDATORS

STEP_KEYS = {
    "say": {"say", "vars", "next", "only"},
    "ask": {"ask", "say", "vars", "expect", "save", "record", "next", "on_timeout", "on_fail", "timeout",
            "attempts", "only", "max_length", "optional", "min", "max", "from"},
    "menu": {"menu", "say", "vars", "options", "save", "record", "on_timeout", "on_fail", "timeout", "attempts",
             "only", "next"},        # next: where a text conversation goes past a voice-only menu
    "do": {"do", "with", "say", "vars", "next", "only"},
    "if": {"if", "then", "else", "only", "next"},
    "goto": {"goto", "only"},
    "dial": {"dial", "say", "vars", "next", "on_no_answer", "timeout", "only"},
    "end": {"end", "vars", "only"},
}
LIMIT_KEYS = ("max_length", "optional", "min", "max", "from")


@dataclass(frozen=True)
class Vocabulary:
    """What flows may name. Empty sets mean "not checked" (unit tests of the loader alone)."""

    actions: frozenset[str] = frozenset()
    facts: frozenset[str] = frozenset()
    lists: frozenset[str] = frozenset()
    dial_targets: frozenset[str] = frozenset()
    message_keys: frozenset[str] = frozenset()
    check_keys: bool = False


@dataclass
class FlowSet:
    flows: dict[str, Flow] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def __getitem__(self, flow_id: str) -> Flow:
        return self.flows[flow_id]

    def __contains__(self, flow_id: str) -> bool:
        return flow_id in self.flows

    def message_keys(self) -> set[str]:
        keys: set[str] = set()
        for flow in self.flows.values():
            for step in flow.steps.values():
                keys.update(step.say)
                if step.prompt:
                    keys.add(step.prompt)
                keys.update(o.label for o in step.options)
        return keys


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    return (str(value),)


def _timeouts(raw: Any, problem) -> dict[str, float]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raw = {channel: raw for channel in CHANNELS}
    found = {}
    for channel, value in raw.items():
        if channel not in CHANNELS:
            problem(f"timeout.{channel}", "is not a channel", "use sms or voice")
            continue
        try:
            found[channel] = parse_duration(value)
        except ValueError as exc:
            problem(f"timeout.{channel}", str(exc), "write e.g. 8s or 30m")
    return found


def _parse_step(step_id: str, raw: Any, defaults: dict, report) -> Step | None:
    def problem(key: str, message: str, fix: str = "") -> None:
        report(f"steps.{step_id}" + (f".{key}" if key else ""), message, fix)

    if not isinstance(raw, dict):
        problem("", "should be a mapping", "see docs/flows.md for the step types")
        return None
    kinds = [k for k in STEP_KINDS if k in raw]
    if not kinds:
        problem("", f"has no step type (keys: {', '.join(map(str, raw)) or 'none'})",
                f"start the step with one of: {', '.join(STEP_KINDS)}")
        return None
    # "say" may accompany any other kind; it is the kind only when it stands alone.
    kind = next((k for k in kinds if k != "say"), "say")
    if len([k for k in kinds if k != "say"]) > 1:
        problem("", f"has several step types ({', '.join(kinds)})", "split it into one step per type")
        return None
    unknown = set(map(str, raw)) - STEP_KEYS[kind]
    for key in sorted(unknown):
        problem(key, f"is not a key of a {kind} step", f"allowed: {', '.join(sorted(STEP_KEYS[kind]))}")

    options = []
    if kind == "menu":
        raw_options = raw.get("options")
        if not isinstance(raw_options, list) or not raw_options:
            problem("options", "is missing", "list options: - {label: <message key>, next: <step>}")
            raw_options = []
        for index, item in enumerate(raw_options):
            if not isinstance(item, dict) or "label" not in item or "next" not in item:
                problem(f"options[{index}]", "needs a label and a next", "write {label: <key>, next: <step>}")
                continue
            digit = str(item.get("digit", index + 1))
            options.append(Option(str(item["label"]), str(item["next"]), digit,
                                  str(item["value"]) if "value" in item else None))
        digits = [o.digit for o in options]
        if len(set(digits)) != len(digits) or any(not (d.isdigit() and len(d) == 1) for d in digits):
            problem("options", f"digits {digits} must be single, different digits",
                    "give each option its own digit 0-9")

    timeouts = dict(defaults.get("timeout") or {})
    timeouts.update(_timeouts(raw.get("timeout"), problem))
    attempts = raw.get("attempts", defaults.get("attempts", DEFAULT_ATTEMPTS))
    if not isinstance(attempts, int) or isinstance(attempts, bool) or not 1 <= attempts <= 9:
        problem("attempts", f"{attempts!r} should be a whole number from 1 to 9", "e.g. 3")
        attempts = DEFAULT_ATTEMPTS
    only = raw.get("only")
    if only is not None and only not in CHANNELS:
        problem("only", f"{only!r} is not a channel", "use sms or voice")
        only = None
    on_timeout = raw.get("on_timeout", defaults.get("on_timeout") if kind in ("ask", "menu") else None)

    return Step(
        id=step_id,
        kind=kind,
        say=_as_tuple(raw.get("say")) + (_as_tuple(raw.get("end")) if kind == "end" else ()),
        vars=dict(raw.get("vars") or {}),
        prompt=str(raw[kind]) if kind in ("ask", "menu") else None,
        expect=str(raw.get("expect", "text")) if kind == "ask" else None,
        limits={k: raw[k] for k in LIMIT_KEYS if k in raw},
        save=str(raw["save"]) if raw.get("save") else None,
        record=bool(raw.get("record", False)),
        options=tuple(options),
        action=str(raw["do"]) if kind == "do" else None,
        args=dict(raw.get("with") or {}),
        condition=str(raw["if"]) if kind == "if" else None,
        then=str(raw["then"]) if raw.get("then") else None,
        otherwise=str(raw["else"]) if raw.get("else") else None,
        targets=_as_tuple(raw.get("dial")),
        next=str(raw["goto"]) if kind == "goto" else (str(raw["next"]) if raw.get("next") else None),
        on_timeout=str(on_timeout) if on_timeout else None,
        on_fail=str(raw["on_fail"]) if raw.get("on_fail") else None,
        on_no_answer=str(raw["on_no_answer"]) if raw.get("on_no_answer") else None,
        timeout=timeouts,
        attempts=attempts,
        only=only,
    )


def _check_flow(flow: Flow, vocabulary: Vocabulary, report) -> None:
    def problem(step_id: str, key: str, message: str, fix: str = "") -> None:
        report(f"steps.{step_id}" + (f".{key}" if key else ""), message, fix)

    if flow.start not in flow.steps:
        report("start", f"{flow.start!r} is not a step", f"use one of {', '.join(flow.steps)}")
    for step in flow.steps.values():
        for route, target in step.routes():
            if target not in flow.steps:
                problem(step.id, route, f"goes to {target!r}, which is not a step",
                        "name a step of this flow (or end the flow with an end step)")
        needs = {
            "say": ["next"], "do": ["next"], "goto": ["next"], "ask": ["next", "on_timeout"],
            "menu": ["on_timeout"], "if": ["then", "else"], "dial": ["next", "on_no_answer"],
        }.get(step.kind, [])
        for route in needs:
            attr = {"else": "otherwise"}.get(route, route)
            if not getattr(step, attr):
                problem(step.id, route, "is missing", f"say where a {step.kind} step goes ({route}: <step>)")
        if step.kind == "ask" and step.expect not in VALIDATORS:
            problem(step.id, "expect", f"{step.expect!r} is not a validator",
                    f"use one of {', '.join(sorted(VALIDATORS))}")
        if step.kind == "ask" and step.limits.get("from") and vocabulary.lists \
                and step.limits["from"] not in vocabulary.lists:
            problem(step.id, "from", f"{step.limits['from']!r} is not a list",
                    f"use one of {', '.join(sorted(vocabulary.lists))}")
        if step.kind == "do" and vocabulary.actions and step.action not in vocabulary.actions:
            problem(step.id, "do", f"{step.action!r} is not an action",
                    f"use one of {', '.join(sorted(vocabulary.actions))}")
        if step.kind == "if" and vocabulary.facts and step.condition not in vocabulary.facts:
            problem(step.id, "if", f"{step.condition!r} is not a fact the hotline knows",
                    f"use one of {', '.join(sorted(vocabulary.facts))}")
        if step.kind == "dial":
            if not step.targets:
                problem(step.id, "dial", "names nobody to call", "e.g. dial: [legal, safety]")
            for target in step.targets:
                if vocabulary.dial_targets and target not in vocabulary.dial_targets:
                    problem(step.id, "dial", f"{target!r} is not a contact role",
                            f"use one of {', '.join(sorted(vocabulary.dial_targets))}")
        if vocabulary.check_keys:
            keys = list(step.say) + ([step.prompt] if step.prompt else []) + [o.label for o in step.options]
            for key in keys:
                if key not in vocabulary.message_keys:
                    problem(step.id, "", f"uses the message key {key!r}, which messages/en.yaml does not have",
                            "add it to every catalog in messages/, or fix the spelling")

    reachable, frontier = set(), [flow.start]
    while frontier:
        current = frontier.pop()
        if current in reachable or current not in flow.steps:
            continue
        reachable.add(current)
        frontier.extend(target for _, target in flow.steps[current].routes())
    for step_id in flow.steps:
        if step_id not in reachable:
            problem(step_id, "", "cannot be reached from the start", "route to it from another step, or remove it")

    # A cycle of steps that never wait would spin forever within one event.
    def loops_from(step_id: str, path: tuple[str, ...]) -> tuple[str, ...] | None:
        step = flow.steps.get(step_id)
        if step is None or step.kind in WAITING_KINDS or step.kind == "end":
            return None
        if step_id in path:
            return path[path.index(step_id):] + (step_id,)
        for _, target in step.routes():
            found = loops_from(target, path + (step_id,))
            if found:
                return found
        return None

    for step_id in flow.steps:
        cycle = loops_from(step_id, ())
        if cycle:
            problem(step_id, "", f"loops without waiting for the caller: {' -> '.join(cycle)}",
                    "put a question (ask/menu) or an end in the loop")
            break


def load_flow_file(path: Path, vocabulary: Vocabulary, label: str | None = None) -> tuple[Flow | None, list[Problem]]:
    label = label or f"flows/{path.name}"
    problems: list[Problem] = []

    def report(key: str, message: str, fix: str = "") -> None:
        problems.append(Problem(label, key, message, fix))

    try:
        raw = read_yaml(path)
    except (OSError, yaml.YAMLError) as exc:
        report("(file)", f"cannot be read: {exc}", "fix the YAML")
        return None, problems
    if not isinstance(raw, dict) or not isinstance(raw.get("steps"), dict) or not raw["steps"]:
        report("steps", "is missing", "a flow needs steps: (see docs/flows.md)")
        return None, problems

    defaults_raw = raw.get("defaults") or {}
    defaults = {
        "timeout": _timeouts(defaults_raw.get("timeout"), lambda k, m, f="": report(f"defaults.{k}", m, f)),
        "attempts": defaults_raw.get("attempts", DEFAULT_ATTEMPTS),
        "on_timeout": defaults_raw.get("on_timeout"),
    }
    steps = {}
    for step_id, step_raw in raw["steps"].items():
        step = _parse_step(str(step_id), step_raw, defaults, report)
        if step:
            steps[str(step_id)] = step
    session = dict(DEFAULT_SESSION_TTL)
    session.update(_timeouts(raw.get("session"), lambda k, m, f="": report(f"session.{k}", m, f)))
    flow = Flow(
        id=str(raw.get("flow") or path.stem),
        file=label,
        start=str(raw.get("start") or next(iter(raw["steps"]))),
        steps=steps,
        session_ttl=session,
        description=str(raw.get("description") or ""),
    )
    _check_flow(flow, vocabulary, report)
    return flow, problems


def load_flows(folder: Path, vocabulary: Vocabulary = Vocabulary()) -> FlowSet:
    found = FlowSet()
    for path in sorted(folder.glob("*.yaml")):
        if path.name == "lines.yaml":
            continue
        flow, problems = load_flow_file(path, vocabulary)
        found.problems.extend(problems)
        if flow is None:
            continue
        if flow.id in found.flows:
            found.problems.append(Problem(f"flows/{path.name}", "flow", f"{flow.id!r} is also defined in "
                                          f"{found.flows[flow.id].file}", "give each flow its own id"))
            continue
        found.flows[flow.id] = flow
    return found
