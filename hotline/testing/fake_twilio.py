"""A local, Twilio-compatible REST server for tests, benchmarks and the simulator.

The hotline talks to Twilio through the real ``twilio`` client; pointing that client at this server
(``client.api.base_url = fake.base_url``) makes it speak real HTTP to a process we control::

    with FakeTwilio() as fake:
        client = Client(fake.account_sid, fake.auth_token)
        client.api.base_url = fake.base_url
        client.messages.create(to="+13035550100", from_="+13035550199", body="Hi")
        [message] = fake.wait_for_messages("+13035550100")

It serves the Messages and Calls resources of Twilio's 2010-04-01 API: create, list (with filters
and pages), fetch, update and delete, and the account's IncomingPhoneNumbers (list, fetch, update:
the webhook settings `hotline twilio setup` manages; ``add_number`` gives the account a number),
checked against the rules Twilio publishes for them, with Twilio's error codes. Inbound MMS media
(``add_inbound_media``) are served as Twilio serves them with media authentication on: the Media
resources (list, fetch, delete) and the media URL itself (GET: the content), all behind the
account's basic auth. An outbound message's MediaUrls are fetched (no credentials) before it is
sent, as Twilio does, and recorded (``media_fetches``). Recordings (``add_recording``) are served
with their media. It is deliberately stricter than Twilio in one way: a parameter name the
operation does not define is rejected (Twilio ignores it with warning 20001), so a typo in our
client code fails a test instead of silently doing nothing.

It also plays Twilio's side of the webhooks: signed message status callbacks (automatic unless
``auto_status=False``), and, on a test's request, a callee answering a call, pressing digits at a
``<Gather>`` and hanging up. Faults (``fail_next``) and slow answers (``delay_next``) can be
injected for the next matching create requests.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import json
import logging
import math
import re
import threading
import time
import uuid
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timezone
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import requests
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from hotline.testing.signing import signed_headers

log = logging.getLogger(__name__)

API_VERSION = "2010-04-01"
DEFAULT_ACCOUNT_SID = "AC" + "0" * 32
DEFAULT_AUTH_TOKEN = "test-auth-token-0000"

E164 = re.compile(r"\+[1-9]\d{1,14}")
ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
MESSAGE_SID = re.compile(r"(SM|MM)[0-9a-fA-F]{32}")
CALL_SID = re.compile(r"CA[0-9a-fA-F]{32}")
MEDIA_SID = re.compile(r"ME[0-9a-fA-F]{32}")

MAX_BODY_CHARS = 1600


# --- Parameter kinds ------------------------------------------------------------------------
# The types and formats the OpenAPI description gives each request parameter.

STRING = "string"
INTEGER = "integer"
NUMBER = "number"
BOOLEAN = "boolean"
URI = "uri"
DATE_TIME = "date-time"
PHONE_NUMBER = "phone-number"  # To/From get Twilio's own error codes, checked per operation
ENDPOINT = "endpoint"  # a phone number, SIP address or client identifier (Calls To/From)
HTTP_METHOD = "http-method"
TWIML = "twiml"


@dataclasses.dataclass(frozen=True)
class OneOf:
    """An enum schema: the value must be one of these."""

    values: tuple[str, ...]

    def __init__(self, *values: str) -> None:
        object.__setattr__(self, "values", values)


@dataclasses.dataclass(frozen=True)
class SidOf:
    """A SID parameter: two letters then 32 hex digits (``^AP[0-9a-fA-F]{32}$``)."""

    prefix: str


@dataclasses.dataclass(frozen=True)
class ArrayOf:
    """A repeatable parameter (``type: array``), sent as the same name once per value."""

    item: Any


# --- Rules from Twilio's published OpenAPI description --------------------------------------
# Source: twilio_api_v2010.json from Twilio's twilio-oai repository (spec/json, commit d50069b,
# April 2026, MIT licensed). Copied here by hand as Python literals so the tests never need that
# file: the operations' form/query parameters (name -> schema), in the spec's order, and the
# properties of the api.v2010.account.message / api.v2010.account.call response schemas.
# Requirements the spec states only in prose (one of From/MessagingServiceSid, one of
# Body/MediaUrl/ContentSid, one of Url/Twiml/ApplicationSid) are enforced in the handlers.

# POST /2010-04-01/Accounts/{AccountSid}/Messages.json (CreateMessage); required: To.
CREATE_MESSAGE_PARAMS: dict[str, Any] = {
    "To": PHONE_NUMBER,
    "StatusCallback": URI,
    "ApplicationSid": SidOf("AP"),
    "MaxPrice": NUMBER,
    "ProvideFeedback": BOOLEAN,
    "Attempt": INTEGER,
    "ValidityPeriod": INTEGER,
    "ForceDelivery": BOOLEAN,
    "ContentRetention": OneOf("retain", "discard"),
    "AddressRetention": OneOf("retain", "obfuscate"),
    "SmartEncoded": BOOLEAN,
    "PersistentAction": ArrayOf(STRING),
    "TrafficType": OneOf("free"),
    "ShortenUrls": BOOLEAN,
    "ScheduleType": OneOf("fixed"),
    "SendAt": DATE_TIME,
    "SendAsMms": BOOLEAN,
    "ContentVariables": STRING,
    "RiskCheck": OneOf("enable", "disable"),
    "From": PHONE_NUMBER,
    "FallbackFrom": PHONE_NUMBER,
    "MessagingServiceSid": SidOf("MG"),
    "Body": STRING,
    "MediaUrl": ArrayOf(STRING),  # items are uris, but the spec marks them ignoreFormat
    "ContentSid": SidOf("HX"),
}

# POST /2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json (UpdateMessage)
UPDATE_MESSAGE_PARAMS: dict[str, Any] = {
    "Body": STRING,  # only "" (redaction) is accepted
    "Status": OneOf("canceled"),  # message_enum_update_status
}

# GET /2010-04-01/Accounts/{AccountSid}/Messages.json (ListMessage)
LIST_MESSAGE_PARAMS: dict[str, Any] = {
    "To": PHONE_NUMBER,
    "From": PHONE_NUMBER,
    "DateSent": DATE_TIME,
    "DateSent<": DATE_TIME,
    "DateSent>": DATE_TIME,
    "PageSize": INTEGER,  # 1..1000
    "Page": INTEGER,
    "PageToken": STRING,
}

# POST /2010-04-01/Accounts/{AccountSid}/Calls.json (CreateCall); required: To, From.
CREATE_CALL_PARAMS: dict[str, Any] = {
    "To": ENDPOINT,
    "From": ENDPOINT,
    "Method": HTTP_METHOD,
    "FallbackUrl": URI,
    "FallbackMethod": HTTP_METHOD,
    "StatusCallback": URI,
    "StatusCallbackEvent": ArrayOf(OneOf("initiated", "ringing", "answered", "completed")),
    "StatusCallbackMethod": HTTP_METHOD,
    "SendDigits": STRING,
    "Timeout": INTEGER,
    "Record": BOOLEAN,
    "RecordingChannels": STRING,
    "RecordingStatusCallback": STRING,
    "RecordingStatusCallbackMethod": HTTP_METHOD,
    "SipAuthUsername": STRING,
    "SipAuthPassword": STRING,
    "MachineDetection": STRING,
    "MachineDetectionTimeout": INTEGER,
    "RecordingStatusCallbackEvent": ArrayOf(STRING),
    "Trim": STRING,
    "CallerId": STRING,
    "MachineDetectionSpeechThreshold": INTEGER,
    "MachineDetectionSpeechEndThreshold": INTEGER,
    "MachineDetectionSilenceTimeout": INTEGER,
    "AsyncAmd": STRING,
    "AsyncAmdStatusCallback": URI,
    "AsyncAmdStatusCallbackMethod": HTTP_METHOD,
    "Byoc": SidOf("BY"),
    "CallReason": STRING,
    "CallToken": STRING,
    "RecordingTrack": STRING,
    "TimeLimit": INTEGER,
    "ClientNotificationUrl": URI,
    "Url": URI,
    "Twiml": TWIML,
    "ApplicationSid": SidOf("AP"),
}

# POST /2010-04-01/Accounts/{AccountSid}/Calls/{Sid}.json (UpdateCall)
UPDATE_CALL_PARAMS: dict[str, Any] = {
    "Url": URI,
    "Method": HTTP_METHOD,
    "Status": OneOf("canceled", "completed"),  # call_enum_update_status
    "FallbackUrl": URI,
    "FallbackMethod": HTTP_METHOD,
    "StatusCallback": URI,
    "StatusCallbackMethod": HTTP_METHOD,
    "Twiml": TWIML,
    "TimeLimit": INTEGER,
}

# GET /2010-04-01/Accounts/{AccountSid}/Calls.json (ListCall)
CALL_STATUSES = ("queued", "ringing", "in-progress", "completed", "busy", "failed", "no-answer", "canceled")
LIST_CALL_PARAMS: dict[str, Any] = {
    "To": PHONE_NUMBER,
    "From": PHONE_NUMBER,
    "ParentCallSid": SidOf("CA"),
    "Status": OneOf(*CALL_STATUSES),  # call_enum_status
    "StartTime": DATE_TIME,
    "StartTime<": DATE_TIME,
    "StartTime>": DATE_TIME,
    "EndTime": DATE_TIME,
    "EndTime<": DATE_TIME,
    "EndTime>": DATE_TIME,
    "PageSize": INTEGER,
    "Page": INTEGER,
    "PageToken": STRING,
}

# GET /2010-04-01/Accounts/{AccountSid}/Messages/{MessageSid}/Media.json (ListMedia)
LIST_MEDIA_PARAMS: dict[str, Any] = {
    "DateCreated": DATE_TIME,
    "DateCreated<": DATE_TIME,
    "DateCreated>": DATE_TIME,
    "PageSize": INTEGER,
    "Page": INTEGER,
    "PageToken": STRING,
}

# Properties of api.v2010.account.message.media, in the spec's order.
MEDIA_PROPERTIES = ("account_sid", "content_type", "date_created", "date_updated", "parent_sid", "sid", "uri")

# message_enum_status
MESSAGE_STATUSES = (
    "queued", "sending", "sent", "failed", "delivered", "undelivered", "receiving", "received",
    "accepted", "scheduled", "read", "partially_delivered", "canceled",
)  # fmt: skip

# Properties of api.v2010.account.message, in the spec's order; every one is always present.
MESSAGE_PROPERTIES = (
    "body", "num_segments", "direction", "from", "to", "date_updated", "price", "error_message",
    "uri", "account_sid", "num_media", "status", "messaging_service_sid", "sid", "date_sent",
    "date_created", "error_code", "price_unit", "api_version", "subresource_uris",
)  # fmt: skip

# Properties of api.v2010.account.call, in the spec's order.
CALL_PROPERTIES = (
    "sid", "date_created", "date_updated", "parent_call_sid", "account_sid", "to", "to_formatted",
    "from", "from_formatted", "phone_number_sid", "status", "start_time", "end_time", "duration",
    "price", "price_unit", "direction", "answered_by", "api_version", "forwarded_from", "group_sid",
    "caller_name", "queue_time", "trunk_sid", "uri", "subresource_uris",
)  # fmt: skip

# subresource_uris keys -> path segment (x-twilio dependentProperties of each path).
MESSAGE_SUBRESOURCES = {"media": "Media", "feedback": "Feedback"}
CALL_SUBRESOURCES = {
    "notifications": "Notifications",
    "recordings": "Recordings",
    "payments": "Payments",
    "events": "Events",
    "siprec": "Siprec",
    "streams": "Streams",
    "transcriptions": "Transcriptions",
    "user_defined_message_subscriptions": "UserDefinedMessageSubscriptions",
    "user_defined_messages": "UserDefinedMessages",
}


# GET /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json (ListIncomingPhoneNumber)
LIST_INCOMING_PHONE_NUMBER_PARAMS: dict[str, Any] = {
    "Beta": BOOLEAN,
    "FriendlyName": STRING,
    "PhoneNumber": STRING,  # format phone-number, but partial numbers and '*' are accepted
    "Origin": STRING,
    "PageSize": INTEGER,  # 1..1000
    "Page": INTEGER,
    "PageToken": STRING,
}

# POST /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{Sid}.json (UpdateIncomingPhoneNumber)
UPDATE_INCOMING_PHONE_NUMBER_PARAMS: dict[str, Any] = {
    "AccountSid": SidOf("AC"),
    "ApiVersion": STRING,
    "FriendlyName": STRING,
    "SmsApplicationSid": SidOf("AP"),
    "SmsFallbackMethod": HTTP_METHOD,
    "SmsFallbackUrl": URI,
    "SmsMethod": HTTP_METHOD,
    "SmsUrl": URI,
    "StatusCallback": URI,
    "StatusCallbackMethod": HTTP_METHOD,
    "VoiceApplicationSid": SidOf("AP"),
    "VoiceCallerIdLookup": BOOLEAN,
    "VoiceFallbackMethod": HTTP_METHOD,
    "VoiceFallbackUrl": URI,
    "VoiceMethod": HTTP_METHOD,
    "VoiceUrl": URI,
    "EmergencyStatus": OneOf("Active", "Inactive"),  # incoming_phone_number_enum_emergency_status
    "EmergencyAddressSid": SidOf("AD"),
    "TrunkSid": SidOf("TK"),
    "VoiceReceiveMode": OneOf("voice", "fax"),  # incoming_phone_number_enum_voice_receive_mode
    "IdentitySid": SidOf("RI"),
    "AddressSid": SidOf("AD"),
    "BundleSid": SidOf("BU"),
}

# The properties of api.v2010.account.incoming_phone_number, in the spec's order.
INCOMING_PHONE_NUMBER_PROPERTIES = (
    "account_sid", "address_sid", "address_requirements", "api_version", "beta", "capabilities", "date_created",
    "date_updated", "friendly_name", "identity_sid", "phone_number", "origin", "sid", "sms_application_sid",
    "sms_fallback_method", "sms_fallback_url", "sms_method", "sms_url", "status_callback", "status_callback_method",
    "trunk_sid", "uri", "voice_receive_mode", "voice_application_sid", "voice_caller_id_lookup",
    "voice_fallback_method", "voice_fallback_url", "voice_method", "voice_url", "emergency_status",
    "emergency_address_sid", "emergency_address_status", "bundle_sid", "status", "type",
)
# UpdateIncomingPhoneNumber's form names -> the resource's properties (the others are identifiers).
_INCOMING_FIELDS = {name: re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower() for name in UPDATE_INCOMING_PHONE_NUMBER_PARAMS
                    if name not in ("AccountSid",)}
PHONE_NUMBER_SID = re.compile(r"PN[0-9a-fA-F]{32}")


# --- Twilio error codes (twilio.com/docs/errors) --------------------------------------------

UNKNOWN_PARAMETER = 20001  # a warning at Twilio; an error here, on purpose
INVALID_PARAMETER = 70002  # "Bad request": a value of the wrong type or format
INVALID_URL = 11100

ERROR_MESSAGES: dict[int, str] = {
    11100: "Invalid URL format",
    20001: "Unknown parameters",
    20003: "Authenticate",
    20004: "Method not allowed",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    20500: "An internal server error has occurred",
    21201: "No 'To' number is specified",
    21205: "Url parameter is required.",
    21211: "The 'To' number is not a valid phone number.",
    21212: "The 'From' number is not a valid phone number, shortcode, or alphanumeric sender ID.",
    21213: "No 'From' number is specified",
    21266: "'To' and 'From' number cannot be the same",
    21602: "Message body is required.",
    21603: "A 'From' phone number is required.",
    21604: "A 'To' phone number is required.",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
    21617: "The concatenated message body exceeds the 1600 character limit.",
    30001: "Queue overflow",
    30003: "Unreachable destination handset",
    30004: "Message blocked",
    30005: "Unknown destination handset",
    30006: "Landline or unreachable carrier",
    30007: "Message filtered",
    30008: "Unknown error",
    11200: "HTTP retrieval failure",
}

# Delivery outcomes a test may ask for, and the error code Twilio reports when none is given.
FINAL_MESSAGE_STATUSES = ("sent", "delivered", "undelivered", "failed", "read")
FAILED_MESSAGE_STATUSES = ("undelivered", "failed")
DEFAULT_DELIVERY_ERROR = 30008
FINAL_CALL_STATUSES = ("completed", "busy", "failed", "no-answer", "canceled")


class TwilioError(Exception):
    """An error answer in Twilio's shape: ``{"code", "message", "more_info", "status"}``."""

    def __init__(self, status: int, code: int | None, message: str | None = None, **extra: Any) -> None:
        self.status = status
        self.code = code
        self.message = message or ERROR_MESSAGES.get(code or 0) or HTTP_STATUS_CODES.get(status, "Error")
        self.extra = extra
        super().__init__(f"{status} {code}: {self.message}")

    def body(self) -> dict[str, Any]:
        more_info = f"https://www.twilio.com/docs/errors/{self.code}" if self.code else None
        return {"code": self.code, "message": self.message, "more_info": more_info, "status": self.status, **self.extra}


# --- Small helpers --------------------------------------------------------------------------


def _now() -> datetime:
    # Twilio's timestamps have whole seconds; keeping ours the same makes filters agree with them.
    return datetime.now(timezone.utc).replace(microsecond=0)


def _rfc2822(moment: datetime | None) -> str | None:
    return format_datetime(moment) if moment else None  # "Thu, 24 Aug 2023 05:01:45 +0000"


def _parse_time(value: str) -> date | datetime:
    """A date (``2024-05-01``) or a date-time (``2024-05-01T12:00:00Z``), the forms the client sends."""
    text = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return date.fromisoformat(text)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _is_absolute_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _national_format(number: str | None) -> str | None:
    # Twilio's to_formatted/from_formatted: "(415) 867-5309" for North American numbers.
    if number and re.fullmatch(r"\+1\d{10}", number):
        return f"({number[2:5]}) {number[5:8]}-{number[8:]}"
    return number


# GSM 03.38: one septet each, or two for the extension table; anything else forces UCS-2.
_GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED = set("^{}\\[~]|€\f")


def count_segments(body: str) -> int:
    """How many SMS segments ``body`` takes: 160 GSM-7 septets or 70 UCS-2 units in one, fewer when split."""
    if not body:
        return 1
    if all(ch in _GSM7_BASIC or ch in _GSM7_EXTENDED for ch in body):
        septets = sum(2 if ch in _GSM7_EXTENDED else 1 for ch in body)
        return 1 if septets <= 160 else math.ceil(septets / 153)
    units = len(body.encode("utf-16-le")) // 2  # an emoji is two UCS-2 units
    return 1 if units <= 70 else math.ceil(units / 67)


def _flatten(multi: Any) -> dict[str, str | list[str]]:
    """A MultiDict as a plain dict: one value as a string, repeated values as a list."""
    out: dict[str, str | list[str]] = {}
    for name in multi.keys():
        values = multi.getlist(name)
        out[name] = values[0] if len(values) == 1 else list(values)
    return out


def _check_value(name: str, kind: Any, value: str) -> None:
    """Raise TwilioError(400) if ``value`` does not fit the parameter's schema."""
    if value == "":  # an empty optional parameter means "not given" (required ones are checked later)
        return
    problem = None
    if kind == INTEGER and not re.fullmatch(r"-?\d+", value):
        problem = "must be an integer"
    elif kind == NUMBER:
        try:
            float(value)
        except ValueError:
            problem = "must be a number"
    elif kind == BOOLEAN and value.lower() not in ("true", "false"):
        problem = "must be true or false"
    elif kind == HTTP_METHOD and value.upper() not in ("GET", "POST"):
        problem = "must be GET or POST"
    elif kind == DATE_TIME:
        try:
            _parse_time(value)
        except ValueError:
            problem = "must be an ISO 8601 date or date-time"
    elif kind == URI and not _is_absolute_url(value):
        raise TwilioError(400, INVALID_URL, f"{name} is not a valid absolute URL: {value!r}")
    elif isinstance(kind, OneOf) and value not in kind.values:
        problem = f"must be one of {', '.join(kind.values)}"
    elif isinstance(kind, SidOf) and not re.fullmatch(rf"{kind.prefix}[0-9a-fA-F]{{32}}", value):
        problem = f"must be a {kind.prefix} SID ({kind.prefix} followed by 32 hex digits)"
    if problem:
        raise TwilioError(400, INVALID_PARAMETER, f"Invalid parameter {name}={value!r}: {name} {problem}")


def read_params(multi: Any, allowed: Mapping[str, Any], operation: str) -> dict[str, str | list[str]]:
    """The request's parameters, checked against the operation's parameter list.

    Unknown names are rejected (naming the closest known one), as are repeats of a
    single-valued parameter and values that do not fit their schema. Repeatable
    parameters come back as lists, the others as strings.
    """
    params: dict[str, str | list[str]] = {}
    for name in multi.keys():
        values = multi.getlist(name)
        kind = allowed.get(name)
        if kind is None:
            hint = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
            suggestion = f" Did you mean '{hint[0]}'?" if hint else ""
            raise TwilioError(
                400,
                UNKNOWN_PARAMETER,
                f"Unknown parameter '{name}' for {operation}.{suggestion} "
                f"Accepted parameters: {', '.join(allowed)}.",
            )
        if isinstance(kind, ArrayOf):
            for value in values:
                # StatusCallbackEvent is sometimes written space-separated ("initiated completed").
                for item in value.split() if isinstance(kind.item, OneOf) else [value]:
                    _check_value(name, kind.item, item)
            params[name] = list(values)
            continue
        if len(values) > 1:
            raise TwilioError(
                400, INVALID_PARAMETER, f"Parameter '{name}' was sent {len(values)} times; {operation} takes one value"
            )
        _check_value(name, kind, values[0])
        params[name] = values[0]
    return params


def _events(params: Mapping[str, Any]) -> list[str]:
    return [event for value in params.get("StatusCallbackEvent", []) for event in value.split()]


# --- Recorded resources ---------------------------------------------------------------------


@dataclasses.dataclass
class _Message:
    sid: str
    account_sid: str
    params: dict[str, Any]
    created: datetime
    status: str = "queued"
    updated: datetime | None = None
    sent: datetime | None = None
    body: str = ""
    error_code: int | None = None
    error_message: str | None = None

    @property
    def to(self) -> str:
        return self.params["To"]

    @property
    def uri(self) -> str:
        return f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}.json"

    def resource(self) -> dict[str, Any]:
        """The message as Twilio's JSON shows it (api.v2010.account.message)."""
        base = self.uri.removesuffix(".json")
        values = {
            "body": self.body,
            "num_segments": str(count_segments(self.body)),
            "direction": "outbound-api",
            "from": self.params.get("From"),
            "to": self.to,
            "date_updated": _rfc2822(self.updated or self.created),
            "price": None,
            "error_message": self.error_message,
            "uri": self.uri,
            "account_sid": self.account_sid,
            "num_media": str(len(self.params.get("MediaUrl", []))),
            "status": self.status,
            "messaging_service_sid": self.params.get("MessagingServiceSid"),
            "sid": self.sid,
            "date_sent": _rfc2822(self.sent),
            "date_created": _rfc2822(self.created),
            "error_code": self.error_code,
            "price_unit": "USD",
            "api_version": API_VERSION,
            "subresource_uris": {key: f"{base}/{part}.json" for key, part in MESSAGE_SUBRESOURCES.items()},
        }
        return {name: values[name] for name in MESSAGE_PROPERTIES}


@dataclasses.dataclass
class _Media:
    """One media item of an inbound message (a photo a phone sent to one of our numbers)."""

    sid: str
    account_sid: str
    parent_sid: str
    content: bytes
    content_type: str
    created: datetime

    @property
    def uri(self) -> str:
        return f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.parent_sid}/Media/{self.sid}.json"

    def resource(self) -> dict[str, Any]:
        """The media as Twilio's JSON shows it (api.v2010.account.message.media)."""
        values = {
            "account_sid": self.account_sid,
            "content_type": self.content_type,
            "date_created": _rfc2822(self.created),
            "date_updated": _rfc2822(self.created),
            "parent_sid": self.parent_sid,
            "sid": self.sid,
            "uri": self.uri,
        }
        return {name: values[name] for name in MEDIA_PROPERTIES}


@dataclasses.dataclass
class _IncomingNumber:
    """A phone number the account owns, with its webhook configuration."""

    sid: str
    account_sid: str
    phone_number: str
    created: datetime
    fields: dict[str, Any]
    updated: datetime | None = None

    def resource(self) -> dict[str, Any]:
        values: dict[str, Any] = {name: None for name in INCOMING_PHONE_NUMBER_PROPERTIES}
        values.update({
            "account_sid": self.account_sid, "address_requirements": "none", "api_version": API_VERSION,
            "beta": False, "capabilities": {"voice": True, "sms": True, "mms": True, "fax": False},
            "date_created": _rfc2822(self.created), "date_updated": _rfc2822(self.updated or self.created),
            "friendly_name": _national_format(self.phone_number), "phone_number": self.phone_number,
            "origin": "twilio", "sid": self.sid, "sms_fallback_method": "POST", "sms_method": "POST",
            "status_callback_method": "POST", "voice_receive_mode": "voice", "voice_caller_id_lookup": False,
            "voice_fallback_method": "POST", "voice_method": "POST", "emergency_status": "Inactive",
            "emergency_address_status": "unregistered", "status": "in-use", "type": "local",
            "uri": f"/{API_VERSION}/Accounts/{self.account_sid}/IncomingPhoneNumbers/{self.sid}.json",
        })
        values.update(self.fields)
        return {name: values[name] for name in INCOMING_PHONE_NUMBER_PROPERTIES}


@dataclasses.dataclass
class _Call:
    sid: str
    account_sid: str
    params: dict[str, Any]
    created: datetime
    status: str = "queued"
    updated: datetime | None = None
    started: datetime | None = None
    ended: datetime | None = None
    # What Twilio does when the call connects and as it progresses; UpdateCall may change them.
    url: str | None = None
    method: str = "POST"
    twiml: str | None = None
    status_callback: str | None = None
    status_callback_method: str = "POST"
    callbacks_sent: int = 0  # for the SequenceNumber Twilio puts in status callbacks

    @property
    def to(self) -> str:
        return self.params["To"]

    @property
    def uri(self) -> str:
        return f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{self.sid}.json"

    def duration(self) -> int | None:
        if not self.ended:
            return None
        return int((self.ended - self.started).total_seconds()) if self.started else 0

    def resource(self) -> dict[str, Any]:
        """The call as Twilio's JSON shows it (api.v2010.account.call)."""
        base = self.uri.removesuffix(".json")
        duration = self.duration()
        values = {
            "sid": self.sid,
            "date_created": _rfc2822(self.created),
            "date_updated": _rfc2822(self.updated or self.created),
            "parent_call_sid": None,
            "account_sid": self.account_sid,
            "to": self.to,
            "to_formatted": _national_format(self.to),
            "from": self.params["From"],
            "from_formatted": _national_format(self.params["From"]),
            "phone_number_sid": "PN" + uuid.uuid5(uuid.NAMESPACE_URL, self.params["From"]).hex,
            "status": self.status,
            "start_time": _rfc2822(self.started),
            "end_time": _rfc2822(self.ended),
            "duration": None if duration is None else str(duration),
            "price": None,
            "price_unit": "USD",
            "direction": "outbound-api",
            "answered_by": "human" if self.started and self.params.get("MachineDetection") else None,
            "api_version": API_VERSION,
            "forwarded_from": None,
            "group_sid": None,
            "caller_name": None,
            "queue_time": "0",
            "trunk_sid": None,
            "uri": self.uri,
            "subresource_uris": {key: f"{base}/{part}.json" for key, part in CALL_SUBRESOURCES.items()},
        }
        return {name: values[name] for name in CALL_PROPERTIES}


@dataclasses.dataclass
class _Fault:
    kind: str  # "fail" or "delay"
    remaining: int
    to: str | None
    resource: str | None
    status: int = 500
    code: int | None = None
    message: str | None = None
    seconds: float = 0.0

    def matches(self, kind: str, resource: str, to: str | None) -> bool:
        return (
            self.kind == kind
            and self.remaining > 0
            and self.resource in (None, resource)
            and self.to in (None, to)
        )


class _QuietRequestHandler(WSGIRequestHandler):
    """No access log line per request: tests send hundreds. Errors are still logged."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


_ACCOUNT = f"/{API_VERSION}/Accounts/<account_sid>"
_ROUTES = Map(
    [
        Rule(f"{_ACCOUNT}/Messages.json", endpoint="messages", methods=["GET", "POST"]),
        Rule(f"{_ACCOUNT}/Messages/<sid>.json", endpoint="message", methods=["GET", "POST", "DELETE"]),
        Rule(f"{_ACCOUNT}/Messages/<message_sid>/Media.json", endpoint="media_list", methods=["GET"]),
        Rule(f"{_ACCOUNT}/Messages/<message_sid>/Media/<sid>.json", endpoint="media", methods=["GET", "DELETE"]),
        # The media URL Twilio puts in an inbound webhook (MediaUrl0...): GET answers the content.
        # With media authentication on, like every other path here, it takes the account's basic auth.
        Rule(f"{_ACCOUNT}/Messages/<message_sid>/Media/<sid>", endpoint="media_content", methods=["GET"]),
        Rule(f"{_ACCOUNT}/Calls.json", endpoint="calls", methods=["GET", "POST"]),
        Rule(f"{_ACCOUNT}/Calls/<sid>.json", endpoint="call", methods=["GET", "POST", "DELETE"]),
        # Recordings (FetchRecording; the media file is the resource's URL with .mp3 or .wav)
        Rule(f"{_ACCOUNT}/Recordings/<sid>.json", endpoint="recording", methods=["GET"]),
        Rule(f"{_ACCOUNT}/Recordings/<sid>.mp3", endpoint="recording_mp3", methods=["GET"]),
        Rule(f"{_ACCOUNT}/IncomingPhoneNumbers.json", endpoint="incoming_numbers", methods=["GET"]),
        Rule(f"{_ACCOUNT}/IncomingPhoneNumbers/<sid>.json", endpoint="incoming_number", methods=["GET", "POST"]),
    ]
)


def _json_response(body: Any, status: int) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


# --- The server -----------------------------------------------------------------------------


class FakeTwilio:
    """A Twilio REST API on 127.0.0.1 that records what it is asked and answers like Twilio.

    ``auto_status``: after answering a message create, send it on to ``sent`` and then its final
    status (``delivered`` unless ``set_delivery`` says otherwise), with a status callback for each
    if the message has a StatusCallback. Calls never progress on their own: tests drive them
    with ``answer_call`` and ``complete_call``.

    ``callback_delay``: how long after answering a create the first status callback goes out.
    Twilio's come a good while after its answer; a short pause keeps the app from seeing a
    callback for a SID its own request has not finished storing, which would make tests flaky.
    """

    def __init__(
        self,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        auto_status: bool = True,
        *,
        callback_delay: float = 0.05,
        callback_timeout: float = 5.0,
    ) -> None:
        if not ACCOUNT_SID.fullmatch(account_sid):
            raise ValueError(f"account_sid must be AC followed by 32 hex digits, not {account_sid!r}")
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.auto_status = auto_status
        self.callback_delay = callback_delay
        self.callback_timeout = callback_timeout
        self.base_url = ""

        self._lock = threading.RLock()
        self._messages: dict[str, _Message] = {}
        self._calls: dict[str, _Call] = {}
        self._deleted: set[str] = set()  # gone from the API, still in .messages/.calls
        self._media: dict[str, _Media] = {}  # inbound media items, by sid (deleted ones in _deleted)
        self._media_fetches: list[dict[str, Any]] = []  # what Twilio fetched for outbound MediaUrls
        self._requests: list[dict[str, Any]] = []
        self._callbacks: list[dict[str, Any]] = []
        self._voice_requests: list[dict[str, Any]] = []
        self._faults: list[_Fault] = []
        self._delivery: dict[str, tuple[str, int | None]] = {}
        self._recordings: dict[str, dict[str, Any]] = {}
        self._numbers: dict[str, _IncomingNumber] = {}
        self._generation = 0  # bumped by reset(), so late background work does not leak past it

        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._executor: ThreadPoolExecutor | None = None

    # --- lifecycle

    def start(self) -> str:
        """Serve on an ephemeral port in a background thread; returns ``base_url``."""
        if self._server is not None:
            return self.base_url
        self._server = make_server(
            "127.0.0.1", 0, self._wsgi_app, threaded=True, request_handler=_QuietRequestHandler
        )
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"
        self._executor = ThreadPoolExecutor(max_workers=16, thread_name_prefix="fake-twilio-callbacks")
        # A short poll interval: shutdown() waits up to one interval, and tests stop a server each.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-twilio", daemon=True
        )
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        """Stop serving; status callbacks not yet started are dropped, running ones finish."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
        self._thread = self._executor = None

    def __enter__(self) -> FakeTwilio:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget every recorded item, fault and delivery outcome."""
        with self._lock:
            self._generation += 1
            self._messages.clear()
            self._calls.clear()
            self._deleted.clear()
            self._media.clear()
            self._media_fetches.clear()
            self._requests.clear()
            self._callbacks.clear()
            self._voice_requests.clear()
            self._faults.clear()
            self._delivery.clear()
            self._recordings.clear()
            self._numbers.clear()

    # --- what was recorded (copies, safe to read while the server runs)

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Every message created, in order: its resource JSON plus ``params`` (the form received)."""
        with self._lock:
            return [self._message_record(message) for message in self._messages.values()]

    @property
    def calls(self) -> list[dict[str, Any]]:
        """Every call created, in order: its resource JSON plus ``params``."""
        with self._lock:
            return [self._call_record(call) for call in self._calls.values()]

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Every REST request, rejected ones too: method, path, params, status (None while held), time."""
        with self._lock:
            return copy.deepcopy(self._requests)

    @property
    def callbacks(self) -> list[dict[str, Any]]:
        """Status callbacks sent: kind, sid, url, method, params, status (None if unreachable), time."""
        with self._lock:
            return copy.deepcopy(self._callbacks)

    @property
    def voice_requests(self) -> list[dict[str, Any]]:
        """Voice webhooks sent by answer_call: url, method, params, status, response (the TwiML)."""
        with self._lock:
            return copy.deepcopy(self._voice_requests)

    @property
    def media(self) -> list[dict[str, Any]]:
        """Every inbound media item stored: its resource JSON plus ``deleted`` and ``size``."""
        with self._lock:
            return [{**m.resource(), "deleted": m.sid in self._deleted, "size": len(m.content)}
                    for m in self._media.values()]

    @property
    def media_fetches(self) -> list[dict[str, Any]]:
        """Each MediaUrl of an outbound message, fetched as Twilio fetches it before sending:
        message_sid, url, status (None if unreachable), content_type, content (bytes), error, time."""
        with self._lock:
            return copy.deepcopy(self._media_fetches)

    def add_inbound_media(self, items: list[tuple[bytes, str]]) -> tuple[str, list[str]]:
        """A phone sent an MMS with these (content, content type) items: store them as Twilio does
        and return the message SID and the MediaUrl0, MediaUrl1... its webhook would carry."""
        message_sid = "MM" + uuid.uuid4().hex
        urls = []
        with self._lock:
            for content, content_type in items:
                media = _Media("ME" + uuid.uuid4().hex, self.account_sid, message_sid, bytes(content), content_type,
                               _now())
                self._media[media.sid] = media
                urls.append(self.base_url + media.uri.removesuffix(".json"))
        return message_sid, urls

    def messages_to(self, number: str) -> list[dict[str, Any]]:
        with self._lock:
            return [self._message_record(m) for m in self._messages.values() if m.to == number]

    def calls_to(self, number: str) -> list[dict[str, Any]]:
        with self._lock:
            return [self._call_record(c) for c in self._calls.values() if c.to == number]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0, interval: float = 0.02) -> bool:
        """Poll ``predicate`` until it is true (True) or ``timeout`` passes (False). Never raises:
        a predicate that raises (say, an IndexError on a list not filled yet) counts as false."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                if predicate():
                    return True
            except Exception:
                pass
            if time.monotonic() >= deadline:
                return False
            time.sleep(interval)

    def wait_for_messages(self, to: str, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        """All messages to ``to`` once there are at least ``count``; AssertionError saying what did arrive if not."""
        if not self.wait_for(lambda: self._count(self._messages, to) >= count, timeout):
            raise AssertionError(
                f"expected {count} message(s) to {to} within {timeout}s, "
                f"got {self._count(self._messages, to)}.\n{self._summary()}"
            )
        return self.messages_to(to)

    def wait_for_calls(self, to: str, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        """All calls to ``to`` once there are at least ``count``; AssertionError saying what did arrive if not."""
        if not self.wait_for(lambda: self._count(self._calls, to) >= count, timeout):
            raise AssertionError(
                f"expected {count} call(s) to {to} within {timeout}s, "
                f"got {self._count(self._calls, to)}.\n{self._summary()}"
            )
        return self.calls_to(to)

    # --- fault injection

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 500,
        code: int | None = None,
        message: str | None = None,
        to: str | None = None,
        resource: str | None = None,
    ) -> None:
        """Answer the next ``count`` valid create requests (to ``to``, for ``resource`` "messages" or
        "calls"; None matches any) with this HTTP status and a Twilio error body. Nothing is created.
        ``resource="media"`` fails the next fetches of inbound media content instead.
        E.g. ``fail_next(status=429, code=20429)`` or ``fail_next(status=400, code=21610, to=number)``."""
        self._add_fault(_Fault("fail", count, to, resource, status=status, code=code, message=message))

    def delay_next(
        self, seconds: float, count: int = 1, *, to: str | None = None, resource: str | None = None
    ) -> None:
        """Hold the next ``count`` matching create requests ``seconds`` before answering. The resource
        is created (Twilio got the request) before the wait, so a client that times out has still sent it."""
        self._add_fault(_Fault("delay", count, to, resource, seconds=seconds))

    def _add_fault(self, fault: _Fault) -> None:
        if fault.resource not in (None, "messages", "calls", "media"):
            raise ValueError(f"resource must be 'messages', 'calls', 'media' or None, not {fault.resource!r}")
        with self._lock:
            self._faults.append(fault)

    def _take_fault(self, kind: str, resource: str, to: str | None, exact: bool = False) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(kind, resource, to) and (not exact or fault.resource == resource):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    # --- message delivery

    def set_delivery(self, to: str, status: str = "delivered", error_code: int | None = None) -> None:
        """Messages created from now on to ``to`` end in ``status``; "failed"/"undelivered" carry
        ``error_code`` (e.g. 30003, unreachable handset; 30008 if not given)."""
        if status not in FINAL_MESSAGE_STATUSES:
            raise ValueError(f"status must be one of {FINAL_MESSAGE_STATUSES}, not {status!r}")
        with self._lock:
            self._delivery[to] = (status, error_code)

    def deliver(self, sid: str, status: str, error_code: int | None = None) -> int | None:
        """Move message ``sid`` to ``status`` now and send its status callback, if it has one.
        Returns the HTTP status the app answered (None: no StatusCallback, or unreachable)."""
        with self._lock:
            message = self._messages.get(sid)
            if message is None:
                raise KeyError(f"no message {sid} was created")
            if status not in MESSAGE_STATUSES:
                raise ValueError(f"{status!r} is not a message status")
            moment = _now()
            message.status, message.updated = status, moment
            if status in ("sent", "delivered", "undelivered", "read") and message.sent is None:
                message.sent = moment
            if status in FAILED_MESSAGE_STATUSES:
                message.error_code = error_code or DEFAULT_DELIVERY_ERROR
                message.error_message = ERROR_MESSAGES.get(message.error_code)
            url = message.params.get("StatusCallback")
            if not url:
                return None
            params = {
                "MessageSid": sid,
                "SmsSid": sid,
                "AccountSid": self.account_sid,
                "From": message.params.get("From"),
                "To": message.to,
                "MessagingServiceSid": message.params.get("MessagingServiceSid"),
                "MessageStatus": status,
                "SmsStatus": status,
                "ApiVersion": API_VERSION,
            }
            if status in FAILED_MESSAGE_STATUSES:
                params["ErrorCode"] = str(message.error_code)
            params = {name: value for name, value in params.items() if value is not None}
            generation = self._generation
        return self._send_callback("message-status", sid, url, "POST", params, generation)

    def _progress_message(self, sid: str, generation: int) -> None:
        """Twilio's side of an accepted message: sent, then its final status, one callback each."""
        with self._lock:
            message = self._messages.get(sid)
            if message is None or generation != self._generation:
                return
            final, error_code = self._delivery.get(message.to, ("delivered", None))
        steps = [("sent", None)] if final == "sent" else [("sent", None), (final, error_code)]
        for status, code in steps:
            with self._lock:
                if generation != self._generation:
                    return
            self.deliver(sid, status, code)

    # --- calls

    def answer_call(self, sid: str, digits: str | None = None, call_status: str = "in-progress") -> str:
        """The callee picks up: fetch the call's TwiML (signed voice webhook) and return it.

        With ``digits``, then press them at the ``<Gather>``: request its action (relative to the
        document's URL; the document itself if it has none) with ``Digits`` and return that TwiML.
        Raises AssertionError if the app answers with an error or there is no ``<Gather>``."""
        with self._lock:
            call = self._get_call(sid)
            call.status, call.updated = call_status, _now()
            if call.started is None:
                call.started = call.updated
            url, method, twiml = call.url, call.method, call.twiml
        if "answered" in _events(call.params):
            self._send_call_status(sid, call_status)

        if twiml is not None:  # TwiML given inline with the create: nothing to fetch
            document, document_url = twiml, None
        elif url:
            document, document_url = self._fetch_twiml(sid, url, method, {}), url
        else:
            raise AssertionError(f"call {sid} has neither Url nor Twiml to answer with")
        if digits is None:
            return document

        gather = self._find_gather(document)
        action = gather.get("action") or document_url
        if not action:
            raise AssertionError(f"the <Gather> in call {sid}'s inline TwiML has no action URL:\n{document}")
        action_url = urljoin(document_url or "", action)
        return self._fetch_twiml(sid, action_url, (gather.get("method") or "POST").upper(), {"Digits": digits})

    def complete_call(self, sid: str, status: str = "completed") -> int | None:
        """The call ends with ``status``; send the status callback if the call has one (and its
        StatusCallbackEvent, if given, includes "completed"). Returns the app's HTTP status or None."""
        if status not in FINAL_CALL_STATUSES:
            raise ValueError(f"status must be one of {FINAL_CALL_STATUSES}, not {status!r}")
        with self._lock:
            call = self._get_call(sid)
            call.status = status
            call.ended = call.updated = _now()
        return self._send_call_status(sid, status)

    def _get_call(self, sid: str) -> _Call:
        call = self._calls.get(sid)
        if call is None:
            raise KeyError(f"no call {sid} was created")
        return call

    def _voice_params(self, call: _Call, call_status: str) -> dict[str, str]:
        # What Twilio posts to voice webhooks for an outbound API call.
        params = {
            "CallSid": call.sid,
            "AccountSid": self.account_sid,
            "From": call.params["From"],
            "To": call.to,
            "Caller": call.params["From"],
            "Called": call.to,
            "CallStatus": call_status,
            "Direction": "outbound-api",
            "ApiVersion": API_VERSION,
        }
        if call.params.get("MachineDetection"):
            params["AnsweredBy"] = "human"
        return params

    def _send_call_status(self, sid: str, call_status: str) -> int | None:
        with self._lock:
            call = self._get_call(sid)
            event = "answered" if call_status == "in-progress" else call_status
            if call_status in FINAL_CALL_STATUSES:
                event = "completed"
            # Without StatusCallbackEvent Twilio only reports the end of the call.
            if not call.status_callback or event not in (_events(call.params) or ["completed"]):
                return None
            params = self._voice_params(call, call_status)
            params.update(
                CallbackSource="call-progress-events",
                SequenceNumber=str(call.callbacks_sent),
                Timestamp=_rfc2822(_now()) or "",
            )
            if event == "completed":
                params["CallDuration"] = str(call.duration() or 0)
            call.callbacks_sent += 1
            url, method, generation = call.status_callback, call.status_callback_method, self._generation
        return self._send_callback("call-status", sid, url, method, params, generation)

    def _fetch_twiml(self, sid: str, url: str, method: str, extra: dict[str, str]) -> str:
        with self._lock:
            call = self._get_call(sid)
            params = {**self._voice_params(call, call.status), **extra}
        status, text, error = self._send_webhook(url, method, params)
        with self._lock:
            self._voice_requests.append(
                {"sid": sid, "url": url, "method": method, "params": params, "status": status,
                 "response": text, "error": error, "time": time.time()}
            )  # fmt: skip
        if status is None or not 200 <= status < 300:
            raise AssertionError(f"voice webhook {method} {url} for call {sid} answered {status or error}:\n{text}")
        return text

    @staticmethod
    def _find_gather(document: str) -> ElementTree.Element:
        try:
            root = ElementTree.fromstring(document)
        except ElementTree.ParseError as exc:
            raise AssertionError(f"the TwiML is not well-formed XML ({exc}):\n{document}") from exc
        gather = next(root.iter("Gather"), None)
        if gather is None:
            raise AssertionError(f"digits were given but the TwiML has no <Gather>:\n{document}")
        return gather

    # --- webhooks out

    def _send_webhook(self, url: str, method: str, params: dict[str, str]) -> tuple[int | None, str, str | None]:
        """Request the app like Twilio does, signed; (HTTP status, body, error). Never raises."""
        method = method.upper()
        if method == "GET":  # GET webhooks carry the params in the URL, signed over it alone
            separator = "&" if urlsplit(url).query else "?"
            url, body, signed_params = f"{url}{separator}{urlencode(params)}", None, {}
        else:
            body, signed_params = params, params
        try:
            # Sign the URL exactly as it goes on the wire (requests may normalise it).
            prepared = requests.Request(method, url, data=body, headers={"User-Agent": "TwilioProxy/1.1"}).prepare()
            prepared.headers.update(signed_headers(self.auth_token, prepared.url, signed_params))
            with requests.Session() as session:
                session.trust_env = False  # never route 127.0.0.1 through an HTTP(S)_PROXY
                response = session.send(prepared, timeout=self.callback_timeout)
            return response.status_code, response.text, None
        except requests.RequestException as exc:
            log.debug("fake Twilio could not reach %s: %s", url, exc)
            return None, "", f"{type(exc).__name__}: {exc}"

    def _send_callback(
        self, kind: str, sid: str, url: str, method: str, params: dict[str, str], generation: int
    ) -> int | None:
        status, _text, error = self._send_webhook(url, method, params)
        with self._lock:
            if generation == self._generation:
                self._callbacks.append(
                    {"kind": kind, "sid": sid, "url": url, "method": method, "params": params,
                     "status": status, "error": error, "time": time.time()}
                )  # fmt: skip
        return status

    def _after_response(self, response: Response, work: Callable[[], Any], delay: float = 0.0) -> None:
        """Run ``work`` in the background once the answer has been written (so the app has it
        before any callback), and no sooner than ``delay`` seconds after that."""
        executor = self._executor

        def submit() -> None:
            not_before = time.monotonic() + delay

            def run() -> None:
                # Waits only what is left: when callbacks queue up, none waits twice.
                time.sleep(max(0.0, not_before - time.monotonic()))
                work()

            try:
                if executor is not None:
                    executor.submit(run)
            except RuntimeError:  # shut down meanwhile
                pass

        response.call_on_close(submit)

    # --- HTTP

    def _wsgi_app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        entry = {
            "method": request.method,
            "path": request.path,
            "params": _flatten(request.form if request.method == "POST" else request.args),
            "status": None,
            "time": time.time(),
        }
        with self._lock:
            self._requests.append(entry)
        try:
            response = self._dispatch(request)
        except TwilioError as error:
            response = _json_response(error.body(), error.status)
        except Exception as exc:  # a bug here must show up in the test, not hang it
            log.exception("fake Twilio failed on %s %s", request.method, request.path)
            response = _json_response(TwilioError(500, 20500, f"fake Twilio bug: {exc!r}").body(), 500)
        with self._lock:
            entry["status"] = response.status_code
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        auth = request.authorization
        if (
            auth is None
            or auth.type != "basic"
            or auth.username != self.account_sid
            or auth.password != self.auth_token
        ):
            raise self._unauthorized()
        try:
            endpoint, args = _ROUTES.bind("api.twilio.com").match(request.path, method=request.method)
        except NotFound:
            raise TwilioError(404, 20404, f"The requested resource {request.path} was not found") from None
        except MethodNotAllowed:
            raise TwilioError(405, 20004, f"Method {request.method} not allowed on {request.path}") from None
        if args.pop("account_sid") != self.account_sid:
            raise self._unauthorized()
        handler = {
            ("messages", "POST"): self._create_message,
            ("messages", "GET"): self._list_messages,
            ("message", "GET"): self._fetch_message,
            ("message", "POST"): self._update_message,
            ("message", "DELETE"): self._delete_message,
            ("calls", "POST"): self._create_call,
            ("calls", "GET"): self._list_calls,
            ("call", "GET"): self._fetch_call,
            ("call", "POST"): self._update_call,
            ("call", "DELETE"): self._delete_call,
            ("media_list", "GET"): self._list_media,
            ("media", "GET"): self._fetch_media,
            ("media", "DELETE"): self._delete_media,
            ("media_content", "GET"): self._media_content,
            ("recording", "GET"): self._fetch_recording,
            ("recording_mp3", "GET"): self._fetch_recording_media,
            ("incoming_numbers", "GET"): self._list_incoming_numbers,
            ("incoming_number", "GET"): self._fetch_incoming_number,
            ("incoming_number", "POST"): self._update_incoming_number,
        }[endpoint, request.method]
        return handler(request, **args)

    # --- Recordings

    def add_recording(self, audio: bytes, call_sid: str | None = None, duration: int = 3) -> dict[str, str]:
        """What Twilio holds after a <Record>: returns the RecordingSid and the RecordingUrl it
        posts to the <Record> action (the resource URL without an extension)."""
        sid = "RE" + uuid.uuid4().hex
        with self._lock:
            self._recordings[sid] = {"audio": bytes(audio), "call_sid": call_sid or "CA" + uuid.uuid4().hex,
                                     "duration": duration, "created": _now()}
        return {"sid": sid, "url": f"{self.base_url}/{API_VERSION}/Accounts/{self.account_sid}/Recordings/{sid}"}

    def _recording(self, sid: str) -> dict[str, Any]:
        if not re.fullmatch(r"RE[0-9a-fA-F]{32}", sid):
            raise TwilioError(404, 20404, f"The requested resource /Recordings/{sid} was not found")
        with self._lock:
            found = self._recordings.get(sid)
        if found is None:
            raise TwilioError(404, 20404, f"The requested resource /Recordings/{sid}.json was not found")
        return found

    def _fetch_recording(self, request: Request, sid: str) -> Response:
        found = self._recording(sid)
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Recordings/{sid}.json"
        return _json_response({
            "account_sid": self.account_sid, "api_version": API_VERSION, "call_sid": found["call_sid"],
            "conference_sid": None, "channels": 1, "date_created": _rfc2822(found["created"]),
            "date_updated": _rfc2822(found["created"]), "start_time": _rfc2822(found["created"]),
            "duration": str(found["duration"]), "sid": sid, "price": None, "price_unit": "USD",
            "status": "completed", "source": "RecordVerb", "error_code": None, "uri": uri,
            "encryption_details": None, "subresource_uris": {},
            "media_url": f"{self.base_url}/{API_VERSION}/Accounts/{self.account_sid}/Recordings/{sid}",
        }, 200)

    def _fetch_recording_media(self, request: Request, sid: str) -> Response:
        return Response(self._recording(sid)["audio"], status=200, mimetype="audio/mpeg")

    @staticmethod
    def _unauthorized() -> TwilioError:
        return TwilioError(401, 20003, "Authenticate", detail="Your AccountSid or AuthToken was incorrect.")

    # --- Messages

    def _create_message(self, request: Request) -> Response:
        params = read_params(request.form, CREATE_MESSAGE_PARAMS, "CreateMessage")
        to, sender = params.get("To"), params.get("From")
        if not to:
            raise TwilioError(400, 21604)
        if not E164.fullmatch(to):
            raise TwilioError(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if not sender and not params.get("MessagingServiceSid"):
            raise TwilioError(400, 21603)
        if sender and not E164.fullmatch(sender):
            raise TwilioError(400, 21212, f"The 'From' number {sender} is not a valid phone number.")
        if params.get("FallbackFrom") and not E164.fullmatch(params["FallbackFrom"]):
            raise TwilioError(400, 21212, f"The 'FallbackFrom' number {params['FallbackFrom']} is not valid.")
        if sender == to:
            raise TwilioError(400, 21266, f"'To' and 'From' number cannot be the same: {to}")
        if not (params.get("Body") or params.get("MediaUrl") or params.get("ContentSid")):
            raise TwilioError(400, 21602)
        if len(params.get("Body", "")) > MAX_BODY_CHARS:
            raise TwilioError(400, 21617)

        def create() -> _Message:
            prefix = "MM" if params.get("MediaUrl") else "SM"
            scheduled = params.get("ScheduleType") == "fixed"
            return _Message(
                sid=prefix + uuid.uuid4().hex,
                account_sid=self.account_sid,
                params=params,
                created=_now(),
                status="scheduled" if scheduled else "queued",
                body=params.get("Body", ""),
            )

        message = self._create("messages", to, self._messages, create)
        response = _json_response(message.resource(), 201)
        generation = self._generation
        media_urls = list(params.get("MediaUrl", []))
        if media_urls or (self.auto_status and message.status == "queued"):

            def work() -> None:
                # Twilio fetches every MediaUrl before it sends; one it cannot get fails the message.
                fetched = all([self._fetch_media_url(message.sid, url, generation) for url in media_urls])
                if not fetched:
                    self.deliver(message.sid, "failed", 11200)
                elif self.auto_status and message.status == "queued":
                    self._progress_message(message.sid, generation)

            self._after_response(response, work, delay=self.callback_delay)
        return response

    def _fetch_media_url(self, message_sid: str, url: str, generation: int) -> bool:
        """GET one MediaUrl as Twilio does (no credentials, redirects followed); record what came back."""
        entry: dict[str, Any] = {"message_sid": message_sid, "url": url, "status": None, "content_type": None,
                                 "content": b"", "error": None, "time": time.time()}
        try:
            with requests.Session() as session:
                session.trust_env = False  # never route 127.0.0.1 through an HTTP(S)_PROXY
                answer = session.get(url, headers={"User-Agent": "TwilioProxy/1.1"}, timeout=self.callback_timeout)
            entry.update(status=answer.status_code, content_type=answer.headers.get("Content-Type"),
                         content=answer.content)
        except requests.RequestException as exc:
            entry["error"] = f"{type(exc).__name__}: {exc}"
        with self._lock:
            if generation == self._generation:
                self._media_fetches.append(entry)
        return entry["status"] == 200 and bool(entry["content"])

    def _list_messages(self, request: Request) -> Response:
        params = read_params(request.args, LIST_MESSAGE_PARAMS, "ListMessage")

        def keep(message: _Message) -> bool:
            return (
                params.get("To") in (None, message.to)
                and params.get("From") in (None, message.params.get("From"))
                and self._in_range(message.sent or message.created, params, "DateSent")
            )

        with self._lock:
            found = [m.resource() for sid, m in self._messages.items() if sid not in self._deleted and keep(m)]
        return self._page(request, "messages", found, params)

    def _fetch_message(self, request: Request, sid: str) -> Response:
        with self._lock:
            return _json_response(self._find(request, self._messages, sid).resource(), 200)

    def _update_message(self, request: Request, sid: str) -> Response:
        params = read_params(request.form, UPDATE_MESSAGE_PARAMS, "UpdateMessage")
        with self._lock:
            message = self._find(request, self._messages, sid)
            if "Body" in params:
                if params["Body"]:
                    raise TwilioError(400, INVALID_PARAMETER, "Body can only be updated to '' (to redact it)")
                message.body = ""
            if params.get("Status") == "canceled":
                if message.status != "scheduled":
                    raise TwilioError(400, INVALID_PARAMETER, f"Only scheduled messages can be canceled, not {message.status}")
                message.status = "canceled"
            message.updated = _now()
            return _json_response(message.resource(), 200)

    def _delete_message(self, request: Request, sid: str) -> Response:
        with self._lock:
            self._find(request, self._messages, sid)
            self._deleted.add(sid)
        return Response(status=204)

    # --- Media (of inbound messages)

    def _list_media(self, request: Request, message_sid: str) -> Response:
        params = read_params(request.args, LIST_MEDIA_PARAMS, "ListMedia")
        with self._lock:
            found = [m.resource() for sid, m in self._media.items()
                     if sid not in self._deleted and m.parent_sid == message_sid
                     and self._in_range(m.created, params, "DateCreated")]
        return self._page(request, "media_list", found, params)

    def _find_media(self, request: Request, message_sid: str, sid: str) -> _Media:
        media = self._media.get(sid)
        if media is None or sid in self._deleted or media.parent_sid != message_sid:
            raise TwilioError(404, 20404, f"The requested resource {request.path} was not found")
        return media

    def _fetch_media(self, request: Request, message_sid: str, sid: str) -> Response:
        read_params(request.args, {}, "FetchMedia")
        with self._lock:
            return _json_response(self._find_media(request, message_sid, sid).resource(), 200)

    def _delete_media(self, request: Request, message_sid: str, sid: str) -> Response:
        with self._lock:
            self._find_media(request, message_sid, sid)
            self._deleted.add(sid)
        return Response(status=204)

    def _media_content(self, request: Request, message_sid: str, sid: str) -> Response:
        # fail_next(resource="media") applies to fetching media content (a GET, not a create).
        failure = self._take_fault("fail", "media", None, exact=True)
        if failure is not None:
            raise TwilioError(failure.status, failure.code, failure.message)
        with self._lock:
            media = self._find_media(request, message_sid, sid)
            return Response(media.content, status=200, mimetype=media.content_type)

    # --- Calls

    def _create_call(self, request: Request) -> Response:
        params = read_params(request.form, CREATE_CALL_PARAMS, "CreateCall")
        to, sender = params.get("To"), params.get("From")
        if not to:
            raise TwilioError(400, 21201)
        if not E164.fullmatch(to):
            raise TwilioError(400, 21211, f"Invalid 'To' Phone Number: {to}")
        if not sender:
            raise TwilioError(400, 21213)
        if not E164.fullmatch(sender):
            raise TwilioError(400, 21212, f"Invalid 'From' Phone Number: {sender}")
        if not (params.get("Url") or params.get("Twiml") or params.get("ApplicationSid")):
            raise TwilioError(400, 21205)

        def create() -> _Call:
            return _Call(
                sid="CA" + uuid.uuid4().hex,
                account_sid=self.account_sid,
                params=params,
                created=_now(),
                url=params.get("Url"),
                method=params.get("Method", "POST").upper(),
                twiml=params.get("Twiml"),
                status_callback=params.get("StatusCallback"),
                status_callback_method=params.get("StatusCallbackMethod", "POST").upper(),
            )

        call = self._create("calls", to, self._calls, create)
        return _json_response(call.resource(), 201)

    def _list_calls(self, request: Request) -> Response:
        params = read_params(request.args, LIST_CALL_PARAMS, "ListCall")

        def keep(call: _Call) -> bool:
            return (
                params.get("To") in (None, call.to)
                and params.get("From") in (None, call.params["From"])
                and params.get("Status") in (None, call.status)
                and params.get("ParentCallSid") is None  # we only make parent calls
                and self._in_range(call.started or call.created, params, "StartTime")
                and self._in_range(call.ended, params, "EndTime")
            )

        with self._lock:
            found = [c.resource() for sid, c in self._calls.items() if sid not in self._deleted and keep(c)]
        return self._page(request, "calls", found, params)

    def _fetch_call(self, request: Request, sid: str) -> Response:
        with self._lock:
            return _json_response(self._find(request, self._calls, sid).resource(), 200)

    def _update_call(self, request: Request, sid: str) -> Response:
        params = read_params(request.form, UPDATE_CALL_PARAMS, "UpdateCall")
        with self._lock:
            call = self._find(request, self._calls, sid)
            call.updated = _now()
            if "Url" in params:
                call.url, call.twiml = params["Url"], None
            if "Twiml" in params:
                call.twiml = params["Twiml"]
            if "Method" in params:
                call.method = params["Method"].upper()
            if "StatusCallback" in params:
                call.status_callback = params["StatusCallback"]
            if "StatusCallbackMethod" in params:
                call.status_callback_method = params["StatusCallbackMethod"].upper()
            ended = False
            if call.status not in FINAL_CALL_STATUSES:
                # Twilio: "canceled" stops a call that has not been answered, "completed" hangs up any.
                if params.get("Status") == "completed" or (
                    params.get("Status") == "canceled" and call.status in ("queued", "ringing")
                ):
                    call.status, call.ended, ended = params["Status"], call.updated, True
            response = _json_response(call.resource(), 200)
        if ended and self.auto_status:
            final = call.status
            self._after_response(response, lambda: self._send_call_status(sid, final))
        return response

    def _delete_call(self, request: Request, sid: str) -> Response:
        with self._lock:
            self._find(request, self._calls, sid)
            self._deleted.add(sid)
        return Response(status=204)

    # --- shared by both resources

    def _create(self, resource: str, to: str, table: dict[str, Any], make: Callable[[], Any]) -> Any:
        """Apply any injected fault, then record the new resource, then hold the answer if asked."""
        failure = self._take_fault("fail", resource, to)
        delay = self._take_fault("delay", resource, to)
        created = None
        if failure is None:
            created = make()
            with self._lock:
                table[created.sid] = created
        if delay is not None:
            time.sleep(delay.seconds)
        if failure is not None:
            raise TwilioError(failure.status, failure.code, failure.message)
        return created

    def _find(self, request: Request, table: dict[str, Any], sid: str) -> Any:
        found = table.get(sid)
        if found is None or sid in self._deleted:
            raise TwilioError(404, 20404, f"The requested resource {request.path} was not found")
        return found

    @staticmethod
    def _in_range(moment: datetime | None, params: Mapping[str, Any], name: str) -> bool:
        """The Twilio list filters Name, Name< and Name> (on or before / on or after); a date
        compares with the day, a date-time with the instant."""
        for suffix, accept in (("", lambda a, b: a == b), ("<", lambda a, b: a <= b), (">", lambda a, b: a >= b)):
            raw = params.get(name + suffix)
            if raw is None:
                continue
            if moment is None:
                return False
            bound = _parse_time(raw)
            if suffix == "" or not isinstance(bound, datetime):
                left, right = moment.date(), bound.date() if isinstance(bound, datetime) else bound
            else:
                left, right = moment, bound
            if not accept(left, right):
                return False
        return True

    def _page(self, request: Request, key: str, found: list[dict[str, Any]], params: Mapping[str, Any]) -> Response:
        """One page of a list, newest first, in the shape the twilio client pages through."""
        page_size = int(params.get("PageSize", 50))
        page = int(params.get("Page", 0))
        if not 1 <= page_size <= 1000 or page < 0:
            raise TwilioError(400, INVALID_PARAMETER, "PageSize must be 1..1000 and Page at least 0")
        found.reverse()
        start = page * page_size
        records = found[start : start + page_size]
        filters = [(name, value) for name, value in params.items() if name not in ("PageSize", "Page", "PageToken")]

        def page_uri(number: int) -> str:
            return f"{request.path}?{urlencode([*filters, ('PageSize', page_size), ('Page', number)])}"

        body = {
            key: records,
            "end": start + max(len(records) - 1, 0),
            "first_page_uri": page_uri(0),
            "next_page_uri": page_uri(page + 1) if start + page_size < len(found) else None,
            "page": page,
            "page_size": page_size,
            "previous_page_uri": page_uri(page - 1) if page > 0 else None,
            "start": start,
            "uri": page_uri(page),
        }
        return _json_response(body, 200)

    # --- IncomingPhoneNumbers (the account's numbers and their webhooks)

    def add_number(self, phone_number: str, **fields: Any) -> str:
        """Give the account ``phone_number`` (E.164), configured with ``fields`` (resource property
        names, e.g. sms_url=...); returns its PN sid. Buying numbers is not served."""
        if not E164.fullmatch(phone_number):
            raise ValueError(f"{phone_number!r} is not an E.164 number")
        sid = "PN" + uuid.uuid5(uuid.NAMESPACE_URL, f"{self.account_sid}/{phone_number}").hex
        with self._lock:
            self._numbers[sid] = _IncomingNumber(sid, self.account_sid, phone_number, _now(), dict(fields))
        return sid

    @property
    def incoming_numbers(self) -> list[dict[str, Any]]:
        with self._lock:
            return [number.resource() for number in self._numbers.values()]

    def _list_incoming_numbers(self, request: Request) -> Response:
        params = read_params(request.args, LIST_INCOMING_PHONE_NUMBER_PARAMS, "ListIncomingPhoneNumber")
        # Twilio matches PhoneNumber and FriendlyName as (partial) patterns; '*' stands for any digit.
        wanted = {name: re.compile(".*".join(re.escape(part) for part in str(params[name]).split("*")))
                  for name in ("PhoneNumber", "FriendlyName") if params.get(name)}

        def keep(resource: dict[str, Any]) -> bool:
            return all(pattern.search(str(resource[re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()] or ""))
                       for name, pattern in wanted.items())

        with self._lock:
            found = [number.resource() for number in self._numbers.values()]
        found = [resource for resource in found if keep(resource)]
        found.reverse()        # _page lists newest first; the account's numbers stay in the order added
        return self._page(request, "incoming_phone_numbers", found, params)

    def _incoming_number(self, request: Request, sid: str) -> _IncomingNumber:
        if not PHONE_NUMBER_SID.fullmatch(sid):
            raise TwilioError(404, 20404, f"The requested resource {request.path} was not found")
        return self._find(request, self._numbers, sid)

    def _fetch_incoming_number(self, request: Request, sid: str) -> Response:
        with self._lock:
            return _json_response(self._incoming_number(request, sid).resource(), 200)

    def _update_incoming_number(self, request: Request, sid: str) -> Response:
        params = read_params(request.form, UPDATE_INCOMING_PHONE_NUMBER_PARAMS, "UpdateIncomingPhoneNumber")
        if params.get("AccountSid") not in (None, self.account_sid):
            raise TwilioError(400, INVALID_PARAMETER, "Moving a number to another account is not served here")
        with self._lock:
            number = self._incoming_number(request, sid)
            for name, value in params.items():
                if name in _INCOMING_FIELDS:
                    if name.endswith("Method"):
                        value = value.upper()
                    elif name == "VoiceCallerIdLookup":
                        value = value.lower() == "true"
                    number.fields[_INCOMING_FIELDS[name]] = value or None
            number.updated = _now()
            return _json_response(number.resource(), 200)

    # --- recording helpers

    def _message_record(self, message: _Message) -> dict[str, Any]:
        return {**message.resource(), "params": copy.deepcopy(message.params)}

    def _call_record(self, call: _Call) -> dict[str, Any]:
        return {**call.resource(), "params": copy.deepcopy(call.params)}

    def _count(self, table: dict[str, Any], to: str) -> int:
        with self._lock:
            return sum(1 for item in table.values() if item.to == to)

    def _summary(self, limit: int = 20) -> str:
        """What did reach the fake (the latest ``limit`` of each kind), for assertion messages."""
        with self._lock:
            messages = list(self._messages.values())[-limit:]
            calls = list(self._calls.values())[-limit:]
            rejected = [r for r in self._requests if r["status"] is not None and r["status"] >= 400][-limit:]
            lines = [f"messages ({len(self._messages)}, latest {len(messages)} shown):"]
            lines += [
                f"  {m.sid} to {m.to} from {m.params.get('From') or m.params.get('MessagingServiceSid')} "
                f"[{m.status}]: {m.body[:70]!r}"
                for m in messages
            ]
            lines.append(f"calls ({len(self._calls)}, latest {len(calls)} shown):")
            lines += [f"  {c.sid} to {c.to} from {c.params['From']} [{c.status}]" for c in calls]
            if rejected:
                lines.append("rejected requests (latest):")
                lines += [f"  {r['method']} {r['path']} -> {r['status']} {r['params']}" for r in rejected]
        return "\n".join(lines)
