"""Serve a WSGI app factory with the hotline's production web server (hotline/webserver.py), so the
bare baseline runs on exactly the server the hotline runs on (`hotline web`, the Procfile's).

    python benchmarks/_serve.py MODULE:FACTORY PORT THREADS PROCESSES
"""

from __future__ import annotations

import importlib
import sys

from hotline.webprocesses import WebProcesses


def main() -> None:
    target, port, threads, processes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    module, factory = target.split(":")
    app = getattr(importlib.import_module(module), factory.removesuffix("()"))()
    WebProcesses(app, "127.0.0.1", port, processes, threads).run()


if __name__ == "__main__":
    main()
