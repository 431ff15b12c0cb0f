"""Model hashes: sha256 and AutoV2, cached by real path, size and mtime in a bounded, thread-safe cache."""

from __future__ import annotations

import hashlib
import os
import random
import threading
from pathlib import Path

import pytest

from seed_number.nodes.core import model_hash
from seed_number.nodes.core.model_hash import HashCache, autov2_hash, file_sha256


def test_autov2_hash_is_sha256_prefix(tmp_path: Path) -> None:
    data = random.Random(7).randbytes(3 * 1024 * 1024 + 17)
    path = tmp_path / "model.safetensors"
    path.write_bytes(data)
    assert file_sha256(path) == hashlib.sha256(data).hexdigest()
    assert autov2_hash(path) == hashlib.sha256(data).hexdigest()[:10]


def test_autov2_hash_is_cached_by_path_size_and_mtime(tmp_path: Path) -> None:
    cache = HashCache()
    path = tmp_path / "m.ckpt"
    path.write_bytes(b"a" * 1000)
    first = autov2_hash(path, cache)
    stat = path.stat()
    path.write_bytes(b"b" * 1000)  # same size; put the old mtime back: a cache hit must not re-read
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert autov2_hash(path, cache) == first
    assert autov2_hash(tmp_path / "." / "m.ckpt", cache) == first  # keyed by the real path
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert autov2_hash(path, cache) == hashlib.sha256(b"b" * 1000).hexdigest()[:10]


def test_autov2_hash_own_cache_and_bound(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "x.bin"
    path.write_bytes(b"x")
    stat = path.stat()
    cache = {(str(path.resolve()), stat.st_size, stat.st_mtime_ns): "f" * 64}
    assert autov2_hash(path, cache) == "f" * 10
    calls = []
    real = model_hash._sha256_file
    monkeypatch.setattr(model_hash, "_sha256_file", lambda p: calls.append(p) or real(p))
    bounded = HashCache(max_entries=3)
    paths = []
    for i in range(5):
        paths.append(tmp_path / f"{i}.bin")
        paths[-1].write_bytes(bytes([i]))
        autov2_hash(paths[-1], bounded)
    assert len(bounded) <= 3
    autov2_hash(paths[-1], bounded)
    assert len(calls) == 5


def test_autov2_hash_threads_agree(tmp_path: Path) -> None:
    path = tmp_path / "t.bin"
    path.write_bytes(random.Random(3).randbytes(2 * 1024 * 1024))
    results: list[str] = []
    cache = HashCache()
    threads = [threading.Thread(target=lambda: results.append(autov2_hash(path, cache))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [hashlib.sha256(path.read_bytes()).hexdigest()[:10]] * 8


def test_autov2_hash_missing_file_raises_oserror(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        autov2_hash(tmp_path / "nope")
