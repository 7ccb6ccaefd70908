"""Faults: workers killed mid-send, Redis stopped, Twilio failing in every way it fails, the
scheduler's worker dying, escalations that stall. Real Redis, real forked RQ workers, the local
Twilio-compatible server."""

from __future__ import annotations

import re
import time

import pytest
from rq.registry import ScheduledJobRegistry

from conftest import BACKUP, FRONT_DESK, LEGAL, ROOSEVELT_DESK, SAFETY, STAFF_LINE, kill_tree
from hotline.incidents import ledger
from hotline.incidents.contacts import delivery_field, ledger_key
from hotline.incidents.escalation import snapshot_policy
from hotline.redis_server import EmbeddedRedis
from hotline.sim import twiml

pytestmark = pytest.mark.slow


def timeline(hotline, incident_id="101") -> str:
    return "\n".join(e["text"] for e in hotline.services.incidents.timeline("demo", incident_id))


def escalations_to(fake, number: str) -> dict[str, int]:
    """How many escalation texts each incident sent to ``number``."""
    counts: dict[str, int] = {}
    for message in fake.messages_to(number):
        found = re.search(r"ICE AT SCHOOL - incident (\d+)", message["body"])
        if found:
            counts[found.group(1)] = counts.get(found.group(1), 0) + 1
    return counts


# --- Workers killed with SIGKILL ----------------------------------------------------------------

REPORTERS = [f"+1720555{n:04d}" for n in range(200, 220)]
ONE_TIER = {
    "roster": {number: {"name": f"Staff {i}", "role": "front desk", "school": "roosevelt"}
               for i, number in enumerate(REPORTERS)},
    "escalation": {"tiers": [{"notify": ["legal_office sms", "safety sms"], "wait": "10m"}], "rounds": 1},
}


def test_workers_killed_mid_send_20_times_reach_everyone_exactly_once(make_live_hotline):
    live = make_live_hotline(ONE_TIER, worker=False, retry_intervals=(1, 1, 1, 1, 1, 1, 1, 1), reconcile_interval=2)
    fake = live.fake
    fake.delay_next(0.5, count=10_000, resource="messages")     # every send is slow: kills land mid-send
    for number in REPORTERS:
        assert "Incident" in live.text(number, STAFF_LINE, "ICE")[0]
    kills, in_flight_kills = 0, 0
    while kills < 20:
        worker = live.start_worker()
        mid_send = fake.wait_for(lambda: any(r["status"] is None and r["path"].endswith("/Messages.json")
                                             for r in fake.requests), timeout=20)
        in_flight_kills += mid_send
        kill_tree(worker.pid)                                  # the worker, its work horse and its scheduler
        worker.wait()
        kills += 1
    assert in_flight_kills == 20, "every kill interrupted a request Twilio had received"
    live.start_worker()
    restarted = time.monotonic()
    expected = {str(101 + i): 1 for i in range(len(REPORTERS))}
    everyone = lambda: all(  # noqa: E731
        "texted Office of Legal Counsel" in timeline(live, i) and "texted Department of Safety" in timeline(live, i)
        for i in expected)
    assert fake.wait_for(everyone, timeout=90), (escalations_to(fake, LEGAL), escalations_to(fake, SAFETY))
    print(f"every interrupted notification finished {time.monotonic() - restarted:.1f}s after the last restart")
    time.sleep(6)   # past the heartbeat grace and a maintenance pass: no late duplicate
    assert escalations_to(fake, LEGAL) == expected and escalations_to(fake, SAFETY) == expected
    recovered = sum("first attempt had got through" in timeline(live, str(101 + i)) for i in range(len(REPORTERS)))
    assert recovered >= 1, "some sends were found at Twilio instead of being sent again"


# --- Redis stopped ------------------------------------------------------------------------------

def test_redis_stopped_then_back(tmp_path, make_hotline):
    server = EmbeddedRedis(tmp_path / "redis")
    url = server.start()
    hotline = make_hotline(redis_url=url)
    hotline.text(ROOSEVELT_DESK, STAFF_LINE, "hello")           # connections made and pooled
    server.kill()
    started = time.monotonic()
    answer = hotline.phone.post("/sms", hotline.phone.text_form(FRONT_DESK, STAFF_LINE, "ICE"))
    elapsed = time.monotonic() - started
    assert answer.status == 200 and elapsed < 1.0, f"answered {answer.status} in {elapsed:.2f}s"
    reply = "\n".join(twiml.messages(answer.text))
    assert "ICE AT SCHOOL:" in reply and "AUTOMATIC NOTIFICATION FAILED" in reply
    call = hotline.call(FRONT_DESK, STAFF_LINE)
    assert "FAILED" in call.turn.said and call.turn.dial, "a call still speaks and connects to legal"

    restarted = EmbeddedRedis(tmp_path / "redis", port=server.port)   # back, same data folder, no app restart
    restarted.start()
    try:
        reply = "\n".join(hotline.text(ROOSEVELT_DESK, STAFF_LINE, "ICE"))
        assert "FAILED" not in reply and "Incident 101: the hotline is alerting them too" in reply
        hotline.run_jobs()
        assert escalations_to(hotline.fake, LEGAL) == {"101": 1}
    finally:
        restarted.stop()


# --- Twilio failing -----------------------------------------------------------------------------

def test_a_500_is_retried(hotline):
    hotline.fake.fail_next(status=500, to=LEGAL)
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    assert hotline.run_jobs(until=lambda: escalations_to(hotline.fake, LEGAL) == {"101": 1})
    assert "Office of Legal Counsel (sms):" in timeline(hotline) and "trying again" in timeline(hotline)
    assert not hotline.fake.calls_to(LEGAL)


def test_429s_are_retried_with_backoff(make_hotline):
    hotline = make_hotline(retry_intervals=(1, 2, 4))
    hotline.fake.fail_next(2, status=429, code=20429, to=LEGAL)
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    assert hotline.run_jobs(until=lambda: escalations_to(hotline.fake, LEGAL) == {"101": 1}, timeout=20)
    attempts = [r for r in hotline.fake.requests if r["path"].endswith("Messages.json") and r["params"].get("To") == LEGAL]
    assert [r["status"] for r in attempts] == [429, 429, 201]
    # Backoff of 1 s then 2 s; RQ schedules retries in whole seconds (each may come up to 1 s early).
    assert attempts[2]["time"] - attempts[0]["time"] >= 3 - 2, "the retries waited"


def test_a_timeout_is_retried_without_sending_twice(make_hotline):
    hotline = make_hotline(rest_timeout=0.5)
    hotline.fake.delay_next(1.5, to=LEGAL)                      # Twilio got it; the answer came too late
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    assert hotline.run_jobs(until=lambda: "first attempt had got through" in timeline(hotline), timeout=15)
    time.sleep(1.2)
    hotline.run_jobs()
    assert escalations_to(hotline.fake, LEGAL) == {"101": 1}


def test_retries_used_up_call_instead(hotline):
    hotline.fake.fail_next(4, status=503, to=LEGAL)              # the first try and all three retries
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    assert hotline.run_jobs(until=lambda: hotline.fake.calls_to(LEGAL))
    assert "calling Office of Legal Counsel instead" in timeline(hotline)


def test_an_invalid_number_moves_to_the_next_tier_at_once(hotline):
    hotline.fake.fail_next(status=400, code=21211, to=LEGAL)
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    assert hotline.run_jobs(until=lambda: hotline.fake.messages_to(BACKUP), timeout=10), \
        "tier 2 (backup counsel) without waiting the 3 minutes"
    assert "Office of Legal Counsel unreachable: next tier now" in timeline(hotline)


def test_every_contact_failing_tells_the_reporter(make_hotline):
    hotline = make_hotline({"escalation": {"tiers": [{"notify": ["legal_office sms", "safety sms"]}], "rounds": 1}})
    hotline.fake.fail_next(status=400, code=21211, to=LEGAL)
    hotline.fake.fail_next(status=400, code=21211, to=SAFETY)
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    assert hotline.run_jobs(until=lambda: any("could not be delivered to anyone" in m["body"]
                                              for m in hotline.fake.messages_to(FRONT_DESK)))


# --- The scheduler's worker dying, the reconciler and the heartbeat ---------------------------

def test_timers_fire_when_the_scheduler_worker_dies(make_live_hotline):
    tiers = {"escalation": {"tiers": [{"notify": ["legal_office sms"], "wait": "3s"},
                                      {"notify": ["legal_office voice"], "wait": "3s"}], "rounds": 1}}
    live = make_live_hotline(tiers, worker=False, reconcile_interval=2, timer_grace=2)
    store = live.services.rq_redis
    holder = live.start_worker()
    assert live.fake.wait_for(lambda: store.exists("rq:scheduler-lock:hotline"), timeout=20)
    live.start_worker()
    live.text(FRONT_DESK, STAFF_LINE, "ICE")
    live.fake.wait_for_messages(LEGAL, timeout=20)
    due = time.time() + 3
    kill_tree(holder.pid)                                       # RQ's scheduler lock stays taken for 61 s
    [call] = live.fake.wait_for_calls(LEGAL, timeout=30)
    late = time.time() - due
    # Bound: the timer grace plus two reconciler intervals, plus the jobs' own time (3 s of slack
    # for a slow machine): far below the 61 s RQ's scheduler lock would otherwise take.
    assert late < 2 + 2 * 2 + 3, f"the second tier came {late:.1f}s late"
    print(f"the second tier came {late:.1f}s after its due time, its scheduler's worker killed")


def test_the_reconciler_acts_on_a_lost_timer_and_the_heartbeat_reports_it(make_hotline):
    hotline = make_hotline({"escalation": {"tiers": [{"notify": ["legal_office sms"], "wait": "1s"},
                                                     {"notify": ["safety sms"], "wait": "1s"}], "rounds": 1}},
                           reconcile_interval=1, timer_grace=1)
    client = hotline.app.test_client()
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    hotline.services.queue.enqueue("hotline.jobs.reconcile")    # the reconciler has run: the heartbeat is fresh
    hotline.run_jobs()
    registry = ScheduledJobRegistry(queue=hotline.services.queue)
    for job_id in registry.get_job_ids():
        registry.remove(job_id, delete_job=True)                # the timer is lost (a scheduler's data gone)
    time.sleep(4.2)
    stalled = client.get("/heartbeat")
    assert stalled.status_code == 503 and stalled.get_json()["stalled_timers"] == ["demo/101"]
    hotline.services.queue.enqueue("hotline.jobs.reconcile")
    assert hotline.run_jobs(until=lambda: hotline.fake.messages_to(SAFETY))
    assert client.get("/heartbeat").status_code == 200


def test_the_reconciler_sends_a_notification_whose_job_was_lost(hotline):
    hotline.text(FRONT_DESK, STAFF_LINE, "ICE")
    hotline.services.queue.empty()                               # the jobs are lost...
    incident = hotline.services.incidents.get("demo", "101")
    book, field = ledger_key(incident), delivery_field("legal_office", "sms", 0, 0)
    # ...after the first had claimed its send, long ago.
    ledger.write(hotline.services.redis, book, field, ledger.Entry("claimed", time.time() - 600))
    hotline.services.queue.enqueue("hotline.jobs.reconcile")
    assert hotline.run_jobs(until=lambda: hotline.fake.messages_to(LEGAL))
    assert escalations_to(hotline.fake, LEGAL) == {"101": 1}


def test_the_reconciler_starts_an_escalation_a_dead_web_process_never_queued(hotline):
    """The web process died after creating the incident, before queueing its first tier; Twilio's
    retry of the text is a duplicate (same MessageSid) and starts nothing either."""
    services = hotline.services
    district = services.directory.get("demo")
    incident = services.incidents.create(
        district_id="demo", type="ice", drill=False, line=STAFF_LINE, reporter=FRONT_DESK, reporter_name="Maria Lopez",
        reporter_role="front desk", school="lincoln", verification="roster",
        policy=snapshot_policy(district, False, "lincoln", FRONT_DESK))
    services.queue.enqueue("hotline.jobs.reconcile")
    hotline.run_jobs()
    assert not hotline.fake.messages_to(LEGAL), "too early: it may still be starting"
    services.redis.delete("hl:lock:reconcile")
    services.incidents.update(incident, created=time.time() - 120)
    services.queue.enqueue("hotline.jobs.reconcile")
    assert hotline.run_jobs(until=lambda: hotline.fake.messages_to(LEGAL))
    assert escalations_to(hotline.fake, LEGAL) == {"101": 1}
    assert "started by the reconciler" in "\n".join(e["text"] for e in services.incidents.timeline("demo", "101"))


def test_heartbeat_fails_when_the_reconciler_has_not_run(hotline):
    answer = hotline.app.test_client().get("/heartbeat")
    assert answer.status_code == 503 and answer.get_json()["reconciler_last_run_seconds_ago"] is None
