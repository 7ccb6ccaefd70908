"""Composable recordings: how a language without a Twilio voice is spoken from a district's recordings.

A message without per-call values is one recording, ``<key>.mp3``. A message with per-call values
("For Soomaali, press {digit}", "Your reference number is {reference}") is played the way IVR
systems do it: the recorded pieces of the language's own sentence between the values, and each value
from its own recordings. The layout under ``messages/audio/<lang>/`` (docs/languages.md):

    family.welcome.mp3          a whole message (it may say the district's name and numbers)
    format.voice_option.1.mp3   piece 1 of a message with values: the words before the first value,
    format.voice_option.2.mp3   piece 2: the words between the first and second value, and so on
                                (a piece that is only punctuation needs no recording)
    digits/0.mp3 ... digits/9.mp3   numbers, phone numbers and reference numbers, digit by digit
    names/<name>.mp3            a name said as it is (a school: names/lincoln-elementary.mp3)

A menu option's label is the recording of the label's own message. Everything here is pure: it
reads the catalogs and the set of recordings present, and returns the files to play, or what is
missing.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .messages import Catalogs
from .render.values import Phone

# Placeholders whose value is fixed for a district: a district's own recording may say them.
DISTRICT_CONSTANTS = frozenset({"district", "legal_phone", "safety_phone", "liaison_phone", "civil_rights_phone",
                                "help_phone", "resources", "safety_name", "contact_portal", "example_phone"})
DIGITS = tuple(f"digits/{d}" for d in "0123456789")

# The family line by phone: the flows it walks, and what the host says that no flow step names.
FAMILY_FLOWS = ("family_start", "language")
FAMILY_HOST_KEYS = ("family.update.sent", "family.concern.sent", "family.concern.sent_school", "family.person.sent",
                    "common.error", "common.invalid", "common.invalid_choice", "common.invalid_phone",
                    "common.invalid_text", "common.too_long", "common.invalid_digits", "common.goodbye",
                    "format.voice_option", "language.option", "voice.leave_message")


@dataclass(frozen=True)
class MessageRef:
    """A value that is itself a catalog message (a menu option's label): played as its recording."""

    key: str


def slug(name: str) -> str:
    """names/<slug>.mp3 for a name: lower case, accents off, words joined by '-'."""
    folded = unicodedata.normalize("NFKD", name)
    kept = "".join(ch for ch in folded if not unicodedata.combining(ch)).casefold()
    return "-".join(re.findall(r"\w+", kept))


def _parts(template: str) -> list[tuple[str, str | None]]:
    """(literal, field) pairs of a template, district constants folded into the literal text."""
    parts: list[tuple[str, str | None]] = []
    literal = ""
    for text, field, spec, conversion in string.Formatter().parse(template):
        literal += text
        if field is None:
            continue
        if field in DISTRICT_CONSTANTS:
            literal += "{" + field + "}"
            continue
        parts.append((literal, field))
        literal = ""
    parts.append((literal, None))
    return parts


def _speakable(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


def per_call_fields(template: str) -> list[str]:
    return [field for _, field in _parts(template) if field]


def pieces_of(template: str, key: str) -> list[str | None]:
    """The recording of each piece of ``template`` (None where a piece is only punctuation)."""
    parts = _parts(template)
    if len(parts) == 1:
        return [key]
    return [f"{key}.{index}" if _speakable(literal) else None for index, (literal, _) in enumerate(parts, start=1)]


def _digits_of(value: object) -> list[str] | None:
    if isinstance(value, Phone):
        text = value.for_channel("sms")
    else:
        text = str(value)
    stripped = re.sub(r"[\s()+\-.]", "", text)
    if stripped and stripped.isascii() and stripped.isdigit():
        return [f"digits/{d}" for d in stripped]
    return None


class Composer:
    """Which recordings say a message in one language, given the recordings present."""

    def __init__(self, catalogs: Catalogs, lang: str, stored: frozenset[str] = frozenset()):
        self.catalogs = catalogs
        self.lang = lang
        self.catalog = catalogs.get(lang)
        # messages/audio/<lang>/ and the district's own recordings made by phone
        self.have = frozenset(self.catalog.audio) | stored if self.catalog.code == lang else stored

    def template(self, key: str) -> str | None:
        entry = self.catalog.entries.get(key) if self.catalog.code == self.lang else None
        return entry.form("voice") if entry else None

    def compose(self, key: str, values: Mapping[str, object], depth: int = 0) -> list[str] | None:
        """The recordings to play, in order; None when one is missing (the caller then uses <Say>
        or the interpreter)."""
        template = self.template(key)
        if template is None or depth > 3:
            return None
        have = self.have
        parts = _parts(template)
        if len(parts) == 1:
            return [key] if key in have else None
        played: list[str] = []
        for index, (literal, field) in enumerate(parts, start=1):
            if _speakable(literal):
                piece = f"{key}.{index}"
                if piece not in have:
                    return None
                played.append(piece)
            if field is None:
                continue
            value = values.get(field)
            said = self.value(value, depth)
            if said is None:
                return None
            played.extend(said)
        return played

    def value(self, value: object, depth: int = 0) -> list[str] | None:
        have = self.have
        if value is None or value == "":
            return []
        if isinstance(value, MessageRef):
            return self.compose(value.key, {}, depth + 1)
        digits = _digits_of(value)
        if digits is not None:
            return digits if all(d in have for d in digits) else None
        name = f"names/{slug(str(value))}"
        return [name] if name in have else None

    def needed(self, keys: Iterable[str], names: Iterable[str] = ()) -> list[str]:
        """Every recording a complete voice line needs for ``keys`` (sorted), including digits and
        the names that are read out (schools)."""
        wanted: set[str] = set(DIGITS)
        for key in keys:
            template = self.template(key) or (self.catalogs.get("en").entries[key].form("voice")
                                              if key in self.catalogs.get("en").entries else None)
            if template is None:
                continue
            wanted.update(p for p in pieces_of(template, key) if p)
        wanted.update(f"names/{slug(n)}" for n in names if slug(n))
        return sorted(wanted)

    def missing(self, keys: Iterable[str], names: Iterable[str] = ()) -> list[str]:
        return [r for r in self.needed(keys, names) if r not in self.have]


def family_keys(flows) -> list[str]:
    """The messages the family line can say by phone."""
    keys: set[str] = set(FAMILY_HOST_KEYS)
    for flow_id in FAMILY_FLOWS:
        flow = flows.flows.get(flow_id)
        if flow is None:
            continue
        for step in flow.steps.values():
            keys.update(step.say)
            if step.prompt:
                keys.add(step.prompt)
            keys.update(o.label for o in step.options)
    return sorted(keys)


def missing_for_family_line(catalogs: Catalogs, flows, lang: str, school_names: Iterable[str],
                            stored: frozenset[str] = frozenset()) -> list[str]:
    return Composer(catalogs, lang, stored).missing(family_keys(flows), school_names)
