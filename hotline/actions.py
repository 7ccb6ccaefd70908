"""What flows can do (``do:`` steps and ``record: true`` answers), carried out by the host.

Each action returns an ActionResult: the replies that go where the action ran in the flow (an
incident number, a reference number) and variables for later messages. An action that fails
(Redis down, the queue unreachable) never raises into the webhook: it returns its own notice,
and for incidents that notice is the plain FAILED line with the numbers to call now.

Every reply that says who was told, reached or has an incident is chosen here from the incident
and its ledger as they are at this moment (incidents/contacts.py), never assumed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from . import queueing, security
from .engine import Reply
from .incidents import changes, documents, escalation
from .incidents.changes import Actor
from .incidents.contacts import names, reached, told_of_changes
from .incidents.records import Incident
from .phones import mask
from .turn import ActionResult, Turn

log = logging.getLogger(__name__)


def _reply(key: str, **variables) -> ActionResult:
    return ActionResult([Reply(key)], variables)


def _reporters_incident(turn: Turn) -> Incident | None:
    """The incident this conversation is about: the one it started, else the caller's linked one."""
    services, district = turn.services, turn.district
    incident = services.incidents.get(district.id, turn.state["incident"]) if turn.state.get("incident") else None
    if incident is None or not incident.active:
        incident = services.incidents.for_reporter(district.id, turn.caller)
    if incident is not None:
        turn.state["incident"] = incident.id
        turn.state["drill"] = incident.drill     # a drill's every reply says DRILL
    return incident


def _on_site_actor(turn: Turn, incident: Incident) -> Actor:
    role = "school_leader" if incident.lead_by == turn.caller and incident.reporter != turn.caller else "reporter"
    member = turn.district.roster.get(turn.caller)
    via = "text" if turn.channel == "sms" else "phone call"
    return Actor(role, turn.caller, member.name if member else "the reporter", turn.caller, via)


def where_it_stands(turn: Turn, incident: Incident) -> ActionResult:
    """Who has the incident and who was reached, from the incident and its ledger as they are now."""
    if incident.status == "taken":
        return _reply("staff.notify.existing_taken", incident=incident.id, contact=incident.holder_name)
    if incident.escalation_ended_at:
        return _reply("staff.reporter.nobody_answered", incident=incident.id)   # no more "we keep alerting"
    found = reached(turn.services.redis, turn.district, incident)
    if incident.status == "responding":
        return _reply("staff.notify.existing_responding", incident=incident.id, contact=incident.responding_name)
    if found:
        return _reply("staff.notify.existing_reached", incident=incident.id, reached=names(found))
    return _reply("staff.notify.existing_alerting", incident=incident.id)


# --- Incidents (staff line) ---------------------------------------------------------------------

MAX_OPEN_PER_NUMBER = 3      # incidents one reporter's number may have open at once


def start_incident(turn: Turn, type: str = "ice", any_open: bool = False, hold: bool = False) -> ActionResult:
    """Start an incident of ``type``, or go on with the caller's open one (of any type when
    ``any_open``: EMERGENCY during a records request is about that request).

    A number that is neither on the roster nor verified by the staff code gets the protocol (it
    was already sent) and no incident: nothing a stranger texts can fill the incident list. The
    conversation remembers the report (it expires with it) and verify_reporter starts the
    incident when the code is right (``hold``: its school is asked before anyone is alerted); the
    security timeline records the view."""
    services, district = turn.services, turn.district
    drill = bool(turn.state.get("drill"))
    member = turn.roster_member()
    existing = services.incidents.for_reporter(district.id, turn.caller)
    reuse = existing is not None and existing.drill == drill and (
        existing.type == type or any_open or existing.reporter != turn.caller)
    if not reuse and (member or turn.state.get("verified")):
        mine = [i for i in services.incidents.open_incidents(district.id)
                if i.reporter == turn.caller and i.drill == drill]
        if len(mine) >= MAX_OPEN_PER_NUMBER:
            # A flood from one number (a lost or stolen phone) goes on in its newest incident.
            existing, reuse = max(mine, key=lambda i: i.created), True
            services.incidents.link_reporter(existing, turn.caller)
    if reuse:
        # The same report again, or a school leader who took charge asking for the protocol.
        turn.state["incident"] = existing.id
        if existing.verified and not existing.escalation_started:
            escalation.start(services, existing)
        # From the emergency branch the urgent reply says where it stands; once is enough.
        return ActionResult() if any_open else where_it_stands(turn, existing)
    if not member and not turn.state.get("verified"):
        turn.state["pending_report"] = type
        security.add_event(services, district.id, "unverified-report",
                           f"{type} protocol given to unlisted {mask(turn.caller)} by "
                           f"{'text' if turn.channel == 'sms' else 'phone'}; no incident until the staff code")
        return _reply("staff.notify.needs_code")
    verification = "roster" if member else "code"
    school = member.school if member else turn.state.get("answers", {}).get("school")
    incident = services.incidents.create(
        district_id=district.id, type=type, drill=drill, line=turn.line.number, reporter=turn.caller,
        reporter_name=member.name if member else "", reporter_role=member.role if member else "",
        school=school, verification=verification,
        policy=escalation.snapshot_policy(district, drill, school, turn.caller, type))
    turn.state["incident"] = incident.id
    who = f"{member.name} ({member.role})" if member else f"unlisted number {mask(turn.caller)}"
    services.incidents.add_event(incident, "reported", f"{'DRILL ' if drill else ''}{type} reported by {who} "
                                 f"by {'text' if turn.channel == 'sms' else 'phone call'}")
    log.info("incident %s/%s started type=%s drill=%s verification=%s", district.id, incident.id, type, drill,
             verification)
    if hold:
        return ActionResult()          # the school is asked first (set_school starts the escalation)
    try:
        escalation.start(services, incident)
    except Exception as exc:  # noqa: BLE001 — queue unreachable: say so on the incident and to the reporter
        services.incidents.add_event(incident, "failed", f"escalation could not be queued ({exc.__class__.__name__})")
        raise
    return _reply("staff.notify.drill" if drill else f"staff.notify.started_{type}", incident=incident.id)


def verify_reporter(turn: Turn) -> ActionResult:
    """The staff code was right: the report becomes an incident (verified by the code). Its school
    is asked next; set_school starts the escalation."""
    turn.state["verified"] = True
    pending = turn.state.pop("pending_report", None)
    if pending is None and turn.state.get("incident"):
        return ActionResult()
    result = start_incident(turn, pending or "ice", hold=True)
    incident = turn.services.incidents.get(turn.district.id, turn.state.get("incident", ""))
    if incident is None:
        return _reply("staff.notify.failed")
    turn.services.incidents.add_event(incident, "verified", "reporter gave the staff code")
    return result


def set_school(turn: Turn) -> ActionResult:
    """An unlisted reporter chose their school: it goes on the incident (and so on legal's text and
    to that school's leader) before the escalation starts."""
    services, district = turn.services, turn.district
    incident = services.incidents.get(district.id, turn.state.get("incident", ""))
    if incident is None:
        return _reply("staff.notify.failed")
    school_id = turn.state.get("answers", {}).get("school")
    if school_id in district.schools and not incident.escalation_started:
        policy = escalation.snapshot_policy(district, incident.drill, school_id, turn.caller, incident.type)
        services.incidents.update(incident, school=school_id, policy=policy)
        services.incidents.add_event(incident, "detail", f"school: {district.schools[school_id].name}", field="school")
    if not incident.escalation_started:
        escalation.start(services, incident)
    return _reply("staff.notify.verified", incident=incident.id)


def record(turn: Turn, field: str, value=None) -> ActionResult:
    incident = turn.services.incidents.get(turn.district.id, turn.state.get("incident", ""))
    if incident is not None:
        turn.services.incidents.record_detail(incident, field, value)
        if isinstance(value, list) and value:
            # Photos (a media answer): a job copies them off Twilio and forwards them to legal.
            documents.enqueue_collect(turn.services, incident, value)
    return ActionResult()


def mark_urgent(turn: Turn) -> ActionResult:
    """EMERGENCY: the incident is urgent; the reply says who is being told, from the ledger."""
    incident = _reporters_incident(turn)
    if incident is None:
        return _reply("staff.notify.needs_code" if turn.state.get("pending_report") else "staff.urgent.no_incident")
    outcome = changes.mark_urgent(turn.services, turn.district, incident, _on_site_actor(turn, incident))
    if not outcome.changed:
        return where_it_stands(turn, incident)      # urgent already: nobody is being told again
    found = told_of_changes(turn.services.redis, turn.district, incident) if incident.verified else []
    if found:
        return _reply("staff.urgent.told", incident=incident.id, reached=names(found))
    return _reply("staff.urgent.nobody_yet", incident=incident.id)


def incident_status(turn: Turn) -> ActionResult:
    services, district = turn.services, turn.district
    incident = _reporters_incident(turn)
    if incident is None:
        return _reply("staff.notify.needs_code" if turn.state.get("pending_report") else "staff.status.none")
    catalogs = turn.content.catalogs
    nobody = catalogs.render(turn.lang, "staff.status.nobody", {}, "sms", district.default_language).text
    found = reached(services.redis, district, incident) if incident.verified else []
    state = catalogs.render(turn.lang, f"staff.status.{incident.status}", {}, "sms", district.default_language).text
    return _reply("staff.status.summary", incident=incident.id, state=state,
                  reached=names(found) or nobody, acknowledged=incident.holder_name or nobody)


def officers_left(turn: Turn) -> ActionResult:
    """LEFT (or DONE, then 1): the on-site part is over; the incident stays open for legal."""
    services, district = turn.services, turn.district
    incident = _reporters_incident(turn)
    if incident is None:
        return _reply("staff.notify.needs_code" if turn.state.get("pending_report") else "staff.status.none")
    outcome = changes.officers_left(services, district, incident, _on_site_actor(turn, incident))
    if not outcome.changed:
        return where_it_stands(turn, incident)      # said before (or not allowed): nobody is told again
    found = told_of_changes(services.redis, district, incident) if incident.verified else []
    if incident.status == "taken":
        if any(r.contact_id == incident.acknowledged_by for r in found):
            return _reply("staff.left.taken", incident=incident.id, contact=incident.holder_name)
        return _reply("staff.notify.existing_taken", incident=incident.id, contact=incident.holder_name)
    if incident.escalation_ended_at:
        return _reply("staff.reporter.nobody_answered", incident=incident.id)
    if found:
        return _reply("staff.left.reached", incident=incident.id, reached=names(found))
    return _reply("staff.left.nobody", incident=incident.id)


# --- Office requests (family line) --------------------------------------------------------------

REQUEST_FIELDS = {
    "contact_update": ("change", "student_name", "old_contact", "contact_name", "relationship", "contact_phone"),
    "concern": ("description", "anonymous", "recipient"),
    "voicemail": ("message",),
}
REQUEST_REPLY = {"contact_update": "family.update.sent", "concern": "family.concern.sent",
                 "voicemail": "family.person.sent"}


def submit_request(turn: Turn, type: str) -> ActionResult:
    answers = turn.state.get("answers", {})
    anonymous = type == "concern" and answers.get("anonymous") == "yes"
    request = turn.services.requests.create(
        district_id=turn.district.id, type=type, line=turn.line.number, language=turn.lang,
        caller=None if anonymous else turn.caller, school=answers.get("school"),
        fields={name: answers.get(name) for name in REQUEST_FIELDS[type] if name in answers})
    # What was asked is now with the office; the conversation need not keep it.
    turn.state["answers"] = {}
    try:
        queueing.enqueue(turn.services, "notify_office", turn.district.id, request.reference)
    except Exception as exc:  # noqa: BLE001 — the request is stored and listed on the dashboard anyway
        log.error("office notification not queued (%s) for request %s", exc.__class__.__name__, request.reference)
    school = turn.district.schools.get(request.school or "")
    return _reply(_request_reply(type, request.fields), reference=request.reference,
                  school_name=school.name if school else "")


def _request_reply(type: str, fields: dict) -> str:
    # issue 12: a concern for the school's leadership team says so (not "the civil rights office").
    if type == "concern" and fields.get("recipient") == "school":
        return "family.concern.sent_school"
    return REQUEST_REPLY[type]


def switch_flow(turn: Turn, flow: str) -> ActionResult:
    """Go on in another flow (the staff call's choice of protocol); conversation.py starts it."""
    turn.state["switch_to"] = flow
    return ActionResult()


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
    "set_school": set_school,
    "record": record,
    "mark_urgent": mark_urgent,
    "incident_status": incident_status,
    "officers_left": officers_left,
    "submit_request": submit_request,
    "switch_flow": switch_flow,
    "set_language": set_language,
    "forget_answers": forget_answers,
}

# What the caller hears when an action could not be carried out.
FAILURE_REPLY = {
    "start_incident": "staff.notify.failed",
    "verify_reporter": "staff.notify.failed",
    "set_school": "staff.notify.failed",
    "mark_urgent": "staff.notify.failed",
    "incident_status": "common.error",
    "officers_left": "common.error",
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
