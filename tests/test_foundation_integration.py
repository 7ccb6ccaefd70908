"""The foundation end to end: webhook -> Redis -> a real RQ worker in its own process -> the twilio
client -> the local Twilio-compatible server; the outbound module's typed results; health; and
`hotline serve` on a machine with no Redis installed."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest
import requests

from conftest import FRONT_DESK, LEGAL, SAFETY, STAFF_LINE, settings_for_tests
from hotline.outbound import Outbound
from hotline.redis_server import free_port
from hotline.store import connect


def test_a_job_enqueued_by_a_webhook_is_sent_by_a_real_worker(make_live_hotline):
    live = make_live_hotline()
    replies = live.text(FRONT_DESK, STAFF_LINE, "ICE")
    assert "Incident 101" in replies[0]
    legal = live.fake.wait_for_messages(LEGAL, timeout=20)
    safety = live.fake.wait_for_messages(SAFETY, timeout=20)
    assert legal[0]["from"] == STAFF_LINE and "incident 101" in legal[0]["body"]
    assert safety[0]["params"]["StatusCallback"] == f"{live.settings.public_url}/status"
    # The fake posts delivery callbacks to the live app, signed as Twilio signs them; they are accepted.
    assert live.fake.wait_for(lambda: any(c["status"] == 200 for c in live.fake.callbacks), timeout=10)


def _outbound(redis_url, fake, **changes) -> Outbound:
    settings = settings_for_tests(redis_url, write_district_path(), fake, **changes)
    return Outbound(settings, connect(redis_url))


def write_district_path():
    from hotline.content import demo_district

    return demo_district()


def test_outbound_results_are_typed(redis_url, fake_twilio):
    outbound = _outbound(redis_url, fake_twilio)
    sent = outbound.send_sms(STAFF_LINE, LEGAL, "hello")
    assert sent.ok and sent.sid.startswith("SM") and sent.status == "queued"

    fake_twilio.fail_next(status=429, code=20429)
    limited = outbound.send_sms(STAFF_LINE, LEGAL, "hello")
    assert not limited.ok and limited.retryable and limited.error_code == 20429

    fake_twilio.fail_next(status=500)
    assert outbound.send_sms(STAFF_LINE, LEGAL, "hello").retryable

    fake_twilio.fail_next(status=400, code=21610)
    opted_out = outbound.send_sms(STAFF_LINE, LEGAL, "hello")
    assert not opted_out.retryable and opted_out.opted_out

    fake_twilio.fail_next(status=400, code=21211)
    invalid = outbound.send_sms(STAFF_LINE, LEGAL, "hello")
    assert not invalid.retryable and invalid.error_code == 21211


def test_every_rest_call_has_a_timeout(redis_url, fake_twilio):
    outbound = _outbound(redis_url, fake_twilio, rest_timeout=0.3)
    fake_twilio.delay_next(1.5)
    started = time.monotonic()
    result = outbound.send_sms(STAFF_LINE, LEGAL, "hello")
    assert time.monotonic() - started < 1.2
    assert not result.ok and result.retryable


def test_without_credentials_messages_go_to_the_outbox(redis_url, fake_twilio):
    outbound = _outbound(redis_url, None)
    result = outbound.send_sms(STAFF_LINE, LEGAL, "hello")
    call = outbound.place_call(STAFF_LINE, SAFETY, "http://example.org/voice/escalation")
    assert result.ok and result.dry_run
    assert [(i["kind"], i["to"]) for i in outbound.outbox()] == [("sms", LEGAL), ("call", SAFETY)]
    assert fake_twilio.messages == [] and fake_twilio.calls == []
    assert call.ok


def test_outbox_command_lists_what_was_sent(make_hotline, monkeypatch):
    from click.testing import CliRunner

    from hotline.cli import main

    hotline = make_hotline(dry_run=True)
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    hotline.run_jobs()
    monkeypatch.setenv("REDIS_URL", hotline.settings.redis_url)
    monkeypatch.setenv("HOTLINE_DISTRICT", str(hotline.settings.district_path))
    output = CliRunner().invoke(main, ["outbox"]).output
    assert f"{STAFF_LINE} -> {LEGAL}" in output and "incident 101" in output


def test_healthz_needs_redis_and_a_worker(make_live_hotline):
    live = make_live_hotline(worker=False)
    response = requests.get(live.settings.public_url + "/healthz", timeout=5)
    assert response.status_code == 503 and response.json()["redis"] is True
    live.start_worker()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        response = requests.get(live.settings.public_url + "/healthz", timeout=5)
        if response.status_code == 200:
            break
        time.sleep(0.2)
    assert response.status_code == 200 and response.json()["workers"] >= 1


@pytest.mark.slow
def test_hotline_serve_starts_everything_and_stops_cleanly(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_URL", "TWILIO_", "HOTLINE_"))}
    env["HOTLINE_VAR_DIR"] = str(tmp_path / "var")
    process = subprocess.Popen([sys.executable, "-m", "hotline", "serve", "--port", str(port)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        status = None
        while time.monotonic() < deadline:
            try:
                status = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code
                if status == 200:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        assert status == 200, "hotline serve answered /healthz 200"
        token = (tmp_path / "var" / "dev-auth-token").read_text().strip()
        assert token, "serve made a local development token for the simulator"
        # First run: a district administrator (and, on the demo district, a legal account) to sign in with.
        browser = requests.Session()
        login = browser.get(f"http://127.0.0.1:{port}/admin/login", timeout=5).text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
        signed = browser.post(f"http://127.0.0.1:{port}/admin/login", timeout=10, allow_redirects=False, data={
            "csrf_token": csrf, "email": "legal@localhost",
            "password": (tmp_path / "var" / "legal-password").read_text().strip()})
        assert signed.status_code == 302 and signed.headers["Location"].endswith("/admin/"), signed.status_code
        assert (tmp_path / "var" / "admin-password").exists()
        assert (tmp_path / "var" / "redis" / "appendonly.aof").exists() or \
            (tmp_path / "var" / "redis" / "appendonlydir").exists()
        children = subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True, text=True).stdout.split()
        assert len(children) >= 2, "redis-server and the worker run as children of hotline serve"
        # A second terminal, as the README has it: no REDIS_URL, yet `hotline outbox` finds serve's Redis.
        script = tmp_path / "ice.txt"
        script.write_text("ICE\n/waitfor ICE AT SCHOOL\n")
        subprocess.run([sys.executable, "-m", "hotline", "sim", "--url", f"http://127.0.0.1:{port}", "--script",
                        str(script)], env=env, check=True, capture_output=True, timeout=60)
        outbox = subprocess.run([sys.executable, "-m", "hotline", "outbox"], env=env, capture_output=True, text=True,
                                timeout=30)
        assert outbox.returncode == 0, outbox.stderr
        assert "+13035550100 -> +13035550110: ICE AT SCHOOL" in outbox.stdout
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
        assert process.returncode == 0, output
        assert "Stopped." in output
        assert "admin@localhost (district administrator)" in output, "the banner says how to sign in"
        assert not (tmp_path / "var" / "serve-redis-url").exists(), "a stopped serve leaves no URL to find"
    finally:
        if process.poll() is None:
            process.kill()
    # Nothing is left listening or running.
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
    for pid in children:
        with pytest.raises(ProcessLookupError):
            os.kill(int(pid), 0)
