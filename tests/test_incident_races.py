"""Two RQ worker processes and two web processes act on the same incidents at once: ACKs from two
contacts racing each other and the next tier's timer. Each incident ends with exactly one holder,
and nobody gets a notice twice (incidents/records.py's compare-and-set; ledger.py's send-once)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import BACKUP, LEGAL, STAFF_LINE, process_tree, kill_pids
from hotline.redis_server import free_port
from hotline.sim.phone import TwilioPhone, http_transport

INCIDENTS = 50
REPORTERS = [f"+1303555{2000 + i:04d}" for i in range(INCIDENTS)]
COUNSEL_2, COUNSEL_3 = "+13035550123", "+13035550124"
# Two pairs of legal contacts race for 25 incidents each (one number's 25 ACKs stay under the
# inbound limit of 30 texts a minute).
PAIRS = [(LEGAL, BACKUP), (COUNSEL_2, COUNSEL_3)]
RACE = {
    "roster": {number: {"name": f"Staff {i}", "role": "front desk", "school": "roosevelt"}
               for i, number in enumerate(REPORTERS)},
    "contacts": {"counsel_2": {"name": "Counsel Two", "number": COUNSEL_2, "role": "legal_backup"},
                 "counsel_3": {"name": "Counsel Three", "number": COUNSEL_3, "role": "legal_backup"}},
    "escalation": {"tiers": [
        {"notify": ["legal_office sms", "backup_counsel sms", "counsel_2 sms", "counsel_3 sms"], "wait": "2s"},
        {"notify": ["designee sms"], "wait": "2s"},
    ], "rounds": 1},
}


def start_web(live, port: int, log) -> subprocess.Popen:
    env = dict(os.environ)
    env.update({
        "REDIS_URL": live.settings.redis_url, "HOTLINE_DISTRICT": str(live.settings.district_path),
        "TWILIO_ACCOUNT_SID": live.fake.account_sid, "TWILIO_AUTH_TOKEN": live.fake.auth_token,
        "TWILIO_API_BASE_URL": live.fake.base_url, "HOTLINE_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "HOTLINE_ENV": "test", "HOTLINE_SECRET_KEY": "x" * 40, "HOTLINE_RETRY_INTERVALS": "0,0,0",
    })
    code = ("from werkzeug.serving import run_simple; from hotline.app import create_app; "
            f"run_simple('127.0.0.1', {port}, create_app(), threaded=True)")
    return subprocess.Popen([sys.executable, "-c", code], env=env, start_new_session=True, stdout=log,
                            stderr=subprocess.STDOUT)


def wait_up(phone: TwilioPhone, deadline: float) -> None:
    import requests

    while time.monotonic() < deadline:
        try:
            if requests.get(phone.base_url + "/healthz", timeout=1).status_code in (200, 503):
                return
        except requests.RequestException:
            time.sleep(0.1)
    raise AssertionError("the web process did not start")


@pytest.mark.slow
def test_two_workers_and_two_web_processes_leave_one_holder_and_no_duplicate_notice(make_live_hotline, tmp_path):
    live = make_live_hotline(RACE, worker=True)
    live.start_worker()                                               # two RQ worker processes
    webs, phones = [], []
    with open(tmp_path / "web.log", "wb") as log:
        for _ in range(2):
            port = free_port()
            webs.append(start_web(live, port, log))
            phones.append(TwilioPhone(f"http://127.0.0.1:{port}", live.fake.auth_token, http_transport(),
                                      live.fake.account_sid))
    try:
        for phone in phones:
            wait_up(phone, time.monotonic() + 20)
        for index, reporter in enumerate(REPORTERS):
            phones[index % 2].text(reporter, STAFF_LINE, "ICE")
        ids = [str(101 + i) for i in range(INCIDENTS)]
        assert live.fake.wait_for(lambda: len(live.fake.messages_to(BACKUP)) >= INCIDENTS, timeout=60)

        # Legal through one web process, backup counsel through the other, all at once, while the
        # workers run the next tier's timers.
        def race(incident_id: str) -> None:
            first, second = PAIRS[int(incident_id) % 2]
            with ThreadPoolExecutor(2) as pool:
                answers = [pool.submit(phones[0].text, first, STAFF_LINE, f"ACK {incident_id}"),
                           pool.submit(phones[1].text, second, STAFF_LINE, f"ACK {incident_id}")]
            replies = [answer.result()[0] for answer in answers]
            assert sum("You have incident" in reply for reply in replies) == 1, replies

        with ThreadPoolExecutor(10) as pool:
            list(pool.map(race, ids))
        time.sleep(5)                                                 # past the designee's tier and every notice
        assert live.fake.wait_for(lambda: live.services.queue.count == 0, timeout=30)
    finally:
        for web in webs:
            kill_pids(process_tree(web.pid))

    for incident_id in ids:
        record = live.services.incidents.get("demo", incident_id)
        assert record.status == "taken", (incident_id, record.status)
        assert record.acknowledged_by in ("legal_office", "backup_counsel", "counsel_2", "counsel_3")
        taken = [e for e in live.services.incidents.timeline("demo", incident_id) if e["kind"] == "taken"]
        assert len(taken) == 1, (incident_id, taken)
    # Nobody got the same text twice: each reporter one "has incident", each contact one escalation.
    sent = Counter((m["to"], m["body"]) for m in live.fake.messages)
    assert [pair for pair, count in sent.items() if count > 1] == []
    for index, reporter in enumerate(REPORTERS):
        holders = [b for b in (m["body"] for m in live.fake.messages_to(reporter)) if "has incident" in b]
        assert len(holders) == 1, (reporter, holders)
