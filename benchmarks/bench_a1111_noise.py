"""Benchmark (not a test): ``a1111 gpu`` noise (Philox4x32-10 + Box–Muller on the CPU) per call.

Run: ``scripts/bench`` (or ``python -m benchmarks.bench_a1111_noise`` in the test venv; no ComfyUI
needed). Times one image's noise for a 1024² SDXL latent (4×128×128) and a 16×128×128 latent
(SD3/Flux-type) beside torch's CPU ``randn`` of the same shape from a freshly seeded CPU generator
(the baseline, measured in the same run, interleaved in alternating order). Prints medians in
milliseconds of wall time (the table's figure) and of the thread's CPU time (what a busy machine
does not inflate: the noise takes ~60 numpy calls and gets pre-empted between them, ``randn`` one
short call); the target is ≤ 5× ``randn``.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable

from benchmarks.common import record

SHAPES = ((4, 128, 128), (16, 128, 128))
RUNS = 200


def paired_times(first: Callable[[int], object], second: Callable[[int], object], runs: int) -> list[list[tuple]]:
    """(wall s, CPU s) of each call of ``first`` and ``second``, interleaved, alternating which goes first."""
    times: list[list[tuple]] = [[], []]
    for i in range(runs):
        order = (0, 1) if i % 2 == 0 else (1, 0)
        for k in order:
            fn = (first, second)[k]
            wall, cpu = time.perf_counter(), time.thread_time()
            fn(i)
            times[k].append((time.perf_counter() - wall, time.thread_time() - cpu))
    return times


def main() -> int:
    import torch

    from tools.pack import load_pack

    load_pack()
    from seed_number.nodes.core.a1111_noise import a1111_noise

    rows = []
    for shape in SHAPES:
        for i in range(10):  # warm-up
            a1111_noise(i, shape, source="a1111 gpu")
            torch.randn(shape, generator=torch.Generator().manual_seed(i))
        baseline, ours = paired_times(
            lambda i, shape=shape: torch.randn(shape, generator=torch.Generator().manual_seed(i)),
            lambda i, shape=shape: a1111_noise(i, shape, source="a1111 gpu"),
            RUNS,
        )
        base_ms, ours_ms = (statistics.median(t[0] for t in ts) * 1000 for ts in (baseline, ours))
        base_cpu, ours_cpu = (statistics.median(t[1] for t in ts) * 1000 for ts in (baseline, ours))
        size = "×".join(str(d) for d in shape)
        print(  # noqa: T201 - a benchmark's report is its output
            f"a1111_gpu_noise_{size}: median_ms={ours_ms:.3f}, torch_cpu_randn_median_ms={base_ms:.3f}, "
            f"ratio={ours_ms / base_ms:.2f}x; cpu_median_ms={ours_cpu:.3f} vs {base_cpu:.3f}, "
            f"cpu_ratio={ours_cpu / base_cpu:.2f}x"
        )
        rows.append(
            {
                "what": f"`a1111 gpu` noise (Philox + Box–Muller on the CPU), one {size} latent",
                "measured": f"{ours_ms:.2f} ms",
                "baseline": f"torch CPU randn, same shape {base_ms:.2f} ms",
                "ratio": f"{ours_ms / base_ms:.2f}× (CPU time {ours_cpu / base_cpu:.2f}×)",
            }
        )
    record("bench_a1111_noise", rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
