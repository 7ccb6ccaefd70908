"""Escalation latency: from the staff member's ICE text to the legal office's SMS leaving for Twilio,
with the whole hotline running (the Procfile's web server, ONE worker subprocess
``python -m hotline worker``, embedded Redis, the fake Twilio), against a bare RQ job that calls the
twilio client once, run by the same worker. Then the re-escalation timer's accuracy.

    /work/venv/bin/python benchmarks/escalation.py [--incidents 200] [--timer-incidents 30]

Part 1: each incident is a new roster member (the district copy has a generated roster) texting
ICE once, one incident at a time (the next starts when the previous one's first-tier texts have
all reached the fake and the worker is idle): latency = the fake's receipt time of the Messages
create to +13035550110 whose body says "incident <n>:" minus the client's clock just before the
webhook POST. The baseline job: enqueue -> the fake receives its Messages create, interleaved with
the incidents so both see the same conditions.

Part 2: a district copy whose tiers wait 2 s; the delay from a tier's due time (recorded by the
hotline in hl:timers:<district>) to the second tier's voice call to the legal office reaching the
fake. RQ's scheduler wakes every second (its baseline).

Targets (printed, never asserted): escalation p99 < 500 ms.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import threading
import time
from collections import defaultdict
from urllib.parse import parse_qs, urlsplit

import _harness as h
import redis
from rq import Queue
from rq.job import Job
from rq.registry import FinishedJobRegistry, StartedJobRegistry

from hotline.incidents.records import IncidentStore
from hotline.services import QUEUE_NAME
from hotline.store import connect

P99_TARGET = 0.500
INCIDENT_IN_BODY = re.compile(r"incident (D?\d+):")
LEADER = "+13035550121"      # Lincoln Elementary's principal (demo district); Roosevelt High has no leader set


def school_of(i: int) -> str:
    """One reporter in four works at Lincoln, whose leader is told too (tell_school_leader)."""
    return "lincoln" if i % 4 == 0 else "roosevelt"


def roster(count: int) -> dict:
    return {h.sender(i): {"name": f"Staff {i}", "role": "front desk", "school": school_of(i)} for i in range(count)}


class Watch:
    """What reached the fake: messages by (to, incident), calls by (to, incident), baseline bodies."""

    def __init__(self, fake):
        self.log = h.FakeLog(fake)
        self.messages: dict[tuple[str, str], float] = {}
        self.calls: dict[tuple[str, str], float] = {}
        self.baseline: dict[str, float] = {}
        self.rejected = 0

    def poll(self) -> None:
        for item in self.log.new():
            params, path = item["params"], item["path"]
            if item["method"] != "POST":
                continue
            if path.endswith("/Messages.json"):
                body = params.get("Body", "")
                if body.startswith("baseline "):
                    self.baseline.setdefault(body, item["time"])
                    continue
                found = INCIDENT_IN_BODY.search(body)
                if found:
                    self.messages.setdefault((params.get("To"), found.group(1)), item["time"])
            elif path.endswith("/Calls.json"):
                query = parse_qs(urlsplit(params.get("Url", "")).query)
                incident = (query.get("incident") or [""])[0]
                self.calls.setdefault((params.get("To"), incident), item["time"])

    def wait(self, predicate, timeout: float = 10.0, interval: float = 0.005) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            self.poll()
            if predicate():
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(interval)


def worker_idle(queue: Queue) -> bool:
    return queue.count == 0 and StartedJobRegistry(queue=queue).count == 0


def start_hotline(stack: h.Stack, district, extra_env: dict | None = None):
    port = h.free_port()
    env = stack.env(district, f"http://127.0.0.1:{port}", **(extra_env or {}))
    web = stack.start_server("hotline.app:create_app()", env, h.procfile_web_config(), port=port)
    worker = stack.start_worker(env)
    return web, worker, env


def wait_worker_ready(stack: h.Stack, watch: Watch, queue: Queue) -> None:
    body = "baseline warm-up"
    queue.enqueue("_bare_job.send_sms", h.ACCOUNT_SID, h.AUTH_TOKEN, stack.fake.base_url, h.STAFF_LINE, h.LEGAL,
                  body)
    if not watch.wait(lambda: body in watch.baseline, timeout=30):
        sys.exit(f"the worker did not run a job within 30 s:\n{stack.log_tail('worker')}")


def services_build_time(env: dict, repeat: int = 5) -> float:
    """What a process pays once at start (not each job): building Services from the environment."""
    from hotline.services import Services
    from hotline.settings import settings_from_env

    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        Services(settings_from_env(env))
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def roster_scaling(folder) -> dict[int, float]:
    """Services build time for bigger rosters (a real district has hundreds or thousands of staff)."""
    found = {}
    for size in (200, 2000):
        district = h.write_district(folder / f"roster{size}.yaml", {"roster": roster(size)})
        env = {"REDIS_URL": "redis://127.0.0.1:1/0", "HOTLINE_DISTRICT": str(district), "HOTLINE_ENV": "test",
               "TWILIO_AUTH_TOKEN": h.AUTH_TOKEN}
        found[size] = services_build_time(env, repeat=1 if size > 500 else 3)
    return found


def job_breakdown(queue: Queue, since: float) -> list[list[object]]:
    """RQ's own timestamps for the jobs that ran: queue wait (enqueued -> started), run (started -> ended)."""
    ids = FinishedJobRegistry(queue=queue).get_job_ids()
    waits, runs = defaultdict(list), defaultdict(list)
    for job in Job.fetch_many(ids, connection=queue.connection):
        if job is None or not job.started_at or not job.ended_at or not job.enqueued_at:
            continue
        if job.enqueued_at.timestamp() < since:
            continue
        name = job.func_name.rsplit(".", 1)[-1]
        if name == "send_sms":
            name = "baseline send_sms"
        waits[name].append((job.started_at - job.enqueued_at).total_seconds())
        runs[name].append((job.ended_at - job.started_at).total_seconds())
    rows = []
    for name in sorted(runs):
        rows.append([name, len(runs[name]), h.ms(statistics.median(waits[name])), h.ms(h.percentile(waits[name], 99)),
                     h.ms(statistics.median(runs[name])), h.ms(h.percentile(runs[name], 99))])
    return rows


def part_latency(stack: h.Stack, incidents: int, baseline_every: int, reporters: int) -> dict:
    district = h.write_district(stack.tmp / "latency" / "district.yaml", {
        "roster": roster(reporters + 4),
        # Long waits: no second tier fires while this part runs.
        "escalation": {"tiers": [{"notify": ["legal_office sms", "safety sms"], "wait": "30m"},
                                 {"notify": ["legal_office voice", "safety voice", "backup_counsel sms"],
                                  "wait": "30m"}]},
    })
    web, worker, env = start_hotline(stack, district)
    store = connect(stack.redis.url)
    queue = Queue(QUEUE_NAME, connection=redis.Redis.from_url(stack.redis.url))
    incidents_store = IncidentStore(store)
    watch = Watch(stack.fake)
    wait_worker_ready(stack, watch, queue)
    # Warm-up, not measured: the first ICE each gunicorn worker handles imports what it has not used yet.
    for k in range(4):
        reporter = h.sender(reporters + k)
        h.post_once(web.url, h.prepare(web.url, "/sms", h.sms_form(reporter, h.STAFF_LINE, "ICE")))
        incident = incidents_store.for_reporter("demo", reporter)
        if incident:
            watch.wait(lambda n=incident.id: (h.SAFETY, n) in watch.messages)
        watch.wait(lambda: worker_idle(queue), timeout=5)
    since = time.time()

    ice, baseline, webhook, leader_first = [], [], [], 0
    failures = []
    for i in range(incidents):
        who = i % reporters
        reporter = h.sender(who)
        prepared = h.prepare(web.url, "/sms", h.sms_form(reporter, h.STAFF_LINE, "ICE"))
        t0 = time.time()
        p0 = time.perf_counter()
        status, answer = h.post_once(web.url, prepared)
        webhook.append(time.perf_counter() - p0)
        incident = incidents_store.for_reporter("demo", reporter)
        if status != 200 or incident is None:
            failures.append(f"ICE {i}: HTTP {status}, incident {incident}: {answer[:120]}")
            continue
        n = incident.id
        leader = LEADER if school_of(who) == "lincoln" else None
        expected = [(h.LEGAL, n), (h.SAFETY, n)] + ([(leader, n)] if leader else [])
        # The whole first tier, then an idle worker: the next measurement does not queue behind this one.
        if not watch.wait(lambda expected=expected: all(k in watch.messages for k in expected)):
            failures.append(f"incident {n}: not all first-tier texts arrived: "
                            f"{[k for k in expected if k not in watch.messages]}")
            continue
        ice.append(watch.messages[h.LEGAL, n] - t0)
        if leader and watch.messages[leader, n] < watch.messages[h.LEGAL, n]:
            leader_first += 1
        watch.wait(lambda: worker_idle(queue), timeout=5)
        # Closed (as the office would from the dashboard), so this reporter's next ICE opens a new incident.
        h.close_quietly(incidents_store, incident)

        if i % baseline_every == 0:
            # The baseline job, enqueued with the hotline's job options, run by the same worker.
            body = f"baseline {i}"
            t0 = time.time()
            queue.enqueue("_bare_job.send_sms", h.ACCOUNT_SID, h.AUTH_TOKEN, stack.fake.base_url, h.STAFF_LINE,
                          h.LEGAL, body, job_timeout=60, result_ttl=3600, failure_ttl=7 * 86400)
            if not watch.wait(lambda body=body: body in watch.baseline):
                failures.append(f"baseline {i} never arrived")
                continue
            baseline.append(watch.baseline[body] - t0)
            watch.wait(lambda: worker_idle(queue), timeout=5)
    breakdown = job_breakdown(queue, since)
    build = services_build_time(env)
    stack.stop_process(worker)
    stack.stop_process(web.process)
    return {"ice": ice, "baseline": baseline, "webhook": webhook, "breakdown": breakdown, "build": build,
            "failures": failures, "leader_first": leader_first,
            "lincoln": sum(1 for i in range(incidents) if school_of(i % reporters) == "lincoln"),
            "roster": reporters + 4 + 3}


def finished_jobs(queue: Queue, func: str) -> list[Job]:
    ids = FinishedJobRegistry(queue=queue).get_job_ids()
    return [j for j in Job.fetch_many(ids, connection=queue.connection) if j is not None and j.func_name == func]


def part_timers(stack: h.Stack, incidents: int, spacing: float) -> dict:
    store = connect(stack.redis.url)
    store.flushdb()
    stack.fake.reset()
    # Two tiers of one notification each, 2 s apart: the least work per incident, so that the
    # figure is the timer's, not a queue of other incidents' jobs (each job costs ~0.1 s here).
    district = h.write_district(stack.tmp / "timers" / "district.yaml", {
        "roster": roster(incidents + 10),
        "escalation": {"wait": "2s", "rounds": 1, "tell_school_leader": False,
                       "tiers": [{"notify": ["legal_office sms"], "wait": "2s"},
                                 {"notify": ["legal_office voice"], "wait": "2s"}]},
    })
    web, worker, _ = start_hotline(stack, district)
    queue = Queue(QUEUE_NAME, connection=redis.Redis.from_url(stack.redis.url))
    watch = Watch(stack.fake)
    wait_worker_ready(stack, watch, queue)
    incidents_store = IncidentStore(store)

    # The due time of each incident's second tier, as the hotline records it when the first tier runs.
    due: dict[str, float] = {}
    stop = threading.Event()

    def record_timers() -> None:
        while not stop.is_set():
            for incident_id, value in store.hgetall("hl:timers:demo").items():
                when, next_tier, _ = value.split("|")
                if next_tier == "1":
                    due.setdefault(incident_id, float(when))
            stop.wait(0.02)

    recorder = threading.Thread(target=record_timers, daemon=True)
    recorder.start()
    ids, failures = [], []
    rng = random.Random(7)
    for i in range(incidents):
        reporter = h.sender(i)
        status, answer = h.post_once(web.url, h.prepare(web.url, "/sms", h.sms_form(reporter, h.STAFF_LINE, "ICE")))
        incident = incidents_store.for_reporter("demo", reporter)
        if status != 200 or incident is None:
            failures.append(f"ICE {i}: HTTP {status}: {answer[:120]}")
        else:
            ids.append(incident.id)
        # A random phase against the scheduler's 1 s tick.
        time.sleep(spacing * rng.uniform(0.5, 1.5))
    watch.wait(lambda: all((h.LEGAL, n) in watch.calls for n in ids), timeout=15)
    stop.set()
    recorder.join()

    # RQ's timestamps for each incident's second run_tier (enqueued_at = when the scheduler moved it).
    tier2 = {j.args[1]: j for j in finished_jobs(queue, "hotline.jobs.run_tier") if j.args[2] == 1}
    parts = defaultdict(list)
    delays = []
    for n in ids:
        if (h.LEGAL, n) not in watch.calls or n not in due:
            failures.append(f"incident {n}: second-tier call {'arrived' if (h.LEGAL, n) in watch.calls else 'missing'}, "
                            f"due time {'seen' if n in due else 'not seen'}")
            continue
        call_at = watch.calls[h.LEGAL, n]
        delays.append(call_at - due[n])
        job = tier2.get(n)
        if job and job.enqueued_at and job.started_at and job.ended_at:
            parts["scheduler: due -> run_tier queued"].append(job.enqueued_at.timestamp() - due[n])
            parts["queue wait: queued -> run_tier started"].append((job.started_at - job.enqueued_at).total_seconds())
            parts["run_tier ran"].append((job.ended_at - job.started_at).total_seconds())
            parts["deliver job: run_tier ended -> call at fake"].append(call_at - job.ended_at.timestamp())
    stack.stop_process(worker)
    stack.stop_process(web.process)
    return {"delays": delays, "parts": parts, "failures": failures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--incidents", type=int, default=200)
    parser.add_argument("--baseline-every", type=int, default=4, help="one baseline job after every N incidents")
    parser.add_argument("--reporters", type=int, default=20,
                        help="roster members taking turns (each incident is closed once its first tier is out, so "
                             "the next ICE opens a new one); 0: one roster member per incident (a big roster, "
                             "slower: every job re-reads the district file)")
    parser.add_argument("--timer-incidents", type=int, default=30)
    parser.add_argument("--timer-spacing", type=float, default=1.0, help="seconds between timer incidents (mean)")
    args = parser.parse_args()
    h.print_header("Escalation: ICE webhook -> the legal office's SMS at Twilio, one RQ worker", [
        (f"the Procfile's web server, ONE `python -m hotline worker`, embedded Redis, the fake "
         f"Twilio (in this process), the client: all on the same {h.cores()} cores"),
        "one incident at a time (no queueing behind other incidents): this is the unloaded latency",
        (f"{args.reporters} generated roster members (1 in 4 at Lincoln, which has a school leader) take turns; "
         "each incident is closed once its first tier is out" if args.reporters else
         f"one generated roster member per incident ({args.incidents}+ numbers in the district file)"),
        "times: client time.time() just before the POST -> the fake's time.time() on receiving the create",
    ])
    meter = h.RunMeter()
    with h.Stack("escalation") as stack:
        stack.start_redis()
        stack.start_fake()
        lat = part_latency(stack, args.incidents, args.baseline_every, args.reporters or args.incidents)
        timers = part_timers(stack, args.timer_incidents, args.timer_spacing)
        scaling = roster_scaling(stack.tmp)

    ice, base = h.summary(lat["ice"]), h.summary(lat["baseline"])
    rows = [
        ["ICE webhook -> legal SMS at fake", ice["n"], h.ms(ice["p50"]), h.ms(ice["p90"]), h.ms(ice["p99"]),
         h.ms(ice["max"])],
        ["baseline: enqueue -> bare job's SMS at fake", base["n"], h.ms(base["p50"]), h.ms(base["p90"]),
         h.ms(base["p99"]), h.ms(base["max"])],
    ]
    hook = h.summary(lat["webhook"])
    rows.append(["(ICE webhook answer, client side)", hook["n"], h.ms(hook["p50"]), h.ms(hook["p90"]),
                 h.ms(hook["p99"]), h.ms(hook["max"])])
    print(h.table(["latency", "n", "p50 ms", "p90 ms", "p99 ms", "max ms"], rows))
    print(f"\nhotline overhead over the bare job: p50 +{h.ms(ice['p50'] - base['p50'])} ms, "
          f"p99 +{h.ms(ice['p99'] - base['p99'])} ms; "
          f"target p99 < 500 ms: {h.verdict(ice['p99'] < P99_TARGET)} ({h.ms(ice['p99'])} ms)")
    print(f"the school leader's text went out before the legal office's in {lat['leader_first']} of "
          f"{lat['lincoln']} incidents at a school with a leader")
    print("\nwhere the time goes, per job (RQ's own timestamps; 'wait' = enqueued -> started, 'run' = started -> ended):")
    print(h.table(["job", "n", "wait p50 ms", "wait p99 ms", "run p50 ms", "run p99 ms"], lat["breakdown"]))
    print(f"\nbuilding Services from the environment, which a worker does once at start (worker.prepare installs "
          f"them before RQ forks each job's horse, so no job pays it; median, in this process): "
          f"{h.ms(lat['build'])} ms with this district's {lat['roster']}-number roster; "
          + ", ".join(f"{h.ms(t)} ms with {n:,}" for n, t in scaling.items())
          + " roster numbers. benchmarks/profile_job.py breaks a job down further.")

    d = timers["delays"]
    if d:
        s = h.summary(d)
        early = sum(1 for x in d if x < 0)
        print("\nRe-escalation timer (district copy: tier 1 = legal office SMS, tier 2 = legal office call, waits 2 s; "
              f"{len(d)} incidents ~{args.timer_spacing:g} s apart): the second tier's call at the fake minus its due "
              "time (hl:timers)")
        rows = [["due -> tier-2 call at fake", s["n"], h.ms(s["p50"]), h.ms(s["p99"]), h.ms(s["max"]),
                 h.ms(min(d)), f"{early} of {len(d)}"]]
        for label, values in timers["parts"].items():
            p = h.summary(values)
            rows.append([f"  {label}", p["n"], h.ms(p["p50"]), h.ms(p["p99"]), h.ms(p["max"]), h.ms(min(values)),
                         f"{sum(1 for x in values if x < 0)} of {len(values)}"])
        print(h.table(["timer delay", "n", "p50 ms", "p99 ms", "max ms", "min ms", "early (<0)"], rows))
        print("baseline: RQ's scheduler polls every 1 s, and stores due times in whole seconds (rounded down), "
              "so a timer can fire up to 1 s early or up to ~1 s late plus the two jobs (run_tier, deliver)")
    for failure in lat["failures"] + timers["failures"]:
        print(f"  problem: {failure}", file=sys.stderr)
    print(f"\n({meter.report()})")


if __name__ == "__main__":
    main()
