"""Twilio request security: signatures are always checked, a forged request changes nothing, and a
request Twilio sends twice has one effect."""

from __future__ import annotations

import time

import pytest

from conftest import AUTH_TOKEN, FRONT_DESK, PUBLIC_URL, STAFF_LINE, settings_for_tests, write_district
from hotline.app import create_app
from hotline.problems import ConfigError
from hotline.sim import twiml
from hotline.store import connect
from hotline.testing.signing import signed_headers


def snapshot(redis_url: str) -> dict:
    store = connect(redis_url)
    return {key: store.dump(key) for key in store.keys("*")}


def form(body: str = "ICE", sid: str = "SM" + "a" * 32) -> dict:
    return {"MessageSid": sid, "AccountSid": "AC" + "1" * 32, "From": FRONT_DESK, "To": STAFF_LINE, "Body": body,
            "NumMedia": "0"}


def test_signed_sms_gets_twiml(hotline):
    replies = hotline.text(FRONT_DESK, STAFF_LINE, "hello")
    assert len(replies) == 1 and "Text ICE" in replies[0]


@pytest.mark.parametrize("headers", [
    {},                                                                     # no signature
    {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"},                          # garbage
    signed_headers("another-token", PUBLIC_URL + "/sms", form()),           # wrong token
    signed_headers(AUTH_TOKEN, PUBLIC_URL + "/voice", form()),              # signed for another URL
    signed_headers(AUTH_TOKEN, PUBLIC_URL + "/sms", form(body="hello")),     # body changed after signing
    signed_headers(AUTH_TOKEN, PUBLIC_URL.replace("http:", "https:") + "/sms", form()),   # https vs http
], ids=["unsigned", "garbage", "wrong-token", "other-url", "tampered", "scheme"])
def test_forged_requests_get_403_and_change_nothing(hotline, redis_url, headers):
    client = hotline.app.test_client()
    before = snapshot(redis_url)
    response = client.post("/sms", data=form(), headers=headers, base_url=PUBLIC_URL)
    assert response.status_code == 403
    assert snapshot(redis_url) == before
    assert hotline.services.queue.count == 0


@pytest.mark.parametrize("path", ["/voice", "/voice/step?seq=1", "/status", "/voice/escalation", "/voice/whisper"])
def test_every_twilio_endpoint_refuses_unsigned_requests(hotline, redis_url, path):
    before = snapshot(redis_url)
    response = hotline.app.test_client().post(path, data={"CallSid": "CA" + "b" * 32, "To": STAFF_LINE},
                                              base_url=PUBLIC_URL)
    assert response.status_code == 403
    assert snapshot(redis_url) == before


def test_the_same_message_sid_twice_has_one_effect(hotline):
    sid = "SM" + "c" * 32
    first = hotline.text(FRONT_DESK, STAFF_LINE, "ICE", sid=sid)
    jobs_after_first = hotline.services.queue.count
    second = hotline.text(FRONT_DESK, STAFF_LINE, "ICE", sid=sid)
    assert second == first, "a retried webhook gets the same answer"
    assert hotline.services.queue.count == jobs_after_first
    assert len(hotline.services.incidents.list("demo")) == 1


def test_a_replay_after_the_answer_expired_has_no_second_effect(hotline):
    """A captured signed request replayed days later (the answer is kept 5 minutes, the MessageSid
    a week) changes nothing and answers nothing."""
    sid = "SM" + "e" * 32
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE", sid=sid)
    assert len(hotline.services.incidents.list("demo")) == 1
    hotline.services.redis.delete(f"hl:reply:sms:{sid}")             # REPLY_CACHE_TTL went by
    sessions_before = hotline.services.redis.get(f"hl:session:demo:sms:{STAFF_LINE}:{FRONT_DESK}")
    jobs_before = hotline.services.queue.count
    started = time.monotonic()
    assert hotline.text(FRONT_DESK, STAFF_LINE, "ICE", sid=sid) == []
    assert time.monotonic() - started < 2, "an answered request is not waited for"
    assert hotline.services.queue.count == jobs_before
    assert hotline.services.redis.get(f"hl:session:demo:sms:{STAFF_LINE}:{FRONT_DESK}") == sessions_before
    assert len(hotline.services.incidents.list("demo")) == 1


def test_a_repeat_of_a_text_whose_first_attempt_died_is_answered_not_swallowed(hotline):
    """The web process marked the MessageSid seen and died before answering; Twilio calls the
    fallback URL with the same MessageSid. The front desk must still get the protocol."""
    sid = "SM" + "d" * 32
    hotline.services.redis.set(f"hl:seen:sms:{sid}", "pending")      # what the dead attempt left
    started = time.monotonic()
    reply = "\n".join(hotline.text(FRONT_DESK, STAFF_LINE, "ICE", sid=sid))
    assert "ICE AT SCHOOL:" in reply and "Incident 101" in reply
    assert time.monotonic() - started < 10
    assert len(hotline.services.incidents.list("demo")) == 1
    again = "\n".join(hotline.text(FRONT_DESK, STAFF_LINE, "ICE", sid=sid))
    assert again == reply, "this answer is remembered for later repeats"


def test_the_same_call_step_twice_has_one_effect(hotline):
    call = hotline.call(FRONT_DESK, STAFF_LINE)
    again = hotline.phone.post("/voice", {"CallSid": call.sid, "From": FRONT_DESK, "To": STAFF_LINE,
                                          "AccountSid": "AC" + "1" * 32, "CallStatus": "ringing"})
    assert twiml.voice_turn(again.text) == call.turn
    action = call.turn.gather["action"]
    call = hotline.phone.press(call, "1")                     # officers at the school: the incident starts
    form = {"CallSid": call.sid, "From": FRONT_DESK, "To": STAFF_LINE, "AccountSid": "AC" + "1" * 32,
            "CallStatus": "in-progress", "Digits": "1"}
    repeated = hotline.phone.post(twiml.resolve(hotline.phone.base_url + "/voice", action), form)
    assert twiml.voice_turn(repeated.text) == call.turn
    assert len(hotline.services.incidents.list("demo")) == 1


def test_no_auth_token_no_app(redis_url, tmp_path):
    settings = settings_for_tests(redis_url, write_district(tmp_path), None, twilio_auth_token=None)
    with pytest.raises(ConfigError) as raised:
        create_app(settings)
    assert any(p.key == "TWILIO_AUTH_TOKEN" for p in raised.value.problems)


def test_production_with_a_twilio_account_needs_the_public_url(redis_url, tmp_path, fake_twilio):
    settings = settings_for_tests(redis_url, write_district(tmp_path), fake_twilio, public_url=None,
                                  environment="production")
    with pytest.raises(ConfigError) as raised:
        create_app(settings)
    assert [p.key for p in raised.value.problems] == ["HOTLINE_PUBLIC_URL"]


def test_forwarded_headers_are_ignored_unless_proxies_are_trusted(make_hotline):
    """Behind a proxy Twilio signs https://public-host/sms; the app sees http://internal/sms."""
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "hotline.example.org"}
    body = form(sid="SM" + "d" * 32)
    headers = {**signed_headers(AUTH_TOKEN, "https://hotline.example.org/sms", body), **forwarded}

    untrusted = make_hotline(public_url=None)
    response = untrusted.app.test_client().post("/sms", data=body, headers=headers, base_url="http://internal:8000")
    assert response.status_code == 403

    trusted = make_hotline(public_url=None, trusted_proxies=1)
    response = trusted.app.test_client().post("/sms", data=body, headers=headers, base_url="http://internal:8000")
    assert response.status_code == 200


def test_oversized_requests_are_refused(hotline):
    body = form(body="x" * 100_000)
    headers = signed_headers(AUTH_TOKEN, PUBLIC_URL + "/sms", body)
    response = hotline.app.test_client().post("/sms", data=body, headers=headers, base_url=PUBLIC_URL)
    assert response.status_code == 413



def test_without_redis_configured_healthz_reports_instead_of_failing(redis_url, tmp_path):
    app = create_app(settings_for_tests("", write_district(tmp_path), None))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.get_json()["redis"] is False
