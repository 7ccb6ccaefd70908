"""Redis memory per live conversation, at 1,000 and 10,000 family-line conversations mid-flow.

Each conversation is a new number texting "hello" then "1" (the rights menu) to the family line,
through the real webhook: signed requests to the hotline under gunicorn (the Procfile's
configuration). Memory is INFO memory's used_memory after minus before, divided by the count, with
gunicorn stopped for both readings (its connections' buffers are not conversation data). Then the
keys each text leaves besides the session are removed group by group and memory read again, and
the whole is compared with a baseline of minimal keys (a 1-byte value under the same key names and
expiries) in the same Redis.

    /work/venv/bin/python benchmarks/redis_memory.py [--counts 1000,10000]

Target (printed, never asserted): <= 2 KB per conversation.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict

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


def create_conversations(stack: h.Stack, district, count: int) -> float:
    """``count`` conversations through the webhook; returns the seconds it took."""
    port = h.free_port()
    env = stack.env(district, f"http://127.0.0.1:{port}")
    server = stack.start_gunicorn("hotline.app:create_app()", env, port=port, workers=2, threads=8)
    senders = 32
    lanes: list[list[h.Prepared]] = [[] for _ in range(senders)]
    for i in range(count):
        number = h.sender(i)
        for body in TEXTS:   # one sender's texts in order, on one connection
            lanes[i % senders].append(h.prepare(server.url, "/sms", h.sms_form(number, h.FAMILY_LINE, body)))
    result = h.run_load(server.url, lanes, duration=600, expect=EXPECT)
    stack.stop_process(server.process)
    if result.errors or result.wrong or result.count != count * len(TEXTS):
        raise SystemExit(f"conversations not all created: {result.count} answers, {result.errors} errors, "
                         f"{result.wrong} unexpected ({result.first_error})")
    return result.wall


def measure(stack: h.Stack, store: redis.Redis, district, count: int) -> dict:
    store.flushall()
    m0 = used_memory(store)
    took = create_conversations(stack, district, count)
    m1 = used_memory(store)
    sessions = keys(store, "hl:session:*")
    assert len(sessions) == count, f"{len(sessions)} sessions for {count} conversations"
    groups = {}
    all_keys = set(keys(store))
    grouped = set()
    for label, pattern in GROUPS:
        names = keys(store, pattern)
        grouped.update(names)
        sizes = memory_usage(store, names)
        groups[label] = (len(names), sum(sizes))
    others = sorted(all_keys - grouped)
    groups["other    " + ", ".join(n.decode() for n in others[:3])] = (len(others), sum(memory_usage(store, others)))
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
        "each conversation: 2 texts through POST /sms under gunicorn (Procfile config), 32 concurrent senders",
        "memory: INFO used_memory delta / conversations (gunicorn stopped for both readings); "
        "per key group: MEMORY USAGE ... SAMPLES 0, summed",
        "no RQ worker runs: the conversations' timeout jobs (30 min) wait in RQ's scheduled registry, as they "
        "would in production",
    ])
    started = time.monotonic()
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
        for label, value in r["steps"]:
            per = (value - r["m0"]) / n
            rows.append([label, f"{(value - r['m0']) / 1e6:.2f}", f"{per:,.0f}", f"{(value - r['m0']) / texts:,.0f}",
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
    print(f"\n(total run time {time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
