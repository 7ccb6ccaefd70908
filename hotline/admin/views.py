"""The dashboard at /admin: incidents and their timelines (acknowledge, close, export), office
requests from the family line (mark processed, CSV export), language coverage, the health of the
queue and workers; the audit log, accounts and one's own sessions are in people.py.

Server-rendered pages, no JavaScript. Every page needs a signed-in account whose role has the
page's permission (auth.py, accounts/roles.py) and shows only the account's districts (and, for a
school office, its schools). What people see and do is written to the audit log. Every form
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

from .. import security
from ..accounts import roles
from ..accounts.store import normal_email
from ..check import language_rows, missing_recordings
from ..exports import holder_name, incident_summary, request_rows, to_csv
from ..health import WORKER_SEEN_WITHIN, worker_report
from ..incidents import changes, documents
from ..incidents.escalation import deliveries
from ..incidents.reconciler import heartbeat
from ..incidents.search import IncidentFilter, all_incidents, parse_day, search
from ..media import media_kind
from ..phones import national
from . import auth
from .auth import login_required, require

log = logging.getLogger(__name__)

bp = Blueprint("admin", __name__, url_prefix="/admin")
csrf = CSRFProtect()

INCIDENT_FILTERS = ("open", "responding", "taken", "closed", "all")
REQUEST_FILTERS = ("new", "processed", "all")
TYPE_LABELS = {"ice": "ICE", "records": "Records", "detain": "Detention"}
REQUEST_LABELS = {"contact_update": "Emergency-contact update", "concern": "Concern", "voicemail": "Call-back"}
DASHBOARD_CONTACT = "dashboard"   # the contact id an acknowledgement from the dashboard is recorded under
AUTO_REFRESH = 30                 # seconds between refreshes of the incident lists
OUTBOX_SHOWN = 20


def _services():
    return current_app.extensions["hotline"]


def _settings():
    return current_app.config["HOTLINE_SETTINGS"]


@bp.context_processor
def signed_in_account() -> dict:
    """The signed-in account, for the navigation (only what its role may use is shown)."""
    return {"me": auth.g.get("account")}


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


@bp.errorhandler(403)
def forbidden(error):
    return render_template("admin/message.html", title="Not for your role",
                           message=f"{error.description} Your district administrator decides who may do what.",
                           signed_in=auth.current_account() is not None, home=True), 403


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


def _person(account) -> str | None:
    """A person's account names the person on the incident; the shared password names nobody."""
    return None if account.id == auth.SHARED_ID else account.name


def _dashboard_actor(district, legal_name: str) -> changes.Actor:
    """Who acts from the dashboard: for the legal office (a legal account, the shared password), or
    as safety (a safety account, whose "take" means responding: legal is still alerted)."""
    account = auth.current_account()
    if account.role == "safety":
        safety = district.first_contact("safety")
        return changes.Actor("safety", safety.id if safety else "dashboard-safety",
                             safety.name if safety else "Safety", None, "dashboard", _person(account))
    return changes.dashboard_actor(legal_name, DASHBOARD_CONTACT, _person(account))


def taken_by(district, incident) -> str:
    """"<person> (<contact>)" when a person is recorded (a dashboard account, or an account holding
    the contact's number), else who took it; empty while nobody has."""
    if not incident.acknowledged_by:
        return ""
    if incident.acknowledged_person:
        return f"{incident.acknowledged_person} ({holder_name(district, incident)})"
    return acknowledger(district, incident)


def incident_row(district, incident, now: float) -> dict:
    school = district.schools.get(incident.school or "")
    return {
        "district": district.id, "id": incident.id, "status": incident.status, "urgent": incident.urgent,
        "drill": incident.drill, "type": TYPE_LABELS.get(incident.type, incident.type),
        "school": school.name if school else "school not known",
        "reporter": incident.reporter_name or "unlisted number",
        "reported": local_time(district, incident.created), "age": age(now - incident.created),
        "acknowledged_by": taken_by(district, incident),
        "url": url_for("admin.incident", district_id=district.id, incident_id=incident.id),
    }


def _district_or_404(district_id: str):
    # Another district's objects answer 404 like missing ones: their existence is not revealed.
    return auth.district_or_404(district_id)


def _my_districts():
    account = auth.current_account()
    return [d for d in _services().directory.districts if account is not None and account.in_district(d.id)]


def _record(districts, action: str, target: str = "", **detail) -> None:
    ids = [d if isinstance(d, str) else d.id for d in districts]
    _services().audit.record(ids, auth.actor(), action, target, **detail)


def landing() -> str:
    """The first page an account can use."""
    account = auth.current_account()
    for permission, endpoint in ((roles.INCIDENTS_VIEW, "admin.incidents"), (roles.REQUESTS_VIEW, "admin.requests_page"),
                                 (roles.AUDIT_VIEW, "admin.audit_page"), (roles.USERS_MANAGE, "admin.users_page")):
        if account is not None and account.can(permission):
            return url_for(endpoint)
    return url_for("admin.account_page")


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
        return redirect(next_url or landing())
    error, status, headers = None, 200, {}
    ended = auth.ended_reason() if request.method == "GET" else None
    email = normal_email(request.form.get("email", ""))
    if request.method == "POST":
        password = request.form.get("password", "")
        wait = auth.wait_before_attempt(email) if auth.password_configured() else 0
        if not auth.password_configured():
            error, status = "Sign-in is not set up yet (see below).", 403
        elif wait > 0:
            # The progressive delay: this attempt is not checked; after the wait the right password works.
            seconds = max(1, round(wait))
            log.warning("dashboard sign-in delayed %ss after failures from %s", seconds, auth.client_address())
            error, status = f"Too many wrong passwords. Wait {seconds} second{'s' if seconds != 1 else ''} and try again.", 429
            headers["Retry-After"] = str(seconds)
        else:
            services = _services()
            if email:
                account = services.accounts.check_password(email, password)
            else:
                account = auth.shared_account() if auth.shared_password_matches(password) else None
            if account is not None:
                auth.attempt_succeeded(email)
                auth.start_session(account, "password" if email else "shared")
                if not email:
                    log.warning("dashboard sign-in with the shared password (deprecated: create accounts with "
                                "`hotline users add` and remove HOTLINE_ADMIN_PASSWORD_HASH)")
                log.info("dashboard sign-in from %s", auth.client_address())
                _record(_my_districts(), "sign_in", method="password" if email else "shared password")
                return redirect(next_url or landing())
            auth.attempt_failed(email)
            known = services.accounts.by_email(email) if email else None
            if known is not None:
                services.audit.record(auth.account_districts(known), auth.Actor(
                    known.name, known.email, known.role, auth.client_address(), known.id), "sign_in_failed")
            log.warning("dashboard sign-in: wrong password from %s", auth.client_address())
            error, status = ("That email and password do not match an account." if email
                             else "That password is not right."), 401
    return render_template("admin/login.html", error=error, ended=ended, next_url=next_url, email=email,
                           configured=auth.password_configured(), signed_in=False, sso=auth.sso_label()), status, headers


@bp.post("/logout")
@login_required
def logout():
    _record(_my_districts(), "sign_out")
    auth.end_session()
    flash("Signed out.")
    return redirect(url_for("admin.login"))


@bp.get("/home")
@login_required
def home():
    return redirect(landing())


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
    found = search(services, wanted, page_number, drills=drills, districts=_my_districts())
    rows = [incident_row(district, incident, now) for district, incident in found.items]
    query = {k: v for k, v in {"number": wanted.number, "school": wanted.school,
                               "since": wanted.since.isoformat() if wanted.since else "",
                               "until": wanted.until.isoformat() if wanted.until else ""}.items() if v}
    schools = [(school.id, school.name) for district in _my_districts()
               for school in district.schools.values()]
    refresh_query = {"status": shown, **query, "page": found.page, auth.PASSIVE_PARAM: 1}
    return render_template("admin/incidents.html", rows=rows, counts=found.counts, shown=shown, drills=drills,
                           can_export=auth.current_account().can(roles.INCIDENTS_EXPORT),
                           filters=INCIDENT_FILTERS, refresh=AUTO_REFRESH, signed_in=True,
                           refresh_url=url_for(request.endpoint, **refresh_query), query=query, found=found,
                           schools=schools, tab="drills" if drills else "incidents")


@bp.get("/")
@require(roles.INCIDENTS_VIEW)
def incidents():
    return _incident_page(drills=False)


@bp.get("/drills")
@require(roles.INCIDENTS_VIEW)
def drills():
    return _incident_page(drills=True)


@bp.get("/incidents/<district_id>/<incident_id>")
@require(roles.INCIDENTS_VIEW)
def incident(district_id: str, incident_id: str):
    services = _services()
    district, found = _incident_or_404(district_id, incident_id)
    _record([district], "view_incident", found.id)
    school = district.schools.get(found.school or "")
    timeline = [{"time": local_time(district, event["t"], seconds=True), "kind": event["kind"], "text": event["text"]}
                for event in services.incidents.timeline(district.id, found.id)]
    # Photos are shown from the hotline's copies (Documents below), never by their Twilio URLs.
    details = [{"name": name.replace("_", " "),
                "values": [f"{len(value)} photo(s), see Documents"] if isinstance(value, list) else [value]}
               for name, value in found.details.items()]
    docs = [{"position": n, "type": d.content_type, "size": f"{max(1, d.size // 1024)} KB",
             "copied": local_time(district, d.copied_at, seconds=True),
             "url": url_for("admin_documents.document", district_id=district.id, incident_id=found.id,
                            document_id=d.id)}
            for n, d in enumerate(documents.listing(services, district.id, found.id), 1)
            if auth.current_account().can(roles.DOCUMENTS_VIEW)]
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
        "Taken by": taken_by(district, found) or "nobody yet",
        "Taken": local_time(district, found.acknowledged_at, seconds=True),
        "Responding": found.responding_name or "",
        "School leader in charge": found.lead_name or "",
        "Officers left": local_time(district, found.left_at, seconds=True),
        "Closed": local_time(district, found.closed_at, seconds=True),
        "Closed by": found.closed_by or "",
    }
    account = auth.current_account()
    return render_template("admin/incident.html", incident=found, district=district, summary=summary,
                           timeline=timeline, details=details, deliveries=sent, documents=docs,
                           media_kind=twilio_media, signed_in=True, can_take=account.can(roles.INCIDENTS_TAKE),
                           can_close=account.can(roles.INCIDENTS_CLOSE), tab="drills" if found.drill else "incidents")


@bp.post("/incidents/<district_id>/<incident_id>/acknowledge")
@require(roles.INCIDENTS_TAKE)
def acknowledge_incident(district_id: str, incident_id: str):
    services = _services()
    district, found = _incident_or_404(district_id, incident_id)
    if not found.active:
        flash(f"Incident {found.id} is closed.")
    else:
        legal = district.first_contact("legal")
        # The reporter is told "<name> has incident N", exactly as when the office replies ACK by text.
        name = legal.name if legal else "The legal office"
        outcome = changes.take(services, district, found, _dashboard_actor(district, name))
        if outcome.changed:
            _record([district], "acknowledge", found.id)
            if outcome.reason == "responding":
                flash(f"You are responding to incident {found.id}. The legal office is still being alerted.")
            else:
                flash(f"You have incident {found.id}. The reporter and the other contacts are being told.")
        else:
            flash(f"Incident {found.id} was already taken by {acknowledger(district, found)}.")
    return redirect(url_for("admin.incident", district_id=district.id, incident_id=found.id))


@bp.post("/incidents/<district_id>/<incident_id>/close")
@require(roles.INCIDENTS_CLOSE)
def close_incident(district_id: str, incident_id: str):
    services = _services()
    district, found = _incident_or_404(district_id, incident_id)
    legal = district.first_contact("legal")
    name = legal.name if legal else "The legal office"
    actor = _dashboard_actor(district, name)
    if changes.close(services, district, found, actor).changed:
        _record([district], "close", found.id)
        flash(f"Incident {found.id} is closed. The reporter and the contacts who were alerted are being told.")
    else:
        flash(f"Incident {found.id} was already closed.")
    return redirect(url_for("admin.incident", district_id=district.id, incident_id=found.id))


@bp.get("/incidents.csv")
@require(roles.INCIDENTS_EXPORT, download=True)
def incidents_csv():
    services = _services()
    # Every incident (no cap: a flood of junk reports must not push a real one out of the export).
    districts = _my_districts()
    rows = [{**incident_summary(district, found), "acknowledged_by": taken_by(district, found)}
            for one in districts for drills in (False, True)
            for district, found in all_incidents(services, drills, [one])]
    _record(districts, "export_incidents", "", count=len(rows), ids=[r["id"] for r in rows][:200])
    fields = ["district", "id", "type", "drill", "status", "urgent", "school", "reporter", "reported",
              "acknowledged_by", "acknowledged", "closed"]
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M")
    return Response(to_csv(rows, fields), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="incidents-{stamp}.csv"'})


# --- Office requests -----------------------------------------------------------------------------

def _status_filter(value: str | None) -> str:
    return value if value in REQUEST_FILTERS else "new"


@bp.get("/requests")
@require(roles.REQUESTS_VIEW)
def requests_page():
    services = _services()
    account = auth.current_account()
    shown = _status_filter(request.args.get("status"))
    items, counts = [], {status: 0 for status in REQUEST_FILTERS}
    shown_by_district: dict[str, list[str]] = {}
    for district in _my_districts():
        for item in services.requests.list(district.id):
            # A school office sees its schools' requests only; one without a school is for district roles.
            if not account.sees_school(district.id, item.school):
                continue
            counts[item.status] = counts.get(item.status, 0) + 1
            counts["all"] += 1
            if shown not in ("all", item.status):
                continue
            shown_by_district.setdefault(district.id, []).append(item.reference)
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
    for district_id, references in shown_by_district.items():
        _record([district_id], "view_requests", ",".join(references[:100]), status=shown, count=len(references))
    return render_template("admin/requests.html", items=items, counts=counts, shown=shown, filters=REQUEST_FILTERS,
                           media_kind=twilio_media, signed_in=True, tab="requests",
                           can_process=account.can(roles.REQUESTS_PROCESS), can_export=account.can(roles.REQUESTS_EXPORT))


@bp.post("/requests/<district_id>/<reference>/processed")
@require(roles.REQUESTS_PROCESS)
def mark_processed(district_id: str, reference: str):
    services = _services()
    district = _district_or_404(district_id)
    account = auth.current_account()
    found = services.requests.get(district.id, reference[:12])
    if found is None or not account.sees_school(district.id, found.school):
        abort(404)
    by = "dashboard" if account.id == auth.SHARED_ID else account.name
    done = services.requests.mark_processed(district.id, found.reference, by=by)
    _record([district], "request_processed", found.reference)
    flash(f"Request {done.reference} is marked processed.")
    return redirect(url_for("admin.requests_page", status=_status_filter(request.form.get("shown"))))


# A cell starting with one of these is a formula to Excel and LibreOffice: a family's text must not
# run in the office's spreadsheet (CSV injection). E.164 phone numbers start with + and are harmless.
@bp.get("/requests.csv")
@require(roles.REQUESTS_EXPORT, download=True)
def requests_csv():
    shown = _status_filter(request.args.get("status"))
    account = auth.current_account()
    rows = request_rows(_services(), None if shown == "all" else shown, visible=account.sees_school)
    for district in _my_districts():
        references = [r["reference"] for r in rows if r["district"] == district.id]
        _record([district], "export_requests", ",".join(references[:200]), status=shown, count=len(references))
    body = to_csv(rows)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M")
    return Response(body, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="office-requests-{shown}-{stamp}.csv"'})


# --- Languages and health ------------------------------------------------------------------------

@bp.get("/languages")
@require(roles.SETTINGS_VIEW)
def languages():
    services = _services()
    tables = []
    for district in _my_districts():
        content = services.content(district)
        catalogs = content.catalogs
        codes = list(district.languages)
        missing = missing_recordings(content, district, services.settings.var_dir)
        tables.append({"district": district, "rows": language_rows(catalogs, codes, missing),
                       "missing": [code for code in codes if code not in catalogs]})
    return render_template("admin/languages.html", tables=tables, signed_in=True, tab="languages")


# --- Security (issue 13) -------------------------------------------------------------------------

SECURITY_SHOWN = 200


@bp.get("/security")
@require(roles.SECURITY_VIEW)
def security_page():
    """Staff-code attempts (right, wrong, refused) and pauses of the code check, newest first:
    the signed-in account's districts only."""
    services = _services()
    tables = []
    for district in _my_districts():
        events = [{"time": local_time(district, event["t"], seconds=True), "kind": event["kind"],
                   "text": event["text"]} for event in security.timeline(services, district.id, SECURITY_SHOWN)]
        resumes = security.paused_until(services, district)
        tables.append({"district": district, "events": events, "limit": district.staff_code_limit,
                       "paused_until": local_time(district, resumes) if resumes else ""})
    return render_template("admin/security.html", tables=tables, shown=SECURITY_SHOWN, signed_in=True,
                           tab="security")


@bp.get("/health")
@require(roles.SETTINGS_VIEW)
def health():

    services = _services()
    workers = worker_report(services)
    healthy, beat = heartbeat(services)
    outbox = []
    if services.settings.dry_run:
        mine = _my_districts()
        district = mine[0] if mine else services.directory.districts[0]
        # Only what this account's districts' lines sent: another district's texts are not its business.
        lines = {line.number for d in mine for line in d.lines}
        sent = [item for item in services.outbound.outbox() if item["from"] in lines]
        for item in reversed(sent[-OUTBOX_SHOWN:]):
            outbox.append({**item, "when": local_time(district, item["time"], seconds=True)})
    return render_template("admin/health.html", workers=workers, healthy=healthy, beat=beat, outbox=outbox,
                           dry_run=services.settings.dry_run, seen_within=WORKER_SEEN_WITHIN, signed_in=True,
                           tab="health")
