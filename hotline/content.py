"""Where the hotline's data lives: flows/, messages/ and districts/.

From a clone (or an editable install) they are the folders at the top of the repository; from an
installed wheel they travel inside the package as ``hotline/_content/``. A district can point at
its own copies with ``content:`` in its district file (see docs/districts.md).
"""

from __future__ import annotations

import functools
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


@functools.lru_cache(maxsize=1)
def content_root() -> Path:
    repository = _PACKAGE.parent
    if (repository / "flows").is_dir() and (repository / "messages").is_dir():
        return repository
    return _PACKAGE / "_content"


def flows_dir() -> Path:
    return content_root() / "flows"


def messages_dir() -> Path:
    return content_root() / "messages"


def districts_dir() -> Path:
    return content_root() / "districts"


def demo_district() -> Path:
    return districts_dir() / "demo.yaml"
