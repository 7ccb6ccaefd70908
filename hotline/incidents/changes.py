"""Carrying out the state model (states.py): who is acting, whether they may, the atomic change,
the timeline entry and the notices. Every entry point (a text, a key pressed on a call, the
dashboard) comes through here, so the rules are the same whichever way a person acts.

Each change is one compare-and-set in Redis (IncidentStore.apply): of two people acting at once,
exactly one changes the incident, and only that one queues notices.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ..district import District
from ..services import Services
from . import states
from .contacts import is_alerted
from .notices import tell_reached, tell_reporter
from .records import Incident

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Actor:
    """Who is acting: a contact (by role), the reporter, the school leader, or a dashboard user."""

    role: str
    id: str
    name: str
    number: str | None = None
    via: str = "text reply"
    person: str | None = None     # the person acting for a contact or the dashboard, when known


@dataclass(frozen=True)
class Outcome:
    changed: bool
    reason: str          # what happened, or why nothing did (the reply's message depends on it)
    incident: Incident


def dashboard_actor(name: str, user_id: str = "dashboard", person: str | None = None) -> Actor:
    return Actor("dashboard", user_id, name, None, "dashboard", person)


def person_for(services: Services, district: District, actor: Actor) -> str | None:
    """Who is acting: the dashboard account's person, or the one account holding the contact's
    phone number in this district (docs/dashboard.md), if any."""
    if actor.person or not actor.number:
        return actor.person
    holders = services.accounts.by_phone(actor.number, district.id)
    return holders[0].name if len(holders) == 1 else None


def _who(person: str | None, actor: Actor) -> str:
    return f"{person} for {actor.name}" if person else actor.name


def actors_for_number(district: District, incident: Incident, number: str, via: str = "text reply") -> list[Actor]:
    """Every way this number may act on this incident: as each of its contacts, as the school
    leader of the incident's school, as the reporter."""
    found = [Actor(c.role, c.id, c.name, c.number, via) for c in district.contact_by_number(number)]
    leader = district.school_leader(incident.school)
    if leader and leader == number:
        member = district.roster.get(number)
        found.append(Actor("school_leader", number, member.name if member else "school leader", number, via))
    if incident.reporter == number:
        member = district.roster.get(number)
        found.append(Actor("reporter", number, member.name if member else "the reporter", number, via))
    return found


def _refusal(name: str, actor: Actor, incident: Incident) -> str:
    if not states.may(name, actor.role, incident.type):
        return "not_allowed_type" if states.may(name, actor.role, "ice") else "not_allowed_role"
    if incident.status == "closed":
        return "closed"
    if incident.status == "taken":
        return "already_taken"
    if incident.status == "responding":
        return "already_responding"
    return "not_allowed_state"


def _alerted_or_direct(services: Services, district: District, incident: Incident, actor: Actor) -> bool:
    """Contacts act only on incidents they are alerted to (a send of this incident got through or is
    under way in its tier, or the staff call was put through to them); the dashboard is signed in."""
    if actor.role == "dashboard" or actor.via in ("dashboard", "staff call"):
        return True
    return is_alerted(services.redis, incident, actor.id)


# --- Take (ACK), respond -------------------------------------------------------------------------

def take(services: Services, district: District, incident: Incident, actor: Actor) -> Outcome:
    """ACK: a legal role takes the incident; safety (ICE) or the crisis team (DETAIN) responds."""
    name = "respond" if actor.role in states.RESPONDER_ROLES else "take"
    if not states.may(name, actor.role, incident.type):
        return Outcome(False, _refusal(name, actor, incident), incident)
    if not _alerted_or_direct(services, district, incident, actor):
        return Outcome(False, "not_alerted", incident)
    now = services.clock()
    if name == "take":
        person = person_for(services, district, actor)
        values = {"status": "taken", "acknowledged_by": actor.id, "acknowledged_name": actor.name,
                   "acknowledged_at": now, **({"acknowledged_person": person} if person else {})}
        changed = services.incidents.apply(incident, states.from_states("take", actor.role, incident.type), values,
                                           guard="acknowledged_by")
        if not changed:
            if incident.acknowledged_by == actor.id:
                return Outcome(False, "yours", incident)
            return Outcome(False, _refusal(name, actor, incident), incident)
        services.incidents.add_event(incident, "taken", f"taken by {_who(person, actor)} ({actor.via})",
                                     contact=actor.id, role=actor.role, **({"person": person} if person else {}))
        log.info("incident %s/%s taken by %s via %s", district.id, incident.id, actor.id, actor.via)
        tell_reporter(services, incident, "staff.reporter.taken", "taken", contact=actor.name)
        tell_reached(services, incident, "escalation.taken_by_other", "taken",
                     exclude=[actor.number] if actor.number else [], contact=actor.name)
        return Outcome(True, "taken", incident)
    changed = services.incidents.apply(
        incident, states.from_states("respond", actor.role, incident.type),
        {"status": "responding", "responding_by": actor.id, "responding_name": actor.name, "responding_at": now},
        guard="responding_by")
    if not changed:
        if incident.responding_by == actor.id:
            return Outcome(False, "yours_responding", incident)
        return Outcome(False, _refusal("respond", actor, incident), incident)
    services.incidents.add_event(incident, "responding", f"{actor.name} responding ({actor.via}); "
                                 "the legal office is still being alerted", contact=actor.id, role=actor.role)
    tell_reporter(services, incident, "staff.reporter.responding", "responding", contact=actor.name)
    tell_reached(services, incident, "escalation.responding", "responding",
                 exclude=[actor.number] if actor.number else [], contact=actor.name)
    return Outcome(True, "responding", incident)


# --- Close ---------------------------------------------------------------------------------------

def close(services: Services, district: District, incident: Incident, actor: Actor) -> Outcome:
    if not states.may("close", actor.role, incident.type):
        return Outcome(False, "not_allowed_role", incident)
    if not _alerted_or_direct(services, district, incident, actor) and incident.acknowledged_by != actor.id:
        return Outcome(False, "not_alerted", incident)
    person = person_for(services, district, actor)
    changed = services.incidents.apply(incident, states.ACTIVE, {"status": "closed", "closed_by": _who(person, actor),
                                                                 "closed_at": services.clock()})
    if not changed:
        return Outcome(False, "closed" if incident.status == "closed" else "not_allowed_state", incident)
    services.incidents.add_event(incident, "closed", f"closed by {_who(person, actor)} ({actor.via})",
                                 role=actor.role, **({"person": person} if person else {}))
    tell_reporter(services, incident, "staff.reporter.closed", "closed", contact=actor.name)
    tell_reached(services, incident, "escalation.closed_by", "closed",
                 exclude=[actor.number] if actor.number else [], contact=actor.name)
    return Outcome(True, "closed", incident)


# --- On-site facts: the leader in charge, urgent, the officers left ----------------------------------

def lead(services: Services, district: District, incident: Incident, actor: Actor) -> Outcome:
    if states.allowed("lead", actor.role, incident.type, incident.status) is None:
        return Outcome(False, _refusal("lead", actor, incident), incident)
    changed = services.incidents.apply(incident, states.ACTIVE, {"lead_by": actor.id, "lead_name": actor.name,
                                                                 "lead_at": services.clock()}, guard="lead_by")
    if not changed:
        return Outcome(False, "yours" if incident.lead_by == actor.id else "already_led", incident)
    services.incidents.link_reporter(incident, actor.id)
    services.incidents.add_event(incident, "lead", f"school leader {actor.name} took charge on site ({actor.via})")
    tell_reporter(services, incident, "staff.reporter.leader_in_charge", "lead", contact=actor.name)
    tell_reached(services, incident, "escalation.leader_in_charge", "lead", contact=actor.name)
    return Outcome(True, "lead", incident)


def mark_urgent(services: Services, district: District, incident: Incident, actor: Actor) -> Outcome:
    """The officers say it is an emergency: every contact reached so far is told at once, and every
    later tier's message says URGENT (notices.render_for_contacts)."""
    if states.allowed("urgent", actor.role, incident.type, incident.status) is None:
        return Outcome(False, _refusal("urgent", actor, incident), incident)
    changed = services.incidents.apply(incident, states.ACTIVE, {"urgent": True, "urgent_at": services.clock()},
                                       guard="urgent_at")
    if not changed:
        return Outcome(False, "already_urgent", incident)
    services.incidents.add_event(incident, "urgent", "the officers say it is an emergency or gave a lawful order")
    tell_reached(services, incident, "escalation.urgent", "urgent")
    return Outcome(True, "urgent", incident)


def officers_left(services: Services, district: District, incident: Incident, actor: Actor) -> Outcome:
    """LEFT: the on-site part is over. Never closes: a legal role closes the incident, and until
    one has it the escalation goes on."""
    if states.allowed("left", actor.role, incident.type, incident.status) is None:
        return Outcome(False, _refusal("left", actor, incident), incident)
    changed = services.incidents.apply(incident, states.ACTIVE, {"left_at": services.clock()}, guard="left_at")
    if not changed:
        return Outcome(False, "already_left", incident)
    services.incidents.add_event(incident, "left", f"{actor.name} says the officers have left; "
                                 "the incident stays open for the legal office")
    tell_reached(services, incident, "escalation.officers_left", "left")
    return Outcome(True, "left", incident)
