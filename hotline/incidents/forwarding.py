"""The officers' documents reach the legal office: photos staff send at the protocol's photo step
are copied off Twilio (documents.py) and forwarded by MMS to the legal roles, and only to them.

Who gets them: contacts whose role is ``legal``, ``legal_backup`` or ``designee`` that the
escalation ledger shows were notified of the incident or are being notified now (sent, or
claimed/retrying). Never safety, the school leader or anyone else: a warrant can name a student.
A legal contact notified later (the next tier) gets them then (escalation.deliver asks for it).

Each recipient gets each set of documents once (a ledger entry per recipient and set), and the
text says how many photos are attached, counted from the documents actually attached. Twilio
fetches each photo from a signed link to the hotline that expires (documents.signed_url).
"""

from __future__ import annotations

import hashlib
import logging

from ..phones import mask
from ..services import Services
from ..store import key
from . import documents, ledger
from .contacts import ledger_key, parse_field
from .documents import DocumentError, Outcome
from .notices import render_for_contacts
from .records import Incident
from .states import LEGAL_ROLES

log = logging.getLogger(__name__)

REACHED = ("sent", "claimed", "retrying")     # notified, or being notified now
MAX_MEDIA_PER_MESSAGE = 10                    # Twilio's limit per MMS
MAX_BYTES_PER_MESSAGE = 5 * 1024 * 1024       # Twilio's total media size per MMS
MESSAGE = "escalation.documents"


def forwarding_book(incident: Incident) -> str:
    return key(documents.FORWARDED, incident.district, incident.id)


# --- The job: copy, delete at Twilio, forward -----------------------------------------------------

def collect_and_forward(services: Services, district_id: str, incident_id: str, urls: list[str],
                        retries_left: int = 0) -> str:
    incident = services.incidents.get(district_id, incident_id)
    if incident is None:
        return "missing"
    outcomes = [documents.copy_one(services, incident, position, url) for position, url in enumerate(urls, 1)]
    waiting = [o for o in outcomes if o.problem and o.retryable]
    if waiting and retries_left > 0:
        # RQ's Retry runs the whole job again later; what was copied or deleted is not done twice.
        raise DocumentError("; ".join(f"photo {o.position}: {o.problem}" for o in waiting))
    _record(services, incident, outcomes)
    documents.collected(services, district_id, incident_id)
    copied = sum(1 for o in outcomes if o.document)
    forwarded = forward(services, district_id, incident_id, retries_left) if copied else 0
    if copied and not recipients(services, incident):
        services.incidents.add_event(incident, "documents", "photos not forwarded yet: no legal contact has been "
                                     "notified; each gets them when notified")
    return f"{copied} copied, forwarded to {forwarded}"


def _record(services: Services, incident: Incident, outcomes: list[Outcome]) -> None:
    copied = [o for o in outcomes if o.document]
    if copied:
        gone = sum(1 for o in copied if o.document.deleted_at_twilio)
        services.incidents.add_event(incident, "documents", f"{len(copied)} photo(s) copied to the hotline's "
                                     f"storage; {gone} deleted at Twilio", count=len(copied))
    for outcome in outcomes:
        if outcome.problem:
            where = "copied, " if outcome.document else "not copied: "
            services.incidents.add_event(incident, "documents_failed", f"photo {outcome.position} {where}"
                                         f"{outcome.problem}", position=outcome.position)


# --- Forwarding -------------------------------------------------------------------------------------

def recipients(services: Services, incident: Incident) -> dict[str, str]:
    """contact id -> number: the legal roles the ledger shows notified, or being notified now."""
    district = services.directory.get(incident.district)
    found = {}
    for field, entry in ledger.entries(services.redis, ledger_key(incident)).items():
        contact_id = parse_field(field)[0]
        contact = district.contacts.get(contact_id)
        if contact and contact.role in LEGAL_ROLES and entry.status in REACHED:
            found[contact_id] = contact.number
    return found


def forward(services: Services, district_id: str, incident_id: str, retries_left: int = 0) -> int:
    """Send the incident's documents to every legal recipient that does not have them yet; the
    number of recipients sent to now. One forwarding at a time per incident (a lock), so two
    jobs never both send to one person."""
    incident = services.incidents.get(district_id, incident_id)
    if incident is None or documents.collecting(services, district_id, incident_id):
        return 0        # the copy job forwards when it is done
    with services.redis.lock(key("lock", "documents", district_id, incident_id), timeout=90, blocking_timeout=60):
        docs = documents.listing(services, district_id, incident_id)
        if not docs:
            return 0
        targets = recipients(services, incident)
        sent = 0
        for contact_id, number in sorted(targets.items()):
            for batch in _batches(docs):
                if _send(services, incident, contact_id, number, batch, retries_left):
                    sent += 1
        return sent


def _batches(docs: list) -> list[list]:
    """Documents in MMS-sized groups: at most 10 and 5 MB each (a larger photo goes alone)."""
    batches: list[list] = []
    for document in docs:
        last = batches[-1] if batches else None
        if last and len(last) < MAX_MEDIA_PER_MESSAGE and sum(d.size for d in last) + document.size \
                <= MAX_BYTES_PER_MESSAGE:
            last.append(document)
        else:
            batches.append([document])
    return batches


def _send(services: Services, incident: Incident, contact_id: str, number: str, batch: list,
          retries_left: int) -> bool:
    district = services.directory.get(incident.district)
    name = district.contacts[contact_id].name
    book = forwarding_book(incident)
    field = f"{contact_id}|" + hashlib.sha256("|".join(d.id for d in batch).encode()).hexdigest()[:16]
    previous = ledger.read(services.redis, book, field)
    if previous and previous.status in ledger.FINAL:
        return False
    urls = [documents.signed_url(services, incident, d) for d in batch]
    if None in urls:
        services.incidents.add_event(incident, "documents_failed", f"photos not forwarded to {name}: the hotline "
                                     "has no public URL or secret for Twilio to fetch them from "
                                     "(HOTLINE_PUBLIC_URL, HOTLINE_SECRET_KEY)")
        ledger.write(services.redis, book, field, ledger.Entry("failed", services.clock(), reason="no public URL"))
        return False
    # The count is the photos attached to this very message: the text never claims more.
    body = render_for_contacts(services, district, incident, MESSAGE, count=len(batch))
    if previous and previous.status == "claimed":
        # A job died mid-send: ask Twilio whether that message went out before sending again.
        try:
            sid = services.outbound.find_sms(incident.line, number, previous.at, body)
        except Exception:  # noqa: BLE001 — cannot tell: sending again is safer than not sending
            sid = None
        if sid:
            ledger.write(services.redis, book, field, ledger.Entry("sent", services.clock(), sid))
            ledger.index_sid(services.redis, sid, book, field)
            services.incidents.add_event(incident, "documents_sent", f"{len(batch)} photo(s) forwarded to {name} "
                                         "(the first attempt had got through)", contact=contact_id)
            return True
    ledger.write(services.redis, book, field, ledger.Entry("claimed", services.clock()))
    result = services.outbound.send_sms(incident.line, number, body, status_callback=services.url("/status"),
                                        media_url=urls)
    if result.ok:
        ledger.write(services.redis, book, field, ledger.Entry("sent", services.clock(), result.sid))
        ledger.index_sid(services.redis, result.sid, book, field)
        services.incidents.add_event(incident, "documents_sent", f"{len(batch)} photo(s) forwarded by MMS to {name}",
                                     contact=contact_id, count=len(batch), sid=result.sid)
        log.info("documents %s/%s forwarded to %s count=%d", incident.district, incident.id, mask(number), len(batch))
        return True
    status = "claimed" if result.uncertain else ("retrying" if result.retryable else "failed")
    ledger.write(services.redis, book, field, ledger.Entry(status, services.clock(), None, result.error_code,
                                                           result.reason))
    if (result.retryable or result.uncertain) and retries_left > 0:
        raise DocumentError(f"forwarding to {contact_id}: {result.reason}")
    services.incidents.add_event(incident, "documents_failed", f"photos could not be forwarded to {name}: "
                                 f"{result.reason or result.error_code}", contact=contact_id)
    return False
