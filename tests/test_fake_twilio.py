"""The fake Twilio server and webhook signing, exercised through the real twilio client."""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from werkzeug.datastructures import MultiDict
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from hotline.testing.fake_twilio import (
    CALL_PROPERTIES,
    MESSAGE_PROPERTIES,
    FakeTwilio,
    count_segments,
)
from hotline.testing.signing import signed_headers, twilio_signature

STAFF = "+13035550100"
PARENT = "+13035550101"
HOTLINE = "+13035550199"
OTHER_HOTLINE = "+13035550198"

RFC_2822 = re.compile(r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000")


# --- fixtures -------------------------------------------------------------------------------


class Receiver:
    """A tiny web app standing in for the hotline: checks each request's X-Twilio-Signature with
    twilio's own RequestValidator (403 if wrong), records it, and answers from ``routes``."""

    def __init__(self, auth_token: str, routes: dict[str, Callable[[MultiDict], str]] | None = None) -> None:
        self.validator = RequestValidator(auth_token)
        self.routes = routes or {}
        self.hits: list[dict] = []
        self._lock = threading.Lock()
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def _app(self, environ, start_response):
        request = Request(environ)
        # The URL exactly as requested: werkzeug's request.url re-quotes the query string
        # ("%2C" comes back as ","), which breaks signatures over GET webhooks' URLs.
        raw_url = request.host_url.rstrip("/") + environ["RAW_URI"]
        valid = self.validator.validate(raw_url, request.form, request.headers.get("X-Twilio-Signature", ""))
        with self._lock:
            self.hits.append(
                {"method": request.method, "path": request.path, "url": raw_url, "args": request.args.to_dict(),
                 "form": request.form.to_dict(), "valid": valid}
            )  # fmt: skip
        if not valid:
            return Response("bad signature", status=403)(environ, start_response)
        handler = self.routes.get(request.path)
        body = handler(request.form) if handler else ""
        return Response(body, mimetype="text/xml")(environ, start_response)

    def __enter__(self) -> Receiver:
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def fake():
    with FakeTwilio() as server:
        yield server


def make_client(fake: FakeTwilio, token: str | None = None, account_sid: str | None = None, timeout: float = 5.0):
    client = Client(
        account_sid or fake.account_sid, token or fake.auth_token, http_client=TwilioHttpClient(timeout=timeout)
    )
    client.api.base_url = fake.base_url
    return client


@pytest.fixture
def client(fake):
    return make_client(fake)


@pytest.fixture
def receiver(fake):
    with Receiver(fake.auth_token) as app:
        yield app


def messages_url(fake: FakeTwilio) -> str:
    return f"{fake.base_url}/2010-04-01/Accounts/{fake.account_sid}/Messages.json"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- signing --------------------------------------------------------------------------------

TOKEN = "12345-secret-token"


@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("https://hotline.example.org/sms/status", {"MessageSid": "SM123", "MessageStatus": "delivered"}),
        ("https://hotline.example.org/voice?district=jeffco&step=2", {"CallSid": "CA1", "Digits": "1"}),
        ("http://127.0.0.1:8123/voice", {}),
        ("https://hotline.example.org/sms", {"Body": "Où est l'école? 🏫", "From": "+13035550100"}),
    ],
)
def test_signature_matches_twilio_request_validator(url, params):
    signature = twilio_signature(TOKEN, url, params)
    assert RequestValidator(TOKEN).validate(url, params, signature) is True


def test_signature_with_a_repeated_name_matches_twilio_request_validator():
    url = "https://hotline.example.org/call?district=jeffco"
    params = {"StatusCallbackEvent": ["ringing", "answered", "completed"], "To": "+13035550100"}
    signature = twilio_signature(TOKEN, url, params)
    # RequestValidator reads repeated names only from a MultiDict (getall/getlist); a dict of lists
    # makes it raise TypeError. So give it the form as a web framework would.
    form = MultiDict([("To", "+13035550100"), *(("StatusCallbackEvent", e) for e in params["StatusCallbackEvent"])])
    assert RequestValidator(TOKEN).validate(url, form, signature) is True
    # Each value counts, sorted: the order they were sent in does not matter, their presence does.
    assert twilio_signature(TOKEN, url, {**params, "StatusCallbackEvent": ["completed", "answered", "ringing"]}) == signature
    assert twilio_signature(TOKEN, url, {**params, "StatusCallbackEvent": ["ringing", "answered"]}) != signature


def test_signature_of_a_multidict_uses_every_value():
    form = MultiDict([("Event", "b"), ("Event", "a"), ("CallSid", "CA1")])
    signature = twilio_signature(TOKEN, "https://x.example/cb", form)
    assert RequestValidator(TOKEN).validate("https://x.example/cb", form, signature)
    assert signature == twilio_signature(TOKEN, "https://x.example/cb", {"CallSid": "CA1", "Event": ["a", "b"]})


def test_signature_changes_with_url_params_and_token():
    url, params = "https://hotline.example.org/sms", {"Body": "hi"}
    signature = twilio_signature(TOKEN, url, params)
    validator = RequestValidator(TOKEN)
    assert not validator.validate(url, {"Body": "hi!"}, signature)
    assert not validator.validate(url + "?x=1", params, signature)
    assert not RequestValidator("another-token").validate(url, params, signature)


def test_signed_headers():
    url, params = "https://hotline.example.org/sms", {"Body": "hi"}
    assert signed_headers(TOKEN, url, params) == {"X-Twilio-Signature": twilio_signature(TOKEN, url, params)}


# --- messages -------------------------------------------------------------------------------


def test_create_message_is_recorded_and_answered_like_twilio(fake, client):
    message = client.messages.create(to=STAFF, from_=HOTLINE, body="Lockdown drill at 10:00")

    assert re.fullmatch(r"SM[0-9a-f]{32}", message.sid)
    assert message.status == "queued"
    assert message.direction == "outbound-api"
    assert message.to == STAFF and message.from_ == HOTLINE
    assert message.num_segments == "1"
    assert isinstance(message.date_created, datetime)

    [recorded] = fake.messages
    assert recorded["sid"] == message.sid
    assert recorded["params"] == {"To": STAFF, "From": HOTLINE, "Body": "Lockdown drill at 10:00"}
    assert fake.messages_to(STAFF)[0]["body"] == "Lockdown drill at 10:00"
    assert fake.messages_to(PARENT) == []


def test_message_json_has_every_property_of_the_spec(fake, client):
    sid = client.messages.create(to=STAFF, from_=HOTLINE, body="hi").sid
    answer = requests.get(
        f"{fake.base_url}/2010-04-01/Accounts/{fake.account_sid}/Messages/{sid}.json",
        auth=(fake.account_sid, fake.auth_token),
        timeout=5,
    )
    body = answer.json()
    assert answer.status_code == 200
    assert list(body) == list(MESSAGE_PROPERTIES)
    assert RFC_2822.fullmatch(body["date_created"])
    assert body["uri"] == f"/2010-04-01/Accounts/{fake.account_sid}/Messages/{sid}.json"
    assert body["subresource_uris"]["media"].endswith(f"/Messages/{sid}/Media.json")


@pytest.mark.parametrize(
    ("body", "segments"),
    [("a" * 160, 1), ("a" * 161, 2), ("a" * 306, 2), ("a" * 307, 3), ("[" * 80, 1), ("[" * 81, 2),
     ("ł" * 70, 1), ("ł" * 71, 2), ("👍" * 35, 1), ("👍" * 36, 2)],
)  # fmt: skip
def test_count_segments(body, segments):
    assert count_segments(body) == segments


def test_list_messages_with_filters_and_pages(fake, client):
    for n in range(3):
        client.messages.create(to=STAFF, from_=HOTLINE, body=f"staff {n}")
    client.messages.create(to=STAFF, from_=OTHER_HOTLINE, body="from the other line")
    client.messages.create(to=PARENT, from_=HOTLINE, body="parent")

    from_hotline = client.messages.list(to=STAFF, from_=HOTLINE, limit=20)
    assert [m.body for m in from_hotline] == ["staff 2", "staff 1", "staff 0"]  # newest first, like Twilio
    assert len(client.messages.list(to=STAFF)) == 4
    assert len(client.messages.list()) == 5

    # Two per page: the client follows next_page_uri until it has them all.
    assert len(client.messages.list(to=STAFF, page_size=2)) == 4
    pages = [r["params"].get("Page") for r in fake.requests if r["params"].get("PageSize") == "2"]
    assert pages == [None, "1"]

    now = datetime.now(timezone.utc)
    assert len(client.messages.list(date_sent_after=now - timedelta(minutes=5))) == 5
    assert client.messages.list(date_sent_before=now - timedelta(days=1)) == []
    assert len(client.messages.list(date_sent=now)) == 5  # the same day
    # The client sends these as query parameters named DateSent> and DateSent<.
    assert {"DateSent>", "DateSent<", "DateSent"} <= {name for r in fake.requests for name in r["params"]}


def test_fetch_update_and_delete_message(fake, client):
    sid = client.messages.create(to=STAFF, from_=HOTLINE, body="secret").sid

    assert client.messages(sid).fetch().body == "secret"
    assert client.messages(sid).update(body="").body == ""
    assert client.messages(sid).delete() is True
    with pytest.raises(TwilioRestException) as caught:
        client.messages(sid).fetch()
    assert (caught.value.status, caught.value.code) == (404, 20404)
    assert len(fake.messages) == 1  # still recorded for the test


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"to": None, "from_": HOTLINE, "body": "x"}, 21604),
        ({"to": "", "from_": HOTLINE, "body": "x"}, 21604),
        ({"to": "303-555-0100", "from_": HOTLINE, "body": "x"}, 21211),
        ({"to": "+0123", "from_": HOTLINE, "body": "x"}, 21211),
        ({"to": STAFF, "body": "x"}, 21603),
        ({"to": STAFF, "from_": "hotline", "body": "x"}, 21212),
        ({"to": STAFF, "from_": STAFF, "body": "x"}, 21266),
        ({"to": STAFF, "from_": HOTLINE}, 21602),
        ({"to": STAFF, "from_": HOTLINE, "body": ""}, 21602),
        ({"to": STAFF, "from_": HOTLINE, "body": "x" * 1601}, 21617),
        ({"to": STAFF, "from_": HOTLINE, "body": "x", "status_callback": "/relative"}, 11100),
    ],
)
def test_invalid_message_creates_get_twilio_errors(fake, client, kwargs, code):
    with pytest.raises(TwilioRestException) as caught:
        client.messages.create(**kwargs)
    assert (caught.value.status, caught.value.code) == (400, code)
    assert fake.messages == []
    assert fake.requests[-1]["status"] == 400


def test_messaging_service_and_media_are_enough(fake, client):
    service = "MG" + "a" * 32
    message = client.messages.create(to=STAFF, messaging_service_sid=service, media_url=["https://x.example/a.png"])
    assert message.sid.startswith("MM") and message.from_ is None and message.num_media == "1"
    assert fake.messages[0]["params"]["MediaUrl"] == ["https://x.example/a.png"]


def test_unknown_parameter_is_rejected_naming_it(fake, client):
    answer = client.request(
        "POST",
        messages_url(fake),
        data={"To": STAFF, "From": HOTLINE, "Body": "hi", "StatusCallbak": "https://x.example/cb"},
    )
    assert answer.status_code == 400
    error = json.loads(answer.text)  # twilio's own Response: no .json()
    assert error["code"] == 20001
    assert "'StatusCallbak'" in error["message"] and "Did you mean 'StatusCallback'" in error["message"]
    assert error["more_info"] == "https://www.twilio.com/docs/errors/20001"
    assert fake.messages == []


def test_wrongly_typed_and_repeated_parameters_are_rejected(client):
    with pytest.raises(TwilioRestException) as caught:
        client.calls.create(to=STAFF, from_=HOTLINE, url="https://x.example/voice", timeout="soon")
    assert caught.value.status == 400 and "Timeout" in caught.value.msg
    with pytest.raises(TwilioRestException) as caught:
        client.messages.create(to=[STAFF, PARENT], from_=HOTLINE, body="x")
    assert caught.value.status == 400 and "'To' was sent 2 times" in caught.value.msg


@pytest.mark.parametrize(
    "credentials",
    [
        {"token": "wrong-token"},
        {"account_sid": "AC" + "1" * 32},  # right token, someone else's account
    ],
)
def test_wrong_credentials_get_401(fake, credentials):
    client = make_client(fake, **credentials)
    with pytest.raises(TwilioRestException) as caught:
        client.messages.create(to=STAFF, from_=HOTLINE, body="hi")
    assert (caught.value.status, caught.value.code) == (401, 20003)
    assert fake.messages == []
    assert fake.requests[-1]["status"] == 401


def test_unknown_path_is_404(fake):
    answer = requests.get(
        f"{fake.base_url}/2010-04-01/Accounts/{fake.account_sid}/Queues.json",
        auth=(fake.account_sid, fake.auth_token),
        timeout=5,
    )
    assert answer.status_code == 404 and answer.json()["code"] == 20404


# --- fault injection ------------------------------------------------------------------------


def test_fail_next_rate_limit_then_success(fake, client):
    fake.fail_next(status=429, code=20429)

    with pytest.raises(TwilioRestException) as caught:
        client.messages.create(to=STAFF, from_=HOTLINE, body="hi")
    assert (caught.value.status, caught.value.code) == (429, 20429)
    assert "Too Many Requests" in caught.value.msg

    client.messages.create(to=STAFF, from_=HOTLINE, body="hi")
    assert len(fake.messages) == 1
    assert [r["status"] for r in fake.requests] == [429, 201]


def test_fail_next_unsubscribed_only_for_that_number(fake, client):
    fake.fail_next(status=400, code=21610, to=PARENT, resource="messages")

    client.messages.create(to=STAFF, from_=HOTLINE, body="hi")  # not the number: unaffected
    with pytest.raises(TwilioRestException) as caught:
        client.messages.create(to=PARENT, from_=HOTLINE, body="hi")
    assert caught.value.code == 21610
    assert "Attempt to send to unsubscribed recipient" in caught.value.msg
    assert [m["to"] for m in fake.messages] == [STAFF]


def test_fail_next_server_error_without_code_and_resource_filter(fake, client):
    fake.fail_next(2, status=500, resource="calls")
    client.messages.create(to=STAFF, from_=HOTLINE, body="a message is not a call")
    for _ in range(2):
        with pytest.raises(TwilioRestException) as caught:
            client.calls.create(to=STAFF, from_=HOTLINE, url="https://x.example/voice")
        assert (caught.value.status, caught.value.code) == (500, None)
    client.calls.create(to=STAFF, from_=HOTLINE, url="https://x.example/voice")
    assert len(fake.calls) == 1


def test_delay_next_makes_the_client_time_out_but_the_message_was_sent(fake, client):
    impatient = make_client(fake, timeout=0.3)
    fake.delay_next(2.0, to=STAFF)  # the server thread sleeps on; stop() does not wait for it

    with pytest.raises(requests.exceptions.Timeout):
        impatient.messages.create(to=STAFF, from_=HOTLINE, body="did it go?")

    assert [m["body"] for m in fake.messages_to(STAFF)] == ["did it go?"]  # Twilio got it
    assert fake.requests[0]["status"] is None  # and is still holding its answer
    client.messages.create(to=STAFF, from_=HOTLINE, body="second")  # only the next one is held
    assert len(fake.messages_to(STAFF)) == 2


# --- status callbacks -----------------------------------------------------------------------


def test_status_callbacks_are_signed_and_in_order(fake, client, receiver):
    callback = receiver.url("/sms/status?district=jeffco")
    sid = client.messages.create(to=STAFF, from_=HOTLINE, body="hi", status_callback=callback).sid

    assert fake.wait_for(lambda: len(fake.callbacks) == 2)
    assert [c["params"]["MessageStatus"] for c in fake.callbacks] == ["sent", "delivered"]
    assert [c["status"] for c in fake.callbacks] == [200, 200]  # the receiver accepted the signatures
    assert all(hit["valid"] and hit["url"] == callback for hit in receiver.hits)
    first = receiver.hits[0]["form"]
    assert first == {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": fake.account_sid,
        "From": HOTLINE,
        "To": STAFF,
        "MessageStatus": "sent",
        "SmsStatus": "sent",
        "ApiVersion": "2010-04-01",
    }
    assert client.messages(sid).fetch().status == "delivered"


def test_set_delivery_failure_reports_the_error_code(fake, client, receiver):
    fake.set_delivery(PARENT, "undelivered", error_code=30003)
    sid = client.messages.create(to=PARENT, from_=HOTLINE, body="hi", status_callback=receiver.url("/status")).sid

    assert fake.wait_for(lambda: len(receiver.hits) == 2)
    final = receiver.hits[1]["form"]
    assert (final["MessageStatus"], final["ErrorCode"]) == ("undelivered", "30003")
    fetched = client.messages(sid).fetch()
    assert (fetched.status, fetched.error_code, fetched.error_message) == (
        "undelivered",
        30003,
        "Unreachable destination handset",
    )


def test_unreachable_callback_is_recorded_and_harmless(fake, client):
    dead = f"http://127.0.0.1:{free_port()}/status"
    client.messages.create(to=STAFF, from_=HOTLINE, body="hi", status_callback=dead)

    assert fake.wait_for(lambda: len(fake.callbacks) == 2)
    assert [c["status"] for c in fake.callbacks] == [None, None]
    assert fake.callbacks[0]["error"]
    client.messages.create(to=STAFF, from_=HOTLINE, body="still serving")


def test_manual_delivery_when_auto_status_is_off(receiver):
    with FakeTwilio(auto_status=False) as fake:
        client = make_client(fake)
        sid = client.messages.create(to=STAFF, from_=HOTLINE, body="hi", status_callback=receiver.url("/s")).sid
        assert not fake.wait_for(lambda: fake.callbacks, timeout=0.2)
        assert client.messages(sid).fetch().status == "queued"

        assert fake.deliver(sid, "failed", error_code=30007) == 200
        assert receiver.hits[0]["form"]["MessageStatus"] == "failed"
        assert receiver.hits[0]["form"]["ErrorCode"] == "30007"
        assert fake.messages[0]["status"] == "failed"


# --- calls ----------------------------------------------------------------------------------


def test_create_fetch_list_and_hang_up_a_call(fake, client, receiver):
    call = client.calls.create(
        to=STAFF,
        from_=HOTLINE,
        url="https://x.example/voice",
        status_callback=receiver.url("/call/status"),
        status_callback_event=["initiated", "completed"],
        timeout=20,
    )
    assert re.fullmatch(r"CA[0-9a-f]{32}", call.sid)
    assert (call.status, call.direction, call.to_formatted) == ("queued", "outbound-api", "(303) 555-0100")
    [recorded] = fake.wait_for_calls(STAFF)
    assert recorded["params"]["StatusCallbackEvent"] == ["initiated", "completed"]
    assert recorded["params"]["Timeout"] == "20"
    assert list(recorded)[:-1] == list(CALL_PROPERTIES)

    assert client.calls(call.sid).fetch().status == "queued"
    assert [c.sid for c in client.calls.list(to=STAFF, status="queued", limit=20)] == [call.sid]
    assert client.calls.list(to=PARENT) == []

    assert client.calls(call.sid).update(status="completed").status == "completed"
    assert fake.wait_for(lambda: len(receiver.hits) == 1)
    assert receiver.hits[0]["form"]["CallStatus"] == "completed" and receiver.hits[0]["valid"]


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"to": None, "from_": HOTLINE, "url": "https://x.example/v"}, 21201),
        ({"to": "555", "from_": HOTLINE, "url": "https://x.example/v"}, 21211),
        ({"to": STAFF, "from_": None, "url": "https://x.example/v"}, 21213),
        ({"to": STAFF, "from_": HOTLINE}, 21205),
    ],
)
def test_invalid_call_creates_get_twilio_errors(fake, client, kwargs, code):
    with pytest.raises(TwilioRestException) as caught:
        client.calls.create(**kwargs)
    assert (caught.value.status, caught.value.code) == (400, code)
    assert fake.calls == []


def test_answer_call_follows_the_gather_with_digits(fake, client):
    routes = {
        "/voice": lambda form: (
            '<?xml version="1.0" encoding="UTF-8"?><Response>'
            '<Gather action="gather?step=2" numDigits="1"><Say>Press 1 to confirm.</Say></Gather>'
            "</Response>"
        ),
        "/gather": lambda form: f"<Response><Say>You pressed {form['Digits']}.</Say></Response>",
    }
    with Receiver(fake.auth_token, routes) as app:
        call = client.calls.create(
            to=STAFF, from_=HOTLINE, url=app.url("/voice?district=jeffco"), status_callback=app.url("/status")
        )

        assert "<Gather" in fake.answer_call(call.sid)
        assert fake.answer_call(call.sid, digits="1") == "<Response><Say>You pressed 1.</Say></Response>"

        assert all(hit["valid"] for hit in app.hits)
        assert [hit["path"] for hit in app.hits] == ["/voice", "/voice", "/gather"]
        assert app.hits[2]["url"] == app.url("/gather?step=2")
        assert app.hits[2]["form"]["Digits"] == "1"
        assert {
            "CallSid": call.sid,
            "AccountSid": fake.account_sid,
            "From": HOTLINE,
            "To": STAFF,
            "CallStatus": "in-progress",
            "Direction": "outbound-api",
            "ApiVersion": "2010-04-01",
        }.items() <= app.hits[0]["form"].items()
        assert client.calls(call.sid).fetch().status == "in-progress"

        assert fake.complete_call(call.sid) == 200
        assert app.hits[-1]["form"]["CallStatus"] == "completed"
        assert fake.callbacks[-1]["kind"] == "call-status"
        assert client.calls(call.sid).fetch().status == "completed"


def test_get_webhooks_carry_their_params_in_the_signed_url(fake, client, receiver):
    call = client.calls.create(
        to=STAFF,
        from_=HOTLINE,
        url=receiver.url("/voice"),
        method="GET",
        status_callback=receiver.url("/status?district=jeffco"),
        status_callback_method="GET",
        status_callback_event=["answered", "completed"],
    )
    fake.answer_call(call.sid)
    assert fake.complete_call(call.sid) == 200

    assert [(hit["method"], hit["path"]) for hit in receiver.hits] == [
        ("GET", "/status"),  # "answered"
        ("GET", "/voice"),
        ("GET", "/status"),  # "completed"
    ]
    assert all(hit["valid"] and hit["form"] == {} for hit in receiver.hits)
    assert receiver.hits[0]["args"]["CallStatus"] == "in-progress"
    assert receiver.hits[2]["args"]["district"] == "jeffco"
    assert "," in receiver.hits[2]["args"]["Timestamp"]  # why the raw URL matters


def test_answer_call_with_inline_twiml_and_no_gather(fake, client):
    twiml = "<Response><Say>Drill over.</Say></Response>"
    sid = client.calls.create(to=STAFF, from_=HOTLINE, twiml=twiml).sid
    assert fake.answer_call(sid) == twiml
    with pytest.raises(AssertionError, match="no <Gather>"):
        fake.answer_call(sid, digits="1")
    assert fake.complete_call(sid, "no-answer") is None  # no StatusCallback to tell


# --- helpers and housekeeping ---------------------------------------------------------------


def test_wait_for_messages_says_what_did_arrive(fake, client):
    client.messages.create(to=PARENT, from_=HOTLINE, body="went to the parent instead")
    with pytest.raises(AssertionError) as caught:
        fake.wait_for_messages(STAFF, timeout=0.1)
    assert "expected 1 message(s) to " + STAFF in str(caught.value)
    assert "went to the parent instead" in str(caught.value)
    assert fake.wait_for_messages(PARENT)[0]["body"] == "went to the parent instead"
    assert fake.wait_for(lambda: 1 / 0, timeout=0.05) is False  # never raises


def test_concurrent_creates_are_all_recorded(fake, client):
    def send(n: int) -> str:
        return client.messages.create(to=STAFF, from_=HOTLINE, body=f"message {n}").sid

    with ThreadPoolExecutor(max_workers=10) as pool:
        sids = list(pool.map(send, range(40)))

    assert len(set(sids)) == 40
    assert sorted(m["sid"] for m in fake.wait_for_messages(STAFF, count=40)) == sorted(sids)


def test_reset_forgets_everything(fake, client):
    fake.fail_next(status=500, to=PARENT)
    client.messages.create(to=STAFF, from_=HOTLINE, body="hi")
    fake.reset()
    assert fake.messages == fake.requests == fake.callbacks == []
    client.messages.create(to=PARENT, from_=HOTLINE, body="the fault is gone too")
    assert len(fake.messages) == 1


# --- Recordings (issue 12: the recording line fetches what <Record> made) ------------------------

def test_a_recording_is_fetched_with_the_twilio_client_and_its_media_with_credentials(fake, client):
    made = fake.add_recording(b"\xff\xfb\x90\x64" + bytes(10), call_sid="CA" + "a" * 32, duration=4)
    assert re.fullmatch(r"RE[0-9a-f]{32}", made["sid"])
    assert made["url"] == f"{fake.base_url}/2010-04-01/Accounts/{fake.account_sid}/Recordings/{made['sid']}"
    recording = client.recordings(made["sid"]).fetch()
    assert (recording.sid, recording.call_sid, recording.duration, recording.status) == \
        (made["sid"], "CA" + "a" * 32, "4", "completed")
    assert recording.media_url == made["url"]
    media = requests.get(made["url"] + ".mp3", auth=(fake.account_sid, fake.auth_token), timeout=5)
    assert media.status_code == 200 and media.headers["Content-Type"] == "audio/mpeg"
    assert media.content == b"\xff\xfb\x90\x64" + bytes(10)
    assert requests.get(made["url"] + ".mp3", timeout=5).status_code == 401, "media needs the credentials"
    with pytest.raises(TwilioRestException) as missing:
        client.recordings("RE" + "0" * 32).fetch()
    assert missing.value.status == 404
    fake.reset()
    assert requests.get(made["url"] + ".mp3", auth=(fake.account_sid, fake.auth_token), timeout=5).status_code == 404


# --- IncomingPhoneNumbers (issue 15: `hotline twilio setup`) ---------------------------------


def test_incoming_numbers_list_filter_fetch_and_update(fake, client):
    staff = fake.add_number("+13035550100", sms_url="https://old.example/sms")
    fake.add_number("+13035550101")
    assert [n.phone_number for n in client.incoming_phone_numbers.list()] == ["+13035550100", "+13035550101"]
    assert [n.sid for n in client.incoming_phone_numbers.list(phone_number="+13035550100")] == [staff]
    assert [n.phone_number for n in client.incoming_phone_numbers.list(phone_number="555010*")] == \
        ["+13035550100", "+13035550101"], "partial numbers and '*' match as at Twilio"
    assert client.incoming_phone_numbers.list(phone_number="+16125550100") == []
    fetched = client.incoming_phone_numbers(staff).fetch()
    assert (fetched.sms_url, fetched.sms_method, fetched.capabilities["sms"]) == ("https://old.example/sms", "POST", True)
    updated = client.incoming_phone_numbers(staff).update(sms_url="https://new.example/sms", voice_method="get",
                                                          voice_fallback_url="https://new.example/voice")
    assert (updated.sms_url, updated.voice_method, updated.voice_fallback_url) == \
        ("https://new.example/sms", "GET", "https://new.example/voice")
    assert fake.incoming_numbers[0]["sms_url"] == "https://new.example/sms"


def test_incoming_number_updates_are_checked_like_twilio(fake, client):
    sid = fake.add_number("+13035550100")
    with pytest.raises(TwilioRestException) as bad_url:
        client.incoming_phone_numbers(sid).update(sms_url="not a url")
    assert bad_url.value.code == 11100
    with pytest.raises(TwilioRestException) as bad_mode:
        client.incoming_phone_numbers(sid).update(voice_receive_mode="pager")
    assert bad_mode.value.code == 70002
    response = requests.post(f"{fake.base_url}/2010-04-01/Accounts/{fake.account_sid}/IncomingPhoneNumbers/{sid}.json",
                             data={"SmsUrll": "https://x.example/sms"}, auth=(fake.account_sid, fake.auth_token),
                             timeout=5)
    assert response.status_code == 400 and "Did you mean 'SmsUrl'?" in response.json()["message"]
    with pytest.raises(TwilioRestException) as missing:
        client.incoming_phone_numbers("PN" + "0" * 32).fetch()
    assert missing.value.status == 404
