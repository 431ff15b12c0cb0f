"""Reproducibility verdicts: where a re-run of the same details gives the same bits.

Pure Python (stdlib only). ``reproducibility`` classifies a run by where its noise is drawn (the initial
noise, and the sampler's per-step noise from ``sampler_names.per_step_noise``) and by differences between
the saved and the current environment; the result is what the details store as ``reproducible``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .sampler_names import per_step_noise

__all__ = [
    "VERDICTS",
    "VERDICT_NOT_EXPECTED",
    "VERDICT_SAME_DEVICE",
    "VERDICT_SAME_MACHINE",
    "VERDICT_UNKNOWN",
    "reproducibility",
]

VERDICT_SAME_MACHINE = "same machine"
VERDICT_SAME_DEVICE = "same machine and device"
VERDICT_NOT_EXPECTED = "not expected"
VERDICT_UNKNOWN = "unknown"
VERDICTS = (VERDICT_SAME_MACHINE, VERDICT_SAME_DEVICE, VERDICT_NOT_EXPECTED, VERDICT_UNKNOWN)
LOW_BITS = 2**32
"""torch's CPU generator keeps a seed modulo this (seeds 5 and 2**32 + 5 draw the same noise)."""
_ENV_KEYS = (("comfyui_version", "ComfyUI"), ("torch_version", "torch"), ("device", "device"))


def _is_cpu(device: str) -> bool:
    return device.strip().lower().startswith("cpu")


def _initial_noise_notes(seed: int | None, noise_source: str | None) -> list[str]:
    if noise_source == "a1111 gpu":
        return ["initial noise: A1111's NV (Philox) noise, computed on the CPU: the same on any device"]
    if noise_source in ("comfy", "a1111 cpu") and isinstance(seed, int) and seed >= LOW_BITS:
        low = seed % LOW_BITS
        return [f"torch's CPU generator uses only the low 32 bits of seed {seed}: seed {low} draws the same noise"]
    return []


def reproducibility(
    sampler: str | None,
    device: str,
    noise_device: str,
    saved_env: Mapping[str, Any] | None = None,
    current_env: Mapping[str, Any] | None = None,
    *,
    batch_size: int | None = None,
    seed: int | None = None,
    noise_source: str | None = None,
) -> dict[str, Any]:
    """Where a re-run gives the same bits: ``{"verdict": one of VERDICTS, "reasons": [short facts]}``.

    ``device`` is where the model ran ("cpu", "cuda:0", "mps"…), ``noise_device`` where the initial
    noise was drawn (ComfyUI and Seed Source: "cpu"). Verdicts:

    - "same machine": all noise comes from CPU generators (initial noise, and per-step noise if any:
      none, or a CPU Brownian tree) so it is the same everywhere; the bits are the same on the same
      machine with the same ComfyUI/torch, and other machines differ only by float rounding.
    - "same machine and device": some noise is drawn on a GPU (initial noise not on the CPU, or a sampler
      that draws per-step noise on the model's device: ancestral, ddpm, lcm, er_sde, seeds_*, sa_solver,
      the ``*_gpu`` SDEs; see ``sampler_names``); another device draws different noise, a different image.
    - "not expected": ``saved_env`` and ``current_env`` (keys ``comfyui_version``, ``torch_version``,
      ``device``) differ; the reasons list each difference as "torch 2.4.1, now 2.5.0".
    - "unknown": the sampler or a device is unknown.

    ``batch_size`` > 1 with per-step noise adds a reason: that noise spans the batch, so an image is
    re-made only at the same batch size. With ``seed`` and ``noise_source``, a seed of 2**32 or more
    whose initial noise comes from torch's CPU generator (``comfy``, ``a1111 cpu``) adds a reason: that
    generator uses only the seed's low 32 bits. The result is what the details store as ``reproducible``.
    """
    reasons: list[str] = []
    differences = []
    if saved_env and current_env:
        for key, label in _ENV_KEYS:
            before, now = saved_env.get(key), current_env.get(key)
            if before is not None and now is not None and before != now:
                differences.append(f"{label} {before}, now {now}")
    noise = per_step_noise(sampler)
    devices_known = all(isinstance(d, str) and d.strip() for d in (device, noise_device))
    if noise is None:
        reasons.append(f"sampler {sampler!r} is not a ComfyUI sampler known here: its per-step noise is unknown")
    if not devices_known:
        reasons.append("the device or noise device is unknown")
        device = device if isinstance(device, str) and device.strip() else "an unknown device"
    device_noise = False
    if devices_known and not _is_cpu(noise_device):
        reasons.append(f"initial noise drawn on {noise_device}")
        device_noise = True
    if noise == "device":
        reasons.append(f"per-step noise drawn on {device}")
        device_noise = device_noise or not (devices_known and _is_cpu(device))
    elif noise == "cpu":
        reasons.append("per-step noise from a CPU Brownian tree: reproducible on same ComfyUI/torch")
    if noise in ("device", "cpu") and isinstance(batch_size, int) and batch_size > 1:
        reasons.append(f"per-step noise spans the batch: re-make at batch size {batch_size}")
    if devices_known and not device_noise and noise is not None:
        if _is_cpu(device):
            reasons.append("all noise from CPU generators; model on cpu")
        else:
            reasons.append(f"all noise from CPU generators; model on {device}: other GPUs round differently")
    reasons += _initial_noise_notes(seed, noise_source)
    if differences:
        return {"verdict": VERDICT_NOT_EXPECTED, "reasons": differences + reasons}
    if noise is None or not devices_known:
        return {"verdict": VERDICT_UNKNOWN, "reasons": reasons}
    return {"verdict": VERDICT_SAME_DEVICE if device_noise else VERDICT_SAME_MACHINE, "reasons": reasons}
