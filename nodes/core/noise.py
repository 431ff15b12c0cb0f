"""Initial-noise generation for Seed Source's NOISE output (torch only, no ComfyUI import).

``shared`` reproduces ComfyUI's own initial noise bit for bit (one CPU generator seeded with the
seed draws the whole batch, honouring ``batch_index``), but from a private ``torch.Generator``
instead of the global one. ``per image`` gives image *i* its own generator seeded with
``seed + batch_index[i]``, so any image can be re-made alone at batch size 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch


def _generator(seed: int) -> torch.Generator:
    return torch.Generator(device="cpu").manual_seed(seed)


def _draw(shape: Sequence[int], like: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    return torch.randn(list(shape), dtype=like.dtype, layout=like.layout, generator=generator, device="cpu")


def shared_noise(latent: torch.Tensor, seed: int, batch_index: Sequence[int] | None = None) -> torch.Tensor:
    """The noise ComfyUI's KSampler draws for ``latent`` and ``seed`` (bitwise equal)."""
    generator = _generator(seed)
    if batch_index is None:
        return _draw(latent.shape, latent, generator)
    one = [1, *latent.shape[1:]]
    drawn = [_draw(one, latent, generator) for _ in range(max(batch_index) + 1)]
    return torch.cat([drawn[i] for i in batch_index], dim=0)


def per_image_noise(latent: torch.Tensor, seed: int, batch_index: Sequence[int] | None = None) -> torch.Tensor:
    """Image *i* gets the batch-1 noise of ``seed + batch_index[i]`` (``seed + i`` by default)."""
    indices = list(range(latent.shape[0])) if batch_index is None else list(batch_index)
    one = [1, *latent.shape[1:]]
    return torch.cat([_draw(one, latent, _generator(seed + i)) for i in indices], dim=0)


def image_seeds(seed: int, batch_size: int, per_image: bool) -> list[int]:
    """The seed that re-makes each image of a batch alone: all ``seed`` when shared."""
    return [seed + i if per_image else seed for i in range(batch_size)]


class SeedNoise:
    """A NOISE object for SamplerCustomAdvanced: ``.seed`` and ``.generate_noise(latent_dict)``."""

    def __init__(self, seed: int, per_image: bool = False) -> None:
        self.seed = seed
        self.per_image = per_image

    def generate_noise(self, input_latent: dict[str, Any]) -> torch.Tensor:
        latent = input_latent["samples"]
        batch_index = input_latent.get("batch_index")
        make = per_image_noise if self.per_image else shared_noise
        return make(latent, self.seed, batch_index)

    def __repr__(self) -> str:
        return f"SeedNoise(seed={self.seed}, per_image={self.per_image})"
