"""The legal office's dashboard at /admin: incidents and their timelines (acknowledge, close),
office requests from the family line (mark processed, CSV export), language coverage, and the
health of the queue and workers.

Server-rendered pages, no JavaScript. Every page needs a signed-in session (auth.py); every form
carries a CSRF token (Flask-WTF's CSRFProtect, wired up in __init__.py for the whole app, with
Twilio's signed webhooks exempted there).
"""

from __future__ import annotations

import datetime as dt
import logging

import redis
from flask import (Blueprint, Response, abort, current_app, flash, redirect, render_template, request,
                   url_for)
from flask_wtf.csrf import CSRFError, CSRFProtect

from ..exports import holder_name, request_rows, to_csv
from ..incident_search import IncidentFilter, parse_day, search
from ..media import media_kind
from ..phones import national
from . import auth
from .auth import login_required

log = logging.getLogger(__name__)

bp = Blueprint("admin", __name__, url_prefix="/admin")
csrf = CSRFProtect()

INCIDENT_FILTERS = ("open", "acknowledged", "closed", "all")
REQUEST_FILTERS = ("new", "processed", "all")
TYPE_LABELS = {"ice": "ICE", "records": "Records"}
REQUEST_LABELS = {"contact_update": "Emergency-contact update", "concern": "Concern", "voicemail": "Call-back"}
DASHBOARD_CONTACT = "dashboard"   # the contact id an acknowledgement from the dashboard is recorded under
AUTO_REFRESH = 30                 # seconds between refreshes of the incident lists
OUTBOX_SHOWN = 20


def _services():
    return current_app.extensions["hotline"]


def _settings():
    return current_app.config["HOTLINE_SETTINGS"]


# --- Every response ------------------------------------------------------------------------------

@bp.after_request
def protect(response: Response) -> Response:
    """What is on these pages is sensitive: never cached, framed or referred to another site."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
        "base-uri 'none'")
    return response


@bp.errorhandler(CSRFError)
def csrf_refused(error: CSRFError):
    return render_template("admin/message.html", title="Form expired",
                           message="This form is too old or was not sent from the dashboard. Go back, reload "
                                   "the page and try again.", signed_in=auth.signed_in(touch=False)), 400


@bp.errorhandler(redis.RedisError)
def store_unreachable(error: Exception):
    log.error("dashboard: Redis unreachable (%s)", type(error).__name__)
    return render_template("admin/message.html", title="Data store unreachable",
                           message="The hotline's Redis does not answer, so nothing can be shown. Texts and calls "
                                   "still get the protocol; check /healthz and the server.",
                           signed_in=False), 503


# --- Formatting (district local time, ages) ------------------------------------------------------

def local_time(district, timestamp: float | None, seconds: bool = False) -> str:
    if not timestamp:
        return ""
    return district.local(timestamp).strftime("%Y-%m-%d %H:%M" + (":%S" if seconds else "") + " %Z")


def age(seconds: float) -> str:
    minutes = int(max(seconds, 0) // 60)
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{hours // 24} d {hours % 24} h" if hours % 24 else f"{hours // 24} d"


def ago(seconds: float) -> str:
    text = age(seconds)
    return text if text == "just now" else f"{text} ago"


def twilio_media(value) -> str | None:
    """Only Twilio's own media URLs become links (media.py), labelled by what they are."""
    return media_kind(value, _settings().twilio_api_base_url)


def acknowledger(district, incident) -> str:
    name = holder_name(district, incident)
    return f"{name} (dashboard)" if incident.acknowledged_by == DASHBOARD_CONTACT else name


def incident_row(district, incident, now: float) -> dict:
    school = district.schools.get(incident.school or "")
    return {
        "district": district.id, "id": incident.id, "status": incident.status, "urgent": incident.urgent,
        "drill": incident.drill, "type": TYPE_LABELS.get(incident.type, incident.type),
        "school": school.name if school else "school not known",
        "reporter": incident.reporter_name or "unlisted number",
        "reported": local_time(district, incident.created), "age": age(now - incident.created),
        "acknowledged_by": acknowledger(district, incident),
        "url": url_for("admin.incident", district_id=district.id, incident_id=incident.id),
    }


def _district_or_404(district_id: str):
    try:
        return _services().directory.get(district_id)
    except KeyError:
        abort(404)


def _incident_or_404(district_id: str, incident_id: str):
    district = _district_or_404(district_id)
    incident = _services().incidents.get(district.id, incident_id[:12])
    if incident is None:
        abort(404)
    return district, incident


# --- Sign-in -------------------------------------------------------------------------------------

@bp.route("/login", methods=["GET", "POST"])
def login():
    next_url = auth.safe_next(request.values.get("next"))
    if request.method == "GET" and auth.signed_in(touch=False):
        return redirect(next_url or url_for("admin.incidents"))
    error, status = None, 200
    ended = auth.ended_reason() if request.method == "GET" else None
    if request.method == "POST":
        if not auth.password_configured():
            error, status = "Sign-in is not set up yet (see below).", 403
        elif not auth.attempt_allowed():
            wait = max(1, round(auth.retry_after() / 60))
            log.warning("dashboard sign-in refused: too many attempts from %s", auth.client_address())
            error, status = f"Too many attempts. Wait {wait} minute{'s' if wait != 1 else ''} and try again.", 429
        elif auth.password_matches(request.form.get("password", "")):
            auth.forget_attempts()
            auth.start_session()
            log.info("dashboard sign-in from %s", auth.client_address())
            return redirect(next_url or url_for("admin.incidents"))
        else:
            log.warning("dashboard sign-in: wrong password from %s", auth.client_address())
            error, status = "That password is not right.", 401
    return render_template("admin/login.html", error=error, ended=ended, next_url=next_url,
                           configured=auth.password_configured(), signed_in=False), status


@bp.post("/logout")
@login_required
def logout():
    auth.end_session()
    flash("Signed out.")
    return redirect(url_for("admin.login"))


# --- Incidents -----------------------------------------------------------------------------------

def _incident_filter(shown: str) -> IncidentFilter:
    args = request.args
    return IncidentFilter(status=shown, number=args.get("number", "")[:32].strip(),
                          school=args.get("school", "")[:64].strip(), since=parse_day(args.get("since")),
                          until=parse_day(args.get("until")))


def _incident_page(drills: bool):
    services = _services()
    shown = request.args.get("status", "all" if drills else "open")
    if shown not in INCIDENT_FILTERS:
        shown = "open"
    now = services.clock()
    wanted = _incident_filter(shown)
    try:
        page_number = int(request.args.get("page", "1"))
    except ValueError:
        page_number = 1
    # Every incident is read (no cap): a flood of reports cannot push a real one out of reach.
    # Open first, urgent and verified at the top of those; then the newest (incident_search.py).
    found = search(services, wanted, page_number, drills=drills)
    rows = [incident_row(district, incident, now) for district, incident in found.items]
    query = {k: v for k, v in {"number": wanted.number, "school": wanted.school,
                               "since": wanted.since.isoformat() if wanted.since else "",
                               "until": wanted.until.isoformat() if wanted.until else ""}.items() if v}
    schools = [(school.id, school.name) for district in services.directory.districts
               for school in district.schools.values()]
    refresh_query = {"status": shown, **query, "page": found.page, auth.PASSIVE_PARAM: 1}
    return render_template("admin/incidents.html", rows=rows, counts=found.counts, shown=shown, drills=drills,
                           filters=INCIDENT_FILTERS, refresh=AUTO_REFRESH, signed_in=True,
                           refresh_url=url_for(request.endpoint, **refresh_query), query=query, found=found,
                           schools=schools, tab="drills" if drills else "incidents")


@bp.get("/")
@login_required
def incidents():
    return _incident_page(drills=False)


@bp.get("/drills")
@login_required
def drills():
    return _incident_page(drills=True)


@bp.get("/incidents/<district_id>/<incident_id>")
@login_required
def incident(district_id: str, incident_id: str):
    from ..escalation import deliveries

    services = _services()
    district, found = _incident_or_404(district_id, incident_id)
    school = district.schools.get(found.school or "")
    timeline = [{"time": local_time(district, event["t"], seconds=True), "kind": event["kind"], "text": event["text"]}
                for event in services.incidents.timeline(district.id, found.id)]
    details = [{"name": name.replace("_", " "), "values": value if isinstance(value, list) else [value]}
               for name, value in found.details.items()]
    sent = [{"contact": d.contact, "channel": d.channel, "tier": d.tier + 1, "round": d.round + 1,
             "status": d.status, "delivery": d.delivery or "", "at": local_time(district, d.at, seconds=True)}
            for d in deliveries(services, found)]
    summary = {
        "Status": found.status, "Type": TYPE_LABELS.get(found.type, found.type),
        "School": school.name if school else "not known",
        "Reported": f"{local_time(district, found.created, seconds=True)} ({ago(services.clock() - found.created)})",
        "Reporter": ", ".join(p for p in (found.reporter_name, found.reporter_role) if p) or "unlisted number",
        "Reporter's phone": national(found.reporter),
        "Verified by": {"roster": "staff roster", "code": "staff code", "pending": "NOT VERIFIED"}.get(
            found.verification, found.verification),
        "Line": national(found.line) if found.line else "",
        "Acknowledged by": acknowledger(district, found) or "nobody yet",
        "Acknowledged": local_time(district, found.acknowledged_at, seconds=True),
        "Closed": local_time(district, found.closed_at, seconds=True),
    }
    return render_template("admin/incident.html", incident=found, district=district, summary=summary,
                           timeline=timeline, details=details, deliveries=sent, media_kind=twilio_media, signed_in=True,
                           tab="drills" if found.drill else "incidents")


@bp.post("/incidents/<district_id>/<incident_id>/acknowledge")
@login_required
def acknowledge_incident(district_id: str, incident_id: str):
    from ..acknowledgement import acknowledge

    services = _services()
    district, found = _incident_or_404(district_id, incident_id)
    if not found.active:
        flash(f"Incident {found.id} is closed.")
    else:
        legal = district.first_contact("legal")
        # The reporter is told "<name> has incident N", exactly as when the office replies ACK by text.
        name = legal.name if legal else "The legal office"
        first = acknowledge(services, district, found, contact_id=DASHBOARD_CONTACT, contact_name=name,
                            contact_number=legal.number if legal else None, via="dashboard")
        if first:
            flash(f"You have incident {found.id}. The reporter and the other contacts are being told.")
        else:
            flash(f"Incident {found.id} was already acknowledged by {acknowledger(district, found)}.")
    return redirect(url_for("admin.incident", district_id=district.id, incident_id=found.id))


@bp.post("/incidents/<district_id>/<incident_id>/close")
@login_required
def close_incident(district_id: str, incident_id: str):
    from .. import jobs

    services = _services()
    district, found = _incident_or_404(district_id, incident_id)
    if services.incidents.close(found, "the dashboard"):
        # As when the reporter closes it (actions.close_reporter_part): everyone alerted is told.
        jobs.enqueue(services, jobs.notify_contacts, district.id, found.id, "escalation.closed_by_office", "closed",
                     [], {})
        flash(f"Incident {found.id} is closed. The contacts who were alerted are being told.")
    else:
        flash(f"Incident {found.id} was already closed.")
    return redirect(url_for("admin.incident", district_id=district.id, incident_id=found.id))


# --- Office requests -----------------------------------------------------------------------------

def _status_filter(value: str | None) -> str:
    return value if value in REQUEST_FILTERS else "new"


@bp.get("/requests")
@login_required
def requests_page():
    services = _services()
    shown = _status_filter(request.args.get("status"))
    items, counts = [], {status: 0 for status in REQUEST_FILTERS}
    for district in services.directory.districts:
        for item in services.requests.list(district.id):
            counts[item.status] = counts.get(item.status, 0) + 1
            counts["all"] += 1
            if shown not in ("all", item.status):
                continue
            school = district.schools.get(item.school or "")
            items.append({
                "district": district.id, "reference": item.reference, "status": item.status,
                "type": REQUEST_LABELS.get(item.type, item.type), "received": local_time(district, item.created),
                "school": school.name if school else "", "language": item.language,
                "caller": item.caller or "anonymous",
                "fields": [(name.replace("_", " "), value) for name, value in item.fields.items()],
                "processed": f"{local_time(district, item.processed_at)} by {item.processed_by}"
                if item.processed_at else "",
            })
    return render_template("admin/requests.html", items=items, counts=counts, shown=shown, filters=REQUEST_FILTERS,
                           media_kind=twilio_media, signed_in=True, tab="requests")


@bp.post("/requests/<district_id>/<reference>/processed")
@login_required
def mark_processed(district_id: str, reference: str):
    services = _services()
    district = _district_or_404(district_id)
    done = services.requests.mark_processed(district.id, reference[:12], by="dashboard")
    if done is None:
        abort(404)
    flash(f"Request {done.reference} is marked processed.")
    return redirect(url_for("admin.requests_page", status=_status_filter(request.form.get("shown"))))


# A cell starting with one of these is a formula to Excel and LibreOffice: a family's text must not
# run in the office's spreadsheet (CSV injection). E.164 phone numbers start with + and are harmless.
@bp.get("/requests.csv")
@login_required(download=True)
def requests_csv():
    shown = _status_filter(request.args.get("status"))
    body = to_csv(request_rows(_services(), None if shown == "all" else shown))
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M")
    return Response(body, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="office-requests-{shown}-{stamp}.csv"'})


# --- Languages and health ------------------------------------------------------------------------

@bp.get("/languages")
@login_required
def languages():
    from ..check import language_rows

    services = _services()
    tables = []
    for district in services.directory.districts:
        catalogs = services.content(district).catalogs
        codes = list(district.languages)
        tables.append({"district": district, "rows": language_rows(catalogs, codes),
                       "missing": [code for code in codes if code not in catalogs]})
    return render_template("admin/languages.html", tables=tables, signed_in=True, tab="languages")


# --- Security (issue 13) -------------------------------------------------------------------------

SECURITY_SHOWN = 200


@bp.get("/security")
@login_required
def security_page():
    """Staff-code attempts (right, wrong, refused) and pauses of the code check, newest first."""
    from .. import security

    services = _services()
    tables = []
    for district in services.directory.districts:
        events = [{"time": local_time(district, event["t"], seconds=True), "kind": event["kind"],
                   "text": event["text"]} for event in security.timeline(services, district.id, SECURITY_SHOWN)]
        resumes = security.paused_until(services, district)
        tables.append({"district": district, "events": events, "limit": district.staff_code_limit,
                       "paused_until": local_time(district, resumes) if resumes else ""})
    return render_template("admin/security.html", tables=tables, shown=SECURITY_SHOWN, signed_in=True,
                           tab="security")


@bp.get("/health")
@login_required
def health():
    from ..health import WORKER_SEEN_WITHIN, worker_report
    from ..reconciler import heartbeat

    services = _services()
    workers = worker_report(services)
    healthy, beat = heartbeat(services)
    outbox = []
    if services.settings.dry_run:
        district = services.directory.districts[0]
        for item in reversed(services.outbound.outbox()[-OUTBOX_SHOWN:]):
            outbox.append({**item, "when": local_time(district, item["time"], seconds=True)})
    return render_template("admin/health.html", workers=workers, healthy=healthy, beat=beat, outbox=outbox,
                           dry_run=services.settings.dry_run, seen_within=WORKER_SEEN_WITHIN, signed_in=True,
                           tab="health")
