"""Copies of the demo district with changes, for tests and benchmarks: office hours always open
(so nothing depends on the time of day it runs at), then the caller's changes merged in. An
office's hours in the changes replace that office's schedule whole: merged into the demo's, a
"never open" kept its weekday hours, and the after-hours tests then failed on weekdays from
07:30 to 17:00 in Denver."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

from ..content import demo_district

ALWAYS_OPEN = {"daily": "00:00-24:00"}
ALWAYS_CLOSED = {"daily": "00:00-00:00"}   # never open


def deep_merge(base: dict, changes: dict) -> dict:
    merged = copy.deepcopy(base)
    for name, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(name), dict):
            merged[name] = deep_merge(merged[name], value)
        else:
            merged[name] = value
    return merged


def write_demo_copy(path: Path, changes: dict | None = None) -> Path:
    """The demo district, always open, with ``changes`` merged in, written to ``path``."""
    data = yaml.safe_load(demo_district().read_text(encoding="utf-8"))
    changes = copy.deepcopy(changes or {})
    data["office_hours"] = {office: dict(ALWAYS_OPEN) for office in data.get("office_hours", {})}
    data["office_hours"].update(changes.pop("office_hours", {}))
    data = deep_merge(data, changes)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path
