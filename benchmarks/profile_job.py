"""Where an escalation job's time goes: what an RQ work horse of ``hotline worker`` does before and
during one delivery, timed step by step in a forked child, the way RQ's Worker runs every job.

    /work/venv/bin/python benchmarks/profile_job.py [--roster 200] [--forks 5]

``hotline worker`` builds Services once in the parent and, before RQ forks the first horse,
installs them and imports what jobs use (``worker.prepare``: the district files, flows and catalogs,
the twilio REST resources, hotline.incidents.escalation, babel), so a job's horse inherits all of it. Two
parents are compared: ``hotline worker`` as it is (``worker.prepare``), and a cold parent that does
not install its Services, where every horse rebuilds them from the environment and imports on first
use (how the worker was before that fix: the cost it saves, growing with the roster).
"""

from __future__ import annotations

import argparse
import json
import subprocess

import _harness as h

CHILD = r'''
import json, os, sys, time
from hotline import jobs, worker                     # what `hotline worker` imports
from hotline.services import Services, current, install
from hotline.settings import settings_from_env

parent = Services(settings_from_env())                # as cli.worker does
if sys.argv[1] == "worker":
    worker.prepare(parent)                            # what `hotline worker` does before its first fork
    parent.outbound.client.messages, parent.outbound.client.calls

def horse(out):
    steps, t = {}, time.perf_counter()
    def mark(name):
        nonlocal t
        now = time.perf_counter(); steps[name] = (now - t) * 1000; t = now
    services = current(); mark("services.current() (builds Services if not installed)")
    services.redis.ping(); mark("Redis connection (new after fork)")
    services.outbound.client.messages; mark("twilio Client + messages resource (imports)")
    from hotline.incidents import escalation; import babel.dates; mark("import hotline.incidents.escalation + babel.dates")
    services.outbound.send_sms("+13035550100", "+13035550110", "probe 1"); mark("messages.create (1st, new HTTP connection)")
    services.outbound.send_sms("+13035550100", "+13035550110", "probe 2"); mark("messages.create (2nd)")
    os.write(out, json.dumps(steps).encode())

results = []
for _ in range(int(sys.argv[2])):
    r, w = os.pipe()
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os.close(r); horse(w); os._exit(0)
    os.close(w)
    data = b""
    while chunk := os.read(r, 65536):
        data += chunk
    os.waitpid(pid, 0)
    steps = json.loads(data)
    steps["fork -> child exit (total)"] = (time.perf_counter() - t0) * 1000
    results.append(steps)
print(json.dumps(results))
'''


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--roster", type=int, default=200, help="generated roster numbers in the district copy")
    parser.add_argument("--forks", type=int, default=5)
    args = parser.parse_args()
    h.print_header("Profile of one escalation job's work horse (fork per job, as RQ's Worker does)")
    with h.Stack("jobprofile") as stack:
        stack.start_redis()
        stack.start_fake(auto_status=False)
        roster = {h.sender(i): {"name": f"Staff {i}", "role": "front desk", "school": "roosevelt"}
                  for i in range(args.roster)}
        district = h.write_district(stack.tmp / "district.yaml", {"roster": roster})
        env = stack.env(district, "http://127.0.0.1:9")
        columns = {}
        for mode in ("cold", "worker"):
            out = subprocess.run([h.PYTHON, "-c", CHILD, mode, str(args.forks)], env=env, cwd=str(h.REPO),
                                 capture_output=True, text=True, check=True)
            runs = json.loads(out.stdout.strip().splitlines()[-1])
            columns[mode] = {step: sorted(r[step] for r in runs)[len(runs) // 2] for step in runs[0]}
    steps = list(columns["cold"])
    rows = [[step, f"{columns['cold'][step]:.1f}", f"{columns['worker'][step]:.1f}"] for step in steps]
    print(f"district copy with a {args.roster + 3}-number roster; median of {args.forks} forks, ms")
    print(h.table(["step in the forked job", "cold parent (no prepare)", "hotline worker (prepare)"], rows))


if __name__ == "__main__":
    main()
