"""Escalation: notify the district's contacts, tier by tier, until a legal role takes the incident.

The policy (tiers of contacts with a wait each, repeated ``rounds`` times) is snapshotted onto
the incident when it starts, so a change to the district file never changes an incident in
flight. Each tier is an RQ job; the next tier is an RQ scheduled job; each notification is its
own job, sent at most once (ledger.py) and retried by RQ's Retry on 429/5xx/timeouts. A number
that will not work (opted out, invalid, undelivered) is not retried: the contact is called
instead, or the next tier starts at once, and the incident's timeline says so.

The escalation runs while the incident is ``open`` or ``responding`` (states.py): safety
responding on site does not stand the legal office down.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from .. import queueing
from ..district import District
from ..outbound import SendResult
from ..services import Services
from ..store import key
from . import documents, ledger, notices
from .contacts import (LEADER, RESOURCE_PERSON, contact_name, contact_number, delivery_field, informed_only,
                       ledger_key, parse_field)
from .notices import tell_reporter
from .records import Incident

log = logging.getLogger(__name__)

NUMBER_INVALID = {21211, 21214, 21612, 21614, 30005}   # no channel will reach this number


def _resource_people(district: District, reporter_school: str | None, reporter: str, leader: str | None) -> list[str]:
    return [n for n in district.resource_people(reporter_school) if n not in (reporter, leader)]


def snapshot_policy(district: District, drill: bool, reporter_school: str | None, reporter: str,
                    type_: str = "ice") -> dict:
    """The tiers this incident will use. A detention also alerts the crisis team in the first tier
    (001: "the district will engage our crisis and emergency response teams"; 004)."""
    policy = district.escalation
    if drill:
        first_wait = policy.tiers[0].wait if policy.tiers else 180.0
        tiers = [{"notify": [[c, "sms"] for c in policy.drill_contacts], "wait": first_wait}]
        return {"tiers": tiers, "rounds": 1, "legal_open": district.legal_open(), "leader": None}
    legal_open = district.legal_open()
    tiers = [{"notify": [[n.contact, n.channel] for n in tier.notify], "wait": tier.wait}
             for tier in policy.tiers_for(legal_open)]
    if type_ == "detain" and tiers:
        tiers[0]["notify"] += [[c.id, "sms"] for c in district.contacts_with_role("crisis")
                               if [c.id, "sms"] not in tiers[0]["notify"]]
    leader = district.school_leader(reporter_school) if policy.tell_school_leader else None
    return {"tiers": tiers, "rounds": policy.rounds, "legal_open": legal_open,
            "leader": leader if leader and leader != reporter else None,
            "resource_people": _resource_people(district, reporter_school, reporter, leader)}


def _next(incident: Incident, tier: int, round_: int) -> tuple[int, int] | None:
    """The tier after ``tier``, or None when every round has run."""
    tiers = incident.policy["tiers"]
    next_tier, next_round = (tier + 1, round_) if tier + 1 < len(tiers) else (0, round_ + 1)
    return (next_tier, next_round) if next_round < int(incident.policy.get("rounds", 1)) else None


# --- Starting -----------------------------------------------------------------------------------

def start(services: Services, incident: Incident) -> None:
    """Queue the first tier now (raises if the queue is unreachable: the caller reports FAILED)."""
    plan_tier(services, incident, 0, 0)
    queueing.enqueue(services, "run_tier", incident.district, incident.id, 0, 0)
    services.incidents.update(incident, escalation_started=True)


def plan_tier(services: Services, incident: Incident, tier: int, round_: int) -> None:
    """Mark the tier's sends as queued before anything is enqueued (see ledger.py)."""
    tiers = incident.policy["tiers"]
    if tier < len(tiers):
        for contact_id, channel in tiers[tier]["notify"]:
            ledger.queue(services.redis, ledger_key(incident), delivery_field(contact_id, channel, tier, round_),
                         services.clock)


def _send(services: Services, incident: Incident, contact_id: str, channel: str, tier: int, round_: int) -> None:
    ledger.queue(services.redis, ledger_key(incident), delivery_field(contact_id, channel, tier, round_),
                 services.clock)
    queueing.enqueue(services, "deliver", incident.district, incident.id, contact_id, channel, tier, round_)


def run_tier(services: Services, district_id: str, incident_id: str, tier: int, round_: int) -> str:
    incident = services.incidents.get(district_id, incident_id)
    if incident is None:
        return "missing"
    if not incident.escalating:
        return "stopped"
    # Once per tier and round, however many times the timer or a fallback asks for it. The mark is
    # set at the end: a run killed half-way is re-run whole (its deliveries are send-once anyway).
    done_mark = key("tier", district_id, incident_id, round_, tier)
    if services.redis.exists(done_mark):
        return "duplicate"
    district = services.directory.get(district_id)
    tiers = incident.policy["tiers"]
    if tier >= len(tiers):
        return "no such tier"
    names = ", ".join(f"{contact_name(district, c)} ({ch})" for c, ch in tiers[tier]["notify"])
    services.incidents.add_event(incident, "tier", f"round {round_ + 1}, tier {tier + 1}: {names}",
                                 tier=tier, round=round_)
    plan_tier(services, incident, tier, round_)
    for contact_id, channel in tiers[tier]["notify"]:
        queueing.enqueue(services, "deliver", district_id, incident_id, contact_id, channel, tier, round_)
    if (tier, round_) == (0, 0) and incident.policy.get("leader"):
        # The school leader is told too, after the people who can act.
        queueing.enqueue(services, "deliver", district_id, incident_id, LEADER, "sms", 0, 0)
    if (tier, round_) == (0, 0):
        # The school's immigration resource people (000: "designated immigration resource people,
        # at each site") are told too, for their information.
        for index, _number in enumerate(incident.policy.get("resource_people") or ()):
            queueing.enqueue(services, "deliver", district_id, incident_id, f"{RESOURCE_PERSON}{index}", "sms", 0, 0)
    following = _next(incident, tier, round_)
    wait = float(tiers[tier]["wait"])
    due = services.clock() + wait
    if following:
        queueing.enqueue_in(services, wait, "run_tier", district_id, incident_id, *following)
        services.redis.hset(key("timers", district_id), incident_id, f"{due}|{following[0]}|{following[1]}")
    else:
        queueing.enqueue_in(services, wait, "give_up", district_id, incident_id)
        services.redis.hset(key("timers", district_id), incident_id, f"{due}|end|{round_}")
    services.redis.set(done_mark, "1", ex=7 * 86400)
    return "notified"


def give_up(services: Services, district_id: str, incident_id: str) -> str:
    incident = services.incidents.get(district_id, incident_id)
    services.redis.hdel(key("timers", district_id), incident_id)
    if incident is None or not incident.escalating:
        return "stopped"
    services.incidents.update(incident, escalation_ended_at=services.clock())
    services.incidents.add_event(incident, "unanswered", "no legal role took it after every tier; reporter told")
    tell_reporter(services, incident, "staff.reporter.nobody_answered", "nobody-answered")
    return "reporter told"


# --- One notification ---------------------------------------------------------------------------

def deliver(services: Services, district_id: str, incident_id: str, contact_id: str, channel: str,
            tier: int, round_: int, retries_left: int = 0) -> str:
    incident = services.incidents.get(district_id, incident_id)
    if incident is None:
        return "missing"
    district = services.directory.get(district_id)
    field = delivery_field(contact_id, channel, tier, round_)
    book = ledger_key(incident)
    if not incident.escalating and not informed_only(contact_id):
        entry = ledger.read(services.redis, book, field)
        if entry is None or entry.status == "queued":
            ledger.write(services.redis, book, field, ledger.Entry("skipped", services.clock(),
                                                                   reason=f"incident {incident.status}"))
        return "skipped"
    number = contact_number(district, incident, contact_id)
    if number is None:
        ledger.mark(services.redis, book, field, "skipped", reason="no number")
        return "no number"
    name = contact_name(district, contact_id)

    message = "escalation.leader" if informed_only(contact_id) else "escalation.sms"
    body = notices.render_for_contacts(services, district, incident, message) if channel == "sms" else None
    url = services.url(f"/voice/escalation?district={district_id}&incident={incident_id}&contact={contact_id}")
    if channel == "voice" and url is None:
        # Without a public URL Twilio could not fetch the call's script: say so rather than guess.
        url = f"http://localhost/voice/escalation?district={district_id}&incident={incident_id}&contact={contact_id}"
    attempt = ledger.send_once(
        services.redis, services.outbound, book, field, channel=channel, from_=incident.line, to=number,
        marker=f"incident {incident.id}" if channel == "sms" else f"incident={incident.id}", body=body, url=url,
        status_callback=services.url("/status"), clock=services.clock)
    if attempt.outcome == "done":
        return attempt.entry.status
    if attempt.outcome in ("sent", "recovered"):
        if not informed_only(contact_id):
            services.incidents.mark_notified(incident, number)
            documents.enqueue_forward_if_any(services, incident)   # photos already in: to legal roles now
        verb = "texted" if channel == "sms" else "called"
        note = " (the first attempt had got through)" if attempt.outcome == "recovered" else ""
        services.incidents.add_event(incident, "sent", f"{verb} {name}{note}", field=field, sid=attempt.entry.sid)
        return "sent"
    result = attempt.result
    if result.retryable and retries_left > 0:
        services.incidents.add_event(incident, "retry", f"{name} ({channel}): {result.reason or 'no answer from Twilio'}"
                                     f"; trying again", field=field, code=result.error_code)
        raise ledger.TransientDeliveryError(f"{field}: {result.reason}")
    ledger.mark(services.redis, book, field, "failed")
    services.incidents.add_event(incident, "failed", f"{name} ({channel}) failed: "
                                 f"{result.reason or result.error_code or 'unknown error'}", field=field,
                                 code=result.error_code)
    fall_back(services, incident, contact_id, channel, tier, round_, result)
    return "failed"


def fall_back(services: Services, incident: Incident, contact_id: str, channel: str, tier: int, round_: int,
              result: SendResult) -> None:
    """A notification that cannot get through: the contact's other channel, else the next tier now.
    What comes next is queued in the ledger before the all-failed check looks (see ledger.py)."""
    if informed_only(contact_id):
        return
    district = services.directory.get(incident.district)
    planned = {tuple(n) for n in incident.policy["tiers"][tier]["notify"]} if tier < len(incident.policy["tiers"]) else set()
    if channel == "sms" and result.error_code not in NUMBER_INVALID and (contact_id, "voice") not in planned:
        services.incidents.add_event(incident, "fallback", f"calling {contact_name(district, contact_id)} instead")
        _send(services, incident, contact_id, "voice", tier, round_)
    else:
        following = _next(incident, tier, round_)
        if following:
            services.incidents.add_event(incident, "fallback",
                                         f"{contact_name(district, contact_id)} unreachable: next tier now")
            plan_tier(services, incident, *following)
            queueing.enqueue(services, "run_tier", incident.district, incident.id, *following)
    check_all_failed(services, incident)


def check_all_failed(services: Services, incident: Incident) -> None:
    """Tell the reporter, once, when every planned notification so far failed for good: none sent,
    none still queued, claimed or retrying."""
    book = ledger.entries(services.redis, ledger_key(incident))
    contacts = {f: e for f, e in book.items() if not informed_only(f.split("|")[0])}
    if not contacts or any(e.status == "sent" or e.status in ledger.PENDING for e in contacts.values()):
        return
    fresh = services.incidents.get(incident.district, incident.id)
    if fresh is None or fresh.all_failed_told or not fresh.escalating:
        return
    services.incidents.update(fresh, all_failed_told=True)
    services.incidents.add_event(fresh, "all_failed", "no notification could be delivered; reporter told")
    tell_reporter(services, fresh, "staff.reporter.delivery_failed", "all-failed")


# --- Delivery callbacks -------------------------------------------------------------------------

def on_delivery_status(services: Services, sid: str, status: str, error_code: int | None) -> str:
    found = ledger.entry_for_sid(services.redis, sid)
    if not found:
        return "unknown sid"
    book, field = found
    parts = book.split(":")
    if parts[1] != "escalations":
        ledger.mark(services.redis, book, field, ledger.read(services.redis, book, field).status, delivery=status)
        if parts[1] == documents.FORWARDED and status in ("failed", "undelivered"):
            documents.forwarding_undelivered(services, parts[2], parts[3], field.split("|")[0], error_code)
        return "notice"
    district_id, incident_id = parts[2], parts[3]
    incident = services.incidents.get(district_id, incident_id)
    if incident is None:
        return "missing"
    entry = ledger.read(services.redis, book, field)
    if entry and entry.delivery == status:
        return "repeat"
    ledger.mark(services.redis, book, field, entry.status if entry else "sent", delivery=status)
    contact_id, channel, tier, round_ = parse_field(field)
    name = contact_name(services.directory.get(district_id), contact_id)
    detail = f" (error {error_code})" if error_code else ""
    services.incidents.add_event(incident, "delivery", f"{name} ({channel}): {status}{detail}", field=field,
                                 status=status)
    if status in ("failed", "undelivered") and channel == "sms":
        ledger.mark(services.redis, book, field, "failed", error_code=error_code)
        if incident.escalating:
            fall_back(services, incident, contact_id, channel, tier, round_, SendResult(False, error_code=error_code))
    return status


# --- What the ledger says -----------------------------------------------------------------------

@dataclass(frozen=True)
class Delivery:
    contact: str
    channel: str
    tier: int
    round: int
    status: str
    delivery: str | None
    at: float


def deliveries(services: Services, incident: Incident) -> list[Delivery]:
    district = services.directory.get(incident.district)
    found = []
    for field, entry in ledger.entries(services.redis, ledger_key(incident)).items():
        contact_id, channel, tier, round_ = parse_field(field)
        found.append(Delivery(contact_name(district, contact_id), channel, tier, round_, entry.status,
                              entry.delivery, entry.at))
    return sorted(found, key=lambda d: d.at)
