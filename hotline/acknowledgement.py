"""Acknowledgement: a contact takes an incident, by replying ``ACK 427`` (or just ``ACK`` when
only one incident awaits them), by pressing 1 on the escalation call, or from the dashboard.

The first acknowledgement stops the escalation for everyone, tells the reporter who has it and
tells the other contacts; later ones change nothing. Unknown incident numbers and numbers that
are not contacts get a clear answer and change nothing.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from . import jobs
from .district import Contact, District
from .engine import KeywordMatch, Reply, words
from .exports import holder_name
from .incidents import Incident
from .services import Services

if TYPE_CHECKING:
    from .conversation import Turn, TurnResult

log = logging.getLogger(__name__)


def acknowledge(services: Services, district: District, incident: Incident, contact_id: str, contact_name: str,
                contact_number: str | None, via: str, person: str | None = None) -> bool:
    """Record the acknowledgement; True if it was the first. ``person`` names who took it (a
    dashboard account); by text or keypress it is the account holding the contact's number."""
    if not services.incidents.acknowledge(incident, contact_id, contact_name):
        return False
    person = person or person_with_number(services, district, contact_number)
    text = f"acknowledged by {person} for {contact_name} ({via})" if person else \
        f"acknowledged by {contact_name} ({via})"
    services.incidents.add_event(incident, "acknowledged", text, contact=contact_id,
                                 **({"person": person} if person else {}))
    log.info("incident %s/%s acknowledged by %s via %s", district.id, incident.id, contact_id, via)
    jobs.enqueue(services, jobs.notify_reporter, district.id, incident.id, "staff.reporter.acknowledged",
                 "acknowledged", {"contact": contact_name})
    jobs.enqueue(services, jobs.notify_contacts, district.id, incident.id, "escalation.taken_by_other",
                 "taken", [contact_number] if contact_number else [], {"contact": contact_name})
    return True


def person_with_number(services: Services, district: District, number: str | None) -> str | None:
    """The one dashboard account holding this phone number in the district (issue 14), if any."""
    holders = services.accounts.by_phone(number, district.id) if number else []
    return holders[0].name if len(holders) == 1 else None


def acknowledge_by_text(turn: Turn, body: str, match: KeywordMatch) -> TurnResult:
    from .conversation import TurnResult
    from .escalation import message_variables

    services, district = turn.services, turn.district
    contact: Contact = district.contact_by_number(turn.caller)[0]
    given = words(body)[match.length:match.length + 1]
    incident_id = given[0].upper() if given else None

    def answer(key: str, **variables) -> TurnResult:
        return TurnResult([Reply(key, variables)], turn.variables(), district.default_language, turn.state)

    awaiting = services.incidents.awaiting(district.id, turn.caller)
    listing = ", ".join(awaiting) or "-"
    if incident_id is None:
        if not awaiting:
            return answer("escalation.ack_none")
        if len(awaiting) > 1:
            return answer("escalation.ack_which", open=listing, example=awaiting[0])
        incident_id = awaiting[0]
    incident = services.incidents.get(district.id, incident_id)
    if incident is None or not incident.active:
        return answer("escalation.ack_unknown", incident=incident_id, open=listing)
    first = acknowledge(services, district, incident, contact.id, contact.name, contact.number, "text reply")
    values = message_variables(services, district, incident)
    if first or incident.acknowledged_by == contact.id:
        return answer("escalation.you_have_it", **values)
    return answer("escalation.taken_by_other", **values, contact=holder_name(district, incident))
