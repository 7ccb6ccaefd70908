"""SMS rendering: a question's choices become numbered lines; replies join into as few messages
as fit (Twilio accepts up to 1,600 characters in one message, split into segments by carriers)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..engine import Reply
from ..messages import Catalogs
from .values import for_channel

MAX_MESSAGE = 1600


def render_reply(reply: Reply, catalogs: Catalogs, lang: str, default: str, variables: Mapping[str, object]) -> str:
    values = for_channel({**variables, **reply.vars}, "sms")
    text = catalogs.render(lang, reply.key, values, "sms", default).text
    if reply.input and reply.input.choices:
        lines = []
        for choice in reply.input.choices:
            label = choice.label if choice.literal else catalogs.render(lang, choice.label, values, "sms", default).text
            lines.append(catalogs.render(lang, "format.sms_option", {"digit": choice.digit, "label": label},
                                         "sms", default).text)
            if reply.input.expect == "language":
                lines.extend(_reach_person(catalogs, choice.value or choice.label, values))
        text = "\n".join([text, *lines])
    return text


def _reach_person(catalogs: Catalogs, code: str, values: Mapping[str, str]) -> list[str]:
    """Under each language of the language list, in that language, how to reach a person now: a
    parent who texted "ICE is at my son's school" must not get only a list (issue 12). Only a
    language whose own catalog has the line shows it (no English under another language's name)."""
    if code not in catalogs or "language.reach_person" not in catalogs.get(code).entries:
        return []
    return ["   " + catalogs.render(code, "language.reach_person", values, "sms", code).text]


def drill_prefix(catalogs: Catalogs, lang: str, default: str) -> str:
    """What every text of a drill starts with ("DRILL - practice only. ")."""
    return catalogs.render(lang, "staff.drill_prefix", {}, "sms", default).text + " "


def render_sms(items: Iterable, catalogs: Catalogs, lang: str, default: str, variables: Mapping[str, object],
               prefix: str = "") -> list[str]:
    """The messages to send for one turn (usually one)."""
    parts = [render_reply(item, catalogs, lang, default, variables) for item in items
             if isinstance(item, Reply)]
    parts = [p for p in parts if p]
    messages: list[str] = []
    for part in parts:
        if messages and len(messages[-1]) + 2 + len(part) <= MAX_MESSAGE:
            messages[-1] += "\n\n" + part
        else:
            messages.append(part)
    messages = [chunk for message in messages for chunk in _split(message)]
    return [prefix + m for m in messages] if prefix else messages


def _split(message: str) -> list[str]:
    if len(message) <= MAX_MESSAGE:
        return [message]
    chunks, rest = [], message
    while len(rest) > MAX_MESSAGE:
        cut = rest.rfind(" ", 0, MAX_MESSAGE)
        cut = cut if cut > MAX_MESSAGE // 2 else MAX_MESSAGE
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return chunks + [rest] if rest else chunks

