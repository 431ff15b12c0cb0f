"""Measure the trained demo model through ComfyUI's own sampling code (what KSampler runs).

For N prompts x M seeds it samples the prompt, the prompt with the shape colour edited and the prompt
with the shape edited (euler / normal, cfg 6, 64x64 by default), analyses each decoded image with
``data.analyse`` and prints: background-colour, shape-colour and shape accuracy; the median centroid
distance of same-seed colour edits and shape edits against that of different seeds (the goal of
issue 18 is a ratio <= 0.35).
"""

from __future__ import annotations

import argparse
import math
import pathlib
import statistics
import tempfile
import time
from collections.abc import Callable

import torch

from tools.demo_model import DemoModelError, data, import_comfy


class Sampler:
    """A loaded checkpoint and the txt2img path of the stock graph, one image per call."""

    def __init__(self, checkpoint: pathlib.Path):
        sd = import_comfy()
        import comfy.sample

        self._sample = comfy.sample
        self.model, self.clip, self.vae, _ = sd.load_checkpoint_guess_config(
            str(checkpoint), output_vae=True, output_clip=True
        )
        self.model_type = type(self.model.model.model_config).__name__
        self._cond: dict[str, list] = {}

    def cond(self, text: str) -> list:
        if text not in self._cond:  # what CLIPTextEncode.encode does
            self._cond[text] = self.clip.encode_from_tokens_scheduled(self.clip.tokenize(text))
        return self._cond[text]

    def image(self, text: str, seed: int, steps: int = 20, cfg: float = 6.0, negative: str = "",
              sampler: str = "euler", scheduler: str = "normal", size: int = 64) -> torch.Tensor:  # fmt: skip
        """The decoded image ``[H, W, 3]`` in [0, 1], as KSampler + VAEDecode would give it."""
        with torch.inference_mode():  # as ComfyUI runs nodes
            return self._image(text, seed, steps, cfg, negative, sampler, scheduler, size)

    def _image(self, text, seed, steps, cfg, negative, sampler, scheduler, size) -> torch.Tensor:
        latent = torch.zeros(1, 4, size // 8, size // 8)  # EmptyLatentImage
        latent = self._sample.fix_empty_latent_channels(self.model, latent)
        noise = self._sample.prepare_noise(latent, seed)
        samples = self._sample.sample(self.model, noise, steps, cfg, sampler, scheduler, self.cond(text),
                                      self.cond(negative), latent, disable_pbar=True, seed=seed)  # fmt: skip
        return self.vae.decode(samples)[0].float()


def eval_prompts(n: int) -> list[tuple[str, str, str]]:
    """``n`` prompts spread over colours and shapes (deterministic)."""
    all_p = data.all_prompts()
    g = torch.Generator().manual_seed(1234)
    order = torch.randperm(len(all_p), generator=g).tolist()
    return [all_p[i] for i in order[:n]]


def _edit_colour(fg: str, bg: str) -> str:
    names = [c for c in data.COLOUR_NAMES if c not in (fg, bg)]
    return names[(data.COLOUR_NAMES.index(fg) * 3) % len(names)]


def _edit_shape(shape: str) -> str:
    return data.SHAPES[(data.SHAPES.index(shape) + 1) % len(data.SHAPES)]


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else math.nan


def evaluate(
    sampler: Sampler,
    n_prompts: int = 12,
    n_seeds: int = 8,
    steps: int = 20,
    cfg: float = 6.0,
    sheet: pathlib.Path | None = None,
    log: Callable[[str], None] | None = None,
) -> dict[str, float]:
    """Run the measurement; returns the figures (fractions and pixel distances)."""
    hits: dict[str, list[bool]] = {"background": [], "shape_colour": [], "shape": []}
    colour_edit: list[float] = []
    shape_edit: list[float] = []
    other_seed: list[float] = []
    tiles = []
    for fg, shape, bg in eval_prompts(n_prompts):
        base = []
        for seed in range(n_seeds):
            variants = [(fg, shape, bg), (_edit_colour(fg, bg), shape, bg), (fg, _edit_shape(shape), bg)]
            results = []
            for vfg, vshape, vbg in variants:
                img = sampler.image(data.prompt(vfg, vshape, vbg), seed, steps, cfg)
                a = data.analyse(img)
                hits["background"].append(a.background == vbg)
                hits["shape_colour"].append(a.shape_colour == vfg)
                hits["shape"].append(a.shape == vshape)
                results.append(a)
                tiles.append(img)
            base.append(results[0])
            for edits, other in ((colour_edit, results[1]), (shape_edit, results[2])):
                d = data.centroid_distance(results[0], other)
                if d is not None:
                    edits.append(d)
        if log is not None:
            log(f"  {data.prompt(fg, shape, bg)}: {n_seeds} seeds x 3 variants done")
        for i in range(n_seeds):
            d = data.centroid_distance(base[i], base[(i + 1) % n_seeds])
            if d is not None:
                other_seed.append(d)
    figures = {f"{k}_accuracy": sum(v) / len(v) for k, v in hits.items()}
    figures.update(
        colour_edit_median_px=_median(colour_edit),
        shape_edit_median_px=_median(shape_edit),
        other_seed_median_px=_median(other_seed),
    )
    figures["colour_edit_ratio"] = figures["colour_edit_median_px"] / figures["other_seed_median_px"]
    figures["shape_edit_ratio"] = figures["shape_edit_median_px"] / figures["other_seed_median_px"]
    if sheet is not None:
        _write_sheet(tiles, 3 * n_seeds, sheet)
    return figures


def _write_sheet(tiles: list[torch.Tensor], columns: int, path: pathlib.Path) -> None:
    import numpy as np
    from PIL import Image

    rows = math.ceil(len(tiles) / columns)
    h, w, _ = tiles[0].shape
    grid = torch.ones(rows * (h + 2), columns * (w + 2), 3)
    for i, t in enumerate(tiles):
        r, c = divmod(i, columns)
        grid[r * (h + 2) : r * (h + 2) + h, c * (w + 2) : c * (w + 2) + w] = t
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray((grid.clamp(0, 1).numpy() * 255).round().astype(np.uint8)).save(path)


def run_eval(args: argparse.Namespace, log: Callable[[str], None]) -> None:
    from tools.demo_model.build import build, export

    if args.from_train is not None:
        with tempfile.TemporaryDirectory() as tmp:
            weights = pathlib.Path(tmp) / "weights"
            export(args.from_train, weights)
            checkpoint = build(weights, pathlib.Path(tmp) / "model.safetensors")
            _run(checkpoint, args, log)
    else:
        checkpoint = args.checkpoint or build()
        if not checkpoint.is_file():
            raise DemoModelError(f"{checkpoint} does not exist")
        _run(checkpoint, args, log)


def _run(checkpoint: pathlib.Path, args: argparse.Namespace, log: Callable[[str], None]) -> None:
    torch.set_num_threads(2)
    start = time.time()
    sampler = Sampler(checkpoint)
    log(f"loaded {checkpoint} as {sampler.model_type}")
    figures = evaluate(sampler, args.prompts, args.seeds, args.steps, args.cfg, args.sheet, log)
    log(f"{args.prompts} prompts x {args.seeds} seeds x 3 variants, {args.steps} steps euler/normal, "
        f"cfg {args.cfg}, 64x64, {time.time() - start:.0f} s")  # fmt: skip
    for key, value in figures.items():
        log(f"  {key}: {value:.3f}")
