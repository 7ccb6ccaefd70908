"""Dashboard pages about people: the audit log (auditors, district administrators; CSV and JSON
export), the accounts of one's districts (district administrators: disable, enable, end sessions)
and one's own account and sessions (everyone: see and end the other sessions)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from flask import Response, abort, flash, redirect, render_template, request, url_for

from ..accounts import roles
from ..exports import to_csv
from . import auth
from .auth import login_required, require
from .views import _my_districts, _record, _services, bp, local_time

AUDIT_SHOWN = 500
AUDIT_FIELDS = ["time", "district", "actor", "email", "role", "action", "target", "address", "detail"]


# --- Audit log -----------------------------------------------------------------------------------

def _audit_rows(limit: int | None) -> list[dict]:
    services = _services()
    rows = []
    for district in _my_districts():
        for entry in services.audit.entries(district.id, limit=limit):
            rows.append({**entry, "time": local_time(district, entry["t"], seconds=True),
                         "iso": district.local(entry["t"]).isoformat(timespec="seconds")})
    rows.sort(key=lambda row: row["t"], reverse=True)
    return rows[:limit] if limit else rows


@bp.get("/audit")
@require(roles.AUDIT_VIEW)
def audit_page():
    action = request.args.get("action") or ""
    rows = [row for row in _audit_rows(AUDIT_SHOWN) if not action or row["action"] == action]
    _record(_my_districts(), "view_audit", action)
    return render_template("admin/audit.html", rows=rows, shown=AUDIT_SHOWN, signed_in=True, tab="audit",
                           action=action)


@bp.get("/audit.<fmt>")
@require(roles.AUDIT_VIEW, download=True)
def audit_export(fmt: str):
    if fmt not in ("csv", "json"):
        abort(404)
    rows = _audit_rows(None)
    _record(_my_districts(), "export_audit", fmt, count=len(rows))
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M")
    out = [{**{name: row.get(name, "") for name in AUDIT_FIELDS}, "time": row["iso"],
            "detail": row["detail"]} for row in rows]
    headers = {"Content-Disposition": f'attachment; filename="audit-{stamp}.{fmt}"'}
    if fmt == "json":
        return Response(json.dumps(out, indent=2, ensure_ascii=False), mimetype="application/json", headers=headers)
    csv_rows = [{**row, "detail": json.dumps(row["detail"], ensure_ascii=False) if row["detail"] else ""}
                for row in out]
    return Response(to_csv(csv_rows, AUDIT_FIELDS), mimetype="text/csv", headers=headers)


# --- Accounts of one's districts -------------------------------------------------------------------

def _manageable(account_id: str):
    """An account a district administrator may change: all its districts are the admin's."""
    me = auth.current_account()
    target = _services().accounts.get(account_id)
    if target is None or target.id == me.id:
        abort(404)
    mine = set(auth.account_districts(me))
    if not set(auth.account_districts(target)) <= mine or "*" in target.districts and "*" not in me.districts:
        abort(404)
    return target


@bp.get("/users")
@require(roles.USERS_MANAGE)
def users_page():
    me = auth.current_account()
    mine = set(auth.account_districts(me))
    people = [a for a in _services().accounts.all() if set(auth.account_districts(a)) & mine]
    return render_template("admin/users.html", people=people, roles=roles.ROLES, me=me, signed_in=True,
                           tab="users")


@bp.post("/users/<account_id>/<change>")
@require(roles.USERS_MANAGE)
def change_user(account_id: str, change: str):
    if change not in ("disable", "enable"):
        abort(404)
    services = _services()
    target = _manageable(account_id)
    services.accounts.set_disabled(target, change == "disable")
    if change == "disable":
        # Disabling ends every session of the account at once.
        services.web_sessions.end_all(target.id)
    _record(auth.account_districts(target), "user_disabled" if change == "disable" else "user_enabled",
            target.email)
    flash(f"{target.name} is {'disabled' if change == 'disable' else 'enabled'}.")
    return redirect(url_for("admin.users_page"))


# --- One's own account and sessions ---------------------------------------------------------------

def handle(session_id: str) -> str:
    """A session's name on the page: never the id itself, which is what the cookie carries."""
    return hashlib.sha256(session_id.encode()).hexdigest()[:16]


@bp.get("/account")
@login_required
def account_page():
    services = _services()
    me = auth.current_account()
    current = auth.g.web_session
    sessions = [{"id": handle(web.id), "current": web.id == current.id, "address": web.address, "agent": web.agent,
                 "method": web.method, "started": local_time(_my_districts()[0], web.started) if _my_districts() else "",
                 "seen": local_time(_my_districts()[0], web.seen) if _my_districts() else ""}
                for web in services.web_sessions.for_account(me.id, auth.now())]
    return render_template("admin/account.html", me=me, role=me.role_info, sessions=sessions, signed_in=True,
                           tab="account")


@bp.post("/account/sessions/end-others")
@login_required
def end_other_sessions():
    services = _services()
    me, current = auth.current_account(), auth.g.web_session
    ended = 0
    for web in services.web_sessions.for_account(me.id, auth.now()):
        if web.id != current.id:
            services.web_sessions.end(web.id)
            ended += 1
    _record(_my_districts(), "session_ended", "others", count=ended)
    flash(f"Ended {ended} other session{'s' if ended != 1 else ''}.")
    return redirect(url_for("admin.account_page"))


@bp.post("/account/sessions/<session_handle>/end")
@login_required
def end_session(session_handle: str):
    services = _services()
    me = auth.current_account()
    web = next((w for w in services.web_sessions.for_account(me.id, auth.now()) if handle(w.id) == session_handle),
               None)
    if web is None:     # not one of this account's sessions: someone else's is not revealed
        abort(404)
    services.web_sessions.end(web.id)
    _record(_my_districts(), "session_ended", "one")
    flash("That session is ended.")
    return redirect(url_for("admin.account_page"))
