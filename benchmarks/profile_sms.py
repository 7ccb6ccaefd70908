"""Where an inbound SMS spends its time: 2,000 family-line "hello" texts through POST /sms in one
process (the Flask test client, signed requests, a real embedded Redis), profiled.

    /work/venv/bin/python benchmarks/profile_sms.py [--calls 2000] [--tree]

Prints the unprofiled time per call, the Redis commands each call sends (INFO commandstats), and
the cumulative cost of the steps of the view (cProfile; the profiler inflates small calls, so read
the shares, not the absolute times). With pyinstrument installed, --tree also prints its call tree.
"""

from __future__ import annotations

import argparse
import cProfile
import logging
import pstats
import time

import _harness as h
import redis

from hotline.app import create_app
from hotline.settings import Settings

# (label, file suffix, function name[, line]): the steps of one text, in the order they run.
STEPS = [
    ("whole request (test client + Flask + view)", "flask/app.py", "wsgi_app"),
    ("signature check (twilio RequestValidator)", "channels/twilio_auth.py", "signature_valid"),
    ("view: inbound_sms", "channels/sms.py", "inbound_sms"),
    ("  find_line + form_number (phonenumbers parse)", "channels/common.py", "find_line"),
    ("  form_number", "channels/common.py", "form_number"),
    ("  admit: dedupe, rate limit, conversation GET (1 round trip)", "channels/twilio_auth.py", "admit"),
    ("  handle_text (conversation turn)", "hotline/conversation.py", "handle_text"),
    ("    keyword match", "engine/keywords.py", "match"),
    ("    engine start/step", "engine/runtime.py", "start"),
    ("    conversation SET queued (SessionStore.save)", "hotline/sessions.py", "save"),
    ("    SMS timeout: RQ enqueue_in (_schedule_timeout)", "hotline/conversation.py", "_schedule_timeout"),
    ("    Turn.variables (base_variables)", "hotline/turn.py", "variables"),
    ("  render_sms", "render/sms.py", "render_sms"),
    ("    for_channel (formats every variable, used or not)", "render/values.py", "for_channel", 24),
    ("  MessagingResponse -> XML", "twilio/twiml/__init__.py", "__str__"),
    ("  send: conversation SET + reply cache SET (1 round trip)", "channels/sms.py", "_send"),
    ("  Services.content -> content_for_dirs", "hotline/services.py", "content_for_dirs"),
    ("phonenumbers: national() (format for display)", "hotline/phones.py", "national"),
    ("phonenumbers: to_e164() (parse + validate)", "hotline/phones.py", "to_e164"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--tree", action="store_true", help="also print pyinstrument's call tree")
    args = parser.parse_args()
    h.print_header(f"Profile of POST /sms (family-line 'hello' from a new number), {args.calls} calls in-process")
    logging.disable(logging.INFO)
    with h.Stack("profile") as stack:
        stack.start_redis()
        district = h.write_district(stack.tmp / "district.yaml")
        public = "http://127.0.0.1:9"
        settings = Settings(environment="test", redis_url=stack.redis.url, district_path=district,
                            twilio_auth_token=h.AUTH_TOKEN, public_url=public, secret_key=h.SECRET_KEY,
                            log_level="WARNING")
        app = create_app(settings)
        client = app.test_client()
        store = redis.Redis.from_url(stack.redis.url)

        def batch(first: int, count: int):
            return [h.prepare(public, "/sms", h.sms_form(h.sender(first + i), h.FAMILY_LINE, "hello"))
                    for i in range(count)]

        def run(requests):
            for item in requests:
                response = client.post("/sms", data=item.body, headers=item.headers)
                assert response.status_code == 200 and b"Reply with a number" in response.data, response.data[:200]

        run(batch(60000, 200))                                   # warm-up
        plain = batch(0, args.calls)
        store.config_resetstat()
        t0 = time.perf_counter()
        run(plain)
        per_call = (time.perf_counter() - t0) / args.calls
        stats = store.info("commandstats")
        store.flushdb()

        profiled = batch(20000, args.calls)
        profiler = cProfile.Profile()
        profiler.enable()
        run(profiled)
        profiler.disable()
        store.flushdb()

        print(f"unprofiled: {per_call * 1000:.2f} ms per call ({1 / per_call:.0f} calls/s on one core, "
              f"test client included)\n")
        commands = [(name.removeprefix("cmdstat_"), value["calls"] / args.calls) for name, value in stats.items()
                    if name not in ("cmdstat_config", "cmdstat_info")]
        commands.sort(key=lambda item: -item[1])
        print("Redis commands per call: " + ", ".join(f"{name} {count:g}" for name, count in commands)
              + f" (total {sum(c for _, c in commands):g})\n")

        table = pstats.Stats(profiler).stats          # (file, line, name) -> (cc, nc, tt, ct, callers)
        total = None
        rows = []
        for label, suffix, name, *line in STEPS:
            found = [(key, value) for key, value in table.items()
                     if key[0].endswith(suffix) and key[2] == name and (not line or key[1] == line[0])]
            if not found:
                continue
            calls = sum(v[1] for _, v in found)
            cumulative = sum(v[3] for _, v in found)
            if total is None:
                total = cumulative
            rows.append([label, f"{calls / args.calls:g}", f"{cumulative / args.calls * 1000:.2f}",
                         f"{cumulative / total * 100:.0f}%"])
        print(h.table(["step (cProfile cumulative)", "calls/text", "ms/text", "share"], rows))

        print("\ntop functions by own time (cProfile):")
        own = sorted(table.items(), key=lambda kv: -kv[1][2])[:15]
        print(h.table(["function", "calls/text", "own ms/text"],
                      [[f"{k[0].split('site-packages/')[-1].split('/work/main/')[-1]}:{k[1]}({k[2]})",
                        f"{v[1] / args.calls:g}", f"{v[2] / args.calls * 1000:.3f}"] for k, v in own]))

        if args.tree:
            try:
                from pyinstrument import Profiler
            except ImportError:
                print("\n(pyinstrument is not installed: pip install pyinstrument for the call tree)")
            else:
                tree_requests = batch(40000, args.calls)
                profiler = Profiler(interval=0.0005)
                profiler.start()
                run(tree_requests)
                profiler.stop()
                print(profiler.output_text(unicode=False, color=False, show_all=False))


if __name__ == "__main__":
    main()
