"""Inbound SMS throughput and latency on the production web server, against a bare Flask endpoint.

The hotline's POST /sms (signature check, dedupe, rate limit, Redis session, keyword table, engine,
rendering, TwiML) for a family-line "hello" from a new number, served as the Procfile serves it
(`hotline web`: waitress, hotline/webserver.py), against a bare Flask endpoint answering a fixed
TwiML on the same server with the same settings (benchmarks/_serve.py) and the same client.
Requests are signed before the timed loop; every one has its own sender and MessageSid. Then a few
other thread counts (and gunicorn's old Procfile configuration, when gunicorn is installed).

    /work/venv/bin/python benchmarks/inbound_sms.py [--duration 3] [--levels 1,8,32] [--paced 50,100,150]
                                                    [--no-configs] [--config-duration 2]

Targets (printed, never asserted): hotline/bare throughput ratio >= 0.7; p99 <= 20 ms at 32 senders.
"""

from __future__ import annotations

import argparse
import sys

import _harness as h
import redis

HOTLINE_APP = "hotline.app:create_app()"
BARE_APP = "_bare_app:create_app()"
BODY = "hello"
EXPECT_HOTLINE = "Reply with a number"      # the family menu that follows the welcome
EXPECT_BARE = "<Message>ok</Message>"
PROCFILE = h.procfile_web_config()


# Other configurations worth trying on a 2-core machine: one process (the Procfile's before this
# benchmark showed what it cost), fewer threads, and gunicorn's own gthread worker (the Procfile's
# server before issue 13, which slow clients starve).
ALTERNATIVES = [c for c in [("waitress", 1, 8), ("waitress", 2, 4), ("gthread", 2, 2)] if c != PROCFILE]
RATIO_TARGET = 0.7
# Issue 13: the production server may not widen the gap to a bare endpoint on the same server
# (gunicorn --workers 2 --threads 2 measured 0.24-0.29 before it).
SERVER_RATIO_TARGET = 0.24
P99_TARGET = 0.020


def build(server: h.WebProcess, count: int, first_sender: int = 0) -> list[h.Prepared]:
    return [h.prepare(server.url, "/sms", h.sms_form(h.sender(first_sender + i), h.FAMILY_LINE, BODY))
            for i in range(count)]


def measure(server: h.WebProcess, store: redis.Redis, concurrency: int, duration: float, expect: str,
            redis_pid: int | None, warmup: float = 1.0, rate: float | None = None) -> h.LoadResult:
    """Warm up (both workers, connections), estimate the rate, then the timed run on a clean Redis.
    With ``rate``: open loop, that many requests per second offered by all senders together."""
    store.flushdb()
    warm = h.run_load(server.url, h.split_among(build(server, 60 * concurrency + 600, 50000), concurrency),
                      warmup, expect)
    store.flushdb()
    count = int((rate or max(warm.rate, 250)) * duration * 2) + 20 * concurrency
    pool = h.split_among(build(server, count), concurrency)
    result = h.run_load(server.url, pool, duration, expect, server_pids=server.pids(), redis_pid=redis_pid,
                        rate=rate)
    if result.count >= count:
        print(f"  (request pool ran out at {concurrency} senders; rate still per wall time)", file=sys.stderr)
    return result


def row(label: str, r: h.LoadResult) -> list[object]:
    s = h.summary(r.latencies)
    def pct(cpu: float) -> str:          # % of one core
        return f"{cpu / r.wall * 100:.0f}%"

    return [label, r.concurrency, r.count, f"{r.rate:.0f}", h.ms(s["p50"]), h.ms(s["p90"]), h.ms(s["p99"]),
            h.ms(s["max"]), r.errors + r.wrong, pct(r.client_cpu), pct(r.server_cpu), pct(r.redis_cpu), pct(r.other_cpu),
            f"{r.client_cpu / max(r.count, 1) * 1e6:.0f}"]


HEADERS = ["endpoint", "senders", "requests", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors",
           "client CPU", "server CPU", "redis CPU",
           "other CPU", "client us/req"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per measured run (default 3)")
    parser.add_argument("--levels", default="1,8,32", help="concurrent senders (default 1,8,32)")
    parser.add_argument("--paced", default="50,100,150", help="open-loop rates (req/s) offered by 32 senders (default 50,100,150)")
    parser.add_argument("--rounds", type=int, default=3, help="closed-loop runs per level and endpoint, interleaved; "
                        "the best is reported (default 3)")
    parser.add_argument("--no-configs", action="store_true", help="skip the other server configurations")
    parser.add_argument("--config-duration", type=float, default=2.0, help="seconds per configuration run")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]

    h.print_header("Inbound SMS: hotline POST /sms vs a bare Flask endpoint, on the production server", [
        (f"the load client (Python threads, one keep-alive http.client connection each), the web server and Redis "
         f"share the same {h.cores()} cores: every figure is for all three on this machine"),
        (f"each request: a family-line {BODY!r} from a new sender (distinct From, distinct MessageSid), "
         f"signed before the timed loop; {args.duration:.0f} s per run after a 1 s warm-up, {args.rounds} rounds; "
         f"HOTLINE_ENV=production (as deployed: the heap is settled after loading)"),
        ("CPU columns are % of one core over the run (200% = both cores); 'other CPU' is what processes outside "
         "this benchmark used meanwhile (the machine is shared); percentiles are nearest-rank"),
    ])
    meter = h.RunMeter()
    with h.Stack("inbound") as stack:
        stack.start_redis()
        stack.start_fake(auto_status=False)
        store = redis.Redis.from_url(stack.redis.url)
        district = h.write_district(stack.tmp / "district.yaml")

        port = h.free_port()
        env = stack.env(district, f"http://127.0.0.1:{port}", HOTLINE_ENV="production")
        hotline = stack.start_server(HOTLINE_APP, env, PROCFILE, port=port)
        bare = stack.start_server(BARE_APP, env, PROCFILE)
        hotline.settle()
        bare.settle()
        check = h.post_once(hotline.url, build(hotline, 1, 90000)[0])
        if check[0] != 200 or EXPECT_HOTLINE not in check[1]:
            sys.exit(f"the hotline did not answer as expected: {check}\n{stack.log_tail('web')}")

        # Rounds interleave bare and hotline at each level; the best of each is kept: other processes
        # on the machine, and how the kernel happens to spread the connections over the server's
        # processes, can only slow a run down.
        every: dict[tuple[str, int], list[h.LoadResult]] = {}
        for _ in range(args.rounds):
            for level in levels:
                for name, server, expect in (("bare", bare, EXPECT_BARE), ("hotline", hotline, EXPECT_HOTLINE)):
                    result = measure(server, store, level, args.duration, expect, stack.redis_pid())
                    every.setdefault((name, level), []).append(result)
                    if result.first_error:
                        print(f"  {name} at {level}: {result.first_error}", file=sys.stderr)
        results = {run: max(found, key=lambda r: r.rate) for run, found in every.items()}
        paced = {}
        rates = [float(x) for x in args.paced.split(",") if x]
        for rate in rates:
            for name, server, expect in (("bare", bare, EXPECT_BARE), ("hotline", hotline, EXPECT_HOTLINE)):
                paced[name, rate] = measure(server, store, 32, args.duration, expect, stack.redis_pid(), rate=rate)
        stack.stop_process(bare.process)

        print(f"Procfile configuration: {hotline.label} (2 cores)")
        rows = []
        for level in levels:
            rows.append(row("bare", results["bare", level]))
            rows.append(row("hotline", results["hotline", level]))
        print(h.table(HEADERS, rows))
        if rates:
            print("\nOpen loop: 32 senders, each on a fixed schedule (random phase), together offering the rate below; "
                  "latency counts from the scheduled send time")
            paced_rows = []
            for rate in rates:
                for name in ("bare", "hotline"):
                    paced_rows.append([f"{name} @ {rate:.0f}/s offered"] + row(name, paced[name, rate])[1:])
            print(h.table(HEADERS, paced_rows))
        print()
        ratio_rows = []
        for level in levels:
            bare_r, hot_r = results["bare", level], results["hotline", level]
            ratio = hot_r.rate / bare_r.rate if bare_r.rate else 0.0
            p99 = h.percentile(hot_r.latencies, 99)
            ratio_rows.append([level, f"{bare_r.rate:.0f}", f"{hot_r.rate:.0f}", f"{ratio:.2f}",
                               f"{h.verdict(ratio >= RATIO_TARGET)} (>= {RATIO_TARGET})",
                               f"{h.verdict(ratio >= SERVER_RATIO_TARGET)} (>= {SERVER_RATIO_TARGET})",
                               h.ms(p99), f"{h.verdict(p99 <= P99_TARGET)} (<= 20 ms)" if level == 32 else "-"])
        print(h.table(["senders", "bare req/s", "hotline req/s", "ratio", "ratio target", "issue 13", "hotline p99 ms",
                       "p99 target"], ratio_rows))
        print("every round (req/s): " + "; ".join(
            f"{level} senders: bare {'/'.join(f'{r.rate:.0f}' for r in every['bare', level])}, "
            f"hotline {'/'.join(f'{r.rate:.0f}' for r in every['hotline', level])}" for level in levels))
        bare_max = max((results["bare", lv] for lv in levels), key=lambda r: r.rate)
        per_req = bare_max.client_cpu / max(bare_max.count, 1)
        print(f"\nclient ceiling: the bare endpoint peaks at {bare_max.rate:.0f} req/s ({bare_max.concurrency} senders); "
              f"the client spends {per_req * 1e6:.0f} us of CPU per request, so alone on one core it could send "
              f"~{1 / per_req:.0f} req/s. The hotline's rate is far below both: the client is not its bottleneck.")
        top = max(levels)
        bare_top = results["bare", top]
        print(f"with {top} senders back to back, mean latency = {top} / throughput (Little's law): a p99 of 20 ms needs "
              f"well over {top / 0.020:.0f} req/s; the bare endpoint itself does {bare_top.rate:.0f} req/s with p99 "
              f"{h.ms(h.percentile(bare_top.latencies, 99))} ms here. The open-loop table shows the load at which "
              f"the hotline's p99 stays within 20 ms.")
        hot32 = results.get(("hotline", max(levels)))
        if hot32 and hot32.count:
            print(f"hotline server CPU per request at {hot32.concurrency} senders: "
                  f"{hot32.server_cpu / hot32.count * 1000:.2f} ms web server + {hot32.redis_cpu / hot32.count * 1000:.2f} ms "
                  f"Redis (2 cores = 2,000 ms of CPU per second)")
        stack.stop_process(hotline.process)

        if not args.no_configs:
            # All configurations up at once, then measured round-robin, twice: the machine is shared, and
            # interleaving spreads whatever else runs on it over all of them.
            servers = []
            for config in [PROCFILE, *ALTERNATIVES]:
                port = h.free_port()
                env = stack.env(district, f"http://127.0.0.1:{port}", HOTLINE_ENV="production")
                servers.append(stack.start_server(HOTLINE_APP, env, config, port=port))
            for server in servers:
                server.settle()
            runs: dict[str, list[h.LoadResult]] = {}
            for _ in range(2):
                for server in servers:
                    label = server.label + (" (Procfile)" if server is servers[0] else "")
                    runs.setdefault(label, []).append(
                        measure(server, store, 32, args.config_duration, EXPECT_HOTLINE, stack.redis_pid(), warmup=0.5))
            for server in servers:
                stack.stop_process(server.process)
            print(f"\nOther server configurations, hotline only, 32 senders closed loop, "
                  f"{args.config_duration:.1f} s per run, two rounds interleaved:")
            config_rows = [row(label, r) for label, results_ in runs.items() for r in results_]
            print(h.table(["server"] + HEADERS[1:], config_rows))
            # Best of the two rounds: other processes on the machine can only slow a run down.
            best_run = {label: max(rs, key=lambda r: r.rate) for label, rs in runs.items()}
            ranked = sorted(best_run, key=lambda label: -best_run[label].rate)
            print("\nbest of the two rounds, by throughput:")
            print(h.table(["server", "req/s", "p50 ms", "p99 ms"],
                          [[label, f"{best_run[label].rate:.0f}", h.ms(h.percentile(best_run[label].latencies, 50)),
                            h.ms(h.percentile(best_run[label].latencies, 99))] for label in ranked]))
            by_p99 = min(best_run, key=lambda label: h.percentile(best_run[label].latencies, 99))
            print(f"\non this {h.cores()}-core machine: highest throughput {ranked[0]}; lowest p99 {by_p99}")
    print(f"\n({meter.report()})")


if __name__ == "__main__":
    main()
