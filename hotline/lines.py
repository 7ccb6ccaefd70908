"""flows/lines.yaml: which flow a text or a call starts on each kind of line, and its keywords."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .district import LINE_KINDS, Line
from .problems import Problem
from .yamlfile import read_yaml

ENTRY = "entry"   # in `global:`, a keyword that goes back to the line's own entry flow


@dataclass(frozen=True)
class Trigger:
    flow: str
    drill: bool = False
    step: str | None = None                # start the flow here instead of at its start
    whole: bool = False                    # only the whole message (a keyword that changes an incident)
    keep: tuple[str, ...] = ()             # conversation values carried into the new flow


@dataclass(frozen=True)
class LineKind:
    sms: str
    voice: str
    keywords: dict[str, Trigger] = field(default_factory=dict)


@dataclass(frozen=True)
class LineTable:
    kinds: dict[str, LineKind]
    global_keywords: dict[str, Trigger]

    def entry(self, line: Line, channel: str) -> str:
        if line.entry and channel == "sms":
            return line.entry
        kind = self.kinds[line.kind]
        return kind.sms if channel == "sms" else kind.voice

    def triggers(self, line: Line) -> dict[str, Trigger]:
        """Keyword id -> trigger on this line, global words included."""
        found = {k: (Trigger(self.entry(line, "sms")) if t.flow == ENTRY else t)
                 for k, t in self.global_keywords.items()}
        found.update(self.kinds[line.kind].keywords)
        found.update({k: Trigger(v) for k, v in line.keywords.items()})
        return found


TRIGGER_KEYS = {"flow", "drill", "step", "whole", "keep"}


def _trigger(value) -> Trigger | None:
    if isinstance(value, str):
        return Trigger(value)
    if isinstance(value, dict) and isinstance(value.get("flow"), str) and set(value) <= TRIGGER_KEYS:
        keep = value.get("keep") or []
        return Trigger(value["flow"], bool(value.get("drill", False)), value.get("step"),
                       bool(value.get("whole", False)), tuple(str(k) for k in keep))
    return None


def load_lines(path: Path, flow_steps: dict[str, set[str]]) -> tuple[LineTable, list[Problem]]:
    """``flow_steps``: each flow's id and its step ids (a trigger may start a flow at a step)."""
    flow_ids = set(flow_steps)
    label = f"flows/{path.name}"
    problems: list[Problem] = []
    try:
        raw = read_yaml(path) or {}
    except (OSError, yaml.YAMLError) as exc:
        return LineTable({}, {}), [Problem(label, "(file)", f"cannot be read: {exc}", "restore flows/lines.yaml")]

    def flow_problem(where: str, flow: str) -> None:
        if flow_ids and flow not in flow_ids and flow != ENTRY:
            problems.append(Problem(label, where, f"{flow!r} is not a flow",
                                    f"use one of {', '.join(sorted(flow_ids))}"))

    def triggers(mapping, where: str) -> dict[str, Trigger]:
        found = {}
        for keyword_id, value in (mapping or {}).items():
            trigger = _trigger(value)
            if trigger is None:
                problems.append(Problem(label, f"{where}.{keyword_id}", "should name a flow",
                                        "write <keyword>: <flow> or <keyword>: {flow: <flow>, drill: true, "
                                        "step: <step>, whole: true, keep: [incident]}"))
                continue
            flow_problem(f"{where}.{keyword_id}", trigger.flow)
            if trigger.step and trigger.flow in flow_steps and trigger.step not in flow_steps[trigger.flow]:
                problems.append(Problem(label, f"{where}.{keyword_id}.step", f"{trigger.step!r} is not a step of "
                                        f"{trigger.flow}", f"use one of {', '.join(sorted(flow_steps[trigger.flow]))}"))
            found[str(keyword_id)] = trigger
        return found

    kinds = {}
    for kind in LINE_KINDS:
        item = raw.get(kind)
        if not isinstance(item, dict) or not item.get("sms") or not item.get("voice"):
            problems.append(Problem(label, kind, "needs sms and voice entry flows", "e.g. sms: family_start"))
            continue
        for channel in ("sms", "voice"):
            flow_problem(f"{kind}.{channel}", str(item[channel]))
        kinds[kind] = LineKind(str(item["sms"]), str(item["voice"]), triggers(item.get("keywords"), f"{kind}.keywords"))
    return LineTable(kinds, triggers(raw.get("global"), "global")), problems
