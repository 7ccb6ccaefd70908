"""Telling people about an incident: the escalation texts' wording, and the notices (to the
reporter, to every contact reached so far) that follow a change of state.

Every notice is sent once per recipient and purpose (ledger.py) by an RQ job; what it says is
rendered when the job runs, from the incident as it is then.
"""

from __future__ import annotations

from babel.dates import format_time

from .. import queueing
from ..district import District
from ..phones import mask
from ..render.sms import drill_prefix
from ..render.values import Phone, for_channel
from ..services import Services
from ..sessions import sms_key
from ..store import key
from ..variables import base_variables
from . import ledger
from .contacts import told_of_changes
from .records import Incident


def message_variables(services: Services, district: District, incident: Incident) -> dict:
    catalogs = services.content(district).catalogs
    lang = district.default_language
    school = district.schools.get(incident.school or "")
    if incident.verification == "code":
        reporter = catalogs.render(lang, "escalation.unverified_reporter", {}, "sms", lang).text
    else:
        reporter = ", ".join(p for p in (incident.reporter_name, incident.reporter_role) if p) or "staff"
    line = district.line(incident.line) or district.lines[0]
    return {
        **base_variables(district, line),
        "incident": incident.id,
        "kind": catalogs.render(lang, f"escalation.kind.{incident.type}", {}, "sms", lang).text,
        "school": school.name if school else catalogs.render(lang, "escalation.school_unknown", {}, "sms", lang).text,
        "reporter": reporter,
        "reporter_phone": Phone(incident.reporter),
        "time": local_time(district, incident.created, lang),
        "holder": incident.holder_name,
        "responder": incident.responding_name or "",
        "leader": incident.lead_name or "",
    }


def local_time(district: District, timestamp: float, lang: str) -> str:
    """"10:02 AM" in the district's time zone. CLDR puts a narrow no-break space before AM/PM; a
    plain space keeps the SMS in GSM-7 (one odd character makes a whole text UCS-2)."""
    text = format_time(district.local(timestamp), "short", locale=lang)
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def render_for_contacts(services: Services, district: District, incident: Incident, message: str,
                        channel: str = "sms", **extra) -> str:
    """A message to the district's contacts, in the district's language; marked DRILL for a drill
    and URGENT once the officers said it is an emergency (every later tier reads it)."""
    catalogs = services.content(district).catalogs
    lang = district.default_language
    values = for_channel({**message_variables(services, district, incident), **extra}, channel)
    text = catalogs.render(lang, message, values, channel, lang).text
    if incident.urgent and message != "escalation.urgent":
        text = catalogs.render(lang, "escalation.urgent_prefix", {}, channel, lang).text + " " + text
    if incident.drill and channel == "sms":
        text = drill_prefix(catalogs, lang, lang) + text
    return text


# --- Queueing notices ---------------------------------------------------------------------------

def tell_reporter(services: Services, incident: Incident, message: str, purpose: str, **extra) -> None:
    """Queue an SMS to the reporter, in the language of their conversation."""
    queueing.enqueue(services, "notify_reporter", incident.district, incident.id, message, purpose, extra)


def tell_reached(services: Services, incident: Incident, message: str, purpose: str,
                 exclude: list[str] | None = None, **extra) -> None:
    """Queue ``message`` to every contact reached so far and the one who has the incident
    (contacts.told_of_changes; except the numbers in ``exclude``)."""
    queueing.enqueue(services, "notify_contacts", incident.district, incident.id, message, purpose,
                     list(exclude or []), extra)


# --- The jobs -----------------------------------------------------------------------------------

def notify_reporter(services: Services, district_id: str, incident_id: str, message: str, purpose: str,
                    extra: dict) -> str:
    incident = services.incidents.get(district_id, incident_id)
    if incident is None:
        return "missing"
    district = services.directory.get(district_id)
    session = services.sessions.load(sms_key(district_id, incident.line, incident.reporter)) or {}
    lang = session.get("lang") or district.default_language
    catalogs = services.content(district).catalogs
    values = for_channel({**message_variables(services, district, incident), **extra}, "sms")
    body = catalogs.render(lang, message, values, "sms", district.default_language).text
    if incident.drill:
        body = drill_prefix(catalogs, lang, district.default_language) + body
    return _send_notice(services, incident, incident.reporter, body, "reporter", purpose)


def notify_contacts(services: Services, district_id: str, incident_id: str, message: str, purpose: str,
                    exclude: list[str], extra: dict) -> int:
    """Send ``message`` to contacts.told_of_changes (except ``exclude``)."""
    incident = services.incidents.get(district_id, incident_id)
    if incident is None:
        return 0
    district = services.directory.get(district_id)
    numbers = sorted({r.number for r in told_of_changes(services.redis, district, incident)} - set(exclude))
    body = render_for_contacts(services, district, incident, message, **extra)
    for number in numbers:
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
            raise ledger.TransientDeliveryError(f"{who} {purpose}")
        services.incidents.add_event(incident, "failed", f"could not text the {who} ({mask(to)}): {purpose}")
    return attempt.entry.status
