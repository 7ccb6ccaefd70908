"""What flows may ask about the conversation (``if:`` steps), the lists they may offer (``from:``),
and whom they may dial. The host computes these; the engine only reads them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from collections.abc import Callable

from .district import CONTACT_ROLES

if TYPE_CHECKING:
    from .conversation import Turn

FACTS: dict[str, Callable[[Turn], bool]] = {
    # the sender is on the roster, or gave the staff code in this conversation
    # (a call's roster number counts only when its caller ID can be believed: callerid.py)
    "is_staff": lambda turn: turn.roster_member() is not None or bool(turn.state.get("verified")),
    # the caller picked a language (by number, or by a greeting such as HOLA)
    "language_chosen": lambda turn: bool(turn.state.get("language_chosen")),
    "single_language": lambda turn: len(turn.district.languages) == 1,
    # by phone, the chosen language has neither a Twilio voice nor recordings: use the interpreter
    "voice_unavailable": lambda turn: turn.channel == "voice" and not turn.voice_ready(),
    # the family liaison's office hours
    "office_open": lambda turn: turn.liaison_open(),
    "legal_open": lambda turn: turn.district.legal_open(),
    "on_voice": lambda turn: turn.channel == "voice",
    "drill": lambda turn: bool(turn.state.get("drill")),
}

LISTS = ("schools", "languages")

# Dial targets are contact roles (the first contact with the role is called).
DIAL_TARGETS = tuple(role for role in CONTACT_ROLES if role != "other")
