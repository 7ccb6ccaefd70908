"""Telling an office that a family request arrived: the school office for an emergency-contact
update, the civil-rights office for a concern, the family liaison for a call-back.

The text names the kind of request, its reference and the school, never the student or the
family: the details are on the dashboard, behind a sign-in.
"""

from __future__ import annotations

from .incidents import ledger
from .services import Services
from .store import key

RECIPIENT_ROLE = {"concern": "civil_rights", "voicemail": "liaison"}


def office_number(services: Services, district_id: str, request) -> str | None:
    district = services.directory.get(district_id)
    if request.type == "contact_update":
        school = district.schools.get(request.school or "")
        if school and school.office:
            return school.office
    if request.type == "concern" and request.fields.get("recipient") == "school":
        # issue 12 (seed 002): the school's leadership team - its leader, else its office.
        school = district.schools.get(request.school or "")
        if school and (school.leader or school.office):
            return school.leader or school.office
    contact = district.first_contact(RECIPIENT_ROLE.get(request.type, "liaison")) or district.first_contact("legal")
    return contact.number if contact else None


def notify_office(services: Services, district_id: str, reference: str) -> str:
    request = services.requests.get(district_id, reference)
    if request is None:
        return "missing"
    district = services.directory.get(district_id)
    to = office_number(services, district_id, request)
    if to is None:
        return "no office number"
    catalogs = services.content(district).catalogs
    lang = district.default_language
    school = district.schools.get(request.school or "")
    kind = catalogs.render(lang, f"office.kind.{request.type}", {}, "sms", lang).text
    body = catalogs.render(lang, "office.request", {"kind": kind, "reference": reference,
                                                    "school": school.name if school else district.name},
                           "sms", lang).text
    attempt = ledger.send_once(services.redis, services.outbound, key("office-notices", district_id), reference,
                               channel="sms", from_=request.line, to=to, marker=reference, body=body,
                               status_callback=services.url("/status"), clock=services.clock)
    if attempt.outcome == "failed" and attempt.result and attempt.result.retryable:
        raise ledger.TransientDeliveryError(f"office notice {reference}")
    return attempt.entry.status
