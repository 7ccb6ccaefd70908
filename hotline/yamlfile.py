"""Reading the hotline's YAML files (districts, flows, catalogs) safely and fast: libyaml's
CSafeLoader where PyYAML was built with it (about ten times faster), else the pure-Python one."""

from __future__ import annotations

from pathlib import Path

import yaml

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path):
    """The document in ``path``; OSError and yaml.YAMLError propagate for the caller to report."""
    return yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506 — a safe loader
