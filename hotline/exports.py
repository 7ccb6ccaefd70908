"""Incident and office-request rows for exports (the CLI and the dashboard), and CSV that is safe
to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
import re

from .services import Services

# A cell starting with one of these is a formula to a spreadsheet; a family's text must stay text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_E164 = re.compile(r"^\+\d{6,15}$")


def spreadsheet_safe(value) -> str:
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START) and not _E164.match(text):
        return "'" + text
    return text


def to_csv(rows: list[dict], fields: list[str] | None = None) -> str:
    if fields is None:
        fields = []
        for row in rows:
            fields += [name for name in row if name not in fields]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields or ["reference"], extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({name: spreadsheet_safe(value) for name, value in row.items()})
    return out.getvalue()


def holder_name(district, incident) -> str:
    """Who has the incident, as people should read it."""
    contact = district.contacts.get(incident.acknowledged_by or "")
    return incident.acknowledged_name or (contact.name if contact else (incident.acknowledged_by or ""))


def incident_summary(district, incident) -> dict:
    school = district.schools.get(incident.school or "")
    return {
        "district": district.id, "id": incident.id, "type": incident.type, "drill": incident.drill,
        "status": incident.status, "urgent": incident.urgent, "school": school.name if school else "",
        "reporter": incident.reporter_name or "unlisted number",
        "reported": district.local(incident.created).isoformat(timespec="seconds"),
        "acknowledged_by": holder_name(district, incident),
        "responding": incident.responding_name or "", "school_leader_in_charge": incident.lead_name or "",
        "officers_left": district.local(incident.left_at).isoformat(timespec="seconds") if incident.left_at else "",
        "closed_by": incident.closed_by or "",
        "acknowledged": district.local(incident.acknowledged_at).isoformat(timespec="seconds")
        if incident.acknowledged_at else "",
        "closed": district.local(incident.closed_at).isoformat(timespec="seconds") if incident.closed_at else "",
    }


def request_rows(services: Services, status: str | None = None, visible=None) -> list[dict]:
    """Every request's row; ``visible(district_id, school_id)`` keeps only those a person may see."""
    rows = []
    for district in services.directory.districts:
        for request in services.requests.list(district.id, status=status):
            if visible is not None and not visible(district.id, request.school):
                continue
            school = district.schools.get(request.school or "")
            rows.append({
                "district": district.id, "reference": request.reference, "type": request.type,
                "status": request.status, "received": district.local(request.created).isoformat(timespec="seconds"),
                "school": school.name if school else "", "language": request.language,
                "caller": request.caller or "anonymous", **{k: v or "" for k, v in request.fields.items()},
            })
    return rows
