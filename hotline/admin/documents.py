"""The incident page's documents: each copy served through the hotline, to signed-in users only
(never a raw Twilio URL, which would not open anyway with Twilio's media authentication on)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app

from ..incidents import documents
from ..document_links import file_response
from .auth import login_required

bp = Blueprint("admin_documents", __name__, url_prefix="/admin")


@bp.get("/incidents/<district_id>/<incident_id>/documents/<document_id>")
@login_required
def document(district_id: str, incident_id: str, document_id: str):
    services = current_app.extensions["hotline"]
    if not all(documents.SAFE_PART.fullmatch(part) for part in (district_id, incident_id, document_id)):
        abort(404)
    found = documents.get(services, district_id, incident_id, document_id)
    if found is None:
        abort(404)
    return file_response(services, district_id, incident_id, found)
