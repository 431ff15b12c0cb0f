"""Shared by the benchmark scripts: timing helpers and an in-process ComfyUI (CPU)."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))


def timed(fn: Callable[[], Any], runs: int = 2000, warmup: int = 100) -> dict[str, float]:
    """Median and p95 of ``fn`` in milliseconds."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter_ns()
        fn()
        samples.append((time.perf_counter_ns() - start) / 1e6)
    samples.sort()
    return {"median_ms": statistics.median(samples), "p95_ms": samples[int(len(samples) * 0.95)], "runs": runs}


def paired(first: Callable[[int], object], second: Callable[[int], object], runs: int = 60) -> tuple[list, list]:
    """Times of ``first`` and ``second``, interleaved with alternating order so drift hits both alike."""
    a, b = [], []
    for i in range(runs):
        for fn, out in ((first, a), (second, b)) if i % 2 == 0 else ((second, b), (first, a)):
            start = time.perf_counter()
            fn(i)
            out.append(time.perf_counter() - start)
    return a, b


def comfy_in_process() -> Path | None:
    """The pack importable as ``seed_number`` and ComfyUI's modules on the path (CPU); None without ComfyUI."""
    from tools.comfy_server import find_comfyui
    from tools.pack import load_pack

    load_pack()
    comfyui = find_comfyui()
    if comfyui is None:
        return None
    if str(comfyui) not in sys.path:
        sys.path.insert(0, str(comfyui))
    import comfy.cli_args

    comfy.cli_args.args.cpu = True
    return comfyui


def execution_seconds(entry: dict[str, Any]) -> float:
    """Seconds ComfyUI spent executing a prompt, from its /history status timestamps."""
    stamps = {m[0]: m[1]["timestamp"] for m in entry["status"]["messages"]}
    return (stamps["execution_success"] - stamps["execution_start"]) / 1000.0


def record(name: str, rows: list[dict[str, Any]]) -> None:
    """Keep one benchmark's rows for the performance table (``benchmarks/table.py``).

    Each row: ``what``, ``measured`` and ``baseline`` (text with units), ``ratio`` (text). Written
    only when ``SEED_NUMBER_BENCH_OUT`` names a folder (``scripts/bench`` sets it).
    """
    import json
    import os

    folder = os.environ.get("SEED_NUMBER_BENCH_OUT")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    (Path(folder) / f"{name}.json").write_text(json.dumps(rows, indent=1))
