"""The words flows may use: action names (``do:``), facts (``if:``), lists (``from:``) and dial
targets (``dial:``). Declared here, below both the flow loader and the code that implements them
(actions.py, facts.py), so loading flows needs none of the conversation layer; a test checks that
the implementations match these names exactly."""

from __future__ import annotations

from .district import CONTACT_ROLES
from .engine import Vocabulary
from .messages import Catalogs

ACTION_NAMES = frozenset({
    "start_incident", "verify_reporter", "set_school", "record", "mark_urgent", "incident_status", "forget_answers",
    "officers_left", "submit_request", "switch_flow", "set_language",
})
FACT_NAMES = frozenset({
    "is_staff", "is_school_leader", "has_schools", "language_chosen", "single_language", "voice_unavailable",
    "office_open", "legal_open", "on_voice", "drill", "update_replaces",
})
LISTS = frozenset({"schools", "languages"})
# Dial targets are contact roles (the first contact with the role is called).
DIAL_TARGETS = frozenset(role for role in CONTACT_ROLES if role != "other")


def vocabulary(catalogs: Catalogs) -> Vocabulary:
    english = catalogs.catalogs.get("en")
    return Vocabulary(ACTION_NAMES, FACT_NAMES, LISTS, DIAL_TARGETS,
                      frozenset(english.entries) if english else frozenset(), check_keys=english is not None)
