"""Details from a ComfyUI prompt: each sampler kind, Seed Source, guiders, sampler nodes, several samplers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from seed_number.nodes.core.details_fields import DetailsError
from seed_number.nodes.core.prompt_details import decoder_vae_name, details_from_comfy_prompt
from seed_number.nodes.core.resolve import REQUESTED_KEY
from seed_number.nodes.core.seeds import NODE_ID
from tests.core.details_samples import demo_prompt


def test_prompt_demo_workflow_resolved_by_the_hook() -> None:
    prompt = demo_prompt(seed_number=406220, mode="fixed", **{REQUESTED_KEY: "random"})
    problems: list[str] = []
    assert details_from_comfy_prompt(json.dumps(prompt), problems) == {
        "seed": 406220,
        "seed_node": "5",
        "mode": "random",
        "steps": 20,
        "cfg": 7.0,
        "denoise": 1.0,
        "sampler": "euler",
        "scheduler": "normal",
        "positive": "a lighthouse on a cliff at dusk, dark blue gradient sky",
        "negative": "blurry, low quality",
        "width": 512,
        "height": 512,
        "batch_size": 1,
        "model": "seed_number_demo_sd15.safetensors",
        "noise_source": "comfy",
    }
    assert problems == []


def test_prompt_unresolved_random_seed_source_gives_no_seed() -> None:
    problems: list[str] = []
    details = details_from_comfy_prompt(json.dumps(demo_prompt(seed_number=0, mode="random")), problems)
    assert "seed" not in details and details["mode"] == "random" and details["steps"] == 20
    assert problems == ["prompt: Seed Source '5' is in 'random' mode, not resolved: the seed used is unknown"]


def _custom_advanced(noise: dict[str, Any]) -> dict[str, Any]:
    return {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sd3.safetensors"}},
        "2": {"class_type": "LoraLoader", "inputs": {"model": ["1", 0], "clip": ["1", 1], "lora_name": "x"}},
        "3": {"class_type": "PrimitiveStringMultiline", "inputs": {"value": "a red fox"}},
        "4": {"class_type": "CLIPTextEncode", "inputs": {"text": ["3", 0], "clip": ["2", 1]}},
        "5": {"class_type": "CLIPTextEncode", "inputs": {"text": "ugly", "clip": ["2", 1]}},
        "6": {
            "class_type": "CFGGuider",
            "inputs": {"model": ["2", 0], "positive": ["4", 0], "negative": ["5", 0], "cfg": 4.5},
        },
        "7": {"class_type": "KSamplerSelect", "inputs": {"sampler_name": "euler_ancestral"}},
        "8": {
            "class_type": "BasicScheduler",
            "inputs": {"model": ["2", 0], "scheduler": "karras", "steps": 25, "denoise": 1.0},
        },
        "9": {"class_type": "EmptySD3LatentImage", "inputs": {"width": 1024, "height": 768, "batch_size": 2}},
        "10": noise,
        "11": {
            "class_type": "SamplerCustomAdvanced",
            "inputs": {
                "noise": ["10", 1],
                "guider": ["6", 0],
                "sampler": ["7", 0],
                "sigmas": ["8", 0],
                "latent_image": ["9", 0],
            },
        },
    }


@pytest.mark.parametrize(
    ("noise", "seed", "mode"),
    [
        ({"class_type": "RandomNoise", "inputs": {"noise_seed": 77}}, 77, None),
        (
            {"class_type": NODE_ID, "inputs": {"seed_number": 88, "mode": "fixed", REQUESTED_KEY: "increment"}},
            88,
            "increment",
        ),
    ],
)
def test_prompt_sampler_custom_advanced(noise: dict[str, Any], seed: int, mode: str | None) -> None:
    details = details_from_comfy_prompt(json.dumps(_custom_advanced(noise)))
    expected = {
        "seed": seed,
        "cfg": 4.5,
        "positive": "a red fox",
        "negative": "ugly",
        "sampler": "euler_ancestral",
        "steps": 25,
        "denoise": 1.0,
        "scheduler": "karras",
        "width": 1024,
        "height": 768,
        "batch_size": 2,
        "model": "sd3.safetensors",
    }
    seed_source = {"mode": mode, "seed_node": "10", "noise_source": "comfy", "batch_seeds": "shared"}
    assert details == ({**expected, **seed_source} if mode else {**expected, "noise_source": "comfy"})


def test_prompt_sampler_custom_with_sampler_and_scheduler_nodes() -> None:
    prompt = {
        "1": {"class_type": "UNETLoader", "inputs": {"unet_name": "flux1-dev.safetensors"}},
        "2": {"class_type": "SamplerDPMPP_2M_SDE", "inputs": {"solver_type": "midpoint", "noise_device": "gpu"}},
        "3": {"class_type": "KarrasScheduler", "inputs": {"steps": 30, "sigma_max": 14.6, "sigma_min": 0.03}},
        "4": {"class_type": "SplitSigmas", "inputs": {"sigmas": ["3", 0], "step": 0}},
        "5": {"class_type": "PrimitiveInt", "inputs": {"value": 1234}},
        "6": {
            "class_type": "SamplerCustom",
            "inputs": {"model": ["1", 0], "noise_seed": ["5", 0], "cfg": 1, "sampler": ["2", 0], "sigmas": ["4", 0]},
        },
    }
    assert details_from_comfy_prompt(json.dumps(prompt)) == {
        "seed": 1234,
        "cfg": 1.0,
        "sampler": "dpmpp_2m_sde_gpu",
        "steps": 30,
        "scheduler": "karras",
        "model": "flux1-dev.safetensors",
        "noise_source": "comfy",
    }


def test_prompt_ksampler_advanced_with_primitives_and_controlnet() -> None:
    prompt = {
        "1": {"class_type": "PrimitiveInt", "inputs": {"value": 12}},
        "2": {"class_type": "PrimitiveFloat", "inputs": {"value": 5.5}},
        "3": {"class_type": "CLIPTextEncode", "inputs": {"text": "pos"}},
        "4": {"class_type": "CLIPTextEncode", "inputs": {"text": "neg"}},
        "5": {
            "class_type": "ControlNetApplyAdvanced",
            "inputs": {"positive": ["3", 0], "negative": ["4", 0], "strength": 1},
        },
        "6": {
            "class_type": "KSamplerAdvanced",
            "inputs": {
                "noise_seed": 9,
                "steps": ["1", 0],
                "cfg": ["2", 0],
                "sampler_name": "lcm",
                "scheduler": "sgm_uniform",
                "positive": ["5", 0],
                "negative": ["5", 1],
            },
        },
    }
    assert details_from_comfy_prompt(json.dumps(prompt)) == {
        "seed": 9,
        "steps": 12,
        "cfg": 5.5,
        "sampler": "lcm",
        "scheduler": "sgm_uniform",
        "positive": "pos",
        "negative": "neg",
        "noise_source": "comfy",
    }


def _two_pass() -> dict[str, Any]:
    return {
        "1": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 512, "batch_size": 1}},
        "2": {"class_type": "KSampler", "inputs": {"seed": 1, "steps": 20, "denoise": 1.0, "latent_image": ["1", 0]}},
        "3": {"class_type": "LatentUpscale", "inputs": {"samples": ["2", 0], "width": 1024, "height": 1024}},
        "4": {"class_type": "KSampler", "inputs": {"seed": 2, "steps": 10, "denoise": 0.5, "latent_image": ["3", 0]}},
        "5": {"class_type": "VAEDecode", "inputs": {"samples": ["4", 0]}},
        "6": {"class_type": "SaveImage", "inputs": {"images": ["5", 0]}},
    }


def test_prompt_two_pass_reads_the_last_sampler() -> None:
    prompt = _two_pass()
    prompt = {k: prompt[k] for k in ("4", "3", "5", "1", "6", "2")}  # the order of the JSON does not matter
    problems: list[str] = []
    details = details_from_comfy_prompt(json.dumps(prompt), problems)
    assert details == {"seed": 2, "steps": 10, "denoise": 0.5, "width": 1024, "height": 1024, "noise_source": "comfy"}
    assert problems == ["prompt: 2 samplers; read node '4' (KSampler), the last"]


def test_prompt_parallel_samplers_prefer_seed_details_then_output_then_highest_id() -> None:
    prompt = {
        "3": {"class_type": "KSampler", "inputs": {"seed": 3}},
        "9": {"class_type": "KSampler", "inputs": {"seed": 9}},
        "10": {"class_type": "KSampler", "inputs": {"seed": 10}},
        "20": {"class_type": "VAEDecode", "inputs": {"samples": ["9", 0]}},
        "21": {"class_type": "SaveImage", "inputs": {"images": ["20", 0]}},
    }
    assert details_from_comfy_prompt(json.dumps(prompt))["seed"] == 9
    prompt["22"] = {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0]}}
    prompt["23"] = {"class_type": "SeedDetails|SeedNumber", "inputs": {"images": ["22", 0]}}
    assert details_from_comfy_prompt(json.dumps(prompt))["seed"] == 3
    del prompt["21"], prompt["23"]
    assert details_from_comfy_prompt(json.dumps(prompt))["seed"] == 10


@pytest.mark.parametrize("text", ["[]", "3", "{", "[" * 50_000])
def test_prompt_that_is_not_an_object_raises_details_error(text: str) -> None:
    with pytest.raises(DetailsError):
        details_from_comfy_prompt(text)


def test_prompt_without_sampler_is_empty() -> None:
    problems: list[str] = []
    assert details_from_comfy_prompt('{"1": {"class_type": "SaveImage", "inputs": {}}}', problems) == {}
    assert problems == ["prompt: no sampler node (KSampler, SamplerCustom…) found"]


def test_decoder_vae_name_reads_a_vae_loader_feeding_the_decoder() -> None:
    prompt = {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "m.safetensors"}},
        "2": {"class_type": "VAELoader", "inputs": {"vae_name": "better.vae.safetensors"}},
        "7": {"class_type": "VAEDecode", "inputs": {"samples": ["6", 0], "vae": [2, 0]}},  # an int id works too
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["6", 0], "vae": ["1", 2]}},
    }
    assert decoder_vae_name(prompt, ["7", 0]) == "better.vae.safetensors"
    assert decoder_vae_name(prompt, ["8", 0]) is None  # the checkpoint's own VAE
    assert decoder_vae_name(prompt, ["99", 0]) is None and decoder_vae_name(prompt, "7") is None
    assert decoder_vae_name({"7": {"class_type": "VAEDecode", "inputs": "junk"}}, ["7", 0]) is None
    # a re-make of one image of a batch: ImageFromBatch between the decoder and the save node
    prompt["9"] = {"class_type": "ImageFromBatch", "inputs": {"image": ["7", 0], "batch_index": 1, "length": 1}}
    assert decoder_vae_name(prompt, ["9", 0]) == "better.vae.safetensors"
    loop = {"1": {"class_type": "ImageScale", "inputs": {"image": ["1", 0]}}}
    assert decoder_vae_name(loop, ["1", 0]) is None  # a cycle ends the walk
