"""What one turn of a conversation knows (``Turn``) and what it answers (``TurnResult``). Facts,
actions and staff commands read a Turn; conversation.py builds it around the pure engine."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import redis

from . import engine, recording_store
from .district import District, Line
from .engine import Context
from .recordings import missing_for_family_line
from .render.values import Phone
from .services import Content, Services
from .variables import base_variables


@functools.lru_cache(maxsize=512)
def _normalized(words: tuple[str, ...]) -> frozenset[str]:
    """A catalog's yes/no words as the engine compares them (every turn asks; catalogs rarely change)."""
    return frozenset(engine.normalize(w) for w in words)


@dataclass
class ActionResult:
    """What an action adds to the turn: replies where it ran in the flow, variables for later."""

    replies: list = field(default_factory=list)
    vars: dict = field(default_factory=dict)


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
    facts: Mapping[str, Callable[[Turn], bool]] = field(default_factory=dict)
    # False for a call whose caller ID the carrier could not vouch for (callerid.py): the roster
    # then proves nothing and the caller is asked for the staff code.
    caller_id_trusted: bool = True
    # A pipeline the channel sends after the turn: the conversation's save is queued on it.
    writes: redis.client.Pipeline | None = None

    def roster_member(self):
        """The roster entry of the caller's number, when the number can be believed."""
        return self.district.roster.get(self.caller) if self.caller_id_trusted else None

    @property
    def lang(self) -> str:
        return self.state.get("lang") or self.district.default_language

    def voice_ready(self, lang: str | None = None) -> bool:
        """The language can be spoken: a Twilio voice, or the recordings of everything the family
        line says (pieces, digits and school names included; see recordings.py)."""
        catalog = self.content.catalogs.get(lang or self.lang)
        if catalog.voice is not None:
            return True
        stored = recording_store.stored(recording_store.storage_folder(self.district, self.services.settings.var_dir),
                                        catalog.code)
        return bool(catalog.audio or stored) and not missing_for_family_line(
            self.content.catalogs, self.content.flows, catalog.code, [s.name for s in self.district.schools.values()],
            stored)

    def liaison_open(self) -> bool:
        liaison = self.district.first_contact("liaison")
        return liaison is not None and self.district.is_open(liaison.hours)

    def fact(self, name: str, state: dict) -> bool:
        saved, self.state = self.state, state
        try:
            return self.facts[name](self) if name in self.facts else False
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
            yes_words=_normalized(catalog.keywords.get("yes", ())),
            no_words=_normalized(catalog.keywords.get("no", ())),
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

    def answer(self, key: str, **variables) -> TurnResult:
        """A one-message answer that leaves the conversation as it was."""
        return TurnResult([engine.Reply(key, variables)], self.variables(), self.lang, self.state,
                          drill=bool(self.state.get("drill")))


@dataclass
class TurnResult:
    items: list
    variables: dict
    lang: str
    state: dict
    drill: bool = False
    silent: bool = False      # answer with an empty response (Twilio has answered, or a duplicate)
    stored: bool = True       # the conversation could be loaded and saved (Redis reachable)
