"""The engine imports nothing from Flask, Redis, RQ or Twilio: it is data in, data out."""

import json
import subprocess
import sys


def test_engine_imports_no_io_libraries():
    probe = ("import sys, json, hotline.engine; "
             "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
             "('flask', 'werkzeug', 'redis', 'rq', 'twilio', 'requests'))))")
    output = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert json.loads(output) == []
