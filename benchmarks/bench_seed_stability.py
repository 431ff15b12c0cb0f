"""Benchmark (not a test): does the seed decide the composition? Measured on the trained demo model.

Run: ``python -m benchmarks.bench_seed_stability`` in the test venv with COMFYUI_PATH set (or
``scripts/bench``); ``--quick`` for a smoke check (4 prompts x 4 seeds); ``--from-train [DIR]`` to
measure a training in progress (exported and built into a temporary folder). Default model: built
from ``weights/`` (``SEED_NUMBER_WEIGHTS``), or ``--checkpoint FILE``.

One headless ComfyUI (``--cpu``) renders, for each of ``--prompts`` prompts ``a {colour} {shape} on a
{colour} background`` and ``--seeds`` seeds at 64x64: the prompt at Turbo, Default and Quality (Render
Speed Preset's ``Ladder`` for the model's family, so the step counts are whatever the presets give it),
and at Default the prompt with the shape colour edited and with the shape edited. The graph is the
pack's own: Seed Source (``batch_seeds: per image``, so image *k* of a batch starts from seed + *k*,
bitwise its batch-1 noise) -> Render Speed Preset -> CFGGuider + SamplerCustomAdvanced -> VAEDecode
-> SaveImage; the figures come from the PNGs ComfyUI saved, analysed by ``tools.demo_model.data``
(background colour from the border, shape mask, centroid, shape classifier):

* (a) adherence on every Default image: both colours right; shape right (goals 95 %, 80 %);
* (b) same seed, Turbo vs Quality: centroid distance and mask IoU (goals: median <= 0.2 x (d), IoU >= 0.7);
* (c) same seed, one word edited (shape colour; shape): centroid distance (goal: median <= 0.35 x (d));
* (d) different seeds, same prompt (every pair): centroid distance, the baseline (goal: median >= 8 px).

Distances are over the images where both shapes were found; the count without a shape is printed.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import math
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.common import record
from tools.demo_model import TRAIN_DIR

logger = logging.getLogger("seed_number.bench")

SPEEDS = ("Turbo", "Default", "Quality")
BASE_SEED = 1000
SIZE = 64
NEGATIVE = ""  # the demo model's unconditional prompt (trained with empty-prompt dropout)
GOALS = {"colours": 0.95, "shapes": 0.80, "speed_ratio": 0.2, "iou": 0.7, "edit_ratio": 0.35, "spread_px": 8.0}


def graph(ckpt_name: str, text: str, speed: str, seed: int, seeds: int, prefix: str) -> dict[str, Any]:
    """One prompt: ``text`` at ``speed`` (``Ladder``: all three) for ``seeds`` seeds from ``seed``, batched."""
    return {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": ckpt_name}},
        "2": {"class_type": "CLIPTextEncode", "inputs": {"text": text, "clip": ["1", 1]}},
        "3": {"class_type": "CLIPTextEncode", "inputs": {"text": NEGATIVE, "clip": ["1", 1]}},
        "4": {"class_type": "EmptyLatentImage", "inputs": {"width": SIZE, "height": SIZE, "batch_size": seeds}},
        "5": {
            "class_type": "SeedSource|SeedNumber",
            "inputs": {"seed_number": seed, "mode": "fixed", "ideogram_range": False, "batch_seeds": "per image"},
        },
        "9": {
            "class_type": "RenderSpeedPreset|SeedNumber",
            "inputs": {"speed": speed, "model_family": "auto", "model": ["1", 0]},
        },
        "11": {
            "class_type": "CFGGuider",
            "inputs": {"model": ["1", 0], "positive": ["2", 0], "negative": ["3", 0], "cfg": ["9", 1]},
        },
        "14": {
            "class_type": "SamplerCustomAdvanced",
            "inputs": {
                "noise": ["5", 1],
                "guider": ["11", 0],
                "sampler": ["9", 4],
                "sigmas": ["9", 5],
                "latent_image": ["4", 0],
            },
        },
        "7": {"class_type": "VAEDecode", "inputs": {"samples": ["14", 0], "vae": ["1", 2]}},
        "8": {"class_type": "SaveImage", "inputs": {"filename_prefix": prefix, "images": ["7", 0]}},
    }


@dataclass
class Figures:
    """Everything measured, as lists of per-image or per-pair values."""

    colours: list[bool] = field(default_factory=list)
    shapes: list[bool] = field(default_factory=list)
    no_shape: int = 0
    speed_px: list[float] = field(default_factory=list)
    speed_iou: list[float] = field(default_factory=list)
    colour_edit_px: list[float] = field(default_factory=list)
    shape_edit_px: list[float] = field(default_factory=list)
    other_seed_px: list[float] = field(default_factory=list)
    pairs_without_shape: int = 0
    steps: dict[str, int] = field(default_factory=dict)

    def add(self, values: list[float], value: float | None) -> None:
        if value is None:
            self.pairs_without_shape += 1
        else:
            values.append(value)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else math.nan


def rate(values: list[bool]) -> float:
    return sum(values) / len(values) if values else math.nan


def measure(
    images: dict[tuple[str, str], list[Any]], prompts: list[tuple[str, str, str]], edits: dict, figures: Figures
) -> Figures:
    """Fill ``figures`` from the analyses: ``images[(prompt text, speed)]`` is one analysis per seed."""
    from tools.demo_model import data

    for fg, shape, bg in prompts:
        text = data.prompt(fg, shape, bg)
        colour_text, shape_text = edits[text]
        for label, (vfg, vshape, vbg) in ((text, (fg, shape, bg)), *((t, w) for t, w in edits[("words", text)])):
            for a in images[(label, "Default")]:
                figures.colours.append(a.background == vbg and a.shape_colour == vfg)
                figures.shapes.append(a.shape == vshape)
                figures.no_shape += a.shape is None
        base = images[(text, "Default")]
        for k, a in enumerate(base):
            turbo, quality = images[(text, "Turbo")][k], images[(text, "Quality")][k]
            figures.add(figures.speed_px, data.centroid_distance(turbo, quality))
            figures.add(figures.speed_iou, data.mask_iou(turbo, quality))
            figures.add(figures.colour_edit_px, data.centroid_distance(a, images[(colour_text, "Default")][k]))
            figures.add(figures.shape_edit_px, data.centroid_distance(a, images[(shape_text, "Default")][k]))
        for a, b in itertools.combinations(base, 2):
            figures.add(figures.other_seed_px, data.centroid_distance(a, b))
    return figures


def summary(f: Figures) -> dict[str, float]:
    """The headline figures and their ratios to the different-seed baseline."""
    d = median(f.other_seed_px)
    out = {
        "colours": rate(f.colours),
        "shapes": rate(f.shapes),
        "speed_px": median(f.speed_px),
        "speed_iou": median(f.speed_iou),
        "colour_edit_px": median(f.colour_edit_px),
        "shape_edit_px": median(f.shape_edit_px),
        "other_seed_px": d,
    }
    for key in ("speed_px", "colour_edit_px", "shape_edit_px"):
        out[key.replace("_px", "_ratio")] = out[key] / d if d else math.nan
    return out


def verdicts(s: dict[str, float]) -> dict[str, bool]:
    """Which goals of issue 18 are met."""
    return {
        "colours": s["colours"] >= GOALS["colours"],
        "shapes": s["shapes"] >= GOALS["shapes"],
        "speed": s["speed_ratio"] <= GOALS["speed_ratio"],
        "iou": s["speed_iou"] >= GOALS["iou"],
        "colour_edit": s["colour_edit_ratio"] <= GOALS["edit_ratio"],
        "shape_edit": s["shape_edit_ratio"] <= GOALS["edit_ratio"],
        "spread": s["other_seed_px"] >= GOALS["spread_px"],
    }


def render_all(checkpoint: Path, n_prompts: int, n_seeds: int) -> tuple[Figures, float]:
    """Render every image through one headless ComfyUI and analyse the saved PNGs."""
    import numpy as np
    import torch
    from PIL import Image

    from tools.comfy_server import ComfyServer, find_comfyui
    from tools.demo_model import data
    from tools.demo_model.evaluate import _edit_colour, _edit_shape, eval_prompts

    prompts = eval_prompts(n_prompts)
    edits: dict[Any, Any] = {}
    jobs: list[tuple[str, str]] = []  # (text, speed)
    for fg, shape, bg in prompts:
        colour_words, shape_words = (_edit_colour(fg, bg), shape, bg), (fg, _edit_shape(shape), bg)
        text, colour_text, shape_text = (data.prompt(*w) for w in ((fg, shape, bg), colour_words, shape_words))
        edits[text] = (colour_text, shape_text)
        edits[("words", text)] = ((colour_text, colour_words), (shape_text, shape_words))
        jobs += [(text, "Ladder"), (colour_text, "Default"), (shape_text, "Default")]
    server = ComfyServer(find_comfyui(), checkpoints=[checkpoint], cpu=True)
    images: dict[tuple[str, str], list[Any]] = {}
    figures = Figures()
    try:
        server.start()
        started = time.perf_counter()
        ids = [
            server.queue(graph(checkpoint.name, text, speed, BASE_SEED, n_seeds, f"stability/{i:03d}"))
            for i, (text, speed) in enumerate(jobs)
        ]
        for i, ((text, speed), prompt_id) in enumerate(zip(jobs, ids, strict=True)):
            entry = server.wait(prompt_id, timeout=1800)
            saved = entry["outputs"]["8"]["images"]
            receipts = entry["outputs"]["9"].get("seed_number_speed", [])
            speeds = SPEEDS if speed == "Ladder" else (speed,)
            if len(saved) != n_seeds * len(speeds):
                raise RuntimeError(f"{text} ({speed}): {len(saved)} images, expected {n_seeds * len(speeds)}")
            for r in receipts:
                figures.steps[r["speed"].split()[0]] = int(r["steps"])
            for j, sp in enumerate(speeds):
                batch = saved[j * n_seeds : (j + 1) * n_seeds]
                images[(text, sp)] = [
                    data.analyse(torch.from_numpy(np.array(Image.open(server.output_path(im)).convert("RGB"))) / 255.0)
                    for im in batch
                ]
            if (i + 1) % 12 == 0 or i + 1 == len(jobs):
                logger.info(
                    "%d/%d prompts rendered and analysed (%.0f s)", i + 1, len(jobs), time.perf_counter() - started
                )
        seconds = time.perf_counter() - started
    except Exception:
        logger.error("ComfyUI log tail:\n%s", server.log_tail())
        raise
    finally:
        server.cleanup()
    return measure(images, prompts, edits, figures), seconds


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def resolve_checkpoint(args: argparse.Namespace, tmp: Path) -> Path:
    """The checkpoint to measure: ``--checkpoint``, a build of ``--from-train`` (exported to ``tmp``) or of weights/."""
    from tools.demo_model import WEIGHTS_DIR
    from tools.demo_model.build import build, export

    if args.checkpoint is not None:
        return args.checkpoint.resolve()
    if args.from_train is not None:
        export(args.from_train, tmp / "weights")
        return build(tmp / "weights", tmp / "seed_number_trained_sd15_snapshot.safetensors")
    return build(args.weights or WEIGHTS_DIR)


def report(s: dict[str, float], f: Figures, n_prompts: int, n_seeds: int, seconds: float) -> list[dict[str, str]]:
    """Print the figures against the goals; the rows for the performance table."""
    ok = verdicts(s)
    mark = {True: "meets goal", False: "SHORT of goal"}
    steps = ", ".join(f"{k} {v}" for k, v in f.steps.items())
    d = s["other_seed_px"]
    rows = [
        ("adherence: both colours right (Default images)", f"{100 * s['colours']:.1f} %", "goal ≥ 95 %", ok["colours"]),
        ("adherence: shape right (Default images)", f"{100 * s['shapes']:.1f} %", "goal ≥ 80 %", ok["shapes"]),
        ("same seed, Turbo vs Quality: centroid distance (median)", f"{s['speed_px']:.2f} px",
         f"different seeds {d:.2f} px", ok["speed"], f"{s['speed_ratio']:.2f}× (goal ≤ 0.2×)"),
        ("same seed, Turbo vs Quality: shape-mask IoU (median)", f"{s['speed_iou']:.2f}", "goal ≥ 0.7", ok["iou"]),
        ("same seed, shape colour edited: centroid distance (median)", f"{s['colour_edit_px']:.2f} px",
         f"different seeds {d:.2f} px", ok["colour_edit"], f"{s['colour_edit_ratio']:.2f}× (goal ≤ 0.35×)"),
        ("same seed, shape edited: centroid distance (median)", f"{s['shape_edit_px']:.2f} px",
         f"different seeds {d:.2f} px", ok["shape_edit"], f"{s['shape_edit_ratio']:.2f}× (goal ≤ 0.35×)"),
        ("different seeds, same prompt: centroid distance (median)", f"{d:.2f} px", "goal ≥ 8 px", ok["spread"]),
    ]  # fmt: skip
    scope = f"demo model, {n_prompts} prompts × {n_seeds} seeds, 64², {steps}"
    print(f"\nSeed stability ({scope}; {seconds:.0f} s of rendering)")  # noqa: T201
    print(f"images without a shape (Default): {f.no_shape}; pairs left out (a shape missing): {f.pairs_without_shape}")  # noqa: T201
    print("| what | measured | baseline | ratio / verdict |\n|---|---|---|---|")  # noqa: T201
    table = []
    for what, measured, baseline, met, *ratio in rows:
        verdict = f"{ratio[0]}: {mark[met]}" if ratio else mark[met]
        print(f"| {what} | {measured} | {baseline} | {verdict} |")  # noqa: T201
        table.append({"what": f"{what} ({scope})", "measured": measured, "baseline": baseline, "ratio": verdict})
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prompts", type=int, default=24)
    parser.add_argument("--seeds", type=int, default=16)
    parser.add_argument("--quick", action="store_true", help="smoke check: 4 prompts x 4 seeds")
    parser.add_argument("--checkpoint", type=Path, help="a built demo-model checkpoint")
    parser.add_argument("--weights", type=Path, help="build from this weights folder (default weights/)")
    parser.add_argument(
        "--from-train", type=Path, nargs="?", const=TRAIN_DIR, help=f"export and build a training state ({TRAIN_DIR})"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[seed-number] %(message)s")
    n_prompts, n_seeds = (4, 4) if args.quick else (args.prompts, args.seeds)
    from tools.comfy_server import find_comfyui
    from tools.demo_model import DemoModelError

    if find_comfyui() is None:
        print("no ComfyUI found (set COMFYUI_PATH): nothing measured")  # noqa: T201
        return 1
    # SIGTERM, a closed terminal and SIGINT (ignored in a background job otherwise) unwind through the
    # `finally` that stops ComfyUI, and the temporary folder is removed.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)
    with tempfile.TemporaryDirectory(prefix="seed-number-stability-") as tmp:
        try:
            checkpoint = resolve_checkpoint(args, Path(tmp))
        except DemoModelError as exc:
            print(f"seed stability not measured: {exc}")  # noqa: T201
            return 1
        try:
            figures, seconds = render_all(checkpoint, n_prompts, n_seeds)
        except KeyboardInterrupt as exc:
            print(f"seed stability: interrupted ({exc}); ComfyUI stopped, nothing recorded")  # noqa: T201
            return 130
    rows = report(summary(figures), figures, n_prompts, n_seeds, seconds)
    if not args.quick:
        record("bench_seed_stability", rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
