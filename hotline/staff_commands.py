"""Commands by text on the staff line that act on an incident directly, outside any flow:
``ACK [n]`` and ``CLOSE [n]`` from the district's contacts, ``LEAD [n]`` from a school leader.

They match only as the whole message (the keyword, optionally with the incident number), so an
everyday sentence never changes an incident. Who may do what is the state model's (incidents/).
"""

from __future__ import annotations

import re

from .engine import KeywordMatch, words
from .incidents import changes, states
from .incidents.changes import Actor, Outcome
from .incidents.contacts import names, told_of_changes
from .incidents.notices import message_variables
from .incidents.records import Incident
from .turn import Turn, TurnResult

INCIDENT_ID = re.compile(r"^d?\d{1,7}$")
CONTACT_COMMANDS = ("ack", "close")


def command_incident_id(body: str, match: KeywordMatch) -> tuple[bool, str | None]:
    """(whole, incident id): the message is the keyword alone or the keyword and one incident number."""
    rest = words(body)[match.length:]
    if not rest:
        return True, None
    if len(rest) == 1 and INCIDENT_ID.match(rest[0]):
        return True, rest[0].upper()
    return False, None


def _rank(actor: Actor) -> int:
    # A number listed under several roles acts in its strongest one.
    if actor.role in states.LEGAL_ROLES:
        return 0
    return 1 if actor.role in states.RESPONDER_ROLES else 2


def _contact_actor(turn: Turn, incident: Incident) -> Actor:
    actors = [a for a in changes.actors_for_number(turn.district, incident, turn.caller)
              if a.role not in ("reporter", "school_leader")]
    return sorted(actors, key=_rank)[0]


def _choose(turn: Turn, candidates: list[str], given: str | None, none_key: str) -> Incident | TurnResult:
    listing = ", ".join(candidates) or "-"
    if given is None:
        if not candidates:
            return turn.answer(none_key)
        if len(candidates) > 1:
            return turn.answer("escalation.ack_which", open=listing, example=candidates[0])
        given = candidates[0]
    incident = turn.services.incidents.get(turn.district.id, given)
    if incident is None or not incident.active:
        return turn.answer("escalation.ack_unknown", incident=given, open=listing)
    return incident


REPLIES = {
    "taken": "escalation.you_have_it", "yours": "escalation.you_have_it",
    "responding": "escalation.you_are_responding", "yours_responding": "escalation.you_are_responding",
    "already_taken": "escalation.taken_by_other", "already_responding": "escalation.already_responding",
    "not_allowed_type": "escalation.records_legal_only", "not_allowed_role": "escalation.role_cannot_take",
    "not_alerted": "escalation.not_alerted", "closed": "escalation.ack_unknown",
    "not_allowed_state": "escalation.ack_unknown",
}
CLOSE_REPLIES = {"closed": "escalation.you_closed", "not_allowed_role": "escalation.role_cannot_close",
                 "not_alerted": "escalation.not_alerted", "not_allowed_state": "escalation.ack_unknown"}


def _answer(turn: Turn, outcome: Outcome, table: dict[str, str]) -> TurnResult:
    incident = outcome.incident
    values = message_variables(turn.services, turn.district, incident)
    values["contact"] = incident.holder_name if outcome.reason != "already_responding" else incident.responding_name
    values["open"] = "-"
    return turn.answer(table.get(outcome.reason, "escalation.ack_unknown"), **values)


def contact_command(turn: Turn, body: str, match: KeywordMatch) -> TurnResult:
    """ACK or CLOSE from a number on the district's contact list."""
    whole, given = command_incident_id(body, match)
    if not whole:
        return turn.answer("escalation.command_format", keyword=words(body)[0].upper())
    services, district = turn.services, turn.district
    if match.keyword == "ack":
        choice = _choose(turn, services.incidents.awaiting(district.id, turn.caller), given, "escalation.ack_none")
        if isinstance(choice, TurnResult):
            return choice
        return _answer(turn, changes.take(services, district, choice, _contact_actor(turn, choice)), REPLIES)
    held = [i.id for i in services.incidents.open_incidents(district.id)
            if i.acknowledged_by in {c.id for c in district.contact_by_number(turn.caller)}]
    choice = _choose(turn, held, given, "escalation.close_none")
    if isinstance(choice, TurnResult):
        return choice
    return _answer(turn, changes.close(services, district, choice, _contact_actor(turn, choice)), CLOSE_REPLIES)


def lead_command(turn: Turn, body: str, match: KeywordMatch) -> TurnResult:
    """LEAD from a school leader: they take charge on site of an incident at their school."""
    whole, given = command_incident_id(body, match)
    services, district = turn.services, turn.district
    if not whole:
        return turn.answer("escalation.command_format", keyword=words(body)[0].upper())
    schools = {school.id for school in district.schools.values() if school.leader == turn.caller}
    if not schools:
        return turn.answer("staff.lead.not_leader")
    at_school = [i.id for i in services.incidents.open_incidents(district.id) if i.school in schools]
    choice = _choose(turn, at_school, given, "staff.lead.none")
    if isinstance(choice, TurnResult):
        return choice
    if choice.school not in schools:
        return turn.answer("staff.lead.not_leader")
    actor = Actor("school_leader", turn.caller, _leader_name(turn), turn.caller, "text")
    outcome = changes.lead(services, district, choice, actor)
    turn.state["drill"] = choice.drill
    if outcome.changed:
        # Who is told comes from the ledger as it is now (contacts.told_of_changes), as changes.lead queued.
        told = told_of_changes(services.redis, district, choice)
        if told:
            return turn.answer("staff.lead.yours", incident=choice.id, reached=names(told))
        return turn.answer("staff.lead.yours_nobody_reached", incident=choice.id)
    # Already in charge (this leader, on a repeated LEAD, or another): nothing new is sent.
    return turn.answer("staff.lead.already", incident=choice.id, contact=choice.lead_name or "")


def _leader_name(turn: Turn) -> str:
    member = turn.district.roster.get(turn.caller)
    return member.name if member else "school leader"
