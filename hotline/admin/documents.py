"""The incident page's documents: each copy served through the hotline, to signed-in users only
(never a raw Twilio URL, which would not open anyway with Twilio's media authentication on)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app

from ..accounts import roles
from ..document_links import file_response
from ..incidents import documents
from .auth import actor, district_or_404, require

bp = Blueprint("admin_documents", __name__, url_prefix="/admin")


@bp.get("/incidents/<district_id>/<incident_id>/documents/<document_id>")
@require(roles.DOCUMENTS_VIEW)
def document(district_id: str, incident_id: str, document_id: str):
    """Legal roles of the incident's district only: a warrant can name a student."""
    services = current_app.extensions["hotline"]
    if not all(documents.SAFE_PART.fullmatch(part) for part in (district_id, incident_id, document_id)):
        abort(404)
    district_or_404(district_id)
    found = documents.get(services, district_id, incident_id, document_id)
    if found is None:
        abort(404)
    # Who opened a photo of a warrant (it can name a student) is in the audit log, as a page view is.
    services.audit.record([district_id], actor(), "view_document", incident_id, document=document_id)
    return file_response(services, district_id, incident_id, found)
