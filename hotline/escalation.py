"""Escalation: notify the district's contacts, tier by tier, until a human acknowledges.

The policy (tiers of contacts with a wait each, repeated ``rounds`` times) is snapshotted onto
the incident when it starts, so a change to the district file never changes an incident in
flight. Each tier is an RQ job; the next tier is an RQ scheduled job; each notification is its
own job, sent at most once (ledger.py) and retried by RQ's Retry on 429/5xx/timeouts. A number
that will not work (opted out, invalid, undelivered) is not retried: the contact is called
instead, or the next tier starts at once, and the incident's timeline says so.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from babel.dates import format_time

from . import jobs, ledger
from .district import District
from .incidents import Incident
from .outbound import SendResult
from .phones import mask
from .render.sms import drill_prefix
from .services import Services
from .store import key

log = logging.getLogger(__name__)

LEADER = "school_leader"        # the pseudo-contact id of the reporter's school leader
# Pseudo-contact ids "resource_person:<n>": the n-th immigration resource person of the reporter's
# school (issue 15), told once like the leader; their numbers are snapshotted on the incident.
RESOURCE_PERSON = "resource_person:"


def informed_only(contact_id: str) -> bool:
    """Told for their information (the school leader, resource people): not a tier, never retried
    by another channel, told even when the incident was acknowledged meanwhile."""
    return contact_id == LEADER or contact_id.startswith(RESOURCE_PERSON)


def _resource_people(district: District, reporter_school: str | None, reporter: str, leader: str | None) -> list[str]:
    return [n for n in district.resource_people(reporter_school) if n not in (reporter, leader)]
NUMBER_INVALID = {21211, 21214, 21612, 30005}   # no channel will reach this number


class TransientDeliveryError(Exception):
    """Raised inside a job so that RQ's Retry tries again later."""


def snapshot_policy(district: District, drill: bool, reporter_school: str | None, reporter: str) -> dict:
    policy = district.escalation
    if drill:
        first_wait = policy.tiers[0].wait if policy.tiers else 180.0
        tiers = [{"notify": [[c, "sms"] for c in policy.drill_contacts], "wait": first_wait}]
        return {"tiers": tiers, "rounds": 1, "legal_open": district.legal_open(), "leader": None}
    legal_open = district.legal_open()
    tiers = [{"notify": [[n.contact, n.channel] for n in tier.notify], "wait": tier.wait}
             for tier in policy.tiers_for(legal_open)]
    leader = district.school_leader(reporter_school) if policy.tell_school_leader else None
    return {"tiers": tiers, "rounds": policy.rounds, "legal_open": legal_open,
            "leader": leader if leader and leader != reporter else None,
            "resource_people": _resource_people(district, reporter_school, reporter, leader)}


def ledger_key(incident: Incident) -> str:
    return key("escalations", incident.district, incident.id)


def delivery_field(contact_id: str, channel: str, tier: int, round_: int) -> str:
    return f"{contact_id}|{channel}|{round_}|{tier}"


def parse_field(field: str) -> tuple[str, str, int, int]:
    contact_id, channel, round_, tier = field.split("|")
    return contact_id, channel, int(tier), int(round_)


# --- Starting -----------------------------------------------------------------------------------

def start(services: Services, incident: Incident) -> None:
    """Queue the first tier now (raises if the queue is unreachable: the caller reports FAILED)."""
    jobs.enqueue(services, jobs.run_tier, incident.district, incident.id, 0, 0)
    services.incidents.update(incident, escalation_started=True)


def run_tier(services: Services, district_id: str, incident_id: str, tier: int, round_: int) -> str:
    incident = services.incidents.get(district_id, incident_id)
    if incident is None:
        return "missing"
    if incident.status != "open":
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
    names = ", ".join(f"{_contact_name(district, c)} ({ch})" for c, ch in tiers[tier]["notify"])
    services.incidents.add_event(incident, "tier", f"round {round_ + 1}, tier {tier + 1}: {names}",
                                 tier=tier, round=round_)
    for contact_id, channel in tiers[tier]["notify"]:
        jobs.enqueue(services, jobs.deliver, district_id, incident_id, contact_id, channel, tier, round_)
    if (tier, round_) == (0, 0) and incident.policy.get("leader"):
        # The school leader is told too, after the people who can act.
        jobs.enqueue(services, jobs.deliver, district_id, incident_id, LEADER, "sms", 0, 0)
    if (tier, round_) == (0, 0):
        for index, _number in enumerate(incident.policy.get("resource_people") or ()):
            jobs.enqueue(services, jobs.deliver, district_id, incident_id, f"{RESOURCE_PERSON}{index}", "sms", 0, 0)
    next_tier, next_round = (tier + 1, round_) if tier + 1 < len(tiers) else (0, round_ + 1)
    wait = float(tiers[tier]["wait"])
    due = services.clock() + wait
    if next_round < int(incident.policy.get("rounds", 1)):
        jobs.enqueue_in(services, wait, jobs.run_tier, district_id, incident_id, next_tier, next_round)
        services.redis.hset(key("timers", district_id), incident_id, f"{due}|{next_tier}|{next_round}")
    else:
        jobs.enqueue_in(services, wait, jobs.give_up, district_id, incident_id)
        services.redis.hset(key("timers", district_id), incident_id, f"{due}|end|{round_}")
    services.redis.set(done_mark, "1", ex=7 * 86400)
    return "notified"


def give_up(services: Services, district_id: str, incident_id: str) -> str:
    incident = services.incidents.get(district_id, incident_id)
    services.redis.hdel(key("timers", district_id), incident_id)
    if incident is None or incident.status != "open":
        return "stopped"
    services.incidents.add_event(incident, "unanswered", "nobody acknowledged after every tier; reporter told")
    tell_reporter(services, incident, "staff.reporter.nobody_answered", "nobody-answered")
    return "reporter told"


# --- One notification ---------------------------------------------------------------------------

def _contact_name(district: District, contact_id: str) -> str:
    if contact_id == LEADER:
        return "school leader"
    if contact_id.startswith(RESOURCE_PERSON):
        return "immigration resource person"
    contact = district.contacts.get(contact_id)
    return contact.name if contact else contact_id


def _contact_number(district: District, incident: Incident, contact_id: str) -> str | None:
    if contact_id == LEADER:
        return incident.policy.get("leader")
    if contact_id.startswith(RESOURCE_PERSON):
        people = incident.policy.get("resource_people") or []
        index = contact_id[len(RESOURCE_PERSON):]
        return people[int(index)] if index.isdigit() and int(index) < len(people) else None
    contact = district.contacts.get(contact_id)
    return contact.number if contact else None


def message_variables(services: Services, district: District, incident: Incident) -> dict:
    from .render.values import Phone

    catalogs = services.content(district).catalogs
    lang = district.default_language
    school = district.schools.get(incident.school or "")
    if incident.verification == "code":
        reporter = catalogs.render(lang, "escalation.unverified_reporter", {}, "sms", lang).text
    else:
        reporter = ", ".join(p for p in (incident.reporter_name, incident.reporter_role) if p) or "staff"
    return {
        "incident": incident.id,
        "kind": catalogs.render(lang, f"escalation.kind.{incident.type}", {}, "sms", lang).text,
        "school": school.name if school else "school not known",
        "reporter": reporter,
        "reporter_phone": Phone(incident.reporter),
        "time": local_time(district, incident.created, lang),
    }


def local_time(district: District, timestamp: float, lang: str) -> str:
    """"10:02 AM" in the district's time zone. CLDR puts a narrow no-break space before AM/PM; a
    plain space keeps the SMS in GSM-7 (one odd character makes a whole text UCS-2)."""
    text = format_time(district.local(timestamp), "short", locale=lang)
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def render_for_contacts(services: Services, district: District, incident: Incident, message: str,
                        channel: str = "sms", **extra) -> str:
    from .render.values import for_channel

    catalogs = services.content(district).catalogs
    lang = district.default_language
    values = for_channel({**message_variables(services, district, incident), **extra}, channel)
    text = catalogs.render(lang, message, values, channel, lang).text
    if incident.drill and channel == "sms":
        text = drill_prefix(catalogs, lang, lang) + text
    return text


def deliver(services: Services, district_id: str, incident_id: str, contact_id: str, channel: str,
            tier: int, round_: int, retries_left: int = 0) -> str:
    incident = services.incidents.get(district_id, incident_id)
    if incident is None:
        return "missing"
    district = services.directory.get(district_id)
    field = delivery_field(contact_id, channel, tier, round_)
    book = ledger_key(incident)
    if incident.status != "open" and not informed_only(contact_id):
        if not ledger.read(services.redis, book, field):
            ledger.write(services.redis, book, field, ledger.Entry("skipped", services.clock(),
                                                                   reason=f"incident {incident.status}"))
        return "skipped"
    number = _contact_number(district, incident, contact_id)
    if number is None:
        return "no number"
    name = _contact_name(district, contact_id)

    message = "escalation.leader" if informed_only(contact_id) else "escalation.sms"
    body = render_for_contacts(services, district, incident, message) if channel == "sms" else None
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
        services.incidents.mark_notified(incident, number)
        verb = "texted" if channel == "sms" else "called"
        note = " (the first attempt had got through)" if attempt.outcome == "recovered" else ""
        services.incidents.add_event(incident, "sent", f"{verb} {name}{note}", field=field, sid=attempt.entry.sid)
        return "sent"
    result = attempt.result
    if result.retryable and retries_left > 0:
        services.incidents.add_event(incident, "retry", f"{name} ({channel}): {result.reason or 'no answer from Twilio'}"
                                     f"; trying again", field=field, code=result.error_code)
        raise TransientDeliveryError(f"{field}: {result.reason}")
    ledger.mark(services.redis, book, field, "failed")
    services.incidents.add_event(incident, "failed", f"{name} ({channel}) failed: "
                                 f"{result.reason or result.error_code or 'unknown error'}", field=field,
                                 code=result.error_code)
    fall_back(services, incident, contact_id, channel, tier, round_, result)
    return "failed"


def fall_back(services: Services, incident: Incident, contact_id: str, channel: str, tier: int, round_: int,
              result: SendResult) -> None:
    """A notification that cannot get through: the contact's other channel, else the next tier now."""
    if informed_only(contact_id):
        return
    district = services.directory.get(incident.district)
    planned = {tuple(n) for n in incident.policy["tiers"][tier]["notify"]} if tier < len(incident.policy["tiers"]) else set()
    if channel == "sms" and result.error_code not in NUMBER_INVALID and (contact_id, "voice") not in planned:
        services.incidents.add_event(incident, "fallback", f"calling {_contact_name(district, contact_id)} instead")
        jobs.enqueue(services, jobs.deliver, incident.district, incident.id, contact_id, "voice", tier, round_)
    else:
        tiers = incident.policy["tiers"]
        next_tier, next_round = (tier + 1, round_) if tier + 1 < len(tiers) else (0, round_ + 1)
        if next_round < int(incident.policy.get("rounds", 1)):
            services.incidents.add_event(incident, "fallback",
                                         f"{_contact_name(district, contact_id)} unreachable: next tier now")
            jobs.enqueue(services, jobs.run_tier, incident.district, incident.id, next_tier, next_round)
    check_all_failed(services, incident)


def check_all_failed(services: Services, incident: Incident) -> None:
    """Tell the reporter, once, when no notification has got through and none is left pending."""
    book = ledger.entries(services.redis, ledger_key(incident))
    contacts = {f: e for f, e in book.items() if not informed_only(f.split("|")[0])}
    if not contacts or any(e.status in ("sent", "claimed", "retrying") for e in contacts.values()):
        return
    fresh = services.incidents.get(incident.district, incident.id)
    if fresh is None or fresh.all_failed_told or fresh.status != "open":
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
    name = _contact_name(services.directory.get(district_id), contact_id)
    detail = f" (error {error_code})" if error_code else ""
    services.incidents.add_event(incident, "delivery", f"{name} ({channel}): {status}{detail}", field=field,
                                 status=status)
    if status in ("failed", "undelivered") and channel == "sms":
        ledger.mark(services.redis, book, field, "failed", error_code=error_code)
        if incident.status == "open":
            fall_back(services, incident, contact_id, channel, tier, round_, SendResult(False, error_code=error_code))
    return status


# --- Telling people -----------------------------------------------------------------------------

def tell_reporter(services: Services, incident: Incident, message: str, purpose: str, **extra) -> None:
    """Queue an SMS to the reporter, in the language of their conversation."""
    jobs.enqueue(services, jobs.notify_reporter, incident.district, incident.id, message, purpose, extra)


def notify_reporter(services: Services, district_id: str, incident_id: str, message: str, purpose: str,
                    extra: dict) -> str:
    from .conversation import base_variables
    from .render.values import for_channel
    from .sessions import sms_key

    incident = services.incidents.get(district_id, incident_id)
    if incident is None:
        return "missing"
    district = services.directory.get(district_id)
    session = services.sessions.load(sms_key(district_id, incident.line, incident.reporter)) or {}
    lang = session.get("lang") or district.default_language
    catalogs = services.content(district).catalogs
    line = district.line(incident.line) or district.lines[0]
    values = for_channel({**base_variables(district, line), "incident": incident.id, **extra}, "sms")
    body = catalogs.render(lang, message, values, "sms", district.default_language).text
    if incident.drill:
        body = drill_prefix(catalogs, lang, district.default_language) + body
    return _send_notice(services, incident, incident.reporter, body, "reporter", purpose)


def notify_contacts(services: Services, district_id: str, incident_id: str, message: str, purpose: str,
                    exclude: list[str], extra: dict) -> int:
    """Send ``message`` to every contact this incident reached so far (except ``exclude``)."""
    incident = services.incidents.get(district_id, incident_id)
    if incident is None:
        return 0
    district = services.directory.get(district_id)
    numbers = reached_numbers(services, incident) - set(exclude)
    body = render_for_contacts(services, district, incident, message, **extra)
    for number in sorted(numbers):
        _send_notice(services, incident, number, body, "contact", purpose)
    return len(numbers)


def _send_notice(services: Services, incident: Incident, to: str, body: str, who: str, purpose: str) -> str:
    """One notice (not an escalation) about an incident, sent once per recipient and purpose."""
    book = key("notices", incident.district, incident.id)
    attempt = ledger.send_once(services.redis, services.outbound, book, f"{who}|{purpose}|{to}", channel="sms",
                               from_=incident.line, to=to, marker=f"{incident.id}", body=body,
                               status_callback=services.url("/status"), clock=services.clock)
    if attempt.outcome in ("sent", "recovered"):
        services.incidents.add_event(incident, "notice", f"texted the {who} ({mask(to)}): {purpose}")
    elif attempt.outcome == "failed":
        if attempt.result and attempt.result.retryable:
            raise TransientDeliveryError(f"{who} {purpose}")
        services.incidents.add_event(incident, "failed", f"could not text the {who} ({mask(to)}): {purpose}")
    return attempt.entry.status


def reached_numbers(services: Services, incident: Incident) -> set[str]:
    district = services.directory.get(incident.district)
    numbers = set()
    for field, entry in ledger.entries(services.redis, ledger_key(incident)).items():
        contact_id = field.split("|")[0]
        if entry.status == "sent" and contact_id != LEADER:
            number = _contact_number(district, incident, contact_id)
            if number:
                numbers.add(number)
    return numbers


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
        found.append(Delivery(_contact_name(district, contact_id), channel, tier, round_, entry.status,
                              entry.delivery, entry.at))
    return sorted(found, key=lambda d: d.at)

