"""Answer validators for ``ask`` steps. Each takes the answer and returns a Verdict.

A verdict is either valid (with the value to save) or invalid (with the catalog key that tells
the caller what to send instead, and its variables).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from collections.abc import Callable

import phonenumbers

from .keywords import ascii_digits, words


@dataclass(frozen=True)
class Answer:
    text: str = ""
    media: tuple[str, ...] = ()
    recording: str | None = None    # voice: the URL of what the caller recorded


@dataclass(frozen=True)
class Verdict:
    ok: bool
    value: object = None
    problem: str = "common.invalid"
    problem_vars: dict = field(default_factory=dict)


def valid(value: object) -> Verdict:
    return Verdict(True, value)


def invalid(problem: str = "common.invalid", **variables) -> Verdict:
    return Verdict(False, problem=problem, problem_vars=variables)


@dataclass(frozen=True)
class Limits:
    """A validator's settings (from the step) and what it needs to know of the conversation."""

    settings: dict
    choices: list[str]                   # the options' digits, for choice
    yes_words: frozenset[str] = frozenset()
    no_words: frozenset[str] = frozenset()
    region: str = "US"
    staff_code: str | None = None


def _skipped(answer: Answer, limits: Limits) -> bool:
    return bool(limits.settings.get("optional")) and words(answer.text) == ["0"] and not answer.media


def choice(answer: Answer, limits: Limits) -> Verdict:
    first = (words(answer.text) or [""])[0]
    if first in limits.choices:
        return valid(first)
    return invalid("common.invalid_choice", choices=", ".join(limits.choices))


def yes_no(answer: Answer, limits: Limits) -> Verdict:
    first = (words(answer.text) or [""])[0]
    if first == "1" or first in limits.yes_words:
        return valid("yes")
    if first == "2" or first in limits.no_words:
        return valid("no")
    return invalid("common.invalid_choice", choices="1, 2")


def phone(answer: Answer, limits: Limits) -> Verdict:
    if _skipped(answer, limits):
        return valid(None)
    text = ascii_digits(answer.text).strip()
    try:
        parsed = phonenumbers.parse(text, limits.region)
    except phonenumbers.NumberParseException:
        return invalid("common.invalid_phone")
    if not phonenumbers.is_valid_number(parsed):
        return invalid("common.invalid_phone")
    return valid(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def text(answer: Answer, limits: Limits) -> Verdict:
    if answer.recording:
        return valid(answer.recording)
    if _skipped(answer, limits):
        return valid(None)
    cleaned = " ".join(answer.text.split())
    max_length = int(limits.settings.get("max_length", 300))
    if not cleaned:
        return invalid("common.invalid_text")
    if len(cleaned) > max_length:
        return invalid("common.too_long", max=max_length, length=len(cleaned))
    return valid(cleaned)


def digits(answer: Answer, limits: Limits) -> Verdict:
    cleaned = "".join(ascii_digits(answer.text).split())
    low, high = int(limits.settings.get("min", 1)), int(limits.settings.get("max", 10))
    if cleaned.isdigit() and cleaned.isascii() and low <= len(cleaned) <= high:
        return valid(cleaned)
    return invalid("common.invalid_digits", min=low, max=high)


def media(answer: Answer, limits: Limits) -> Verdict:
    if answer.media:
        return valid(list(answer.media))
    if _skipped(answer, limits):
        return valid(None)
    return invalid("common.invalid_media")


def staff_code(answer: Answer, limits: Limits) -> Verdict:
    cleaned = "".join(ascii_digits(answer.text).split())
    if limits.staff_code and hmac.compare_digest(cleaned.encode(), limits.staff_code.encode()):
        return valid(True)
    return invalid("staff.code.wrong")


VALIDATORS: dict[str, Callable[[Answer, Limits], Verdict]] = {
    "choice": choice,
    "yes_no": yes_no,
    "phone": phone,
    "text": text,
    "digits": digits,
    "media": media,
    "staff_code": staff_code,
    # language and list choices (schools) are numbered choices whose options the host supplies.
    "language": choice,
}

# Keys the validators answer with; every catalog must have them.
VALIDATOR_KEYS = ("common.invalid", "common.invalid_choice", "common.invalid_phone", "common.invalid_text",
                  "common.too_long", "common.invalid_digits", "common.invalid_media", "staff.code.wrong")
