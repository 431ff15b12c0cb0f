"""AUTOMATIC1111 / Forge initial noise, computed exactly on the CPU (torch + numpy, no ComfyUI import).

A1111 and Forge draw the initial latent noise one image at a time, each from a fresh generator:

- **Per-image seeds.** Image ``i`` of a generation (counting across batches) gets seed ``seed + i``.
  With a variation strength other than 0 every image gets ``seed`` itself and the variation seed
  ``variation_seed + i``. A strength of 0 means no variation at all (the variation seed is unused).
- **Shape.** Each image's noise has shape ``(C, height // 8, width // 8)``: C = 4 for SD1/SD2/SDXL,
  Forge takes it from the model (16 for SD3 / Flux-type latents). The batch is stacked from those.
- **Sources.** ``a1111 gpu`` — A1111's default RNG on NVIDIA cards (``RNG`` absent from its
  parameters, or ``NV``): CUDA's ``torch.randn``, reproduced with Philox4x32-10 + Box–Muller by
  :mod:`.philox` (what A1111 calls "NV"), using the full 64-bit seed. ``a1111 cpu`` — A1111's "CPU"
  RNG: ``torch.randn`` from a CPU generator seeded with the image's seed.
- **Variation seeds.** A1111 mixes the image's noise ``low`` with the variation seed's noise ``high``
  by spherical interpolation on each image's 3-D ``(C, H, W)`` tensor, with norms taken along
  dimension 1 (the rows ``H``): one angle per (channel, column). If the mean cosine exceeds 0.9995
  it falls back to ``low * strength + high * (1 - strength)`` (weights the other way round from the
  slerp, as A1111 has it). See :func:`slerp`.
- **Seed resize from** ``W×H`` (pixels): the seed's (and variation's) noise is drawn at
  ``(C, H // 8, W // 8)``, mixed there, and pasted centred — cropped where larger — into the seed's
  own noise at the full shape. Ignored unless both are positive or when the shapes are equal.

torch's CPU generator keeps only the low 32 bits of a seed (checked against torch: seeds 5 and
2**32 + 5 draw identical CPU noise, although ``initial_seed()`` reports them apart), so in the
``a1111 cpu`` source — and ComfyUI's own noise — seeds that differ by a multiple of 2**32 give the
same noise. ``a1111 gpu`` uses all 64 bits.

Exactness: ``a1111 gpu`` equals A1111's "NV" RNG element for element (float64 Box–Muller rounded
to float32; the last bit could only differ where a float64 ``log``/``sin`` of another maths library
rounds differently right at a float32 midpoint). ``a1111 cpu`` is torch's own CPU ``randn``.
A1111 does the variation slerp on its device (the GPU for NVIDIA users) in float32; here it runs on
the CPU with the same float32 operations, which can differ from a GPU's in the last bits.

Sources: the behaviour was learned by reading AUTOMATIC1111's ``modules/rng.py`` and
``modules/processing.py`` and Forge's ``modules/rng.py`` (AGPL; no code copied or translated).
The slerp is the textbook spherical linear interpolation (K. Shoemake, "Animating rotation with
quaternion curves", SIGGRAPH 1985) applied to A1111's choice of axis.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import torch

from .details_fields import MAX_SEED_ANY
from .philox import nv_randn

NoiseSource = Literal["a1111 gpu", "a1111 cpu"]
A1111_SOURCES: tuple[NoiseSource, ...] = ("a1111 gpu", "a1111 cpu")
LATENT_DOWNSCALE = 8
"""A1111's ``opt_f``: pixels per latent cell."""
DEFAULT_CHANNELS = 4
"""A1111's ``opt_C``; Forge uses the model's latent channels (16 for SD3/Flux-type)."""
PARALLEL_THRESHOLD = 0.9995
"""Above this mean cosine A1111's slerp falls back to a linear mix."""


def latent_shape(width: int, height: int, channels: int = DEFAULT_CHANNELS) -> tuple[int, int, int]:
    """The per-image noise shape A1111 uses for a ``width``×``height`` image: (C, H // 8, W // 8)."""
    return (channels, height // LATENT_DOWNSCALE, width // LATENT_DOWNSCALE)


def _check_seed(seed: int, what: str = "seed") -> int:
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED_ANY:
        raise ValueError(f"{what} must be an integer in 0 … 2**64 - 1, got {seed!r}")
    return seed


def _check_strength(strength: float) -> float:
    if isinstance(strength, bool) or not isinstance(strength, int | float) or not 0.0 <= strength <= 1.0:
        raise ValueError(f"variation strength must be a number in 0 … 1, got {strength!r}")
    return float(strength)


def image_seeds(
    seed: int,
    batch: int,
    variation_seed: int | None = None,
    variation_strength: float = 0.0,
    indices: Sequence[int] | None = None,
) -> list[tuple[int, int | None]]:
    """``(seed, variation seed or None)`` of each image, as A1111 assigns them.

    Image ``k`` is the image at position ``indices[k]`` of A1111's generation (``k`` by default; a
    later batch of the same generation continues the count). Without variation (strength 0):
    ``(seed + index, None)``; with it: ``(seed, variation_seed + index)``.
    """
    _check_seed(seed)
    strength = _check_strength(variation_strength)
    positions = list(range(batch)) if indices is None else [int(i) for i in indices]
    if indices is not None and len(positions) != batch:
        raise ValueError(f"{len(positions)} indices for a batch of {batch}")
    if any(i < 0 for i in positions):
        raise ValueError("image indices must not be negative")
    if strength == 0.0:
        return [(_check_seed(seed + i, "seed + image index"), None) for i in positions]
    if variation_seed is None:
        raise ValueError("a variation strength other than 0 needs a variation seed")
    _check_seed(variation_seed, "variation seed")
    return [(seed, _check_seed(variation_seed + i, "variation seed + image index")) for i in positions]


def cpu_randn(seed: int, shape: Sequence[int]) -> torch.Tensor:
    """A1111's "CPU" RNG: ``torch.randn(shape)`` from a CPU generator seeded with ``seed`` (float32).

    torch's CPU generator uses only the low 32 bits of the seed.
    """
    generator = torch.Generator(device="cpu").manual_seed(_check_seed(seed))
    return torch.randn([int(d) for d in shape], generator=generator, dtype=torch.float32, device="cpu")


def randn(source: NoiseSource, seed: int, shape: Sequence[int]) -> torch.Tensor:
    """The first noise tensor a fresh A1111 generator of ``source`` draws for ``seed`` (float32, CPU)."""
    if source == "a1111 gpu":
        return nv_randn(_check_seed(seed), shape)
    if source == "a1111 cpu":
        return cpu_randn(seed, shape)
    raise ValueError(f"unknown A1111 noise source {source!r}; expected one of {', '.join(A1111_SOURCES)}")


def slerp(strength: float, low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
    """A1111's spherical interpolation from ``low`` (strength 0) to ``high`` (strength 1).

    For one image's noise of shape (C, H, W): vectors run along dimension 1, so each (channel,
    column) gets its own angle ``omega = acos(<low/|low|, high/|high|>)`` and the result is
    ``sin((1 - t)·omega)/sin(omega) · low + sin(t·omega)/sin(omega) · high``. When the mean cosine
    is above :data:`PARALLEL_THRESHOLD` A1111 returns ``low * t + high * (1 - t)`` instead (note
    the weights: reversed from the slerp's; kept because it is what A1111 computes). float32 in,
    float32 out; the same operations in the same order as A1111, so the same bits on the same
    device.
    """
    low_dir = low / torch.linalg.vector_norm(low, dim=1, keepdim=True)
    high_dir = high / torch.linalg.vector_norm(high, dim=1, keepdim=True)
    cosine = (low_dir * high_dir).sum(1)
    if cosine.mean() > PARALLEL_THRESHOLD:
        return low * strength + high * (1 - strength)
    omega = torch.acos(cosine)
    sin_omega = torch.sin(omega)
    weight_low = torch.sin((1.0 - strength) * omega) / sin_omega
    weight_high = torch.sin(strength * omega) / sin_omega
    return weight_low.unsqueeze(1) * low + weight_high.unsqueeze(1) * high


def _centred_spans(full: int, small: int) -> tuple[slice, slice]:
    """Where A1111 pastes a ``small``-long noise into a ``full``-long one: (target span, source span).

    The paste is centred with the offset rounded down; a larger source is cropped symmetrically
    (its first ``(small - full + 1) // 2`` cells skipped).
    """
    start = (full - small) // 2
    if start >= 0:
        return slice(start, start + small), slice(0, small)
    length = small + 2 * start
    return slice(0, length), slice(-start, -start + length)


def paste_centred(small: torch.Tensor, full: torch.Tensor) -> torch.Tensor:
    """``full`` (C, H, W) with ``small`` (C, h, w) pasted centred over it, as "Seed resize from" does."""
    rows_to, rows_from = _centred_spans(full.shape[1], small.shape[1])
    cols_to, cols_from = _centred_spans(full.shape[2], small.shape[2])
    result = full.clone()
    result[:, rows_to, cols_to] = small[:, rows_from, cols_from]
    return result


def image_noise(
    source: NoiseSource,
    seed: int,
    shape: tuple[int, int, int],
    variation_seed: int | None = None,
    variation_strength: float = 0.0,
    seed_resize_from: tuple[int, int] | None = None,
) -> torch.Tensor:
    """One image's initial noise (C, H, W) as A1111 computes it for its seed and variation seed.

    ``variation_seed`` is used only when ``variation_strength`` is not 0. ``seed_resize_from`` is
    A1111's "Seed resize from" as (width, height) in pixels.
    """
    strength = _check_strength(variation_strength)
    if strength != 0.0 and variation_seed is None:
        raise ValueError("a variation strength other than 0 needs a variation seed")
    full = tuple(int(d) for d in shape)
    if len(full) != 3 or any(d < 0 for d in full):
        raise ValueError(f"shape must be (C, H, W) with sizes ≥ 0, got {tuple(shape)!r}")
    drawn = full
    if seed_resize_from is not None:
        width, height = (int(v) for v in seed_resize_from)
        if width > 0 and height > 0:
            drawn = (full[0], height // LATENT_DOWNSCALE, width // LATENT_DOWNSCALE)
    noise = randn(source, seed, drawn)
    if strength != 0.0:
        assert variation_seed is not None
        noise = slerp(strength, noise, randn(source, variation_seed, drawn))
    if drawn != full:
        noise = paste_centred(noise, randn(source, seed, full))
    return noise


def a1111_noise(
    seed: int,
    shape: tuple[int, int, int],
    batch: int = 1,
    source: NoiseSource = "a1111 gpu",
    variation_seed: int | None = None,
    variation_strength: float = 0.0,
    seed_resize_from: tuple[int, int] | None = None,
    indices: Sequence[int] | None = None,
) -> torch.Tensor:
    """The initial noise A1111/Forge draws for a batch: (batch, C, H, W) float32 on the CPU.

    ``shape`` is one image's (C, H, W) — see :func:`latent_shape`. Image ``k`` is the image at
    position ``indices[k]`` of A1111's generation (``k`` by default), with the seeds of
    :func:`image_seeds`. ``source`` is ``"a1111 gpu"`` (A1111's default / "NV") or ``"a1111 cpu"``.
    """
    if source not in A1111_SOURCES:
        raise ValueError(f"unknown A1111 noise source {source!r}; expected one of {', '.join(A1111_SOURCES)}")
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise ValueError(f"batch must be a positive integer, got {batch!r}")
    seeds = image_seeds(seed, batch, variation_seed, variation_strength, indices)
    images = [
        image_noise(source, image_seed, shape, image_variation, variation_strength, seed_resize_from)
        for image_seed, image_variation in seeds
    ]
    return _stack_on_this_thread(images)


def _stack_on_this_thread(images: list[torch.Tensor]) -> torch.Tensor:
    """``torch.stack(images)`` without torch's thread pool (same values, dtype and shape).

    torch copies a latent-sized tensor on its OpenMP threads, which sleep between calls: waking
    them took ~8 ms on a busy 2-core machine, 3× the noise itself. One image needs no copy; more
    are stacked by numpy on the calling thread.
    """
    if len(images) == 1:
        return images[0].unsqueeze(0)
    return torch.from_numpy(np.stack([image.numpy() for image in images]))
