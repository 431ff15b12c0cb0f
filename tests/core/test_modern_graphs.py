"""Seed Details on the graph shapes people build now (Flux, SD3.5, Qwen-Image…): UNETLoader, guiders,
ModelSampling* shift, FluxGuidance guidance, and a Render Speed Preset's family/shift/guidance."""

from __future__ import annotations

import json
from typing import Any

import pytest

from seed_number.nodes.core.a1111_infotext import a1111_parameters, parse_a1111_parameters
from seed_number.nodes.core.prompt_details import details_for_sampler, details_from_comfy_prompt, flux_shift
from seed_number.nodes.core.run_values import RunValues

PRESET_OUTPUTS = (
    "steps",
    "cfg",
    "sampler_name",
    "scheduler",
    "sampler",
    "sigmas",
    "speed_label",
    "denoise_out",
    "model_out",
    "positive_out",
)


def flux_graph(model_link: list[Any], positive_link: list[Any]) -> dict[str, Any]:
    """UNETLoader + DualCLIPLoader → … → SamplerCustomAdvanced with a BasicGuider (ComfyUI's Flux example)."""
    return {
        "1": {"class_type": "UNETLoader", "inputs": {"unet_name": "flux1-dev.safetensors", "weight_dtype": "default"}},
        "2": {"class_type": "DualCLIPLoader", "inputs": {"clip_name1": "t5xxl.safetensors", "type": "flux"}},
        "3": {"class_type": "CLIPTextEncode", "inputs": {"text": "a red circle on blue", "clip": ["2", 0]}},
        "4": {"class_type": "FluxGuidance", "inputs": {"conditioning": ["3", 0], "guidance": 3.5}},
        "5": {
            "class_type": "ModelSamplingFlux",
            "inputs": {"model": ["1", 0], "max_shift": 1.15, "base_shift": 0.5, "width": 1024, "height": 1024},
        },
        "6": {"class_type": "BasicGuider", "inputs": {"model": model_link, "conditioning": positive_link}},
        "7": {"class_type": "RandomNoise", "inputs": {"noise_seed": 42}},
        "8": {"class_type": "KSamplerSelect", "inputs": {"sampler_name": "euler"}},
        "9": {
            "class_type": "BasicScheduler",
            "inputs": {"model": ["5", 0], "scheduler": "simple", "steps": 20, "denoise": 1},
        },
        "10": {"class_type": "EmptySD3LatentImage", "inputs": {"width": 1024, "height": 1024, "batch_size": 1}},
        "11": {
            "class_type": "SamplerCustomAdvanced",
            "inputs": {
                "noise": ["7", 0],
                "guider": ["6", 0],
                "sampler": ["8", 0],
                "sigmas": ["9", 0],
                "latent_image": ["10", 0],
            },
        },
    }


def test_flux_shift_is_comfyuis_formula() -> None:
    assert flux_shift(1.15, 0.5, 1024, 1024) == pytest.approx(1.15)  # 4096 tokens: max_shift
    assert flux_shift(1.15, 0.5, 256, 256) == pytest.approx(0.5)  # 256 tokens: base_shift
    assert flux_shift(1.15, 0.5, 512, 512) == pytest.approx(0.5 + 0.65 * 768 / 3840)


def test_a_flux_graph_records_model_shift_and_guidance() -> None:
    details = details_for_sampler(flux_graph(["5", 0], ["4", 0]), "11")
    assert details["model"] == "flux1-dev.safetensors"
    assert details["positive"] == "a red circle on blue"
    assert details["guidance"] == 3.5 and details["shift"] == pytest.approx(1.15)
    assert (details["seed"], details["steps"], details["sampler"], details["scheduler"]) == (42, 20, "euler", "simple")
    assert details["width"] == 1024 and "family" not in details  # no Render Speed Preset: no family


@pytest.mark.parametrize("width", [10**300, 10**400, float("inf"), "x", True, [1]])
def test_a_hostile_model_sampling_flux_gives_no_shift_and_no_error(width: Any) -> None:
    prompt = flux_graph(["5", 0], ["4", 0])  # a prompt read from a PNG is not validated by ComfyUI
    prompt["5"]["inputs"]["width"] = width
    problems: list[str] = []
    details = details_from_comfy_prompt(json.dumps(prompt), problems)
    assert "shift" not in details  # absurd or not a number: dropped (with a problem when out of range)
    assert details["guidance"] == 3.5 and details["seed"] == 42  # the rest is read as before


def test_an_sd3_graph_with_cfg_guider_and_model_sampling_sd3() -> None:
    prompt = flux_graph(["5", 0], ["3", 0])
    prompt["5"] = {"class_type": "ModelSamplingSD3", "inputs": {"model": ["1", 0], "shift": 3.0}}
    prompt["6"] = {
        "class_type": "CFGGuider",
        "inputs": {"model": ["5", 0], "positive": ["3", 0], "negative": ["3", 0], "cfg": 4.5},
    }
    details = details_for_sampler(prompt, "11")
    assert details["shift"] == 3.0 and details["cfg"] == 4.5 and "guidance" not in details


def test_a_render_speed_presets_model_and_positive_outputs_give_family_shift_guidance() -> None:
    prompt = flux_graph(["20", 8], ["20", 9])
    prompt["20"] = {
        "class_type": "RenderSpeedPreset|SeedNumber",
        "inputs": {"speed": "Ladder", "model_family": "auto", "model": ["1", 0], "positive": ["3", 0]},
    }
    prompt["9"]["inputs"]["steps"] = ["20", 0]
    store = RunValues()
    settings = [{"family": "Flux-dev", "shift": 1.15, "guidance": g} for g in (3.0, 3.5, 4.0)]
    store.record(
        prompt,
        "20",
        PRESET_OUTPUTS,
        {
            "value": {"steps": [8, 20, 40]},
            "speed": {"*": ["Turbo", "Default", "Quality"]},
            "model_settings": {"*": settings},
        },
    )
    rows = [details_for_sampler(prompt, "11", store.tap(prompt, k, 0)) for k in range(3)]
    assert [(r["family"], r["shift"], r["guidance"], r["steps"]) for r in rows] == [
        ("Flux-dev", 1.15, 3.0, 8),
        ("Flux-dev", 1.15, 3.5, 20),
        ("Flux-dev", 1.15, 4.0, 40),
    ]
    plain = details_for_sampler(prompt, "11")  # read back from a file: no records, the literal graph
    assert "family" not in plain and "guidance" not in plain


def test_forge_field_names_round_trip() -> None:
    details = {"seed": 42, "steps": 20, "cfg": 1.0, "guidance": 3.5, "shift": 3.0, "positive": "x", "negative": ""}
    text = a1111_parameters(details)
    assert "CFG scale: 1, Distilled CFG Scale: 3.5," in text and ", Shift: 3" in text
    back = parse_a1111_parameters(text)
    assert back["guidance"] == 3.5 and back["shift"] == 3.0
    forge = (
        "a castle\nSteps: 20, Sampler: Euler, Schedule type: Simple, CFG scale: 1, Distilled CFG Scale: 3.5, Seed: 7"
    )
    assert parse_a1111_parameters(forge)["guidance"] == 3.5
    problems: list[str] = []
    assert "guidance" not in parse_a1111_parameters("x\nSteps: 2, Distilled CFG Scale: lots, Seed: 1", problems)
    assert problems and "guidance" in problems[0]
