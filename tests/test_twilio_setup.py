"""`hotline twilio setup [--check]` against the local Twilio-compatible server (its
IncomingPhoneNumbers list, fetch and update), and `hotline twilio doctor` end to end: a test text
whose delivery callback reaches the running hotline, and a test call answered and completed."""

from __future__ import annotations

import threading

from click.testing import CliRunner

from conftest import ACCOUNT_SID, AUTH_TOKEN, FAMILY_LINE, STAFF_LINE, write_district
from hotline.cli import main

PUBLIC = "https://hotline.demo-usd.example.org"
OPERATOR = "+17205550177"


def env_for(monkeypatch, fake, district, public_url=PUBLIC, redis_url=None):
    for name, value in {"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                        "TWILIO_API_BASE_URL": fake.base_url, "HOTLINE_PUBLIC_URL": public_url,
                        "HOTLINE_DISTRICT": str(district), "HOTLINE_ENV": "test"}.items():
        monkeypatch.setenv(name, value)
    if redis_url:
        monkeypatch.setenv("REDIS_URL", redis_url)
    else:
        monkeypatch.delenv("REDIS_URL", raising=False)


def number_settings(fake, number):
    [found] = [n for n in fake.incoming_numbers if n["phone_number"] == number]
    return {name: found[name] for name in ("sms_url", "sms_method", "sms_fallback_url", "voice_url", "voice_method",
                                           "voice_fallback_url")}


def updates(fake):
    return [r for r in fake.requests if r["method"] == "POST" and "/IncomingPhoneNumbers/" in r["path"]]


def test_check_reports_what_differs_and_changes_nothing(fake_twilio, tmp_path, monkeypatch):
    fake_twilio.add_number(STAFF_LINE, sms_url="https://old-vendor.example/sms", voice_url=f"{PUBLIC}/voice")
    fake_twilio.add_number(FAMILY_LINE)
    fake_twilio.add_number("+13035550109")                     # another number of the account: left alone
    env_for(monkeypatch, fake_twilio, write_district(tmp_path))
    result = CliRunner().invoke(main, ["twilio", "setup", "--check"])
    assert result.exit_code == 1, result.output
    assert (f"demo Staff line {STAFF_LINE}: would change sms_url: https://old-vendor.example/sms -> {PUBLIC}/sms"
            in result.output)
    assert f"demo Family line {FAMILY_LINE}: would change voice_fallback_url: (not set) -> {PUBLIC}/voice" in result.output
    assert f"voice_url: {PUBLIC}/voice ->" not in result.output, "a right setting is not listed"
    assert "2 line(s): 7 setting(s) to change, 0 problem(s)" in result.output
    assert updates(fake_twilio) == []


def test_setup_points_every_line_at_the_hotline(fake_twilio, tmp_path, monkeypatch):
    fake_twilio.add_number(STAFF_LINE, sms_url="https://old-vendor.example/sms", sms_method="GET")
    fake_twilio.add_number(FAMILY_LINE)
    other = fake_twilio.add_number("+13035550109", sms_url="https://other.example/sms")
    env_for(monkeypatch, fake_twilio, write_district(tmp_path))
    result = CliRunner().invoke(main, ["twilio", "setup"])
    assert result.exit_code == 0, result.output
    assert "changing sms_method: GET -> POST" in result.output
    for line in (STAFF_LINE, FAMILY_LINE):
        assert number_settings(fake_twilio, line) == {
            "sms_url": f"{PUBLIC}/sms", "sms_method": "POST", "sms_fallback_url": f"{PUBLIC}/sms",
            "voice_url": f"{PUBLIC}/voice", "voice_method": "POST", "voice_fallback_url": f"{PUBLIC}/voice"}
    assert [n["sms_url"] for n in fake_twilio.incoming_numbers if n["sid"] == other] == ["https://other.example/sms"]
    again = CliRunner().invoke(main, ["twilio", "setup", "--check"])
    assert again.exit_code == 0, again.output
    assert f"demo Staff line {STAFF_LINE}: configured for the hotline" in again.output


def test_a_line_the_account_does_not_own_is_named(fake_twilio, tmp_path, monkeypatch):
    fake_twilio.add_number(STAFF_LINE)
    district = write_district(tmp_path)
    env_for(monkeypatch, fake_twilio, district)
    result = CliRunner().invoke(main, ["twilio", "setup"])
    assert result.exit_code == 1
    assert f"demo Family line {FAMILY_LINE}: is not a number of this Twilio account" in result.output
    assert str(district) in result.output
    assert number_settings(fake_twilio, STAFF_LINE)["sms_url"] == f"{PUBLIC}/sms", "the other line is still set up"


def test_setup_needs_the_account_and_the_public_url(tmp_path, monkeypatch):
    monkeypatch.delenv("TWILIO_ACCOUNT_SID", raising=False)
    monkeypatch.delenv("HOTLINE_PUBLIC_URL", raising=False)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    monkeypatch.setenv("HOTLINE_DISTRICT", str(write_district(tmp_path)))
    result = CliRunner().invoke(main, ["twilio", "setup", "--check"])
    assert result.exit_code == 2 and "Set TWILIO_ACCOUNT_SID, HOTLINE_PUBLIC_URL first" in result.output


def configured(fake, public_url):
    """The demo's two numbers in the account, pointing at ``public_url`` (as `setup` leaves them)."""
    for line in (STAFF_LINE, FAMILY_LINE):
        fake.add_number(line, sms_url=f"{public_url}/sms", sms_fallback_url=f"{public_url}/sms",
                        voice_url=f"{public_url}/voice", voice_fallback_url=f"{public_url}/voice")


def test_doctor_proves_texts_calls_and_callbacks(make_live_hotline, monkeypatch):
    live = make_live_hotline(worker=False)
    fake = live.fake
    configured(fake, live.settings.public_url)
    env_for(monkeypatch, fake, live.settings.district_path, live.settings.public_url, live.settings.redis_url)
    outcome = {}

    def run():
        outcome["result"] = CliRunner().invoke(main, ["twilio", "doctor", "(720) 555-0177", "--timeout", "20"])

    doctor = threading.Thread(target=run)
    doctor.start()
    [call] = fake.wait_for_calls(OPERATOR, timeout=20)
    fake.answer_call(call["sid"])                   # the operator picks up and hears the test...
    fake.complete_call(call["sid"])                 # ...and hangs up
    doctor.join(30)
    result = outcome["result"]
    assert result.exit_code == 0, result.output
    [text] = fake.messages_to(OPERATOR)
    assert text["from"] == STAFF_LINE and "Safe Haven Hotline test from +13035550100" in text["body"]
    assert "text: the hotline received Twilio's callback: delivered" in result.output
    assert "OK: delivered, and Twilio's callback reached the hotline." in result.output
    assert "call: the hotline received Twilio's callback: completed" in result.output
    assert f"Staff line {STAFF_LINE}: its webhooks point at {live.settings.public_url}." in result.output
    assert "All checks passed." in result.output
    assert "This is a test call from the Safe Haven Hotline" in call["params"]["Twiml"]
    assert live.services.incidents.list("demo") == [], "a probe is on no incident"


def test_doctor_says_when_no_callback_reaches_the_hotline(make_live_hotline, monkeypatch):
    live = make_live_hotline(worker=False)
    configured(live.fake, "http://127.0.0.1:9")
    # Twilio is told a public URL where nothing listens: the text goes out, its callback never arrives.
    env_for(monkeypatch, live.fake, live.settings.district_path, "http://127.0.0.1:9", live.settings.redis_url)
    result = CliRunner().invoke(main, ["twilio", "doctor", OPERATOR, "--timeout", "2", "--skip-call"])
    assert result.exit_code == 1
    assert "NOT PROVED: no callback reached the hotline within 2 s" in result.output
    assert "Some checks failed" in result.output


def test_doctor_says_when_the_line_is_not_set_up(make_live_hotline, monkeypatch):
    live = make_live_hotline(worker=False)
    live.fake.add_number(STAFF_LINE, sms_url="https://old-vendor.example/sms")
    env_for(monkeypatch, live.fake, live.settings.district_path, live.settings.public_url, live.settings.redis_url)
    result = CliRunner().invoke(main, ["twilio", "doctor", OPERATOR, "--timeout", "10", "--skip-call"])
    assert result.exit_code == 1
    assert f"NOT READY: {STAFF_LINE} does not send its webhooks to the hotline (sms_url, sms_fallback_url, " \
           "voice_url, voice_fallback_url): run `hotline twilio setup`" in result.output
    assert "OK: delivered" in result.output, "the rest is still tried and reported"
