"""The first reply a keyword's flow sends, as a front desk reads it: every message up to the first
question, rendered with the district's own names and numbers, joined as one SMS. What a person
needs in the first 30 seconds must fit the SMS budget (3 segments): `hotline check` warns per
language when it does not.

Every way through the flow's `if:` steps is followed (legal open or closed, a school leader or
not), so the warning covers the longest variant.
"""

from __future__ import annotations

from dataclasses import dataclass

from .district import District
from .engine import Choice, Input, Reply
from .engine.flows import FlowSet
from .messages import Catalogs
from .render.sms import render_sms
from .segments import SegmentCount, count_segments
from .variables import base_variables

SAMPLE_INCIDENT = "101"


@dataclass(frozen=True)
class FirstReply:
    text: str
    segments: SegmentCount


def reply_keys(flows: FlowSet, flow_id: str) -> list[list[Reply]]:
    """Each way through ``flow_id`` from its start to its first question: the replies said."""
    flow = flows.flows[flow_id]
    paths: list[list[Reply]] = []

    def walk(step_id: str | None, said: list[Reply], depth: int) -> None:
        if step_id is None or depth > 40:
            paths.append(said)
            return
        step = flow.steps[step_id]
        if step.only == "voice":
            walk(step.next, said, depth + 1)
            return
        said = said + [Reply(key) for key in step.say]
        if step.kind in ("ask", "menu"):
            choices = tuple(Choice(o.digit, o.label) for o in step.options)
            paths.append(said + [Reply(step.prompt or "common.help", {}, Input("choice", choices))])
        elif step.kind == "do":
            if step.action == "start_incident":
                said = said + [Reply(f"staff.notify.started_{step.args.get('type', 'ice')}")]
            walk(step.next, said, depth + 1)
        elif step.kind == "if":
            walk(step.then, said, depth + 1)
            walk(step.otherwise, said, depth + 1)
        elif step.kind == "end":
            paths.append(said)
        else:
            walk(step.next, said, depth + 1)

    walk(flow.start, [], 0)
    return paths


def longest_first_reply(flows: FlowSet, catalogs: Catalogs, district: District, flow_id: str,
                        lang: str) -> FirstReply:
    line = district.line_of_kind("staff") or district.lines[0]
    variables = {**base_variables(district, line), "incident": SAMPLE_INCIDENT}
    worst: FirstReply | None = None
    for replies in reply_keys(flows, flow_id):
        text = "\n\n".join(render_sms(replies, catalogs, lang, district.default_language, variables))
        reply = FirstReply(text, count_segments(text))
        if worst is None or reply.segments.units > worst.segments.units:
            worst = reply
    return worst or FirstReply("", count_segments(""))
