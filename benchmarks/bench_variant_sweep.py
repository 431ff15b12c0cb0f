"""Benchmark (not a test): Prompt Variant Sweep's list vs batched vs auto execution on one server.

Run: ``python -m benchmarks.bench_variant_sweep`` in the test venv with COMFYUI_PATH set (or
``scripts/bench``). One headless ComfyUI (``--cpu`` unless ``--gpu``) with the demo checkpoint renders
``workflows/api/variant_sweep_batched.json`` (SamplerCustomAdvanced fed by the node's conditioning,
latent and noise) with N variants, the same seed, at each size and in each execution mode. The cells
are warmed up at one step, then run round-robin (ComfyUI runs with ``--cache-lru`` so alternating
modes do not evict each other's cached nodes); a cell's figure is the median of ``--runs`` runs.

Timed: ComfyUI's own execution time of the prompt (``execution_start`` → ``execution_success`` in
``/history``), with only the sampling path re-run: each run nudges the guider's cfg by 1e-6, so the
guider, the sampler, VAE decode and preview execute while the checkpoint and the node's CLIP
encodings come from the cache (they cost the same in every mode).

``--calibrate`` adds a column for chunks of two (two passes of a 2-variant batch), to re-check the
``auto`` thresholds in ``nodes/core/sweep.py`` (e.g. ``--sizes 64 96 128 160 192 256``).
Targets: auto ≥ 0.95 × the faster of list and batched at every size, and batched ≥ 1.5 × list at 64².
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import statistics
import sys
from pathlib import Path
from typing import Any

from benchmarks.common import execution_seconds, record

ROOT = Path(__file__).resolve().parent.parent
SWEEP = "20"
GUIDER = "11"

logger = logging.getLogger("seed_number.bench")


def sweep_prompt(size: int, execution: str, variants: int, steps: int, seed: int) -> dict[str, Any]:
    """The batched example graph at ``size``² with ``variants`` options and a preview instead of saving."""
    prompt = json.loads((ROOT / "workflows/api/variant_sweep_batched.json").read_text())
    options = ["blue", "purple", "red", "green", "amber", "teal", "grey", "gold"]
    if variants > len(options):
        raise ValueError(f"at most {len(options)} variants")
    prompt["4"]["inputs"].update(width=size, height=size, batch_size=1)
    prompt["5"]["inputs"].update(seed_number=seed, mode="fixed")
    prompt["13"]["inputs"]["steps"] = steps
    sweep = prompt[SWEEP]["inputs"]
    sweep["template"] = "a lighthouse on a cliff at dusk, dark {" + "|".join(options[:variants]) + "} gradient sky"
    sweep["execution"] = execution
    prompt["8"] = {"class_type": "PreviewImage", "inputs": {"images": ["7", 0]}}
    del prompt["10"]
    return prompt


class Runner:
    def __init__(self, server: Any) -> None:
        self.server = server
        self.nudge = 0

    def run(self, prompt: dict[str, Any]) -> tuple[float, dict[str, Any]]:
        prompt = copy.deepcopy(prompt)
        self.nudge += 1
        prompt[GUIDER]["inputs"]["cfg"] = 7.0 + self.nudge * 1e-6  # re-run the sampling path only
        entry = self.server.run(prompt, timeout=1800)
        return execution_seconds(entry), entry


def chunks_of(entry: dict[str, Any]) -> list[int]:
    return entry["outputs"][SWEEP]["seed_number_sweep"][0]["chunks"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 256, 512], help="image sizes in pixels")
    parser.add_argument("--variants", type=int, default=4)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--runs", type=int, default=2, help="runs per cell (the median is reported)")
    parser.add_argument("--calibrate", action="store_true", help="also time chunks of two")
    parser.add_argument("--gpu", action="store_true", help="run ComfyUI on its default device instead of --cpu")
    args = parser.parse_args(argv)
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
    logging.getLogger("seed_number").setLevel(logging.WARNING)
    logger.setLevel(logging.INFO)

    sys.path.append(str(ROOT))
    from tools.comfy_server import ComfyServer, find_comfyui
    from tools.demo_checkpoint import ensure_checkpoint

    comfyui = find_comfyui()
    if comfyui is None:
        logger.error("no ComfyUI found (set COMFYUI_PATH)")
        return 1
    cache = Path.home() / ".cache" / "seed-number"
    checkpoint = ensure_checkpoint(cache / "models")
    seed = 406220
    modes = ["list", "batched", "auto"] + (["pairs"] if args.calibrate else [])
    times: dict[tuple[int, str], list[float]] = {}
    plans: dict[int, list[int]] = {}
    # An LRU cache keeps every mode's node outputs, so the modes can alternate run by run.
    server = ComfyServer(comfyui, checkpoints=[checkpoint], cpu=not args.gpu, extra_args=["--cache-lru", "64"])
    with server:
        runner = Runner(server)
        device = None
        for size in args.sizes:
            prompts = {}
            for mode in modes:
                variants = 2 if mode == "pairs" else args.variants
                execution = "batched" if mode == "pairs" else mode
                prompts[mode] = sweep_prompt(size, execution, variants, args.steps, seed)
                # Warm-up at one step: model loading and allocations at this size, and the node's
                # CLIP encodings into the (LRU) cache.
                runner.run(sweep_prompt(size, execution, variants, 1, seed))
            for _ in range(args.runs):
                for mode in modes:  # round-robin, so a burst of load elsewhere hits every mode alike
                    seconds, entry = runner.run(prompts[mode])
                    if mode == "pairs":
                        seconds *= args.variants / 2  # N/2 passes of a 2-variant batch
                    times.setdefault((size, mode), []).append(seconds)
                    if mode == "auto":
                        plans[size] = chunks_of(entry)
                        device = entry["outputs"][SWEEP]["seed_number_sweep"][0]["device"]
            logger.info(
                "%d²: %s", size, ", ".join(f"{m} {' '.join(f'{t:.2f}' for t in times[(size, m)])}s" for m in modes)
            )

    header = "| size | list (s) | batched (s) | auto (s) | auto chunks |"
    rule = "|---|---|---|---|---|"
    if args.calibrate:
        header += " pairs (s) |"
        rule += "---|"
    header += " batched/list speed-up | auto / best |"
    rule += "---|---|"
    lines = [
        f"N = {args.variants} variants, {args.steps} steps, euler, demo SD1.5 checkpoint, device {device}, "
        f"median of {args.runs} runs per cell (seconds of ComfyUI execution)",
        "",
        header,
        rule,
    ]
    for size in args.sizes:
        med = {m: statistics.median(times[(size, m)]) for m in modes}
        best = min(med["list"], med["batched"])
        row = f"| {size}² | {med['list']:.2f} | {med['batched']:.2f} | {med['auto']:.2f} | {plans[size]} |"
        if args.calibrate:
            row += f" {med['pairs']:.2f} |"
        # Speed ratios: > 1 means faster. auto / best is best time / auto time (target ≥ 0.95).
        row += f" {med['list'] / med['batched']:.2f}× | {best / med['auto']:.2f} |"
        lines.append(row)
    lines += [
        "",
        "batched/list speed-up = list time / batched time; auto / best = min(list, batched) time / auto time "
        "(targets: ≥ 1.5× at 64², ≥ 0.95 everywhere).",
    ]
    logger.info("\n".join(lines))
    rows = []
    for size in args.sizes:
        med = {m: statistics.median(times[(size, m)]) for m in modes}
        best = min(med["list"], med["batched"])
        rows.append(
            {
                "what": f"prompt sweep, {args.variants} variants, {args.steps} steps, {size}²: batched / auto",
                "measured": f"batched {med['batched']:.2f} s, auto {med['auto']:.2f} s",
                "baseline": f"list {med['list']:.2f} s",
                "ratio": f"batched {med['list'] / med['batched']:.2f}× list; auto/best {best / med['auto']:.2f}",
            }
        )
    record("bench_variant_sweep", rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
