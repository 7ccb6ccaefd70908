"""Phone numbers: parsed with phonenumbers into E.164, and masked for logs."""

from __future__ import annotations

import functools

import phonenumbers


class InvalidNumber(ValueError):
    pass


@functools.lru_cache(maxsize=4096)
def _e164(text: str, region: str) -> str:
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidNumber(str(exc)) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidNumber(f"{text!r} is not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def to_e164(value: object, region: str = "US") -> str:
    """The E.164 form of ``value`` (``+13035550100``); InvalidNumber if it is not a real number."""
    text = str(value or "").strip()
    if not text:
        raise InvalidNumber("empty")
    # Cached: the same few numbers (lines, contacts) are parsed on every request.
    return _e164(text[:64], region)


def try_e164(value: object, region: str = "US") -> str | None:
    try:
        return to_e164(value, region)
    except InvalidNumber:
        return None


@functools.lru_cache(maxsize=4096)
def national(e164: str) -> str:
    """A number as people read it aloud in its own country: ``(303) 555-0110``."""
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164, None), phonenumbers.PhoneNumberFormat.NATIONAL)
    except phonenumbers.NumberParseException:
        return e164


@functools.lru_cache(maxsize=4096)
def spoken_digits(e164: str) -> str:
    """Digits separated so a text-to-speech voice reads them one by one."""
    return " ".join(ch for ch in national(e164) if ch.isdigit())


def mask(number: object) -> str:
    """What a log may carry of a number: its last four digits at most."""
    digits = "".join(ch for ch in str(number or "") if ch.isdigit())
    return f"…{digits[-4:]}" if digits else "-"


# NANP numbers 555-0100 to 555-0199 are reserved for fiction: safe to print as an example.
_FICTIONAL_NANP_LINE = "5550199"


@functools.lru_cache(maxsize=256)
def example_number(region: str, near: str | None = None) -> str:
    """An example number (E.164) a caller of this district would recognise as local: in North
    America the area code of ``near`` (the line's own number) with a fictional 555-01xx line;
    elsewhere phonenumbers' example number for the district's region."""
    if near:
        try:
            parsed = phonenumbers.parse(near, region)
        except phonenumbers.NumberParseException:
            parsed = None
        if parsed is not None and parsed.country_code == 1:
            area = str(parsed.national_number)[:3]
            return f"+1{area}{_FICTIONAL_NANP_LINE}"
    example = phonenumbers.example_number(region or "US")
    if example is None:
        example = phonenumbers.example_number("US")
    return phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
