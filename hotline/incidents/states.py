"""The incident state model: one table says which state an incident may move to, who may move it
(by role), for which incident types, and who is told. docs/incidents.md shows the same table and a
test walks it against this one.

States
- ``open``: reported; the escalation is looking for a legal role to take it.
- ``responding``: safety (or the crisis team, for a detention) is responding on site; the
  escalation goes on until a legal role takes it (001: "the DPS legal office will handle the
  response"; safety is who staff call when legal is closed or the officer is not cooperative).
- ``taken``: a legal role has it; the escalation stops.
- ``closed``: a legal role or a dashboard user closed it.

Facts that are not states: ``urgent`` (the officers say it is an emergency), the school leader in
charge on site (``lead``), and the officers having left (``left``). None of them stops the
escalation or closes anything: only a legal role or the dashboard closes an incident.

Pure data: no Redis, no Twilio. incidents/changes.py carries the transitions out.
"""

from __future__ import annotations

from dataclasses import dataclass

STATES = ("open", "responding", "taken", "closed")
ACTIVE = ("open", "responding", "taken")
ESCALATING = ("open", "responding")

# Roles that can act on an incident. Contact roles come from the district file; "reporter" is the
# staff member who reported it, "school_leader" the leader of the reporter's school, "dashboard" a
# signed-in dashboard user, "system" the hotline itself.
LEGAL_ROLES = ("legal", "legal_backup", "designee")
RESPONDER_ROLES = ("safety", "crisis")

ALL_TYPES = ("ice", "records", "detain")


@dataclass(frozen=True)
class Transition:
    name: str
    keyword: str                 # how a person causes it ("" for the hotline itself)
    from_states: tuple[str, ...]
    to_state: str | None         # None: the state does not change
    roles: tuple[str, ...]
    types: tuple[str, ...]
    tells: tuple[str, ...]       # who is told: reporter, reached (every contact reached so far), ...
    meaning: str


TRANSITIONS: tuple[Transition, ...] = (
    Transition("take", "ACK", ESCALATING, "taken", LEGAL_ROLES + ("dashboard",), ALL_TYPES,
               ("reporter", "reached"), "a legal role has the incident; the escalation stops"),
    Transition("respond", "ACK", ("open",), "responding", ("safety",), ("ice",),
               ("reporter", "reached"), "safety is responding on site; legal is still alerted"),
    Transition("respond", "ACK", ("open",), "responding", ("safety", "crisis"), ("detain",),
               ("reporter", "reached"), "safety or the crisis team is responding; legal is still alerted"),
    Transition("lead", "LEAD", ACTIVE, None, ("school_leader",), ALL_TYPES,
               ("reporter", "reached"), "the school leader takes charge on site"),
    Transition("urgent", "EMERGENCY", ACTIVE, None, ("reporter", "school_leader"), ALL_TYPES,
               ("reached", "later tiers"), "the officers say it is an emergency or gave a lawful order"),
    Transition("left", "LEFT", ACTIVE, None, ("reporter", "school_leader"), ALL_TYPES,
               ("reached",), "the officers (or requester) left; the incident stays open for legal"),
    Transition("close", "CLOSE", ACTIVE, "closed", LEGAL_ROLES + ("dashboard",), ALL_TYPES,
               ("reporter", "reached"), "a legal role or the dashboard closes it"),
    Transition("give_up", "", ESCALATING, None, ("system",), ALL_TYPES,
               ("reporter",), "every tier and round ran and no legal role took it"),
    Transition("all_failed", "", ESCALATING, None, ("system",), ALL_TYPES,
               ("reporter",), "every send of every tier so far failed for good"),
)


def allowed(name: str, role: str, type_: str, state: str) -> Transition | None:
    """The transition ``name`` if ``role`` may cause it on an incident of ``type_`` in ``state``."""
    for transition in TRANSITIONS:
        if transition.name == name and role in transition.roles and type_ in transition.types \
                and state in transition.from_states:
            return transition
    return None


def may(name: str, role: str, type_: str) -> bool:
    """Whether ``role`` may ever cause ``name`` on an incident of ``type_`` (in some state)."""
    return any(t.name == name and role in t.roles and type_ in t.types for t in TRANSITIONS)


def from_states(name: str, role: str, type_: str) -> tuple[str, ...]:
    states: list[str] = []
    for transition in TRANSITIONS:
        if transition.name == name and role in transition.roles and type_ in transition.types:
            states += [s for s in transition.from_states if s not in states]
    return tuple(states)
