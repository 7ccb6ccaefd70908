"""What flows may ask about the conversation (``if:`` steps). The host computes these; the engine
only reads them. The names are declared in vocabulary.py, which flows are checked against."""

from __future__ import annotations

from collections.abc import Callable

from .turn import Turn


def _is_school_leader(turn: Turn) -> bool:
    member = turn.roster_member()
    return bool(member and member.school and turn.district.school_leader(member.school) == turn.caller)


FACTS: dict[str, Callable[[Turn], bool]] = {
    # the sender is on the roster, or gave the staff code in this conversation
    # (a call's roster number counts only when its caller ID can be believed: callerid.py)
    "is_staff": lambda turn: turn.roster_member() is not None or bool(turn.state.get("verified")),
    # the sender is the leader of their own school (they need not be told to fetch the leader)
    "is_school_leader": _is_school_leader,
    "has_schools": lambda turn: bool(turn.district.schools),
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
    # issue 12: the family's emergency-contact update replaces a contact (rather than adds one)
    "update_replaces": lambda turn: turn.state.get("answers", {}).get("change") == "replace",
}
