"""Message variables that read differently by text and by voice."""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Mapping

from ..phones import national, spoken_digits


@dataclass(frozen=True)
class Phone:
    """A phone number: ``(303) 555-0110`` in a text, digit by digit when spoken."""

    e164: str

    def for_channel(self, channel: str) -> str:
        return spoken_digits(self.e164) if channel == "voice" else national(self.e164)

    def __str__(self) -> str:
        return national(self.e164)


def for_channel(variables: Mapping[str, object], channel: str) -> dict[str, str]:
    return {name: value.for_channel(channel) if isinstance(value, (Phone, Place)) else ("" if value is None else str(value))
            for name, value in variables.items()}


@dataclass(frozen=True)
class Place:
    """A named place with a web address (a parent portal): name and address in a text, the name
    alone when spoken (nobody can follow a URL read aloud)."""

    name: str
    url: str | None = None

    def for_channel(self, channel: str) -> str:
        return f"{self.name} ({self.url})" if self.url and channel != "voice" else self.name

    def __str__(self) -> str:
        return self.for_channel("sms")
