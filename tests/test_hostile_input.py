"""Hostile input on every webhook: random and oversized fields, every Unicode plane, RTL and control
characters, emoji, empty bodies, missing parameters, thousands of media URLs. Never a 5xx, never a
stack trace to the caller; always valid TwiML or a 4xx. Plus per-number rate limits."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import AUTH_TOKEN, FAMILY_LINE, FRONT_DESK, PARENT, PUBLIC_URL, STAFF_LINE
from hotline.sim import twiml
from hotline.testing.signing import signed_headers

ENDPOINTS = ["/sms", "/voice", "/voice/step?seq=1", "/voice/step?seq=2&silence=1", "/status",
             "/voice/whisper?lang=so", "/voice/escalation?district=demo&incident=101&contact=legal_office",
             "/voice/escalation/answer?district=demo&incident=101&contact=legal_office"]
KNOWN_FIELDS = ["Body", "From", "To", "MessageSid", "CallSid", "NumMedia", "MediaUrl0", "Digits", "SpeechResult",
                "RecordingUrl", "DialCallStatus", "MessageStatus", "CallStatus", "ErrorCode", "AccountSid"]

nasty_text = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8"), max_size=300),           # every plane, controls included
    st.sampled_from(["", " ", "\u202eICE\u202c", "\u200f1\u200e", "ICE\x00", "😀" * 200, "ＩＣＥ", "ı̇ce",
                     "%s%s%n", "{incident}", "<Response>", "&amp;", "+1" + "9" * 40, "１２３", "\ud7ff"]),
    st.text(max_size=20).map(lambda t: t * 200),                            # long (up to ~4 KB)
)
numbers = st.one_of(st.sampled_from([FRONT_DESK, STAFF_LINE, FAMILY_LINE, PARENT, "", "anonymous", "+0", "client:x"]),
                    nasty_text)


@st.composite
def webhook_forms(draw):
    form = {}
    for field in draw(st.lists(st.sampled_from(KNOWN_FIELDS), unique=True)):
        form[field] = draw(numbers if field in ("From", "To") else nasty_text)
    if draw(st.booleans()):
        form["To"] = draw(st.sampled_from([STAFF_LINE, FAMILY_LINE]))
    for _ in range(draw(st.integers(0, 3))):
        form[draw(st.text(min_size=1, max_size=12))] = draw(nasty_text)
    return form


def assert_safe_answer(response) -> None:
    assert response.status_code < 500, response.get_data(as_text=True)[:300]
    body = response.get_data(as_text=True)
    assert "Traceback" not in body and "File \"" not in body
    if response.status_code == 200 and response.mimetype == "application/xml":
        twiml.parse(body)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(path=st.sampled_from(ENDPOINTS), form=webhook_forms())
def test_signed_hostile_requests_never_break_a_webhook(hotline, path, form):
    headers = signed_headers(AUTH_TOKEN, PUBLIC_URL + path, form)
    response = hotline.app.test_client().post(path, data=form, headers=headers, base_url=PUBLIC_URL)
    assert_safe_answer(response)
    if path.startswith(("/sms", "/voice")) and response.status_code == 200:
        assert response.mimetype == "application/xml"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(ENDPOINTS), form=webhook_forms())
def test_unsigned_hostile_requests_are_refused(hotline, path, form):
    response = hotline.app.test_client().post(path, data=form, base_url=PUBLIC_URL)
    assert response.status_code == 403


@pytest.mark.parametrize("path", ["/sms", "/voice", "/voice/step?seq=1", "/status"])
def test_an_empty_signed_body_gets_twiml(hotline, path):
    response = hotline.app.test_client().post(path, headers=signed_headers(AUTH_TOKEN, PUBLIC_URL + path, {}),
                                              base_url=PUBLIC_URL)
    assert response.status_code == 200
    twiml.parse(response.get_data(as_text=True))


def test_hundreds_of_media_urls_are_capped_at_twilios_ten(hotline):
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    for answer in ("Agent Smith 4471", "1", "0", "A visit", "1"):     # up to "send photos of the warrant"
        hotline.text(FRONT_DESK, STAFF_LINE, answer)
    form = hotline.phone.text_form(FRONT_DESK, STAFF_LINE, "", media=tuple(f"https://api.twilio.com/m/{i}"
                                                                               for i in range(600)))
    answer = hotline.phone.post("/sms", form)
    assert answer.status == 200 and "say it is an emergency" in answer.text
    photos = hotline.services.incidents.get("demo", "101").details["document_photos"]
    assert photos == [f"https://api.twilio.com/m/{i}" for i in range(10)]


def test_thousands_of_media_urls_are_too_large(hotline):
    form = hotline.phone.text_form(FRONT_DESK, STAFF_LINE, "ICE")
    form.update({f"MediaUrl{i}": f"https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM/Media/ME{i:030d}"
                 for i in range(5000)})
    response = hotline.app.test_client().post("/sms", data=form, headers=signed_headers(AUTH_TOKEN, PUBLIC_URL + "/sms",
                                              form), base_url=PUBLIC_URL)
    assert response.status_code == 413
    assert hotline.services.incidents.list("demo") == []


def test_inbound_texts_are_rate_limited_per_number(hotline):
    for _ in range(30):
        assert hotline.text(PARENT, FAMILY_LINE, "1")
    limited = hotline.text(PARENT, FAMILY_LINE, "1")
    assert limited and "Too many messages from this number" in limited[0]
    assert hotline.text(PARENT, FAMILY_LINE, "1") == [], "told once per window, then quiet"
    assert hotline.text(FRONT_DESK, STAFF_LINE, "hello"), "other numbers are not affected"


def test_a_text_to_an_unknown_line_gets_a_clear_answer(hotline):
    assert "not set up yet" in hotline.text(PARENT, "+13035550177", "hello")[0]
