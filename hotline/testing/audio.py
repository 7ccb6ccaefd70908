"""Tiny recordings for tests: one silent MPEG-1 Layer III frame (417 bytes) per file, so a test
can install a complete set of a language's recordings without committing any audio."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

# 128 kbit/s, 44.1 kHz, no padding: a 417-byte frame of silence.
SILENT_FRAME = bytes([0xFF, 0xFB, 0x90, 0x64]) + bytes(413)


def write_recordings(folder: Path, names: Iterable[str]) -> int:
    """Write ``<name>.mp3`` under ``folder`` for each name (names may hold a folder: digits/5)."""
    count = 0
    for name in names:
        path = folder / f"{name}.mp3"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(SILENT_FRAME)
        count += 1
    return count
