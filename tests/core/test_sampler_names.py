"""Sampler names: ComfyUI ↔ A1111 both ways, per-step noise of every sampler, and ComfyUI's own lists."""

from __future__ import annotations

import ast
from typing import Any

import pytest

from seed_number.nodes.core.sampler_names import (
    A1111_SAMPLERS,
    COMFY_SAMPLERS,
    COMFY_SCHEDULERS,
    a1111_sampler_name,
    comfy_sampler_from_a1111,
    per_step_noise,
)


@pytest.mark.parametrize(
    ("sampler", "scheduler", "a1111"),
    [
        ("euler", "normal", "Euler"),
        ("euler_ancestral", "simple", "Euler a"),
        ("heun", None, "Heun"),
        ("dpm_2", "karras", "DPM2 Karras"),
        ("dpm_2_ancestral", "karras", "DPM2 a Karras"),
        ("lms", "karras", "LMS Karras"),
        ("dpm_fast", None, "DPM fast"),
        ("dpm_adaptive", None, "DPM adaptive"),
        ("dpmpp_2s_ancestral", "karras", "DPM++ 2S a Karras"),
        ("dpmpp_sde", "karras", "DPM++ SDE Karras"),
        ("dpmpp_sde_gpu", "karras", "DPM++ SDE Karras"),
        ("dpmpp_2m", "karras", "DPM++ 2M Karras"),
        ("dpmpp_2m_sde", "exponential", "DPM++ 2M SDE Exponential"),
        ("dpmpp_2m_sde_gpu", "karras", "DPM++ 2M SDE Karras"),
        ("dpmpp_3m_sde_gpu", "exponential", "DPM++ 3M SDE Exponential"),
        ("ddim", "ddim_uniform", "DDIM"),
        ("uni_pc", "simple", "UniPC"),
        ("lcm", "sgm_uniform", "LCM"),
        ("res_multistep", "beta", "res_multistep"),
    ],
)
def test_sampler_names_both_ways(sampler: str, scheduler: str | None, a1111: str) -> None:
    assert a1111_sampler_name(sampler, scheduler) == a1111
    back, glued = comfy_sampler_from_a1111(a1111)
    assert back == sampler.removesuffix("_gpu")
    assert glued == (scheduler if scheduler in ("karras", "exponential") else None)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Euler a", ("euler_ancestral", None)),
        ("euler a", ("euler_ancestral", None)),
        ("k_dpmpp_2m", ("dpmpp_2m", None)),
        ("DPM++ 2M SDE Heun Karras", ("dpmpp_2m_sde_heun", "karras")),
        ("DPM++ 2M SGM Uniform", ("dpmpp_2m", "sgm_uniform")),
        ("Euler Automatic", ("Euler Automatic", None)),
        ("euler_ancestral", ("euler_ancestral", None)),
        ("PLMS", ("PLMS", None)),
        ("Restart Karras", ("Restart", "karras")),
        ("  DPM++ 2M Karras ", ("dpmpp_2m", "karras")),
    ],
)
def test_comfy_sampler_from_a1111(name: str, expected: tuple[str, str | None]) -> None:
    assert comfy_sampler_from_a1111(name) == expected


def test_every_comfy_sampler_is_classified() -> None:
    kinds = {name: per_step_noise(name) for name in COMFY_SAMPLERS}
    assert None not in kinds.values()
    assert {n for n, k in kinds.items() if k == "cpu"} == {
        "dpmpp_sde",
        "dpmpp_2m_sde",
        "dpmpp_2m_sde_heun",
        "dpmpp_3m_sde",
    }
    assert all(kinds[n] == "device" for n in COMFY_SAMPLERS if "ancestral" in n or n.endswith("_gpu"))
    assert set(A1111_SAMPLERS) <= set(COMFY_SAMPLERS)


def test_sampler_lists_match_installed_comfyui() -> None:
    from tools.comfy_server import find_comfyui

    comfyui = find_comfyui()
    if comfyui is None:
        pytest.skip("ComfyUI not found: sampler lists not compared")
    tree = ast.parse((comfyui / "comfy" / "samplers.py").read_text())
    found: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name == "KSAMPLER_NAMES":
                found[name] = ast.literal_eval(node.value)
            elif name == "SCHEDULER_HANDLERS" and isinstance(node.value, ast.Dict):
                found[name] = [ast.literal_eval(k) for k in node.value.keys if k is not None]
    samplers = found["KSAMPLER_NAMES"] + ["ddim", "uni_pc", "uni_pc_bh2"]
    assert set(samplers) == set(COMFY_SAMPLERS), "ComfyUI's samplers changed: update sampler_names.py"
    assert set(found["SCHEDULER_HANDLERS"]) == set(COMFY_SCHEDULERS)
