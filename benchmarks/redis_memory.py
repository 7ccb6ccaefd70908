"""Redis memory per live conversation, at 1,000 and 10,000 family-line conversations mid-flow.

Each conversation is a new number texting "hello" then "1" (the rights menu) to the family line,
through the real webhook: signed requests to POST /sms through the Flask test client, one process
per core (faster here than gunicorn plus a load client on the same cores). Memory is INFO memory's
used_memory after minus before, divided by the count, read with only this process connected (the
app's connections' buffers are not conversation data). Then the
keys each text leaves besides the session are removed group by group and memory read again, and
the whole is compared with a baseline of minimal keys (a 1-byte value under the same key names and
expiries) in the same Redis.

    /work/venv/bin/python benchmarks/redis_memory.py [--counts 1000,10000]

Target (printed, never asserted): <= 2 KB per conversation.
"""

from __future__ import annotations

import argparse
import fnmatch
import time

import _harness as h
import redis

TARGET = 2048
TEXTS = ("hello", "1")
EXPECT = "Reply with a number"
GROUPS = [  # (label, key pattern)
    ("session  hl:session:*", "hl:session:*"),
    ("dedupe   hl:seen:*", "hl:seen:*"),
    ("reply    hl:reply:*", "hl:reply:*"),
    ("rate     hl:rate:*", "hl:rate:*"),
    ("timeout  rq:job:*", "rq:job:*"),
    ("timeouts rq:scheduled:*", "rq:scheduled:*"),
]


def used_memory(store: redis.Redis) -> int:
    time.sleep(0.3)
    return int(store.info("memory")["used_memory"])


def keys(store: redis.Redis, pattern: str = "*") -> list[bytes]:
    return list(store.scan_iter(match=pattern, count=5000))


def delete(store: redis.Redis, pattern: str) -> int:
    found = keys(store, pattern)
    for i in range(0, len(found), 5000):
        store.delete(*found[i:i + 5000])
    return len(found)


def memory_usage(store: redis.Redis, names: list[bytes]) -> list[int]:
    sizes = []
    for i in range(0, len(names), 5000):
        with store.pipeline(transaction=False) as pipe:
            for name in names[i:i + 5000]:
                pipe.memory_usage(name, samples=0)
            sizes += [s or 0 for s in pipe.execute()]
    return sizes


def _create_share(job: tuple) -> tuple[int, str]:
    """In a child process: this share's conversations through POST /sms (Flask test client)."""
    redis_url, district, first, count, share, shares = job
    import logging

    from hotline.app import create_app
    from hotline.settings import Settings

    logging.disable(logging.INFO)
    public = "http://127.0.0.1:9"
    app = create_app(Settings(environment="test", redis_url=redis_url, district_path=district,
                              twilio_auth_token=h.AUTH_TOKEN, public_url=public, secret_key=h.SECRET_KEY,
                              log_level="WARNING"))
    client = app.test_client()
    done = 0
    for i in range(first + share, first + count, shares):
        number = h.sender(i)
        for body in TEXTS:          # one sender's texts in order
            item = h.prepare(public, "/sms", h.sms_form(number, h.FAMILY_LINE, body))
            response = client.post("/sms", data=item.body, headers=item.headers)
            if response.status_code != 200 or EXPECT.encode() not in response.data:
                return done, f"HTTP {response.status_code}: {response.data[:200]!r}"
            done += 1
    return done, ""


def create_conversations(stack: h.Stack, district, count: int) -> float:
    """``count`` conversations through the webhook (signed requests, Flask test client), one process
    per core; returns the seconds it took."""
    import multiprocessing

    shares = h.cores()
    t0 = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(shares) as pool:
        results = pool.map(_create_share, [(stack.redis.url, district, 0, count, k, shares) for k in range(shares)])
    took = time.perf_counter() - t0
    done = sum(r[0] for r in results)
    problems = [r[1] for r in results if r[1]]
    if problems or done != count * len(TEXTS):
        raise SystemExit(f"conversations not all created: {done} answers; {problems[:1]}")
    return took


def measure(stack: h.Stack, store: redis.Redis, district, count: int) -> dict:
    store.flushall()
    m0 = used_memory(store)
    took = create_conversations(stack, district, count)
    m1 = used_memory(store)
    sessions = keys(store, "hl:session:*")
    assert len(sessions) == count, f"{len(sessions)} sessions for {count} conversations"
    groups = {}
    all_keys = keys(store)
    sizes = dict(zip(all_keys, memory_usage(store, all_keys)))
    grouped = set()
    for label, pattern in GROUPS:
        names = [n for n in all_keys if fnmatch.fnmatchcase(n.decode(), pattern)]
        grouped.update(names)
        groups[label] = (len(names), sum(sizes[n] for n in names))
    others = sorted(set(all_keys) - grouped)
    groups["other    " + ", ".join(n.decode() for n in others[:3])] = (len(others), sum(sizes[n] for n in others))
    lengths = [store.strlen(n) for n in sessions[:1000]]
    ttl = {n: store.pttl(n) for n in all_keys}

    # Remove what is not the conversation itself, step by step.
    steps = [("all keys written by the texts", m1)]
    delete(store, "hl:seen:*")
    delete(store, "hl:reply:*")
    steps.append(("without dedupe + reply cache (hl:seen, hl:reply)", used_memory(store)))
    delete(store, "hl:rate:*")
    steps.append(("... and without rate counters (hl:rate, 60 s)", used_memory(store)))
    delete(store, "rq:*")
    steps.append(("... and without the RQ timeout jobs = sessions only", used_memory(store)))

    # Baselines in the same Redis: minimal keys under the same names and expiries.
    store.flushall()
    b0 = used_memory(store)
    with store.pipeline(transaction=False) as pipe:
        for name in sessions:
            pipe.set(name, "x", px=ttl[name])
        pipe.execute()
    b1 = used_memory(store)
    store.flushall()
    b2 = used_memory(store)
    with store.pipeline(transaction=False) as pipe:
        for name, left in ttl.items():
            pipe.set(name, "x", px=left) if left > 0 else pipe.set(name, "x")
        pipe.execute()
    b3 = used_memory(store)
    store.flushall()
    return {"count": count, "m0": m0, "steps": steps, "groups": groups, "took": took,
            "session_json": sum(lengths) / len(lengths), "baseline_session": (b1 - b0) / count,
            "baseline_all": (b3 - b2) / count, "keys_per_conversation": len(all_keys) / count}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--counts", default="1000,10000")
    args = parser.parse_args()
    counts = [int(c) for c in args.counts.split(",")]
    h.print_header("Redis memory per live family-line conversation (after 'hello' and '1')", [
        f"each conversation: 2 texts through POST /sms (signed, Flask test client, {h.cores()} processes)",
        ("memory: INFO used_memory delta / conversations (read with only this process connected); "
         "per key group: MEMORY USAGE ... SAMPLES 0, summed"),
        ("no RQ worker runs: the conversations' timeout jobs (30 min) wait in RQ's scheduled registry, as they "
         "would in production"),
    ])
    meter = h.RunMeter()
    results = []
    with h.Stack("memory") as stack:
        stack.start_redis()
        store = redis.Redis.from_url(stack.redis.url)
        district = h.write_district(stack.tmp / "district.yaml")
        for count in counts:
            results.append(measure(stack, store, district, count))

    for r in results:
        n = r["count"]
        texts = n * len(TEXTS)
        print(f"\n{n:,} conversations ({texts:,} texts through the webhook in {r['took']:.0f} s; "
              f"{r['keys_per_conversation']:.1f} keys per conversation):")
        total = r["steps"][0][1] - r["m0"]
        rows = []
        for index, (label, value) in enumerate(r["steps"]):
            per = (value - r["m0"]) / n
            rows.append([label, f"{(value - r['m0']) / 1e6:.2f}", f"{per:,.0f}",
                         f"{(value - r['m0']) / texts:,.0f}" if index == 0 else "-",
                         f"{h.verdict(per <= TARGET)} (<= 2 KB)"])
        rows.append(["baseline: 1 minimal key per conversation (session names, 2 h TTL)",
                     f"{r['baseline_session'] * n / 1e6:.2f}", f"{r['baseline_session']:,.0f}", "-", "-"])
        rows.append(["baseline: minimal keys, same names + TTLs as every key above",
                     f"{r['baseline_all'] * n / 1e6:.2f}", f"{r['baseline_all']:,.0f}", "-", "-"])
        print(h.table(["used_memory delta", "MB", "B/conversation", "B/text", "target"], rows))
        print(f"overhead over the 1-key baseline: {(total / n - r['baseline_session']):,.0f} B per conversation "
              f"({total / n / r['baseline_session']:.1f}x)")
        group_rows = []
        for label, (count, size) in r["groups"].items():
            if count:
                group_rows.append([label, count, f"{count / n:.2f}", f"{size / max(count, 1):,.0f}", f"{size / n:,.0f}"])
        print(h.table(["key group (MEMORY USAGE)", "keys", "per conv.", "B/key", "B/conversation"], group_rows))
        print(f"session JSON: {r['session_json']:.0f} bytes on average (STRLEN)")
    print(f"\n({meter.report()})")


if __name__ == "__main__":
    main()
