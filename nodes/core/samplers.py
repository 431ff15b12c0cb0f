"""What a ComfyUI sampler does with randomness after the initial noise (pure data, no comfy import).

Read off ``comfy/k_diffusion/sampling.py`` (ComfyUI 0.3.64): ancestral samplers and several others
draw fresh noise at every step from ``default_noise_sampler``, a generator on the *model's device*;
the ``*_gpu`` SDE samplers use a Brownian tree on the device; the other SDE samplers use a Brownian
tree on the CPU. Per-step device noise makes an image device-dependent and, for ancestral samplers,
step-count dependent, which weakens "same seed, other speed gives a similar image".
"""

from __future__ import annotations

from typing import Literal

NoiseKind = Literal["none", "cpu", "device"]

_DEVICE_NOISE = frozenset({"ddpm", "lcm", "er_sde", "seeds_2", "seeds_3", "sa_solver", "sa_solver_pece"})


def per_step_noise(sampler: str) -> NoiseKind:
    """Where ``sampler`` draws noise after the first step: ``none``, ``cpu`` or ``device``."""
    if "ancestral" in sampler or sampler.endswith("_gpu") or sampler in _DEVICE_NOISE:
        return "device"
    if "sde" in sampler:
        return "cpu"
    return "none"


def reproducibility_note(sampler: str) -> str | None:
    """A short note for labels when ``sampler`` is not device- and step-count independent."""
    kind = per_step_noise(sampler)
    if kind == "device":
        return f"{sampler} draws per-step noise on the device: not bit-identical across devices"
    if kind == "cpu":
        return f"{sampler} draws per-step noise (CPU Brownian tree): the image changes more with steps"
    return None
