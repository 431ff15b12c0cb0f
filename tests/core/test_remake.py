"""Re-make prompts (core): ancestors only, each pack node pinned, batch items, odd prompts never raise."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seed_number.nodes.core.png_details import png_text_chunks
from seed_number.nodes.core.remake import BATCH_ITEM_CLASS, REMAKE_CHUNK, remake_json, remake_prompt
from seed_number.nodes.core.variants import expand
from tests.paths import ROOT

DETAILS = "SeedDetails|SeedNumber"


def executed(name: str, seed: int = 406220) -> dict[str, Any]:
    """An example API workflow as ComfyUI executes it: Save Image → Seed Details, the seed resolved."""
    prompt = json.loads((ROOT / "workflows" / "api" / f"{name}.json").read_text())
    prompt["8"] = {"class_type": DETAILS, "inputs": {"images": ["7", 0], "filename_prefix": "x", "save": True}}
    source = prompt["5"]["inputs"]
    source.update(seed_number=seed, mode="fixed", _requested_mode=source.get("mode", "random"))
    return prompt


def batch_prompt(batch_seeds: str = "per image", **seed_inputs: Any) -> dict[str, Any]:
    """Seed Source noise → SamplerCustomAdvanced, an empty latent of 4 → Seed Details."""
    prompt = executed("variant_sweep_batched")
    del prompt["10"]
    prompt["5"]["inputs"].update(batch_seeds=batch_seeds, **seed_inputs)
    prompt["4"]["inputs"]["batch_size"] = 4
    prompt["11"]["inputs"].update(positive=["2", 0], negative=["3", 0])
    prompt["2"] = {"class_type": "CLIPTextEncode", "inputs": {"text": "a lighthouse", "clip": ["1", 1]}}
    prompt["3"] = {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["1", 1]}}
    prompt["14"]["inputs"].update(noise=["5", 1], latent_image=["4", 0])
    del prompt["20"]
    return prompt


def test_a_seed_sweep_image_keeps_its_ancestors_and_one_fixed_seed() -> None:
    prompt = executed("seed_sweep")
    prompt["99"] = {"class_type": "SaveImage", "inputs": {"images": ["7", 0], "filename_prefix": "other"}}
    before = copy.deepcopy(prompt)
    details = {"seed": 406223, "seed_node": "5", "sampler_node": "6", "speed": "Turbo", "batch_size": 1}
    problems: list[str] = []
    remake = remake_prompt(details, prompt, "8", problems)
    assert remake is not None, problems
    assert prompt == before  # the executed prompt is not touched
    assert set(remake) == {"1", "2", "3", "4", "5", "6", "7", "8", "9"}  # no contact sheet, no other save
    assert remake["5"]["inputs"] == {
        "seed_number": 406223,
        "mode": "fixed",
        "ideogram_range": False,
        "batch_seeds": "shared",
        "count": 1,
    }
    assert remake["5"]["_meta"] == {"title": "Seed Source"}
    for node_id in ("1", "2", "6", "7", "8", "9"):
        assert remake[node_id]["inputs"] == prompt[node_id]["inputs"]
    json.dumps(remake, allow_nan=False)


def test_a_ladder_image_pins_render_speed_preset_to_its_speed() -> None:
    prompt = executed("render_speed_ladder")
    for speed in ("Turbo", "Default", "Quality"):
        details = {"seed": 406220, "seed_node": "5", "sampler_node": "6", "speed": speed}
        remake = remake_prompt(details, prompt, "8")
        assert remake is not None
        assert remake["9"]["inputs"] == {"speed": speed, "model_family": "auto", "model": ["1", 0]}
        assert "_requested_mode" not in remake["5"]["inputs"] and "10" not in remake


def test_a_ladder_image_with_an_unknown_speed_has_no_remake() -> None:
    problems: list[str] = []
    details = {"seed": 1, "seed_node": "5", "sampler_node": "6", "speed": "Turbo (a note)"}
    assert remake_prompt(details, executed("render_speed_ladder"), "8", problems) is None
    assert "Render Speed Preset '9'" in problems[-1]


@pytest.mark.parametrize(
    "template",
    [
        "a lighthouse on a cliff at dusk, dark {blue|purple|red} gradient sky",
        "odd \\{braces\\} and a bar \\| {a \\/\\/ not a comment|b} http:\\/\\/x /* gone */ {x|y}",
    ],
)
def test_a_variant_image_pins_the_sweep_to_its_resolved_text(template: str) -> None:
    prompt = executed("variant_sweep_list")
    prompt["20"]["inputs"]["template"] = template
    for variant in expand(template):
        details = {"seed": 406220, "seed_node": "5", "sampler_node": "6", "positive": variant.text}
        remake = remake_prompt(details, prompt, "8")
        assert remake is not None
        pinned = remake["20"]["inputs"]["template"]
        assert [v.text for v in expand(pinned)] == [variant.text]  # one variant: the same text
        assert {k: v for k, v in remake["20"]["inputs"].items() if k != "template"} == {
            k: v for k, v in prompt["20"]["inputs"].items() if k != "template"
        }


def test_a_batched_variant_item_is_made_alone_with_the_sweeps_noise() -> None:
    prompt = executed("variant_sweep_batched")
    details = {
        "seed": 406220,
        "sampler_node": "14",
        "sampler": "euler",
        "positive": "a lighthouse on a cliff at dusk, dark purple gradient sky",
        "batch_index": 1,
        "batch_size": 3,
    }
    remake = remake_prompt(details, prompt, "8")
    assert remake is not None
    assert remake["20"]["inputs"]["template"] == details["positive"]
    assert remake["5"]["inputs"]["count"] == 1 and remake["5"]["inputs"]["seed_number"] == 406220
    assert not any(n["class_type"] == BATCH_ITEM_CLASS for n in remake.values())


def test_two_variant_sweeps_have_no_remake() -> None:
    prompt = executed("variant_sweep_list")
    prompt["21"] = copy.deepcopy(prompt["20"])
    prompt["6"]["inputs"]["negative"] = ["21", 0]
    problems: list[str] = []
    details = {"seed": 406220, "seed_node": "5", "sampler_node": "6", "positive": "x"}
    assert remake_prompt(details, prompt, "8", problems) is None
    assert "which variant" in problems[-1]


@pytest.mark.parametrize("noise_source", ["comfy", "a1111 gpu"])
def test_a_per_image_batch_item_is_made_at_batch_1_with_its_own_seed(noise_source: str) -> None:
    prompt = batch_prompt(noise_source=noise_source)
    details = {
        "seed": 406222,
        "seeds": [406220 + i for i in range(4)],
        "sampler_node": "14",
        "sampler": "euler",
        "noise_source": noise_source,
        "batch_seeds": "per image",
        "batch_index": 2,
        "batch_size": 4,
    }
    remake = remake_prompt(details, prompt, "8")
    assert remake is not None
    assert remake["4"]["inputs"]["batch_size"] == 1
    assert remake["5"]["inputs"]["seed_number"] == 406222 and remake["5"]["inputs"]["count"] == 1
    assert remake["8"]["inputs"]["images"] == ["7", 0]


def test_a_per_image_variation_item_gets_its_own_variation_seed() -> None:
    prompt = batch_prompt(variation_seed=100, variation_strength=0.2)
    details = {
        "seed": 406220,
        "seeds": [406220] * 4,
        "sampler_node": "14",
        "sampler": "euler",
        "noise_source": "comfy",
        "batch_seeds": "per image",
        "variation_seed": 103,
        "variation_strength": 0.2,
        "batch_index": 3,
        "batch_size": 4,
    }
    remake = remake_prompt(details, prompt, "8")
    assert remake is not None
    assert remake["4"]["inputs"]["batch_size"] == 1
    assert (remake["5"]["inputs"]["seed_number"], remake["5"]["inputs"]["variation_seed"]) == (406220, 103)


@pytest.mark.parametrize(
    ("batch_seeds", "sampler"), [("shared", "euler"), ("per image", "euler_ancestral"), ("per image", "dpmpp_sde")]
)
def test_a_batch_item_that_needs_its_batch_keeps_it_and_picks_the_item(batch_seeds: str, sampler: str) -> None:
    prompt = batch_prompt(batch_seeds=batch_seeds, variation_seed=100, variation_strength=0.2)
    per_image = batch_seeds == "per image"
    details = {
        "seed": 406220,
        "seeds": [406220] * 4,
        "sampler_node": "14",
        "sampler": sampler,
        "noise_source": "comfy",
        "batch_seeds": batch_seeds,
        "variation_seed": 102 if per_image else 100,
        "variation_strength": 0.2,
        "batch_index": 2,
        "batch_size": 4,
    }
    remake = remake_prompt(details, prompt, "8")
    assert remake is not None
    assert remake["4"]["inputs"]["batch_size"] == 4  # the batch is kept: its noise spans it
    assert remake["5"]["inputs"]["variation_seed"] == 100  # the batch's first item's
    [(pick_id, pick)] = [(k, n) for k, n in remake.items() if n["class_type"] == BATCH_ITEM_CLASS]
    assert pick["inputs"] == {"image": ["7", 0], "batch_index": 2, "length": 1}
    assert remake["8"]["inputs"]["images"] == [pick_id, 0] and pick_id not in prompt


def test_a_ksampler_batch_item_keeps_its_batch() -> None:
    prompt = executed("seed_source_txt2img")
    prompt["4"]["inputs"]["batch_size"] = 2
    details = {
        "seed": 406220,
        "seeds": [406220, 406220],
        "seed_node": "5",
        "sampler_node": "6",
        "sampler": "euler",
        "noise_source": "comfy",
        "batch_index": 1,
        "batch_size": 2,
    }
    remake = remake_prompt(details, prompt, "8")
    assert remake is not None and remake["4"]["inputs"]["batch_size"] == 2
    assert any(n["class_type"] == BATCH_ITEM_CLASS and n["inputs"]["batch_index"] == 1 for n in remake.values())


def test_a_seed_source_sweeping_seeds_for_something_else_has_no_remake() -> None:
    prompt = executed("seed_sweep")
    prompt["6"]["inputs"]["seed"] = 12  # the sweep no longer feeds the image's seed, but still runs
    prompt["6"]["inputs"]["cfg"] = ["5", 0]
    problems: list[str] = []
    assert remake_prompt({"seed": 12, "sampler_node": "6", "speed": "Turbo"}, prompt, "8", problems) is None
    assert "Seed Source '5'" in problems[-1]


def test_a_linked_seed_becomes_the_literal_seed_and_its_source_is_dropped() -> None:
    prompt = executed("seed_source_txt2img")
    prompt["30"] = {"class_type": "PrimitiveInt", "inputs": {"value": 5}}
    prompt["5"]["inputs"]["seed_number"] = ["30", 0]
    details = {"seed": 5, "seed_node": "5", "sampler_node": "6", "sampler": "euler"}
    remake = remake_prompt(details, prompt, "8")
    assert remake is not None and remake["5"]["inputs"]["seed_number"] == 5 and "30" not in remake


def test_the_remake_chunk_is_written_beside_the_details() -> None:
    remake = remake_prompt({"seed": 1, "seed_node": "5"}, executed("seed_source_txt2img", seed=1), "8")
    assert remake is not None
    chunks = png_text_chunks({"seed": 1}, remake)
    assert json.loads(chunks[REMAKE_CHUNK]) == remake
    assert REMAKE_CHUNK not in png_text_chunks({"seed": 1})
    assert remake_json({"1": {"class_type": "X", "inputs": {"text": "x" * (5 * 1024 * 1024)}}}) is None
    assert remake_json({"1": {"class_type": "X", "inputs": {"v": float("nan")}}}) is None


@pytest.mark.parametrize(
    ("details", "prompt", "save"),
    [
        (None, {}, "8"),
        ({}, None, "8"),
        ({}, {}, "8"),
        ({}, {"8": "junk"}, "8"),
        (
            {"seed": "x", "seed_node": "5"},
            {
                "8": {"class_type": DETAILS, "inputs": {"images": ["5", 0]}},
                "5": {"class_type": "SeedSource|SeedNumber", "inputs": {}},
            },
            "8",
        ),
        ({"batch_size": 3, "batch_index": 1}, {"8": {"class_type": DETAILS, "inputs": {"images": "x"}}}, 8),
        ({"sampler_node": ["x"], "seed_node": {}}, {"8": {"class_type": DETAILS, "inputs": {"images": ["8", 0]}}}, "8"),
        ({}, {"8": {"class_type": DETAILS, "inputs": {"images": [{"a": 1}, 0]}}, 1: {"class_type": 3}}, "8"),
    ],
)
def test_odd_inputs_give_no_remake_or_a_prompt_never_an_error(details: Any, prompt: Any, save: Any) -> None:
    problems: list[str] = []
    result = remake_prompt(details, prompt, save, problems)
    assert result is None or isinstance(result, dict)
    if result is None:
        assert problems


_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True),
    st.text(max_size=8),
    st.sampled_from(["Ladder", "Turbo", "per image", "a1111 gpu", "{a|b}", "fixed", "8", "5"]),
    st.lists(st.sampled_from(["1", "5", "6", "7", "8", "20", 0, 1, 3, None]), min_size=0, max_size=3),
)
_CLASSES = st.sampled_from(
    [
        DETAILS,
        "SeedSource|SeedNumber",
        "RenderSpeedPreset|SeedNumber",
        "PromptVariantSweep|SeedNumber",
        "KSampler",
        "SamplerCustomAdvanced",
        "EmptyLatentImage",
        "VAEDecode",
        "CFGGuider",
    ]
)
_INPUTS = st.sampled_from(
    [
        "images",
        "seed",
        "noise",
        "seed_number",
        "count",
        "mode",
        "speed",
        "template",
        "positive",
        "guider",
        "latent_image",
        "batch_size",
        "width",
        "height",
        "samples",
        "text",
        "_requested_mode",
    ]
)
_NODES = st.fixed_dictionaries({"class_type": _CLASSES, "inputs": st.dictionaries(_INPUTS, _VALUES, max_size=6)})
_DETAIL_KEYS = st.sampled_from(
    [
        "seed",
        "seeds",
        "seed_node",
        "sampler_node",
        "speed",
        "positive",
        "batch_index",
        "batch_size",
        "sampler",
        "noise_source",
        "batch_seeds",
        "variation_seed",
        "variation_strength",
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    prompt=st.dictionaries(st.sampled_from(["1", "5", "6", "7", "8", "20"]), _NODES, max_size=6),
    details=st.dictionaries(_DETAIL_KEYS, _VALUES, max_size=8),
)
def test_generated_prompts_never_raise_and_keep_only_ancestors(prompt: dict, details: dict) -> None:
    before = copy.deepcopy(prompt)
    result = remake_prompt(details, prompt, "8", [])
    assert prompt == before
    if result is not None:
        assert "8" in result
        ours = [node for node in result.values() if node["class_type"].endswith("|SeedNumber")]
        assert all("_requested_mode" not in node["inputs"] for node in ours)
        assert set(result) - set(prompt) <= {n for n, v in result.items() if v["class_type"] == BATCH_ITEM_CLASS}
