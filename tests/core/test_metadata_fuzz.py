"""Fuzz: hostile PNGs and non-PNGs never crash, hang or balloon the details reader.

The corpus (``hostile_pngs.py``, several hundred files, seeded ``random.Random(1234)``) holds truncated
PNGs, bad CRCs, absurd chunk lengths, 1 GiB zlib bombs, 100k-deep JSON, 10 MB text chunks, wrong
types in every field, prompt graphs with cycles and dangling links, JPEG/WebP/GIF/BMP/TIFF, empty and
random files, and 100k-chunk PNGs. Each file must give a ``ReadResult`` (or ``DetailsError``) in under
a second and under 64 MB of Python allocations; the bounds are limits, not benchmarks.
"""

from __future__ import annotations

import random
import time
import tracemalloc
import zlib
from pathlib import Path

import pytest

from seed_number.nodes.core.details_fields import FIELDS, DetailsError
from seed_number.nodes.core.details_json import details_json, parse_details_json
from seed_number.nodes.core.png_details import SOURCES, ReadResult, read_png_details
from seed_number.nodes.core.png_text import MAX_CHUNKS
from tests.core import hostile_pngs as hostile

SEED = 1234
TIME_LIMIT_S = 5.0
"""A bound against a hang or a blowup, not speed: the slowest file (a 40,000-node prompt chain) reads
in ~0.5 s on a busy 2-core machine, a 10 MB one in ~0.3 s; the benchmark carries the real figure."""
MEMORY_LIMIT = 64 * 1024 * 1024


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    state = random.getstate()
    paths = hostile.write_corpus(tmp_path_factory.mktemp("hostile"), random.Random(SEED))
    assert random.getstate() == state, "the generator touched the global random state"
    return {path.stem: path for path in paths}


def _read(source: Path | bytes) -> ReadResult | DetailsError:
    try:
        return read_png_details(source)
    except DetailsError as error:
        return error


def _check_result(name: str, result: ReadResult | DetailsError) -> str | None:
    """What is wrong with one outcome, or None."""
    if isinstance(result, DetailsError):
        return None
    if not isinstance(result, ReadResult) or result.source not in SOURCES:
        return f"{name}: not a ReadResult: {result!r:.200}"
    if not all(isinstance(p, str) for p in result.problems) or len(result.problems) > 100:
        return f"{name}: problems is not a short list of text ({len(result.problems)})"
    if (result.source == "none") != (not result.details):
        return f"{name}: source {result.source!r} with details {result.details!r:.200}"
    problems: list[str] = []
    again = parse_details_json(details_json(result.details), problems)
    if again != result.details or problems:
        return f"{name}: details that do not validate: {problems}"
    return None


def test_corpus_is_large_deterministic_and_varied(corpus: dict[str, Path]) -> None:
    assert len(corpus) >= 200
    again = [(name, zlib.crc32(data)) for name, data in hostile.cases(random.Random(SEED))]
    assert again == [(name, zlib.crc32(corpus[name].read_bytes())) for name in corpus]
    prefixes = {name.split("-")[0] for name in corpus}
    assert {"truncated", "bad", "length", "bomb", "deep", "10mb", "wrong", "prompt", "format", "100k"} <= prefixes


def test_every_hostile_file_reads_fast_small_and_well_formed(corpus: dict[str, Path]) -> None:
    failures: list[str] = []
    sources: dict[str, int] = {}
    for name, path in corpus.items():
        start = time.perf_counter()
        result = _read(path)
        elapsed = time.perf_counter() - start
        if elapsed >= TIME_LIMIT_S:
            failures.append(f"{name}: {elapsed:.2f} s")
        tracemalloc.start()
        try:
            _read(path)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        if peak >= MEMORY_LIMIT:
            failures.append(f"{name}: {peak / 2**20:.0f} MiB peak")
        problem = _check_result(name, result)
        if problem:
            failures.append(problem)
        if path.stat().st_size < 1 << 20 and isinstance(result, ReadResult) and _read(path.read_bytes()) != result:
            failures.append(f"{name}: bytes and path give different results")
        key = result.source if isinstance(result, ReadResult) else "DetailsError"
        sources[key] = sources.get(key, 0) + 1
    assert failures == []
    assert set(sources) == set(SOURCES), sources  # the corpus reaches every outcome


def test_bombs_and_oversized_texts_are_skipped_with_a_reason(corpus: dict[str, Path]) -> None:
    for name in [n for n in corpus if n.startswith(("bomb-", "10mb-"))]:
        result = read_png_details(corpus[name])
        assert result.source == "none", name
        assert any("max_text" in p for p in result.problems), (name, result.problems)


def test_deep_json_is_refused_not_a_recursion_error(corpus: dict[str, Path]) -> None:
    for name in [n for n in corpus if n.startswith("deep-") and not n.endswith("parameters")]:
        result = read_png_details(corpus[name])
        assert result.source == "none", name
        assert any("nested too deeply" in p or "not valid JSON" in p for p in result.problems), (name, result.problems)


def test_wrong_types_drop_only_that_field(corpus: dict[str, Path]) -> None:
    good = {k: v for k, v in hostile.GOOD_DETAILS.items() if k != "version"}
    for name in [n for n in corpus if n.startswith("wrong-")]:
        field = next(f for f in [*FIELDS, "version", "unknown_field"] if name.startswith(f"wrong-{f}-"))
        result = read_png_details(corpus[name])
        assert result.source == "seed_number", name
        others = {k: v for k, v in result.details.items() if k not in (field, "unknown_field")}
        assert others == {k: v for k, v in good.items() if k != field}, name
        if field in FIELDS and field not in result.details:
            assert any(repr(field) in p for p in result.problems), (name, result.problems)


def test_non_png_and_broken_signatures_are_source_none(corpus: dict[str, Path]) -> None:
    expected = {
        "format-jpeg": "JPEG",
        "format-webp": "WebP",
        "format-gif": "GIF",
        "format-bmp": "BMP",
        "format-tiff": "unknown format",
        "empty": "empty file",
        "signature-half": "truncated or damaged PNG signature",
    }
    for name, kind in expected.items():
        assert read_png_details(corpus[name]) == ReadResult({}, "none", [f"not a PNG file ({kind})"]), name


def test_many_chunks_stop_at_the_limit(corpus: dict[str, Path]) -> None:
    for name in ("100k-tiny-chunks", "100k-private-chunks"):
        result = read_png_details(corpus[name])
        assert result.source == "none"
        assert result.problems[0].startswith(f"more than {MAX_CHUNKS} chunks")
    duplicates = read_png_details(corpus["100k-duplicate-prompts"])
    assert duplicates.source == "comfyui prompt" and duplicates.details["seed"] == 406220
    assert len(duplicates.problems) == 2


def test_truncated_files_keep_what_came_before_the_cut(corpus: dict[str, Path]) -> None:
    full = read_png_details(corpus["good-all"])
    assert full.source == "seed_number" and full.problems == []
    size = corpus["good-all"].stat().st_size
    for name in [n for n in corpus if n.startswith("truncated-at-")]:
        cut = int(name.rsplit("-", 1)[1])
        result = read_png_details(corpus[name])
        assert result.source in ("none", "seed_number", "comfyui prompt", "a1111 parameters"), name
        if cut < size:
            assert result.problems, name
        if result.source == "seed_number":
            assert result.details == full.details, name
