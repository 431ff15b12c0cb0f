"""ComfyUI sampler and scheduler names, their A1111/Civitai spellings, and their per-step noise.

Pure data (no ComfyUI import). The ComfyUI lists are ``comfy/samplers.py`` ``SAMPLER_NAMES`` and
``SCHEDULER_HANDLERS`` of ComfyUI 0.3.64. A1111 names follow stable-diffusion-webui's sampler labels:
classic A1111 (and Civitai) glue the scheduler onto the sampler ("DPM++ 2M Karras"); A1111 1.9+
writes it separately as ``Schedule type``. The writer does both, the reader accepts both.

Per-step noise (read off ``comfy/k_diffusion/sampling.py``, ComfyUI 0.3.64):

- ``device``: fresh noise every step from ``default_noise_sampler`` (a ``torch.Generator`` on the
  latent's device, seeded with the seed): the ancestral samplers, ``ddpm``, ``lcm``, ``er_sde``,
  ``seeds_2``/``seeds_3`` and ``sa_solver``/``sa_solver_pece``; and the ``*_gpu`` SDE samplers, whose
  Brownian tree lives on the device (``BrownianTreeNoiseSampler(..., cpu=False)``).
- ``cpu``: the other SDE samplers: a Brownian tree on the CPU (``cpu=True``), the same on any device.
- ``none``: no noise after the initial noise at ComfyUI's defaults (``euler``/``heun``/``dpm_2`` only
  draw with ``s_churn > 0``; ``dpm_fast``/``dpm_adaptive``/``res_multistep`` draw but multiply the
  draw by zero at ``eta = 0``).
"""

from __future__ import annotations

from typing import Literal

NoiseKind = Literal["none", "cpu", "device"]

COMFY_SAMPLERS: tuple[str, ...] = (
    "euler", "euler_cfg_pp", "euler_ancestral", "euler_ancestral_cfg_pp", "heun", "heunpp2", "dpm_2",
    "dpm_2_ancestral", "lms", "dpm_fast", "dpm_adaptive", "dpmpp_2s_ancestral", "dpmpp_2s_ancestral_cfg_pp",
    "dpmpp_sde", "dpmpp_sde_gpu", "dpmpp_2m", "dpmpp_2m_cfg_pp", "dpmpp_2m_sde", "dpmpp_2m_sde_gpu",
    "dpmpp_2m_sde_heun", "dpmpp_2m_sde_heun_gpu", "dpmpp_3m_sde", "dpmpp_3m_sde_gpu", "ddpm", "lcm",
    "ipndm", "ipndm_v", "deis", "res_multistep", "res_multistep_cfg_pp", "res_multistep_ancestral",
    "res_multistep_ancestral_cfg_pp", "gradient_estimation", "gradient_estimation_cfg_pp", "er_sde",
    "seeds_2", "seeds_3", "sa_solver", "sa_solver_pece", "ddim", "uni_pc", "uni_pc_bh2",
)  # fmt: skip
"""``comfy.samplers.SAMPLER_NAMES`` of ComfyUI 0.3.64."""

COMFY_SCHEDULERS: tuple[str, ...] = (
    "simple", "sgm_uniform", "karras", "exponential", "ddim_uniform", "beta", "normal", "linear_quadratic",
    "kl_optimal",
)  # fmt: skip
"""``comfy.samplers.SCHEDULER_NAMES`` of ComfyUI 0.3.64."""

A1111_SAMPLERS: dict[str, str] = {
    "euler": "Euler",
    "euler_ancestral": "Euler a",
    "heun": "Heun",
    "dpm_2": "DPM2",
    "dpm_2_ancestral": "DPM2 a",
    "lms": "LMS",
    "dpm_fast": "DPM fast",
    "dpm_adaptive": "DPM adaptive",
    "dpmpp_2s_ancestral": "DPM++ 2S a",
    "dpmpp_sde": "DPM++ SDE",
    "dpmpp_2m": "DPM++ 2M",
    "dpmpp_2m_sde": "DPM++ 2M SDE",
    "dpmpp_2m_sde_heun": "DPM++ 2M SDE Heun",
    "dpmpp_3m_sde": "DPM++ 3M SDE",
    "ddim": "DDIM",
    "ddpm": "DDPM",
    "uni_pc": "UniPC",
    "lcm": "LCM",
}
"""ComfyUI sampler → A1111/Civitai sampler label. ``*_gpu`` variants use their CPU name."""

A1111_SCHEDULE_TYPES: dict[str, str] = {
    "karras": "Karras",
    "exponential": "Exponential",
    "normal": "Normal",
    "simple": "Simple",
    "sgm_uniform": "SGM Uniform",
    "kl_optimal": "KL Optimal",
    "beta": "Beta",
    "ddim_uniform": "DDIM",
}
"""ComfyUI scheduler → A1111 ``Schedule type`` label (A1111 1.9+ ported these from ComfyUI)."""

SAMPLER_SUFFIXES: dict[str, str] = {"karras": "Karras", "exponential": "Exponential"}
"""Schedulers that classic A1111/Civitai names carry as a suffix of the sampler ("DPM++ 2M Karras")."""

_SAMPLER_ALIASES: dict[str, str] = {
    "k_euler": "euler",
    "k_euler_a": "euler_ancestral",
    "k_heun": "heun",
    "k_dpm_2": "dpm_2",
    "k_dpm_2_a": "dpm_2_ancestral",
    "k_lms": "lms",
    "k_dpm_fast": "dpm_fast",
    "k_dpm_ad": "dpm_adaptive",
    "k_dpmpp_2s_a": "dpmpp_2s_ancestral",
    "k_dpmpp_2m": "dpmpp_2m",
    "k_dpmpp_sde": "dpmpp_sde",
    "k_dpmpp_2m_sde": "dpmpp_2m_sde",
}
_SCHEDULE_ALIASES: dict[str, str | None] = {"automatic": None, "sgmuniform": "sgm_uniform"}

_FROM_A1111: dict[str, str] = {
    **{label.casefold(): name for name, label in A1111_SAMPLERS.items()},
    **_SAMPLER_ALIASES,
    **{name: name for name in COMFY_SAMPLERS},
}
_SCHEDULE_FROM_A1111: dict[str, str | None] = {
    **{label.casefold(): name for name, label in A1111_SCHEDULE_TYPES.items()},
    **_SCHEDULE_ALIASES,
    **{name: name for name in COMFY_SCHEDULERS},
}

_SUFFIXES_LONGEST_FIRST = sorted(_SCHEDULE_FROM_A1111.items(), key=lambda item: -len(item[0]))

_DEVICE_NOISE = frozenset(
    {
        "euler_ancestral", "euler_ancestral_cfg_pp", "dpm_2_ancestral", "dpmpp_2s_ancestral",
        "dpmpp_2s_ancestral_cfg_pp", "res_multistep_ancestral", "res_multistep_ancestral_cfg_pp", "ddpm", "lcm",
        "er_sde", "seeds_2", "seeds_3", "sa_solver", "sa_solver_pece", "dpmpp_sde_gpu", "dpmpp_2m_sde_gpu",
        "dpmpp_2m_sde_heun_gpu", "dpmpp_3m_sde_gpu",
    }
)  # fmt: skip
_CPU_NOISE = frozenset({"dpmpp_sde", "dpmpp_2m_sde", "dpmpp_2m_sde_heun", "dpmpp_3m_sde"})


def _base_label(sampler: str) -> str:
    label = A1111_SAMPLERS.get(sampler)
    if label is None and sampler.endswith("_gpu"):
        label = A1111_SAMPLERS.get(sampler[: -len("_gpu")])
    return sampler if label is None else label


def a1111_sampler_name(sampler: str, scheduler: str | None = None) -> str:
    """The A1111/Civitai sampler name: "Euler a", "DPM++ 2M Karras"; an unknown sampler keeps its name."""
    return _base_label(sampler) + (f" {SAMPLER_SUFFIXES[scheduler]}" if scheduler in SAMPLER_SUFFIXES else "")


def a1111_schedule_type(scheduler: str) -> str:
    """The A1111 ``Schedule type`` label of a ComfyUI scheduler; an unknown scheduler keeps its name."""
    return A1111_SCHEDULE_TYPES.get(scheduler, scheduler)


def comfy_scheduler_from_a1111(label: str) -> str | None:
    """The ComfyUI scheduler for an A1111 ``Schedule type`` ("Automatic" → None); unknown labels unchanged."""
    key = label.strip().casefold()
    if key in _SCHEDULE_FROM_A1111:
        return _SCHEDULE_FROM_A1111[key]
    return label.strip() or None


def comfy_sampler_from_a1111(name: str) -> tuple[str, str | None]:
    """``(sampler, scheduler)`` for an A1111/Civitai sampler name, e.g. "DPM++ 2M Karras" → ("dpmpp_2m", "karras").

    The scheduler is None when the name carries none. ComfyUI names pass through unchanged; an unknown
    name is kept as it is (with a " Karras"/" Exponential" suffix split off). ``*_gpu`` variants cannot
    be told apart from their CPU sampler here: "DPM++ 2M SDE" is ``dpmpp_2m_sde``.
    """
    name = name.strip()
    key = name.casefold()
    if key in _FROM_A1111:
        return _FROM_A1111[key], None
    for suffix, scheduler in _SUFFIXES_LONGEST_FIRST:
        if scheduler is None or not key.endswith(" " + suffix):
            continue
        base = name[: -len(suffix) - 1].rstrip()
        known = _FROM_A1111.get(base.casefold())
        if known is not None:
            return known, scheduler
        if scheduler in SAMPLER_SUFFIXES and base:
            return base, scheduler
    return name, None


def per_step_noise(sampler: str | None) -> NoiseKind | None:
    """Where ``sampler`` draws noise after the initial noise: ``none``, ``cpu``, ``device``; None if unknown."""
    if not isinstance(sampler, str):
        return None
    if sampler in _DEVICE_NOISE:
        return "device"
    if sampler in _CPU_NOISE:
        return "cpu"
    if sampler in COMFY_SAMPLERS:
        return "none"
    return None


def reproducibility_note(sampler: str) -> str | None:
    """A short note for labels when ``sampler`` is not device- and step-count independent.

    A sampler this table does not know (a newer ComfyUI) is judged by its name: ``ancestral`` and
    ``_gpu`` mean per-step noise on the device.
    """
    kind = per_step_noise(sampler)
    if kind is None:
        kind = "device" if "ancestral" in sampler or sampler.endswith("_gpu") else "none"
    if kind == "device":
        return f"{sampler} draws per-step noise on the device: not bit-identical across devices"
    if kind == "cpu":
        return f"{sampler} draws per-step noise (CPU Brownian tree): the image changes more with steps"
    return None
