"""Initial-noise generation for Seed Source's NOISE output (torch only, no ComfyUI import).

Three noise sources (Seed Source's ``noise_source``):

- ``comfy`` — ComfyUI's own noise. ``shared`` reproduces ComfyUI's initial noise bit for bit (one
  CPU generator seeded with the seed draws the whole batch, honouring ``batch_index``), but from a
  private ``torch.Generator`` instead of the global one. ``per image`` gives image *i* its own
  generator seeded with ``seed + batch_index[i]``, so any image can be re-made alone at batch size 1.
- ``a1111 gpu`` / ``a1111 cpu`` — AUTOMATIC1111/Forge's noise, image by image, as
  :mod:`.a1111_noise` computes it (A1111's own per-image seeds; ``batch_seeds`` does not apply).

**Variation seeds** (``variation_strength`` ≠ 0) mix each image's noise with the noise of a variation
seed by A1111's slerp (:func:`.a1111_noise.slerp`, on each image's own tensor), with A1111's
per-image seeds: every image keeps the seed, image *i* takes ``variation_seed + i`` — in the a1111
sources, and in ``comfy`` under ``per image``. Under ``comfy`` ``shared`` both noises are ComfyUI's
batch noise (of the seed and of the variation seed), mixed image by image. Strength 0 is the base
noise bit for bit; strength 1 the variation seed's noise bit for bit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from .a1111_noise import A1111_SOURCES, a1111_noise, slerp
from .seeds import DEFAULT_NOISE_SOURCE, NOISE_SOURCES


def _generator(seed: int) -> torch.Generator:
    return torch.Generator(device="cpu").manual_seed(seed)


def _draw(shape: Sequence[int], like: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    return torch.randn(list(shape), dtype=like.dtype, layout=like.layout, generator=generator, device="cpu")


def _indices(latent: torch.Tensor, batch_index: Sequence[int] | None) -> list[int]:
    return list(range(latent.shape[0])) if batch_index is None else [int(i) for i in batch_index]


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
    one = [1, *latent.shape[1:]]
    return torch.cat([_draw(one, latent, _generator(seed + i)) for i in _indices(latent, batch_index)], dim=0)


def image_seeds(seed: int, batch_size: int, per_image: bool) -> list[int]:
    """The seed that re-makes each image of a batch alone: all ``seed`` when shared."""
    return [seed + i if per_image else seed for i in range(batch_size)]


def _mix(strength: float, low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
    """A1111's slerp applied image by image (each image's own (C, H, W) tensor)."""
    return torch.stack([slerp(strength, low[i], high[i]) for i in range(low.shape[0])])


def comfy_variation_noise(
    latent: torch.Tensor,
    seed: int,
    variation_seed: int,
    strength: float,
    per_image: bool,
    batch_index: Sequence[int] | None = None,
) -> torch.Tensor:
    """ComfyUI noise of ``seed`` mixed with that of ``variation_seed`` (see the module docstring)."""
    if per_image:
        one = _draw([1, *latent.shape[1:]], latent, _generator(seed))
        low = one.expand(len(_indices(latent, batch_index)), *latent.shape[1:])
        high = per_image_noise(latent, variation_seed, batch_index)
    else:
        low = shared_noise(latent, seed, batch_index)
        high = shared_noise(latent, variation_seed, batch_index)
    return _mix(strength, low, high)


class SeedNoise:
    """A NOISE object for SamplerCustomAdvanced: ``.seed`` and ``.generate_noise(latent_dict)``."""

    def __init__(
        self,
        seed: int,
        per_image: bool = False,
        source: str = DEFAULT_NOISE_SOURCE,
        variation_seed: int | None = None,
        variation_strength: float = 0.0,
    ) -> None:
        if source not in NOISE_SOURCES:
            raise ValueError(f"noise_source: {source!r} is not one of {', '.join(NOISE_SOURCES)}")
        if variation_strength != 0.0 and variation_seed is None:
            raise ValueError("variation_seed: a variation strength other than 0 needs a variation seed")
        self.seed = seed
        self.per_image = per_image
        self.source = source
        self.variation_seed = variation_seed
        self.variation_strength = float(variation_strength)

    def generate_noise(self, input_latent: dict[str, Any]) -> torch.Tensor:
        latent = input_latent["samples"]
        batch_index = input_latent.get("batch_index")
        if self.source in A1111_SOURCES:
            return self._a1111(latent, batch_index)
        if self.variation_strength == 0.0:
            make = per_image_noise if self.per_image else shared_noise
            return make(latent, self.seed, batch_index)
        assert self.variation_seed is not None
        return comfy_variation_noise(
            latent, self.seed, self.variation_seed, self.variation_strength, self.per_image, batch_index
        )

    def _a1111(self, latent: torch.Tensor, batch_index: Sequence[int] | None) -> torch.Tensor:
        if latent.ndim != 4:
            raise ValueError(
                f"noise_source {self.source!r} makes image noise (batch, channels, height, width); "
                f"this latent has shape {tuple(latent.shape)}: use noise_source 'comfy'"
            )
        indices = _indices(latent, batch_index)
        noise = a1111_noise(
            self.seed,
            (int(latent.shape[1]), int(latent.shape[2]), int(latent.shape[3])),
            batch=len(indices),
            source=self.source,  # type: ignore[arg-type]  # checked in __init__
            variation_seed=self.variation_seed,
            variation_strength=self.variation_strength,
            indices=indices,
        )
        return noise.to(dtype=latent.dtype)

    def __repr__(self) -> str:
        return (
            f"SeedNoise(seed={self.seed}, per_image={self.per_image}, source={self.source!r}, "
            f"variation_seed={self.variation_seed}, variation_strength={self.variation_strength})"
        )
