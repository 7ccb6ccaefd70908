"""The officers' documents staff photograph at the protocol's photo step: copied off Twilio into
the hotline's own storage, kept with their incident, and reachable only through the hotline.

Twilio keeps an inbound MMS's media behind the account's credentials (media authentication), so
a raw MediaUrl opens for nobody. This module copies each photo (outbound.py fetches it with the
account's credentials) into ``<documents folder>/<district>/<incident>/`` (HOTLINE_DOCUMENTS_DIR,
default ``var/documents``), records it in Redis, and then deletes it at Twilio: the district, not
Twilio, keeps the only copy, for as long as it keeps the incident (retention.py).

Two ways out, both through the hotline: the dashboard (signed in, admin/documents.py), and a
signed link that expires (``signed_url``) for Twilio to fetch when it forwards the photos by MMS
to the legal office (forwarding.py). The link is an HMAC over district, incident,
document and expiry with the app's secret; nothing else opens a document.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import mimetypes
import re
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path


from .. import queueing
from ..outbound import MediaRef
from ..services import Services
from ..settings import Settings
from ..store import key
from .records import Incident

log = logging.getLogger(__name__)

LINK_TTL = 30 * 60                 # seconds a forwarding link works: Twilio fetches within seconds
FORWARDED = "documents-sent"       # the ledger of forwarded sets: key("documents-sent", district, incident)
JOB_TIMEOUT = 120
PENDING_TTL = 3600                 # a copy job that never finishes stops holding forwarding back after this
SAFE_PART = re.compile(r"[A-Za-z0-9_-]{1,64}")
# Types a browser may show inline from the dashboard; anything else is served as a download.
INLINE_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp", "image/heic", "image/heif", "image/bmp",
                "image/tiff", "application/pdf"}


class DocumentError(Exception):
    """A copy or a deletion at Twilio that may work later: raised inside a job for RQ's Retry."""


@dataclass(frozen=True)
class Document:
    id: str                  # the Twilio media SID it was copied from
    position: int            # its place among the photos of the message (1, 2, ...)
    content_type: str
    size: int
    sha256: str
    file: str                # the file's name inside the incident's folder
    copied_at: float
    deleted_at_twilio: bool = False

    @property
    def inline(self) -> bool:
        return self.content_type in INLINE_TYPES


# --- Where they are kept ------------------------------------------------------------------------

def folder(settings: Settings) -> Path:
    return settings.documents_dir or settings.var_dir / "documents"


def incident_folder(settings: Settings, district_id: str, incident_id: str) -> Path:
    # Ids come from our own records, but a path is built from them: refuse anything but a plain name.
    if not (SAFE_PART.fullmatch(district_id) and SAFE_PART.fullmatch(incident_id)):
        raise ValueError("unsafe district or incident id")
    return folder(settings) / district_id / incident_id


def _index(district_id: str, incident_id: str) -> str:
    return key("documents", district_id, incident_id)


def listing(services: Services, district_id: str, incident_id: str) -> list[Document]:
    raw = services.redis.hgetall(_index(district_id, incident_id))
    return sorted((Document(**json.loads(v)) for v in raw.values()), key=lambda d: (d.copied_at, d.position))


def get(services: Services, district_id: str, incident_id: str, document_id: str) -> Document | None:
    raw = services.redis.hget(_index(district_id, incident_id), document_id)
    return Document(**json.loads(raw)) if raw else None


def path_of(services: Services, district_id: str, incident_id: str, document: Document) -> Path:
    # Absolute: a relative folder (var/documents) is relative to where the process runs, not to
    # the Flask package (which is where send_file would look).
    return (incident_folder(services.settings, district_id, incident_id) / document.file).resolve()


def _save(services: Services, district_id: str, incident_id: str, document: Document) -> None:
    services.redis.hset(_index(district_id, incident_id), document.id, json.dumps(asdict(document)))


def delete_for_incident(services: Services, district_id: str, incident_id: str) -> int:
    """Every copy of an incident's documents, and their records: retention deletes them with it."""
    count = services.redis.hlen(_index(district_id, incident_id))
    services.redis.delete(_index(district_id, incident_id))
    shutil.rmtree(incident_folder(services.settings, district_id, incident_id), ignore_errors=True)
    return count


# --- Jobs ----------------------------------------------------------------------------------------

def _pending(district_id: str, incident_id: str) -> str:
    return key("documents-pending", district_id, incident_id)


def enqueue_collect(services: Services, incident: Incident, urls: list[str]) -> None:
    # Until the copy job is done, forwarding waits: a legal contact notified meanwhile would
    # otherwise get the first photo alone, then both.
    services.redis.set(_pending(incident.district, incident.id), "1", ex=PENDING_TTL)
    try:
        queueing.enqueue(services, "collect_documents", incident.district, incident.id, list(urls),
                         job_timeout=JOB_TIMEOUT)
    except Exception:
        services.redis.delete(_pending(incident.district, incident.id))
        raise


def collecting(services: Services, district_id: str, incident_id: str) -> bool:
    return bool(services.redis.exists(_pending(district_id, incident_id)))


def collected(services: Services, district_id: str, incident_id: str) -> None:
    services.redis.delete(_pending(district_id, incident_id))


def enqueue_forward_if_any(services: Services, incident: Incident) -> bool:
    """After a contact is notified: forward the incident's documents, if it has any (the forwarding
    job decides who may have them and sends each person each set once). Never raises: it runs
    inside a notification that has already been sent."""
    try:
        if not services.redis.exists(_index(incident.district, incident.id)):
            return False
        queueing.enqueue(services, "forward_documents", incident.district, incident.id, job_timeout=JOB_TIMEOUT)
        return True
    except Exception as exc:  # noqa: BLE001 — Redis or the queue down: the notification itself stands
        log.error("documents of %s/%s not queued for forwarding (%s)", incident.district, incident.id,
                  type(exc).__name__)
        return False


def forwarding_undelivered(services: Services, district_id: str, incident_id: str, contact_id: str,
                           error_code: int | None) -> None:
    """Twilio reports a forwarded MMS failed (it could not fetch a photo, the handset took no MMS):
    the timeline says so, so nobody believes the legal office has the photos."""
    incident = services.incidents.get(district_id, incident_id)
    if incident is None:
        return
    contact = services.directory.get(district_id).contacts.get(contact_id)
    name = contact.name if contact else contact_id
    reason = f" (error {error_code})" if error_code else ""
    services.incidents.add_event(incident, "documents_failed", f"the photos forwarded to {name} were not "
                                 f"delivered{reason}; they are on the dashboard", contact=contact_id)


# --- Copying off Twilio -------------------------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    """What happened to one photo: copied (and deleted at Twilio or not), or why not."""

    position: int
    document: Document | None = None
    problem: str = ""
    retryable: bool = False


def copy_one(services: Services, incident: Incident, position: int, url: str) -> Outcome:
    """Copy one photo (unless already copied), then delete it at Twilio (unless already deleted)."""
    media = services.outbound.media_ref(url)
    if media is None:
        reason = "no Twilio account (dry run)" if services.settings.dry_run else "not a media URL of this account"
        return Outcome(position, problem=reason)
    document = get(services, incident.district, incident.id, media.sid)
    if document is None:
        fetched = services.outbound.fetch_media(media)
        if not fetched.ok:
            return Outcome(position, problem=fetched.reason, retryable=fetched.retryable)
        document = _store(services, incident, media, position, fetched.content, fetched.content_type)
    if not document.deleted_at_twilio:
        deleted = services.outbound.delete_media(media)
        if not deleted.ok:
            return Outcome(position, document, problem=f"copied, but not deleted at Twilio: {deleted.reason}",
                           retryable=deleted.retryable)
        document = Document(**{**asdict(document), "deleted_at_twilio": True})
        _save(services, incident.district, incident.id, document)
    return Outcome(position, document)


def _store(services: Services, incident: Incident, media: MediaRef, position: int, content: bytes,
           content_type: str) -> Document:
    target = incident_folder(services.settings, incident.district, incident.id)
    target.mkdir(parents=True, exist_ok=True)
    extension = mimetypes.guess_extension(content_type) or ".bin"
    name = f"{media.sid}{extension}"
    # Written under a temporary name and renamed: a worker killed mid-write leaves no half photo.
    partial = target / (name + ".part")
    partial.write_bytes(content)
    partial.chmod(0o600)
    partial.replace(target / name)
    document = Document(media.sid, position, content_type, len(content), hashlib.sha256(content).hexdigest(), name,
                        services.clock())
    _save(services, incident.district, incident.id, document)
    return document


# --- Signed links for Twilio -----------------------------------------------------------------------

def signing_secret(settings: Settings) -> bytes | None:
    """The app's secret (HOTLINE_SECRET_KEY; the auth token where development runs without one)."""
    secret = settings.secret_key or settings.twilio_auth_token
    return secret.encode() if secret else None


def _mac(secret: bytes, message: str) -> str:
    digest = hmac.new(secret + b"|documents", message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")


def sign(settings: Settings, district_id: str, incident_id: str, document_id: str, expires: int) -> str | None:
    secret = signing_secret(settings)
    if secret is None:
        return None
    message = f"{district_id}.{incident_id}.{document_id}.{expires}"
    return f"{message}.{_mac(secret, message)}"


def signed_url(services: Services, incident: Incident, document: Document) -> str | None:
    """A link Twilio can fetch for LINK_TTL seconds; None without a public URL or a secret."""
    token = sign(services.settings, incident.district, incident.id, document.id, int(services.clock()) + LINK_TTL)
    return services.url(f"/documents/{token}") if token else None


def verify(settings: Settings, token: str, now: float) -> tuple[str, str, str] | str:
    """(district, incident, document) for a good, unexpired token; else "bad" or "expired"."""
    secret = signing_secret(settings)
    parts = token.split(".")
    if secret is None or len(parts) != 5 or not parts[3].isdigit():
        return "bad"
    message = ".".join(parts[:4])
    if not hmac.compare_digest(_mac(secret, message), parts[4]):
        return "bad"
    if int(parts[3]) < now:
        return "expired"
    return parts[0], parts[1], parts[2]

