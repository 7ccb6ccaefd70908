"""The one place that talks to Twilio's REST API, or, without credentials, to the dry-run outbox.

Every call has a timeout (the twilio client has none by default), and every Twilio answer comes
back as a SendResult the callers act on: retry on 429/20429, 5xx and timeouts; never retry an
opted-out (21610) or invalid (21211) number.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from dataclasses import dataclass

import redis
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from . import optout
from .phones import mask
from .settings import Settings
from .store import key

log = logging.getLogger(__name__)

OUTBOX_KEY = key("outbox")
OUTBOX_LIMIT = 2000

# Twilio error codes that say "this number will not work", whatever we retry.
# https://www.twilio.com/docs/api/errors
PERMANENT_CODES = {
    21211: "invalid 'To' number",
    21214: "'To' number cannot be reached",
    21408: "region not enabled for this account",
    21610: "recipient has opted out (replied STOP)",
    21612: "cannot route to this number",
    21614: "'To' is not a mobile number",
    30003: "unreachable handset",
    30005: "unknown or inactive number",
    30006: "landline or unreachable carrier",
    30007: "filtered by the carrier",
}
RATE_LIMIT_CODES = {20429, 14107}
RECORDING_SID = re.compile(r"RE[0-9a-fA-F]{32}")


class RecordingUnavailable(Exception):
    """A recording could not be fetched from Twilio."""

# The MediaUrl of an inbound MMS: a Media resource of one of the account's messages.
MEDIA_PATH = re.compile(r"/2010-04-01/Accounts/(AC[0-9a-fA-F]{32})/Messages/((?:MM|SM)[0-9a-fA-F]{32})"
                        r"/Media/(ME[0-9a-fA-F]{32})")
TWILIO_API = "https://api.twilio.com"
MAX_MEDIA_BYTES = 20 * 1024 * 1024      # Twilio accepts inbound MMS up to 5 MB; anything far larger is not a photo


@dataclass(frozen=True)
class SendResult:
    ok: bool
    sid: str | None = None
    status: str | None = None
    error_code: int | None = None
    http_status: int | None = None
    reason: str = ""
    retryable: bool = False
    dry_run: bool = False
    # The request may have reached Twilio (it timed out waiting for the answer): before trying
    # again, ask Twilio whether it was sent (ledger.py).
    uncertain: bool = False

    @property
    def opted_out(self) -> bool:
        return self.error_code == 21610


@dataclass(frozen=True)
class MediaRef:
    """One media item of an inbound message, as its webhook's MediaUrl names it."""

    message_sid: str
    sid: str
    url: str


@dataclass(frozen=True)
class MediaContent:
    ok: bool
    content: bytes = b""
    content_type: str = ""
    http_status: int | None = None
    reason: str = ""
    retryable: bool = False


def classify_error(status: int | None, code: int | None, message: str) -> SendResult:
    if code in PERMANENT_CODES:
        return SendResult(False, error_code=code, http_status=status, reason=PERMANENT_CODES[code])
    retryable = status in (None, 429) or (status or 0) >= 500 or code in RATE_LIMIT_CODES
    return SendResult(False, error_code=code, http_status=status, reason=message[:200], retryable=retryable)


def never_sent(exc: Exception) -> bool:
    """True when the request certainly did not reach Twilio (no connection was made)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    return isinstance(exc, requests.ConnectionError) and any(
        name in repr(exc) for name in ("NewConnectionError", "NameResolutionError", "Connection refused"))


class Outbound:
    def __init__(self, settings: Settings, store: redis.Redis):
        self.settings = settings
        self.store = store
        self._client: Client | None = None

    @property
    def dry_run(self) -> bool:
        return self.settings.dry_run

    @property
    def client(self) -> Client:
        if self._client is None:
            http = TwilioHttpClient(timeout=self.settings.rest_timeout)
            self._client = Client(self.settings.twilio_account_sid, self.settings.twilio_auth_token, http_client=http)
            if self.settings.twilio_api_base_url:
                self._client.api.base_url = self.settings.twilio_api_base_url.rstrip("/")
        return self._client

    def send_sms(self, from_: str, to: str, body: str, status_callback: str | None = None,
                 media_url: list[str] | None = None) -> SendResult:
        params = {"from_": from_, "to": to, "body": body}
        if status_callback:
            params["status_callback"] = status_callback
        if media_url:
            params["media_url"] = media_url
        # Never text a number that replied STOP to this line (Twilio would refuse with 21610 anyway).
        if optout.is_opted_out(self.store, from_, to):
            log.info("outbound sms to=%s skipped: opted out of %s", mask(to), mask(from_))
            return SendResult(False, error_code=21610, reason=PERMANENT_CODES[21610])
        if self.dry_run:
            return self._to_outbox("sms", from_, to, body=body, **({"media": list(media_url)} if media_url else {}))
        return self._call("sms", to, lambda: self.client.messages.create(**params))

    def place_call(self, from_: str, to: str, url: str, status_callback: str | None = None,
                   timeout: int = 30) -> SendResult:
        params = {"from_": from_, "to": to, "url": url, "timeout": timeout}
        if status_callback:
            params["status_callback"] = status_callback
            params["status_callback_event"] = ["initiated", "ringing", "answered", "completed"]
        if self.dry_run:
            return self._to_outbox("call", from_, to, url=url)
        return self._call("call", to, lambda: self.client.calls.create(**params))

    # --- Media of inbound messages (photos staff send) ----------------------------------------

    def media_ref(self, url: str) -> MediaRef | None:
        """The account's Media resource ``url`` names, on the API this client talks to; None for any
        other URL, so the account's credentials are never sent to a host a caller chose."""
        if self.dry_run:
            return None
        base = (self.settings.twilio_api_base_url or TWILIO_API).rstrip("/")
        if not url.startswith(base + "/"):
            return None
        found = MEDIA_PATH.fullmatch(url[len(base):])
        if not found or found.group(1) != self.settings.twilio_account_sid:
            return None
        return MediaRef(found.group(2), found.group(3), url)

    def _download(self, url: str, timeout: float) -> MediaContent:
        """A file of this account at Twilio (media, recordings), with the account's credentials:
        Twilio answers with a redirect to its storage, and requests drops the credentials on the
        way there. Never called with a URL a caller chose (media_ref, fetch_recording build them)."""
        try:
            with requests.Session() as session:
                session.proxies.update(self.client.http_client.proxy or {})
                with session.get(url, auth=(self.settings.twilio_account_sid, self.settings.twilio_auth_token),
                                 timeout=timeout, stream=True) as answer:
                    if answer.status_code != 200:
                        retryable = answer.status_code == 429 or answer.status_code >= 500
                        return MediaContent(False, http_status=answer.status_code, retryable=retryable,
                                            reason=f"Twilio answered {answer.status_code}")
                    content = answer.raw.read(MAX_MEDIA_BYTES + 1, decode_content=True)
                    content_type = answer.headers.get("Content-Type", "").split(";")[0].strip().lower()
        except requests.RequestException as exc:
            return MediaContent(False, reason=type(exc).__name__, retryable=True)
        if len(content) > MAX_MEDIA_BYTES:
            return MediaContent(False, http_status=200, reason="larger than 20 MB")
        if not content:
            return MediaContent(False, http_status=200, reason="empty", retryable=True)
        return MediaContent(True, content, content_type or "application/octet-stream", 200)

    def fetch_media(self, media: MediaRef) -> MediaContent:
        """The media's bytes, with the account's credentials (Twilio's media authentication)."""
        started = time.monotonic()
        result = self._download(media.url, self.settings.rest_timeout)
        log.info("media fetch %s ok=%s status=%s bytes=%d in %.0fms", media.sid, result.ok, result.http_status,
                 len(result.content), (time.monotonic() - started) * 1000)
        return result

    def delete_media(self, media: MediaRef) -> SendResult:
        """Delete the media at Twilio (the Media resource's DELETE). Already gone counts as done."""
        try:
            self.client.messages(media.message_sid).media(media.sid).delete()
        except TwilioRestException as exc:
            if exc.status == 404:
                return SendResult(True, sid=media.sid, status="already deleted")
            result = classify_error(exc.status, exc.code, exc.msg or "")
        except Exception as exc:  # noqa: BLE001 — timeouts, resets: try again later
            result = SendResult(False, reason=type(exc).__name__, retryable=True)
        else:
            result = SendResult(True, sid=media.sid, status="deleted")
        log.info("media delete %s ok=%s code=%s", media.sid, result.ok, result.error_code)
        return result

    def fetch_recording(self, recording_sid: str) -> bytes:
        """The MP3 of one of this account's recordings (a prompt made on the recording line),
        fetched with the account's credentials. The URL is built from the SID and the API base,
        never taken from a request (a caller cannot point the hotline at another host)."""
        if self.dry_run:
            raise RecordingUnavailable("no Twilio account (dry run): recordings cannot be fetched")
        if not RECORDING_SID.fullmatch(recording_sid or ""):
            raise RecordingUnavailable("not a recording SID")
        base = (self.settings.twilio_api_base_url or TWILIO_API).rstrip("/")
        url = f"{base}/2010-04-01/Accounts/{self.settings.twilio_account_sid}/Recordings/{recording_sid}.mp3"
        result = self._download(url, self.settings.rest_timeout * 5)
        log.info("recording %s fetched ok=%s status=%s bytes=%s", recording_sid, result.ok, result.http_status,
                 len(result.content))
        if not result.ok:
            raise RecordingUnavailable(result.reason)
        return result.content

    def find_sms(self, from_: str, to: str, since: float, marker: str) -> str | None:
        """The sid of a message already sent from ``from_`` to ``to`` since ``since`` whose body has
        ``marker``: how a job that died mid-send learns whether Twilio got its request."""
        if self.dry_run:
            return self._find_in_outbox("sms", from_, to, since, lambda item: marker in item.get("body", ""))
        # No date filter: Twilio filters on date_sent, which a queued message does not have yet.
        return _newest_since(self.client.messages.list(from_=from_, to=to, limit=20), since,
                             lambda message: marker in (message.body or ""))

    def find_call(self, from_: str, to: str, since: float, marker: str) -> str | None:
        """As find_sms, for a call (its script URL carries ``marker`` in the dry-run outbox)."""
        if self.dry_run:
            return self._find_in_outbox("call", from_, to, since, lambda item: marker in item.get("url", ""))
        return _newest_since(self.client.calls.list(from_=from_, to=to, limit=20), since, lambda call: True)

    def _find_in_outbox(self, kind: str, from_: str, to: str, since: float, matches) -> str | None:
        for item in self.outbox():
            if (item["kind"], item["from"], item["to"]) == (kind, from_, to) and item["time"] >= since - 1 \
                    and matches(item):
                return item["sid"]
        return None

    def _call(self, kind: str, to: str, request) -> SendResult:
        started = time.monotonic()
        try:
            resource = request()
        except TwilioRestException as exc:
            result = classify_error(exc.status, exc.code, exc.msg or "")
        except Exception as exc:  # noqa: BLE001 — timeouts, resets, anything: a send must never crash a job
            result = SendResult(False, reason=type(exc).__name__, retryable=True, uncertain=not never_sent(exc))
        else:
            result = SendResult(True, sid=resource.sid, status=getattr(resource, "status", None))
        log.info("outbound %s to=%s ok=%s sid=%s code=%s retryable=%s in %.0fms", kind, mask(to), result.ok,
                 result.sid, result.error_code, result.retryable, (time.monotonic() - started) * 1000)
        return result

    def _to_outbox(self, kind: str, from_: str, to: str, **fields) -> SendResult:
        sid = ("SM" if kind == "sms" else "CA") + "dry" + uuid.uuid4().hex[:29]
        # A sequence number, not a list position: the list is trimmed, and readers resume after a seq.
        seq = self.store.incr(OUTBOX_KEY + ":seq")
        item = {"seq": seq, "kind": kind, "from": from_, "to": to, "sid": sid, "time": time.time(), **fields}
        with self.store.pipeline() as pipe:
            pipe.rpush(OUTBOX_KEY, json.dumps(item, ensure_ascii=False))
            pipe.ltrim(OUTBOX_KEY, -OUTBOX_LIMIT, -1)
            pipe.execute()
        log.info("outbox %s to=%s sid=%s", kind, mask(to), sid)
        return SendResult(True, sid=sid, status="queued", dry_run=True)

    def outbox(self, after: int = 0) -> list[dict]:
        """Outbox items with a sequence number above ``after``, oldest first."""
        items = [json.loads(item) for item in self.store.lrange(OUTBOX_KEY, 0, -1)]
        return [item for item in items if item["seq"] > after]


def _newest_since(resources, since: float, matches) -> str | None:
    """The first (the list is newest first) resource created since ``since`` that ``matches``."""
    for resource in resources:
        created = getattr(resource, "date_created", None)
        if (created is None or created.timestamp() >= since - 5) and matches(resource):
            return resource.sid
    return None
