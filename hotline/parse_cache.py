"""What parsing a district's files produced, kept on disk keyed by the files' SHA-256, so that a
process start or a reload with unchanged files does not parse them again.

Parsing is the slow part of loading a large district: phonenumbers costs ~25 µs a number, so a
roster of 10,000 numbers costs a quarter of a second in every process (web workers, RQ workers, each
reload), and a folder of 50 such districts several seconds. The cache holds JSON (never pickles: a
file under var/ must not be able to run code): parsed CSV rows, and the E.164 form of each number
written in a district file. An entry's name carries the content's hash, the region, the parser's
version and phonenumbers' version, so a changed file, a new phonenumbers (new number ranges) or a
changed parser never reads a stale entry. Unwritable caches are skipped with one warning: the
hotline then parses, as it would without a cache.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections import OrderedDict
from pathlib import Path

import phonenumbers

log = logging.getLogger(__name__)

# Bump when what is cached changes shape or meaning.
PARSER_VERSION = "1"
_KEEP_ON_DISK = 500        # entries; the oldest are removed beyond this
_KEEP_IN_MEMORY = 256


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ParseCache:
    """Entries by (kind, content hash, region): in this process, and under ``folder`` when given."""

    def __init__(self, folder: Path | None = None):
        self.folder = folder
        self.memory: OrderedDict[str, object] = OrderedDict()
        self.warned = False

    def _name(self, kind: str, digest: str, region: str) -> str:
        return f"{kind}-{digest[:32]}-{region}-v{PARSER_VERSION}-pn{phonenumbers.__version__}.json"

    def get(self, kind: str, digest: str, region: str):
        name = self._name(kind, digest, region)
        if name in self.memory:
            self.memory.move_to_end(name)
            return self.memory[name]
        if self.folder is None:
            return None
        try:
            value = json.loads((self.folder / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        self._remember(name, value)
        return value

    def put(self, kind: str, digest: str, region: str, value) -> None:
        name = self._name(kind, digest, region)
        self._remember(name, value)
        if self.folder is None:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            temporary = self.folder / f".{name}.{os.getpid()}.tmp"
            temporary.write_text(json.dumps(value, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
            os.replace(temporary, self.folder / name)   # atomic: another process never reads half a file
            self._prune()
        except OSError as exc:
            if not self.warned:
                log.warning("district parse cache %s is not writable (%s): parsing at every start", self.folder,
                            exc.strerror)
                self.warned = True

    def _remember(self, name: str, value) -> None:
        if self.folder is not None:
            return      # the file is the cache: no second copy of 10,000 rows in every process
        self.memory[name] = value
        self.memory.move_to_end(name)
        while len(self.memory) > _KEEP_IN_MEMORY:
            self.memory.popitem(last=False)

    def _prune(self) -> None:
        entries = sorted(self.folder.glob("*.json"), key=lambda p: p.stat().st_mtime)
        for old in entries[:-_KEEP_ON_DISK]:
            old.unlink(missing_ok=True)


_caches: dict[Path | None, ParseCache] = {}


def cache_for(folder: Path | None) -> ParseCache:
    """One cache per folder in a process (None: in memory only)."""
    key = folder.resolve() if folder is not None else None
    if key not in _caches:
        _caches[key] = ParseCache(key)
    return _caches[key]
