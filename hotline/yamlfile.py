"""Reading the hotline's YAML files (districts, flows, catalogs) safely and fast: libyaml's
CSafeLoader where PyYAML was built with it (about ten times faster), else the pure-Python one."""

from __future__ import annotations

from pathlib import Path

import yaml

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path):
    """The document in ``path``; OSError and yaml.YAMLError propagate for the caller to report."""
    return yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506 — a safe loader


class _WrittenInt(int):
    """An integer that remembers how it was written: YAML 1.1 reads ``07341`` as the octal 3809, and a
    staff code or phone number written without quotes must keep the digits the district typed."""

    written: str

    def __str__(self) -> str:
        return self.written

    __repr__ = __str__


def _construct_int(loader, node):
    value = _WrittenInt(loader.construct_yaml_int(node))
    value.written = str(node.value)
    return value


def _construct_text(loader, node):
    return str(node.value)


class _DistrictLoader(_Loader):
    """The safe loader, but dates stay text (an impossible date such as 2027-13-01 then becomes a
    problem the district reader names, not a traceback) and integers keep their written digits."""


_DistrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_text)
_DistrictLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)


def parse_district_yaml(text: str):
    """A district file's document: like ``read_yaml``, with dates as text and integers as written."""
    return yaml.load(text, Loader=_DistrictLoader)  # noqa: S506 — a safe loader


def read_district_yaml(path: Path):
    return parse_district_yaml(Path(path).read_text(encoding="utf-8"))
