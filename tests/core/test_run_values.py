"""Run-time values of list outputs: recorded by node and upstream signature, read back per image."""

from __future__ import annotations

import pytest

from seed_number.nodes.core.prompt_details import details_for_sampler, producing_sampler
from seed_number.nodes.core.prompt_graph import NO_VALUE
from seed_number.nodes.core.run_values import RunValues, upstream_signature

PROMPT = {
    "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "m.safetensors"}},
    "2": {"class_type": "CLIPTextEncode", "inputs": {"text": "a cat", "clip": ["1", 1]}},
    "3": {"class_type": "CLIPTextEncode", "inputs": {"text": "blur", "clip": ["1", 1]}},
    "4": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 2}},
    "5": {"class_type": "SeedSource|SeedNumber", "inputs": {"seed_number": 10, "mode": "fixed", "count": 3}},
    "9": {"class_type": "RenderSpeedPreset|SeedNumber", "inputs": {"speed": "Ladder", "model_family": "SD1.5"}},
    "6": {
        "class_type": "KSampler",
        "inputs": {
            "seed": ["5", 0],
            "steps": ["9", 0],
            "cfg": ["9", 1],
            "sampler_name": ["9", 2],
            "scheduler": ["9", 3],
            "denoise": 1.0,
            "model": ["1", 0],
            "positive": ["2", 0],
            "negative": ["3", 0],
            "latent_image": ["4", 0],
        },
    },
    "7": {"class_type": "VAEDecode", "inputs": {"samples": ["6", 0], "vae": ["1", 2]}},
    "8": {"class_type": "SeedDetails|SeedNumber", "inputs": {"images": ["7", 0]}},
}


SOURCE_OUTPUTS = ("seed", "noise")
PRESET_OUTPUTS = ("steps", "cfg", "sampler_name", "scheduler", "sampler", "sigmas", "speed_label", "denoise_out")


def test_signature_changes_with_anything_upstream_only() -> None:
    other = {**PROMPT, "3": {**PROMPT["3"], "inputs": {"text": "fog", "clip": ["1", 1]}}}
    assert upstream_signature(PROMPT, "6") != upstream_signature(other, "6")  # negative prompt is upstream
    assert upstream_signature(PROMPT, "5") == upstream_signature(other, "5")  # not upstream of the seed


def test_tap_gives_each_list_element_its_values() -> None:
    store = RunValues()
    store.record(PROMPT, "5", SOURCE_OUTPUTS, {"value": {"seed": [10, 11, 12]}})
    store.record(
        PROMPT,
        "9",
        PRESET_OUTPUTS,
        {
            "value": {
                "steps": [12, 20, 40],
                "cfg": [7.0, 7.0, 7.0],
                "sampler_name": ["dpmpp_2m"] * 3,
                "scheduler": ["karras"] * 3,
            },
            "speed": {"*": ["Turbo", "Default", "Quality"]},
        },
    )
    assert producing_sampler(PROMPT, PROMPT["8"]["inputs"]["images"]) == "6"
    rows = [details_for_sampler(PROMPT, "6", store.tap(PROMPT, k, 0)) for k in range(4)]
    assert [(r["seed"], r["steps"], r["speed"]) for r in rows] == [
        (10, 12, "Turbo"),
        (11, 20, "Default"),
        (12, 40, "Quality"),
        (12, 40, "Quality"),  # a shorter list repeats its last value, as ComfyUI does
    ]
    assert rows[0]["positive"] == "a cat" and rows[0]["negative"] == "blur" and rows[0]["model"] == "m.safetensors"
    # without records (a prompt read back from a PNG) the literal graph is all there is
    plain = details_for_sampler(PROMPT, "6")
    assert plain["seed"] == 10 and "steps" not in plain and "speed" not in plain


def test_per_image_noise_and_unknown_outputs() -> None:
    store = RunValues()
    store.record(PROMPT, "5", SOURCE_OUTPUTS, {"value": {"noise": [{"per_image_base": 100}]}})
    tap = store.tap(PROMPT, 0, 3)
    assert tap("5", "SeedSource|SeedNumber", 1, "value") == 103
    assert tap("5", "SeedSource|SeedNumber", 0, "value") is NO_VALUE
    assert tap("9", "RenderSpeedPreset|SeedNumber", 0, "value") is NO_VALUE
    assert store.lookup({"5": {"class_type": "x", "inputs": {}}}, "5") is None


def test_store_is_bounded() -> None:
    store = RunValues(max_entries=3)
    for seed in range(5):
        prompt = {"5": {"class_type": "SeedSource|SeedNumber", "inputs": {"seed_number": seed}}}
        store.record(prompt, "5", SOURCE_OUTPUTS, {"value": {"seed": [seed]}})
    assert store.lookup({"5": {"class_type": "SeedSource|SeedNumber", "inputs": {"seed_number": 0}}}, "5") is None
    kept = store.lookup({"5": {"class_type": "SeedSource|SeedNumber", "inputs": {"seed_number": 4}}}, "5")
    assert kept is not None and kept.values == {"value": {"seed": [4]}} and kept.outputs == SOURCE_OUTPUTS


def test_values_are_read_by_output_id_whatever_the_slot() -> None:
    store = RunValues()
    store.record(PROMPT, "9", ("cfg", "steps"), {"value": {"steps": [30], "cfg": [5.0]}})
    tap = store.tap(PROMPT, 0, 0)
    assert tap("9", "RenderSpeedPreset|SeedNumber", 0, "value") == 5.0  # slot 0 is cfg in this schema
    assert tap("9", "RenderSpeedPreset|SeedNumber", 1, "value") == 30
    assert tap("9", "RenderSpeedPreset|SeedNumber", 7, "value") is NO_VALUE  # no such slot


def test_recording_an_unknown_output_id_fails_loudly() -> None:
    with pytest.raises(ValueError, match="unknown outputs"):
        RunValues().record(PROMPT, "9", ("steps",), {"value": {"stepz": [1]}})
