"""Privacy: logs carry no message bodies and no full phone numbers; family conversation state and
processed requests expire on the district's schedule; incidents stay until retention says not."""

from __future__ import annotations

import logging
import re
import time

from click.testing import CliRunner

from conftest import FAMILY_LINE, FRONT_DESK, LEGAL, PARENT, SAFETY, STAFF_LINE
from hotline.cli import main
from hotline.logs import configure_logging
from hotline.retention import purge
from hotline.sessions import sms_key

SECRET_WORDS = ["Zebulon Quartermaine", "badge 90210", "Marisol Etxeberria", "Tia Pomegranate",
                "asked where my son was born"]
NUMBERS_SEEN = [FRONT_DESK, LEGAL, SAFETY, PARENT, "+17205550177"]


def number_forms(e164: str) -> list[str]:
    digits = e164[2:]
    return [e164, digits, f"({digits[:3]}) {digits[3:6]}-{digits[6:]}", f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"]


def full_scenario(hotline) -> None:
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    hotline.text(FRONT_DESK, STAFF_LINE, "1")
    hotline.text(FRONT_DESK, STAFF_LINE, "Zebulon Quartermaine, badge 90210")
    hotline.text(FRONT_DESK, STAFF_LINE, "(720) 555-0177")
    hotline.run_jobs()
    hotline.text(LEGAL, STAFF_LINE, "ACK 101")
    hotline.text(FRONT_DESK, STAFF_LINE, "DONE")
    hotline.text(PARENT, FAMILY_LINE, "hello")
    for answer in ("2", "Marisol Etxeberria", "1", "1", "Tia Pomegranate", "aunt", "720 555 0177", "1", "1"):
        hotline.text(PARENT, FAMILY_LINE, answer)
    for answer in ("MENU", "3", "A teacher asked where my son was born", "2"):
        hotline.text(PARENT, FAMILY_LINE, answer)
    call = hotline.call(PARENT, FAMILY_LINE)
    hotline.phone.press(call, "1")
    hotline.run_jobs()


def assert_private(output: str) -> None:
    for words in SECRET_WORDS:
        assert words not in output, f"a message body reached the logs: {words!r}"
    for number in NUMBERS_SEEN:
        for form in number_forms(number):
            assert form not in output, f"a full phone number reached the logs: {form!r}"
    assert re.search(r"…\d{4}", output), "numbers appear masked to their last four digits"


def test_logs_of_a_full_scenario_hold_no_bodies_and_no_numbers(hotline, caplog):
    configure_logging("DEBUG")
    with caplog.at_level(logging.DEBUG):
        full_scenario(hotline)
    output = "\n".join(record.getMessage() for record in caplog.records
                       if not record.name.startswith("hotline.testing"))
    assert "sms in line" in output and "incident demo/101" in output, "the scenario was logged"
    assert_private(output)


def test_a_worker_process_logs_no_bodies_and_no_numbers(make_live_hotline):
    live = make_live_hotline()
    live.text(FRONT_DESK, STAFF_LINE, "ICE")
    live.text(FRONT_DESK, STAFF_LINE, "1")
    live.text(FRONT_DESK, STAFF_LINE, "Zebulon Quartermaine, badge 90210")
    live.fake.wait_for_messages(LEGAL, timeout=20)
    live.text(LEGAL, STAFF_LINE, "ACK")
    assert live.fake.wait_for(lambda: len(live.fake.messages_to(FRONT_DESK)) >= 1, timeout=20)
    time.sleep(0.5)
    output = live.worker_output()
    assert "outbound sms" in output
    assert_private(output)


def test_family_conversations_expire_on_the_districts_schedule(make_hotline):
    hotline = make_hotline({"retention": {"family_sessions": "2s"}})
    hotline.text(PARENT, FAMILY_LINE, "hello")
    hotline.text(PARENT, FAMILY_LINE, "2")
    hotline.text(PARENT, FAMILY_LINE, "Marisol Etxeberria")
    key = sms_key("demo", FAMILY_LINE, PARENT)
    assert 0 < hotline.services.redis.ttl(key) <= 2
    time.sleep(2.2)
    assert hotline.services.redis.get(key) is None, "the child's name is gone with the conversation"
    assert not any("Marisol" in (hotline.services.redis.get(k) or "") for k in hotline.services.redis.keys("hl:session:*"))


def test_staff_conversations_keep_their_flow_ttl(hotline):
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    ttl = hotline.services.redis.ttl(sms_key("demo", STAFF_LINE, FRONT_DESK))
    assert 11 * 3600 < ttl <= 12 * 3600


def processed_request(hotline) -> str:
    hotline.text(PARENT, FAMILY_LINE, "hello")
    for answer in ("2", "Marisol Etxeberria", "1", "1", "Tia Pomegranate", "aunt", "720 555 0177", "1", "1"):
        hotline.text(PARENT, FAMILY_LINE, answer)
    hotline.services.requests.mark_processed("demo", "1001", by="the office")
    return "1001"


def test_processed_requests_are_purged_after_retention(make_hotline):
    hotline = make_hotline({"retention": {"processed_requests": "30d"}})
    reference = processed_request(hotline)
    hotline.text(PARENT, FAMILY_LINE, "MENU")
    for answer in ("3", "1", "2", "A teacher asked where my son was born", "1"):
        hotline.text(PARENT, FAMILY_LINE, answer)            # a second request, not processed
    assert purge(hotline.services, now=time.time() + 29 * 86400) == {"demo": {"requests": 0, "incidents": 0, "audit": 0}}
    assert purge(hotline.services, now=time.time() + 31 * 86400) == {"demo": {"requests": 1, "incidents": 0, "audit": 0}}
    assert hotline.services.requests.get("demo", reference) is None
    assert [r.reference for r in hotline.services.requests.list("demo")] == ["1002"], "new requests stay"
    store = hotline.services.redis
    holding = [k for k in store.keys("hl:*") if store.type(k) == "string" and "Etxeberria" in store.get(k)]
    # Only the few-minute cache of replies (for a webhook Twilio retries) may still hold the name.
    assert all(k.startswith("hl:reply:") and 0 < store.ttl(k) <= 300 for k in holding), holding


def test_hotline_purge_command(make_hotline, monkeypatch):
    hotline = make_hotline({"retention": {"processed_requests": "1s"}})
    processed_request(hotline)
    time.sleep(1.1)
    monkeypatch.setenv("REDIS_URL", hotline.settings.redis_url)
    monkeypatch.setenv("HOTLINE_DISTRICT", str(hotline.settings.district_path))
    output = CliRunner().invoke(main, ["purge"]).output
    assert "demo: deleted 1 processed requests, 0 incidents" in output


def test_incidents_are_kept_unless_retention_says_otherwise(make_hotline):
    keep = make_hotline()
    keep.text(FRONT_DESK, STAFF_LINE, "ICE")
    keep.text(FRONT_DESK, STAFF_LINE, "DONE")
    assert purge(keep.services, now=time.time() + 3650 * 86400)["demo"]["incidents"] == 0
    assert keep.services.incidents.get("demo", "101") is not None


def test_closed_incidents_older_than_retention_are_deleted(make_hotline):
    hotline = make_hotline({"retention": {"incidents": "365d"}})
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    hotline.run_jobs()
    hotline.text("+13035550110", STAFF_LINE, "CLOSE 101")      # the legal office closes it
    hotline.text("+13035550122", STAFF_LINE, "ICE")            # still open: kept whatever its age
    assert purge(hotline.services, now=time.time() + 366 * 86400)["demo"]["incidents"] == 1
    assert hotline.services.incidents.get("demo", "101") is None
    assert hotline.services.incidents.timeline("demo", "101") == []
    assert hotline.services.incidents.get("demo", "102") is not None
