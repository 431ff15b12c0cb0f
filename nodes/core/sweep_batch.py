"""Prompt Variant Sweep's batching (torch, no ComfyUI import): a chunk's conditioning, latent and noise.

Conditioning concatenated along the batch the way ComfyUI's ``CONDCrossAttn.concat`` does it
(shorter cross-attention sequences tiled to the least common multiple length), a latent repeated to
a chunk's size, and :class:`SweepNoise`, a NOISE object whose every batch item is the noise a stock
KSampler draws for a batch-1 latent with the seed. The planning is :mod:`.sweep_plan`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import torch

from .noise import shared_noise

MAX_TILE_FACTOR = 8
"""Longest tiled cross-attention sequence, as a multiple of the longest one in a chunk."""


def latent_area(samples: torch.Tensor) -> int:
    """Height × width of a latent tensor (its last two dimensions)."""
    return int(samples.shape[-1]) * int(samples.shape[-2])


# -- conditioning ------------------------------------------------------------------------------


def tile_cross_attention(tensors: Sequence[torch.Tensor], max_factor: int = MAX_TILE_FACTOR) -> torch.Tensor:
    """``tensors`` ([1, L_i, C] each) concatenated along the batch, as ``CONDCrossAttn.concat`` does.

    Shorter sequences are repeated along dim 1 up to the least common multiple of the lengths (SD1.5
    prompts over 77 tokens are 154, 231, … long); repeating a whole sequence leaves attention
    unchanged. Raises ValueError when the tiled length would exceed ``max_factor`` × the longest.
    """
    if not tensors:
        raise ValueError("nothing to concatenate")
    first = tensors[0]
    lengths = [int(t.shape[1]) for t in tensors]
    for t in tensors:
        if t.dim() != first.dim() or t.shape[2:] != first.shape[2:]:
            raise ValueError(
                f"encodings of different widths cannot share a batch: {list(first.shape)} vs {list(t.shape)}"
            )
    target = math.lcm(*lengths)
    if target > max_factor * max(lengths):
        raise ValueError(
            f"prompt encodings of lengths {sorted(set(lengths))} would need tiling to {target} tokens; "
            "shorten the long prompts or use execution 'list'"
        )
    out = [t if t.shape[1] == target else t.repeat(1, target // t.shape[1], *([1] * (t.dim() - 2))) for t in tensors]
    return torch.cat(out, dim=0)


def _merge_extras(dicts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Per-prompt extras (``pooled_output`` …) merged: batch-1 tensors concatenated, equal values kept."""
    keys = list(dicts[0])
    if any(list(d) != keys for d in dicts[1:]):
        raise ValueError("the prompts' encodings carry different extras and cannot share a batch")
    merged: dict[str, Any] = {}
    for key in keys:
        values = [d[key] for d in dicts]
        if all(isinstance(v, torch.Tensor) for v in values):
            shapes = {tuple(v.shape) for v in values}
            if len(shapes) == 1 and values[0].dim() > 0 and values[0].shape[0] == 1:
                merged[key] = torch.cat(values, dim=0)
                continue
            if all(v is values[0] or torch.equal(v, values[0]) for v in values):
                merged[key] = values[0]
                continue
            raise ValueError(f"the prompts' {key!r} tensors have shapes {sorted(shapes)} and cannot share a batch")
        if all(v is values[0] or v == values[0] for v in values):
            merged[key] = values[0]
            continue
        raise ValueError(f"the prompts' {key!r} values differ and cannot share a batch")
    return merged


def concat_conditioning(conditionings: Sequence[list]) -> list:
    """One CONDITIONING whose batch item k is ``conditionings[k]`` (each a batch-1 CONDITIONING).

    A CONDITIONING is a list of ``[cond, extras]`` entries (usually one; several with scheduled
    hooks); entry i of the result merges entry i of every prompt.
    """
    if not conditionings:
        raise ValueError("nothing to concatenate")
    if len(conditionings) == 1:
        return [[c, dict(extras)] for c, extras in conditionings[0]]
    entries = len(conditionings[0])
    if any(len(c) != entries for c in conditionings):
        raise ValueError("the prompts' encodings have different numbers of entries and cannot share a batch")
    out = []
    for i in range(entries):
        conds = [c[i][0] for c in conditionings]
        for cond in conds:
            if cond.shape[0] != 1:
                raise ValueError(f"expected batch-1 encodings, got a batch of {cond.shape[0]}")
        out.append([tile_cross_attention(conds), _merge_extras([c[i][1] for c in conditionings])])
    return out


# -- latent and noise --------------------------------------------------------------------------


def repeat_latent(latent: Mapping[str, Any], size: int) -> dict[str, Any]:
    """A batch-1 LATENT repeated to ``size`` items (``batch_index`` repeated too; masks are broadcast by ComfyUI)."""
    samples = latent["samples"]
    if samples.shape[0] != 1:
        raise ValueError(
            f"got a batch of {samples.shape[0]}; give a batch-1 latent (e.g. Empty Latent Image with batch_size 1): "
            "the sweep makes the batch itself"
        )
    out = dict(latent)
    out["samples"] = samples.repeat(size, *([1] * (samples.dim() - 1)))
    if latent.get("batch_index") is not None:
        out["batch_index"] = list(latent["batch_index"]) * size
    return out


def same_noise(samples: torch.Tensor, seed: int, batch_index: Sequence[int] | None = None) -> torch.Tensor:
    """Noise for ``samples`` whose every batch item is the batch-1 KSampler noise of ``seed``.

    Item 0's ``batch_index`` (when given) picks the draw, as ``comfy.sample.prepare_noise`` does for a
    batch-1 latent. Drawn from a private CPU generator; the global RNG is untouched.
    """
    first = None if not batch_index else [int(batch_index[0])]
    one = shared_noise(samples[:1], seed, first)
    return one.repeat(samples.shape[0], *([1] * (samples.dim() - 1)))


class SweepNoise:
    """NOISE for SamplerCustomAdvanced: every item of the batch starts from the same noise."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def generate_noise(self, input_latent: dict[str, Any]) -> torch.Tensor:
        return same_noise(input_latent["samples"], self.seed, input_latent.get("batch_index"))

    def __repr__(self) -> str:
        return f"SweepNoise(seed={self.seed})"
