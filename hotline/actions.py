"""What flows can do (``do:`` steps and ``record: true`` answers), carried out by the host.

Each action returns an ActionResult: the replies that go where the action ran in the flow (an
incident number, a reference number) and variables for later messages. An action that fails
(Redis down, the queue unreachable) never raises into the webhook: it returns its own notice,
and for incidents that notice is the plain FAILED line with the numbers to call now.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from collections.abc import Callable

from .engine import Reply
from .phones import mask

if TYPE_CHECKING:
    from .conversation import Turn

log = logging.getLogger(__name__)


@dataclass
class ActionResult:
    replies: list = field(default_factory=list)
    vars: dict = field(default_factory=dict)


def _reply(key: str, **variables) -> ActionResult:
    return ActionResult([Reply(key)], variables)


# --- Incidents (staff line) ---------------------------------------------------------------------

def start_incident(turn: Turn, type: str = "ice") -> ActionResult:
    from . import escalation

    services, district = turn.services, turn.district
    drill = bool(turn.state.get("drill"))
    existing = services.incidents.for_reporter(district.id, turn.caller)
    if existing and existing.type == type and existing.drill == drill:
        turn.state["incident"] = existing.id
        if existing.verified and not existing.escalation_started:
            escalation.start(services, existing)
        return _reply("staff.notify.existing", incident=existing.id)
    member = turn.roster_member()
    verification = "roster" if member else ("code" if turn.state.get("verified") else "pending")
    school = member.school if member else None
    incident = services.incidents.create(
        district_id=district.id, type=type, drill=drill, line=turn.line.number, reporter=turn.caller,
        reporter_name=member.name if member else "", reporter_role=member.role if member else "",
        school=school, verification=verification,
        policy=escalation.snapshot_policy(district, drill, school, turn.caller))
    turn.state["incident"] = incident.id
    who = f"{member.name} ({member.role})" if member else f"unlisted number {mask(turn.caller)}"
    services.incidents.add_event(incident, "reported", f"{'DRILL ' if drill else ''}{type} reported by {who} "
                                 f"by {'text' if turn.channel == 'sms' else 'phone call'}")
    log.info("incident %s/%s started type=%s drill=%s verified=%s", district.id, incident.id, type, drill,
             incident.verified)
    if not incident.verified:
        return _reply("staff.notify.needs_code", incident=incident.id)
    try:
        escalation.start(services, incident)
    except Exception as exc:  # noqa: BLE001 — queue unreachable: say so on the incident and to the reporter
        services.incidents.add_event(incident, "failed", f"escalation could not be queued ({exc.__class__.__name__})")
        raise
    return _reply("staff.notify.drill" if drill else "staff.notify.started", incident=incident.id)


def verify_reporter(turn: Turn) -> ActionResult:
    from . import escalation

    services = turn.services
    turn.state["verified"] = True
    incident = services.incidents.get(turn.district.id, turn.state.get("incident", ""))
    if incident is None:
        return _reply("staff.notify.failed")
    if incident.verification == "pending":
        services.incidents.update(incident, verification="code")
        services.incidents.add_event(incident, "verified", "reporter gave the staff code")
    if not incident.escalation_started:
        escalation.start(services, incident)
    return _reply("staff.notify.verified", incident=incident.id)


def record(turn: Turn, field: str, value=None) -> ActionResult:
    incident = turn.services.incidents.get(turn.district.id, turn.state.get("incident", ""))
    if incident is not None:
        turn.services.incidents.record_detail(incident, field, value)
    return ActionResult()


def mark_urgent(turn: Turn) -> ActionResult:
    from . import jobs

    incident = turn.services.incidents.get(turn.district.id, turn.state.get("incident", ""))
    if incident is None or incident.urgent:
        return ActionResult()
    turn.services.incidents.update(incident, urgent=True)
    turn.services.incidents.add_event(incident, "urgent", "agents say it is an emergency or gave a lawful order")
    jobs.enqueue(turn.services, jobs.notify_contacts, incident.district, incident.id, "escalation.urgent", "urgent",
                 [], {})
    return ActionResult()


def incident_status(turn: Turn) -> ActionResult:
    from . import escalation
    from .exports import holder_name

    services, district = turn.services, turn.district
    incident = services.incidents.for_reporter(district.id, turn.caller)
    if incident is None:
        return _reply("staff.status.none")
    catalogs = turn.content.catalogs
    reached = sorted({d.contact for d in escalation.deliveries(services, incident) if d.status == "sent"})
    nobody = catalogs.render(turn.lang, "staff.status.nobody", {}, "sms", district.default_language).text
    acknowledged = holder_name(district, incident) or nobody
    state = catalogs.render(turn.lang, f"staff.status.{incident.status}", {}, "sms", district.default_language).text
    return _reply("staff.status.summary", incident=incident.id, state=state,
                  reached=", ".join(reached) or nobody, acknowledged=acknowledged)


def close_reporter_part(turn: Turn) -> ActionResult:
    from . import jobs

    services = turn.services
    incident = services.incidents.for_reporter(turn.district.id, turn.caller)
    if incident is None:
        return _reply("staff.status.none")
    services.incidents.close(incident, "the reporter (agents left)")
    jobs.enqueue(services, jobs.notify_contacts, incident.district, incident.id, "escalation.closed", "closed", [], {})
    return _reply("staff.done.closed", incident=incident.id)


# --- Office requests (family line) --------------------------------------------------------------

REQUEST_FIELDS = {
    "contact_update": ("student_name", "contact_name", "relationship", "contact_phone"),
    "concern": ("description", "anonymous"),
    "voicemail": ("message",),
}
REQUEST_REPLY = {"contact_update": "family.update.sent", "concern": "family.concern.sent",
                 "voicemail": "family.person.sent"}


def submit_request(turn: Turn, type: str) -> ActionResult:
    from . import jobs

    answers = turn.state.get("answers", {})
    anonymous = type == "concern" and answers.get("anonymous") == "yes"
    request = turn.services.requests.create(
        district_id=turn.district.id, type=type, line=turn.line.number, language=turn.lang,
        caller=None if anonymous else turn.caller, school=answers.get("school"),
        fields={name: answers.get(name) for name in REQUEST_FIELDS[type]})
    # What was asked is now with the office; the conversation need not keep it.
    turn.state["answers"] = {}
    try:
        jobs.enqueue(turn.services, jobs.notify_office, turn.district.id, request.reference)
    except Exception as exc:  # noqa: BLE001 — the request is stored and listed on the dashboard anyway
        log.error("office notification not queued (%s) for request %s", exc.__class__.__name__, request.reference)
    return _reply(REQUEST_REPLY[type], reference=request.reference)


def forget_answers(turn: Turn) -> ActionResult:
    """A cancelled request: what the family typed leaves the conversation now, not when it expires."""
    turn.state["answers"] = {}
    return ActionResult()


def set_language(turn: Turn, language: str | None = None) -> ActionResult:
    # The engine already changed the conversation's language; nothing more to do.
    return ActionResult()


ACTIONS: dict[str, Callable[..., ActionResult]] = {
    "start_incident": start_incident,
    "verify_reporter": verify_reporter,
    "record": record,
    "mark_urgent": mark_urgent,
    "incident_status": incident_status,
    "close_reporter_part": close_reporter_part,
    "submit_request": submit_request,
    "set_language": set_language,
    "forget_answers": forget_answers,
}

# What the caller hears when an action could not be carried out.
FAILURE_REPLY = {
    "start_incident": "staff.notify.failed",
    "verify_reporter": "staff.notify.failed",
    "incident_status": "common.error",
    "close_reporter_part": "common.error",
    "submit_request": "common.error",
}


def execute(turn: Turn, actions: list) -> list[ActionResult]:
    results: list[ActionResult] = []
    for action in actions:
        handler = ACTIONS.get(action.name)
        try:
            if handler is None:
                raise LookupError(f"unknown action {action.name}")
            result = handler(turn, **action.args)
        except Exception as exc:  # noqa: BLE001 — Redis, the queue, anything: the caller still gets an answer
            log.error("action %s failed (%s: %s) line=%s caller=%s", action.name, type(exc).__name__,
                      str(exc)[:120], turn.line.number, mask(turn.caller))
            failure = FAILURE_REPLY.get(action.name)
            result = _reply(failure) if failure else ActionResult()
        results.append(result)
        turn.results = results
    return results

