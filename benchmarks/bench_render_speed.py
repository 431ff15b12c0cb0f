"""Benchmark (not a test): the speed ladder in one queue vs three separately queued prompts.

Run: ``scripts/bench`` or ``python -m benchmarks.bench_render_speed [--sizes 64 256] [--rounds N]`` in
the test venv with COMFYUI_PATH set. Both sides run on one warm headless ComfyUI with the demo
checkpoint (its loader and text encodings cached, as in a user's session); every round uses a new
seed so the samplers really run. Also times Render Speed Preset's and Seed Source's execution
(in-process, target ≤ 1 ms median). Prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from typing import Any

from benchmarks.common import ROOT, comfy_in_process, record, timed

SPEEDS = ("Turbo", "Default", "Quality")


def ladder_prompt(size: int, seed: int, speed: str = "Ladder") -> dict[str, Any]:
    prompt = json.loads((ROOT / "workflows/api/render_speed_ladder.json").read_text())
    prompt["4"]["inputs"].update(width=size, height=size)
    prompt["5"]["inputs"].update(seed_number=seed, mode="fixed")
    prompt["9"]["inputs"].update(speed=speed, model_family="SD1.5")
    prompt["8"]["inputs"]["filename_prefix"] = "bench/ladder"
    del prompt["10"]  # the contact sheet is not part of the comparison
    return prompt


def node_timings() -> dict[str, dict[str, float]]:
    from comfy_api.latest import io

    from seed_number.nodes.render_speed_preset import RenderSpeedPreset
    from seed_number.nodes.seed_source import SeedSource

    preset = RenderSpeedPreset.PREPARE_CLASS_CLONE({io.Hidden.unique_id: "9", io.Hidden.prompt: {}})
    source = SeedSource.PREPARE_CLASS_CLONE({io.Hidden.unique_id: "5", io.Hidden.prompt: {}})
    return {
        "render_speed_preset_execute_ladder": timed(
            lambda: preset.EXECUTE_NORMALIZED(speed="Ladder", model_family="SD1.5")
        ),
        "render_speed_preset_execute_default": timed(
            lambda: preset.EXECUTE_NORMALIZED(speed="Default", model_family="SDXL")
        ),
        "seed_source_execute_count_8": timed(
            lambda: source.EXECUTE_NORMALIZED(seed_number=5, mode="fixed", batch_seeds="shared", count=8)
        ),
    }


def server_timings(sizes: list[int], rounds: int) -> list[dict[str, Any]]:
    from tools.comfy_server import ComfyServer, find_comfyui
    from tools.demo import cache_dir
    from tools.demo_checkpoint import ensure_checkpoint

    server = ComfyServer(find_comfyui(), checkpoints=[ensure_checkpoint(cache_dir() / "models")], cpu=True)
    rows = []
    seed = 1000
    try:
        server.start()
        server.run(ladder_prompt(64, seed, "Turbo"))  # warm-up: model load, text encodings
        for size in sizes:
            ladder_times, separate_times = [], []
            for _ in range(rounds):
                seed += 1
                start = time.perf_counter()
                server.run(ladder_prompt(size, seed), timeout=1800)
                ladder_times.append(time.perf_counter() - start)
                seed += 1
                start = time.perf_counter()
                ids = [server.queue(ladder_prompt(size, seed, speed)) for speed in SPEEDS]
                for prompt_id in ids:
                    server.wait(prompt_id, timeout=1800)
                separate_times.append(time.perf_counter() - start)
            ladder, separate = statistics.median(ladder_times), statistics.median(separate_times)
            rows.append({"size": size, "ladder_s": ladder, "separate_s": separate, "speedup": separate / ladder})
    finally:
        server.cleanup()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    if comfy_in_process() is None:
        print("no ComfyUI found (set COMFYUI_PATH): nothing measured")  # noqa: T201
        return 1
    for name, figures in node_timings().items():
        print(f"{name}: median_ms={figures['median_ms']:.4f}, p95_ms={figures['p95_ms']:.4f}")  # noqa: T201
    rows = server_timings(args.sizes, args.rounds)
    print("\n| size | ladder, one queue (s) | 3 separate prompts (s) | separate / ladder |")  # noqa: T201
    print("|---|---|---|---|")  # noqa: T201
    for r in rows:
        print(f"| {r['size']}² | {r['ladder_s']:.2f} | {r['separate_s']:.2f} | {r['speedup']:.2f}× |")  # noqa: T201
    record(
        "bench_render_speed",
        [
            {
                "what": f"speed ladder (Turbo+Default+Quality) in one queue, {r['size']}²",
                "measured": f"{r['ladder_s']:.2f} s",
                "baseline": f"3 separate prompts {r['separate_s']:.2f} s",
                "ratio": f"separate / ladder {r['speedup']:.2f}×",
            }
            for r in rows
        ],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
