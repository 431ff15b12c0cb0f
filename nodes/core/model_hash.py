"""Model file hashes: the sha256 of a whole file, A1111's AutoV2 hash, and a bounded cache for them.

Pure Python (stdlib only). Hashing a multi-GB checkpoint takes seconds, so callers pass a cache keyed by
(real path, size, mtime_ns): a changed file is hashed again, an unchanged one never. ``HashCache`` is a
thread-safe cache of the last N files; this module keeps none itself (the node layer owns the
process-wide one: ``nodes/seed_details.py``).
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from typing import Any

__all__ = ["HashCache", "autov2_hash", "file_sha256"]

_HASH_BLOCK = 1 << 20

HashKey = tuple[str, int, int]
"""``(real path, size, mtime_ns)``: a file as it is now."""


class HashCache:
    """A thread-safe cache of file digests that keeps the last ``max_entries`` files used."""

    def __init__(self, max_entries: int = 256) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[HashKey, str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: HashKey) -> str | None:
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None:
                self._entries.move_to_end(key)
            return hit

    def __setitem__(self, key: HashKey, digest: str) -> None:
        with self._lock:
            self._entries[key] = digest
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


def _sha256_file(path: str) -> str:
    """The sha256 hex digest of the file at ``path``, read in 1 MiB blocks (no cache)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(_HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def file_sha256(path: str | os.PathLike[str], cache: dict[Any, str] | HashCache | None = None) -> str:
    """The sha256 hex digest of a whole file, read in 1 MiB blocks, cached by (realpath, size, mtime_ns).

    ``cache`` is a ``HashCache`` (thread-safe, bounded) or a plain dict; without one the file is hashed
    every time. Raises ``OSError`` when the file cannot be read.
    """
    real = os.path.realpath(os.fspath(path))
    info = os.stat(real)
    key = (real, info.st_size, info.st_mtime_ns)
    if cache is None:
        return _sha256_file(real)
    hit = cache.get(key)
    if hit is None:
        hit = cache[key] = _sha256_file(real)
    return hit


def autov2_hash(path: str | os.PathLike[str], cache: dict[Any, str] | HashCache | None = None) -> str:
    """A1111's AutoV2 model hash: the first 10 hex characters of the file's sha256 (see ``file_sha256``)."""
    return file_sha256(path, cache)[:10]
