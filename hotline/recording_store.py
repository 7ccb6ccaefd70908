"""A district's own recordings, made by phone on its recording line: one folder per language under
the district's storage (``recording_line.storage``, else ``<var>/recordings/<district id>``), laid
out as messages/audio/<lang>/ is (docs/languages.md). The hotline serves them and counts them."""

from __future__ import annotations

import os
import re
from pathlib import Path

from .district import District

# What a recording may be called: message keys, pieces, digits/N, names/<slug>. Nothing that could
# climb out of the folder.
_NAME = re.compile(r"^[a-z0-9_][a-z0-9_.-]*(/[a-z0-9_][a-z0-9_.-]*)?$")
_LANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]+)?$")


def storage_folder(district: District, var_dir: Path) -> Path:
    line = district.recording_line
    if line and line.storage:
        return line.storage
    return Path(var_dir) / "recordings" / district.id


def valid(lang: str, name: str) -> bool:
    return bool(_LANG.match(lang) and _NAME.match(name) and ".." not in name)


def stored(folder: Path, lang: str) -> frozenset[str]:
    """The recordings kept for ``lang``, as names without .mp3 (family.welcome, digits/5, ...)."""
    base = folder / lang
    if not _LANG.match(lang) or not base.is_dir():
        return frozenset()
    return frozenset(p.relative_to(base).with_suffix("").as_posix() for p in base.rglob("*.mp3"))


def path_of(folder: Path, lang: str, name: str) -> Path | None:
    if not valid(lang, name):
        return None
    path = folder / lang / f"{name}.mp3"
    return path if path.is_file() else None


def save(folder: Path, lang: str, name: str, data: bytes) -> Path:
    if not valid(lang, name):
        raise ValueError(f"not a recording name: {lang}/{name}")
    path = folder / lang / f"{name}.mp3"
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".part")
    temporary.write_bytes(data)
    os.replace(temporary, path)       # a caller never gets half a file
    return path
