"""Benchmark (not a test): what the pack adds to one queued prompt.

Run: ``scripts/bench`` or ``python -m benchmarks.bench_overhead [--runs N]``. One warm headless
ComfyUI with the demo checkpoint; the example graph at 64², 1 step, queued and waited for
(ComfyUI's own execution time, ``execution_start`` → ``execution_success`` in ``/history``;
the prompt hook runs before that and is timed apart in ``bench_seed_source``: 0.06 ms), alternately:

- baseline: stock nodes only — KSampler with a literal seed (a new one each run) → Save Image;
- pack: Seed Source (random, resolved by the prompt hook) → KSampler → Seed Details.

Every run samples (new seed), so both sides pay the same model work; the difference is the hook,
Seed Source, Seed Details' details and chunks.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from typing import Any

from benchmarks.common import ROOT, execution_seconds, record


def prompts(seed: int) -> tuple[dict[str, Any], dict[str, Any]]:
    base = json.loads((ROOT / "workflows/api/seed_source_txt2img.json").read_text())
    base["4"]["inputs"].update(width=64, height=64)
    base["6"]["inputs"]["steps"] = 1
    stock = json.loads(json.dumps(base))
    del stock["5"]
    stock["6"]["inputs"]["seed"] = seed
    stock["8"]["inputs"]["filename_prefix"] = "bench/stock"
    pack = json.loads(json.dumps(base))
    pack["5"]["inputs"].update(mode="random")
    pack["8"] = {
        "class_type": "SeedDetails|SeedNumber",
        "inputs": {"images": ["7", 0], "filename_prefix": "bench/pack", "save": True},
    }
    return stock, pack


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args(argv)
    from tools.comfy_server import ComfyServer, find_comfyui
    from tools.demo import cache_dir
    from tools.demo_checkpoint import ensure_checkpoint

    comfyui = find_comfyui()
    if comfyui is None:
        print("no ComfyUI found (set COMFYUI_PATH): nothing measured")  # noqa: T201
        return 1
    server = ComfyServer(comfyui, checkpoints=[ensure_checkpoint(cache_dir() / "models")], cpu=True)
    try:
        server.start()
        for warm in range(3):
            for prompt in prompts(warm):
                server.run(prompt)
        stock_times, pack_times = [], []
        for i in range(args.runs):  # alternating order, so drift hits both alike
            stock, pack = prompts(1000 + i)
            for prompt, out in ((stock, stock_times), (pack, pack_times))[:: 1 if i % 2 == 0 else -1]:
                out.append(execution_seconds(server.run(prompt)))
    finally:
        server.cleanup()
    stock_ms = statistics.median(stock_times) * 1000
    pack_ms = statistics.median(pack_times) * 1000
    print(  # noqa: T201
        f"prompt_64px_1_step: stock_median_ms={stock_ms:.1f}, pack_median_ms={pack_ms:.1f}, "
        f"overhead_ms={pack_ms - stock_ms:+.1f}, ratio={pack_ms / stock_ms:.3f}, runs={args.runs}"
    )
    record(
        "bench_overhead",
        [
            {
                "what": "one prompt executed (64², 1 step): Seed Source + Seed Details vs stock seed + Save Image",
                "measured": f"{pack_ms:.0f} ms",
                "baseline": f"{stock_ms:.0f} ms",
                "ratio": f"{pack_ms / stock_ms:.2f}× ({pack_ms - stock_ms:+.0f} ms)",
            }
        ],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
