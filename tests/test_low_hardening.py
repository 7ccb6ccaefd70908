"""Issue 13, the low items: control characters, media links, weak secrets, cancelled answers, the
dedupe window, HSTS and a per-number limit on calls."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from conftest import FAMILY_LINE, PARENT, STAFF_LINE, FRONT_DESK, settings_for_tests, write_district
from hotline.app import create_app
from hotline.channels.voice import CALL_LIMIT
from hotline.cli import main
from hotline.problems import ConfigError
from hotline.sessions import sms_key
from hotline.settings import settings_from_env
from hotline.store import key
from test_admin import PASSWORD_HASH, page, sign_in

CONTROLS = "\x00\x01\x07\x08\x0b\x0c\x1b\x7f\x85\x9f"


def raw_text(hotline, sender: str, line: str, body: str) -> str:
    answer = hotline.phone.post("/sms", hotline.phone.text_form(sender, line, body))
    assert answer.status == 200
    return answer.text


def to_review(hotline, name: str) -> str:
    hotline.text(PARENT, FAMILY_LINE, "hello")
    hotline.text(PARENT, FAMILY_LINE, "2")
    raw_text(hotline, PARENT, FAMILY_LINE, name)
    hotline.text(PARENT, FAMILY_LINE, "1")                   # Lincoln Elementary
    hotline.text(PARENT, FAMILY_LINE, "1")                   # add a contact
    raw_text(hotline, PARENT, FAMILY_LINE, f"Rosa{CONTROLS} Diaz")
    raw_text(hotline, PARENT, FAMILY_LINE, f"aunt{CONTROLS}")
    hotline.text(PARENT, FAMILY_LINE, "720 555 0177")
    return raw_text(hotline, PARENT, FAMILY_LINE, "1")


def test_control_characters_never_reach_twiml(hotline):
    review = to_review(hotline, f"Ana{CONTROLS} Lopez")
    ET.fromstring(review)                                   # well-formed XML
    assert not any(ch in review for ch in CONTROLS), repr(review)
    assert "Ana" in review and "Rosa" in review and "(720) 555-0177" in review


def test_a_cancelled_update_forgets_the_answers_at_once(hotline):
    to_review(hotline, "Ana Lopez")
    cancelled = hotline.text(PARENT, FAMILY_LINE, "3")
    assert cancelled
    state = hotline.services.sessions.load(sms_key("demo", FAMILY_LINE, PARENT))
    assert state["answers"] == {}, state["answers"]
    assert hotline.services.requests.list("demo") == []


def test_only_twilio_media_become_links(make_hotline):
    hotline = make_hotline(admin_password_hash=PASSWORD_HASH)
    hotline.text(PARENT, FAMILY_LINE, "hello")
    for answer in ("3", "1", "2"):                 # a concern, about Lincoln, for the civil rights office
        hotline.text(PARENT, FAMILY_LINE, answer)
    hotline.text(PARENT, FAMILY_LINE, "https://evil.example/recording.mp3")
    hotline.text(PARENT, FAMILY_LINE, "1")
    call = hotline.call(PARENT, FAMILY_LINE)
    call = hotline.phone.press(call, "1")          # English
    for digit in ("3", "1", "2"):                  # a concern, about Lincoln, for the civil rights office
        call = hotline.phone.press(call, digit)
    recording = "https://api.twilio.com/2010-04-01/Accounts/AC" + "1" * 32 + "/Recordings/RE" + "2" * 32
    call = hotline.phone.record(call, recording)
    hotline.phone.press(call, "2")
    client = hotline.app.test_client()
    assert sign_in(client).status_code == 302
    text = page(client, "/admin/requests")
    assert 'href="https://evil.example' not in text and "https://evil.example/recording.mp3" in text
    assert f'href="{recording}"' in text and ">recording</a>" in text


def production(**env) -> dict:
    return {"TWILIO_AUTH_TOKEN": "t" * 32, "HOTLINE_SECRET_KEY": "s" * 64, **env}


def test_production_refuses_a_short_admin_password():
    with pytest.raises(ConfigError) as refused:
        settings_from_env(production(HOTLINE_ADMIN_PASSWORD="x"))
    text = str(refused.value)
    assert "HOTLINE_ADMIN_PASSWORD" in text and "12" in text and "hotline admin hash-password" in text
    assert settings_from_env(production(HOTLINE_ADMIN_PASSWORD="twelve chars")).admin_password_hash
    assert settings_from_env(production(HOTLINE_ENV="development", HOTLINE_ADMIN_PASSWORD="x")).admin_password_hash


def test_production_refuses_a_short_secret_key(redis_url, tmp_path):
    settings = settings_for_tests(redis_url, write_district(tmp_path), None, environment="production",
                                  secret_key="a")
    with pytest.raises(ConfigError) as refused:
        create_app(settings)
    assert "HOTLINE_SECRET_KEY" in str(refused.value) and "token_hex(32)" in str(refused.value)
    create_app(settings.replace(secret_key="k" * 32))


def test_hash_password_refuses_a_short_one():
    result = CliRunner().invoke(main, ["admin", "hash-password"], input="short\nshort\n")
    assert result.exit_code == 2 and "at least 12" in result.output


def test_a_request_is_recognised_as_a_replay_for_a_week(hotline):
    form = hotline.phone.text_form(FRONT_DESK, STAFF_LINE, "STATUS")
    hotline.phone.post("/sms", form)
    ttl = hotline.services.redis.ttl(key("seen", "sms", form["MessageSid"]))
    assert ttl > 6 * 86400


@pytest.mark.parametrize("public_url, hsts", [("https://hotline.example.org", True), ("http://127.0.0.1:9", False)])
def test_hsts_when_served_over_https(make_hotline, public_url, hsts):
    hotline = make_hotline(public_url=public_url)
    response = hotline.app.test_client().get("/admin/login")
    assert ("Strict-Transport-Security" in response.headers) == hsts
    if hsts:
        assert "max-age=31536000" in response.headers["Strict-Transport-Security"]


def test_a_number_that_keeps_calling_is_turned_away(hotline):
    for _ in range(CALL_LIMIT):
        assert "Too many calls" not in hotline.call(PARENT, FAMILY_LINE).turn.said
    turned_away = hotline.call(PARENT, FAMILY_LINE).turn
    assert "Too many calls from this number" in turned_away.said and turned_away.hangup
    assert not turned_away.gather
    other = hotline.call(FRONT_DESK, STAFF_LINE).turn          # another number is not affected
    assert "Too many calls" not in other.said
