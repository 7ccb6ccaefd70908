"""GET /documents/<token>: a photo of an officer's document, for Twilio to fetch while it forwards
it by MMS to the legal office. Public (Twilio fetches media without credentials) but only with a
signed token that expires (documents.sign): a bad token is a 404, an expired one a 403."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, current_app, send_file

from .incidents import documents

log = logging.getLogger(__name__)

bp = Blueprint("document_links", __name__)


@bp.get("/documents/<token>")
def document(token: str):
    services = current_app.extensions["hotline"]
    found = documents.verify(services.settings, token[:300], services.clock())
    if found == "expired":
        abort(403)
    if found == "bad":
        abort(404)
    district_id, incident_id, document_id = found
    document = documents.get(services, district_id, incident_id, document_id)
    if document is None:
        abort(404)      # purged with its incident, or never copied
    log.info("document link %s/%s/%s fetched", district_id, incident_id, document_id)
    return file_response(services, district_id, incident_id, document)


# --- Serving a copy ------------------------------------------------------------------------------

def file_response(services, district_id: str, incident_id: str, document: documents.Document) -> Response:
    """The document with its own content type, never cached, never sniffed into something else;
    a type a browser should not render (not an image or PDF) comes as a download."""
    path = documents.path_of(services, district_id, incident_id, document)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=document.content_type if document.inline else "application/octet-stream",
                         as_attachment=not document.inline, download_name=document.file, max_age=0, etag=False,
                         conditional=False)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response
