"""Who an incident's escalation addresses, and where its sends are booked: the ledger of one
incident has a field per (contact, channel, round, tier). Both the escalation and the notices read
it, so "who was reached" has one answer."""

from __future__ import annotations

from dataclasses import dataclass

import redis

from ..district import District
from ..store import key
from . import ledger
from .records import Incident

LEADER = "school_leader"        # the pseudo-contact id of the reporter's school leader
# Pseudo-contact ids "resource_person:<n>": the n-th immigration resource person of the reporter's
# school, told once like the leader; their numbers are snapshotted on the incident.
RESOURCE_PERSON = "resource_person:"


def informed_only(contact_id: str) -> bool:
    """Told for their information (the school leader, resource people): not a tier, never retried
    by another channel, never a contact who may act on the incident, told even when it was taken."""
    return contact_id == LEADER or contact_id.startswith(RESOURCE_PERSON)


def ledger_key(incident: Incident) -> str:
    return key("escalations", incident.district, incident.id)


def delivery_field(contact_id: str, channel: str, tier: int, round_: int) -> str:
    return f"{contact_id}|{channel}|{round_}|{tier}"


def parse_field(field: str) -> tuple[str, str, int, int]:
    contact_id, channel, round_, tier = field.split("|")
    return contact_id, channel, int(tier), int(round_)


def contact_name(district: District, contact_id: str) -> str:
    if contact_id == LEADER:
        return "school leader"
    if contact_id.startswith(RESOURCE_PERSON):
        return "immigration resource person"
    contact = district.contacts.get(contact_id)
    return contact.name if contact else contact_id


def contact_number(district: District, incident: Incident, contact_id: str) -> str | None:
    if contact_id == LEADER:
        return incident.policy.get("leader")
    if contact_id.startswith(RESOURCE_PERSON):
        people = incident.policy.get("resource_people") or []
        index = contact_id[len(RESOURCE_PERSON):]
        return people[int(index)] if index.isdigit() and int(index) < len(people) else None
    contact = district.contacts.get(contact_id)
    return contact.number if contact else None


@dataclass(frozen=True)
class Reached:
    contact_id: str
    name: str
    number: str


def reached(store: redis.Redis, district: District, incident: Incident) -> list[Reached]:
    """Every contact (not those told for their information: the school leader, resource people)
    that a send of this incident got through to, in the order they were reached."""
    found: dict[str, Reached] = {}
    sent = sorted(((entry.at, field) for field, entry in ledger.entries(store, ledger_key(incident)).items()
                   if entry.status == "sent"))
    for _, field in sent:
        contact_id = parse_field(field)[0]
        number = contact_number(district, incident, contact_id)
        if not informed_only(contact_id) and number and contact_id not in found:
            found[contact_id] = Reached(contact_id, contact_name(district, contact_id), number)
    return list(found.values())


def names(found: list[Reached]) -> str:
    """Contacts as a reply lists them: "Office of Legal Counsel, Department of Safety"."""
    return ", ".join(r.name for r in found)


def told_of_changes(store: redis.Redis, district: District, incident: Incident) -> list[Reached]:
    """Who a change to the incident (left, urgent, lead, closed) is texted to: every contact reached,
    and the contact who has it, even if no alert of theirs went out (they took it on the staff
    call's screening). A replies' "we are telling ..." and the notices' jobs both read this."""
    found = reached(store, district, incident)
    holder = incident.acknowledged_by
    if holder and holder in district.contacts and all(r.contact_id != holder for r in found):
        found.append(Reached(holder, contact_name(district, holder), district.contacts[holder].number))
    return found


def is_alerted(store: redis.Redis, incident: Incident, contact_id: str) -> bool:
    """A send of this incident to the contact got through or is under way (queued in its tier,
    claimed, retrying): who may act on the incident. Never the school leader or resource people."""
    if informed_only(contact_id):
        return False
    return any(parse_field(field)[0] == contact_id and (entry.status == "sent" or entry.status in ledger.PENDING)
               for field, entry in ledger.entries(store, ledger_key(incident)).items())
