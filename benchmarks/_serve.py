"""Serve a WSGI app factory with the hotline's production web server (hotline/webserver.py), so the
bare baseline runs on exactly the server the hotline runs on (`hotline web`, the Procfile's).

    python benchmarks/_serve.py MODULE:FACTORY PORT THREADS
"""

from __future__ import annotations

import importlib
import signal
import sys

from hotline.webserver import run


def main() -> None:
    target, port, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    module, factory = target.split(":")
    app = getattr(importlib.import_module(module), factory.removesuffix("()"))()

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    run(app, "127.0.0.1", port, threads=threads)


if __name__ == "__main__":
    main()
