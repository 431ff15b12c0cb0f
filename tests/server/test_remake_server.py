"""Re-make prompts end to end (issue 14, part 2): every image of a sweep, a ladder, a variant sweep and a
batch, POSTed alone from its re-make prompt, comes back with the same pixels and the same details."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from tests.prompts import SEED_NODE, custom_sampler_prompt
from tests.server.helpers import api_workflow, pixels, png_text
from tools.comfy_server import ComfyServer

DETAILS_NODE = "8"
REMAKE_KEY = "remake_prompt"
REMAKE_CHUNK = "seed_number_remake"
BATCH_FIELDS = ("batch_index", "batch_size", "seeds")
"""What a batch item made at batch size 1 necessarily records differently."""


def with_details(prompt: dict[str, Any], prefix: str) -> dict[str, Any]:
    """Save Image (node 8) replaced by Seed Details on the same images."""
    images = prompt[DETAILS_NODE]["inputs"]["images"]
    prompt[DETAILS_NODE] = {
        "class_type": "SeedDetails|SeedNumber",
        "inputs": {"images": images, "filename_prefix": f"tests/{prefix}", "save": True},
    }
    return prompt


def details_of(entry: dict[str, Any]) -> list[dict[str, Any]]:
    return entry["outputs"][DETAILS_NODE]["seed_number_details"]


def image_of(server: ComfyServer, record: dict[str, Any]) -> np.ndarray:
    return pixels(server.output_path(record["image"]))


def remade(server: ComfyServer, record: dict[str, Any]) -> dict[str, Any]:
    """POST the record's re-make prompt alone (as a dispatcher would); the one image's record."""
    remake = record[REMAKE_KEY]
    assert isinstance(remake, dict), "no re-make prompt"
    assert json.loads(png_text(server.output_path(record["image"]))[REMAKE_CHUNK]) == remake  # the PNG holds it
    [again] = details_of(server.run(json.loads(json.dumps(remake))))
    return again


def assert_same_details(original: dict[str, Any], again: dict[str, Any], differ: tuple[str, ...] = ()) -> None:
    """Equal but for the file, the re-make prompt, the fields in ``differ`` and ``mode`` (the re-make
    asks for ``fixed``: its seed is the image's)."""
    skip = {"image", REMAKE_KEY, "mode", *differ}
    assert {k: v for k, v in again.items() if k not in skip} == {k: v for k, v in original.items() if k not in skip}
    assert again["mode"] == "fixed"


def test_each_image_of_a_seed_sweep_of_8_is_remade_alone(comfy_server: ComfyServer) -> None:
    prompt = with_details(api_workflow("seed_sweep", size=64, mode="random"), "remake_sweep")
    prompt["6"]["inputs"].update(steps=3, cfg=7.0, sampler_name="euler", scheduler="normal", denoise=1.0)
    del prompt["9"]  # no speed preset: 3 steps keep the suite fast (the ladder test pins the preset)
    records = details_of(comfy_server.run(prompt))
    assert len(records) == 8 and len({r["seed"] for r in records}) == 8
    for record in records:
        remake = record[REMAKE_KEY]
        assert "10" not in remake and remake[SEED_NODE]["inputs"]["count"] == 1
        assert remake[SEED_NODE]["inputs"]["seed_number"] == record["seed"]
        assert "_requested_mode" not in remake[SEED_NODE]["inputs"]
        again = remade(comfy_server, record)
        assert np.array_equal(image_of(comfy_server, again), image_of(comfy_server, record))
        assert_same_details(record, again)
        assert again[REMAKE_KEY] == remake  # a re-make's re-make prompt is the same prompt


def test_each_speed_of_a_ladder_is_remade_alone(comfy_server: ComfyServer) -> None:
    prompt = with_details(api_workflow("render_speed_ladder", size=64, mode="random"), "remake_ladder")
    records = details_of(comfy_server.run(prompt))
    assert [r["speed"] for r in records] == ["Turbo", "Default", "Quality"]
    for record in records:
        assert record[REMAKE_KEY]["9"]["inputs"]["speed"] == record["speed"]
        again = remade(comfy_server, record)
        assert np.array_equal(image_of(comfy_server, again), image_of(comfy_server, record))
        assert_same_details(record, again)


def test_each_variant_of_a_list_sweep_is_remade_alone(comfy_server: ComfyServer) -> None:
    prompt = with_details(api_workflow("variant_sweep_list", size=64, mode="random"), "remake_variants")
    prompt["6"]["inputs"]["steps"] = 3
    records = details_of(comfy_server.run(prompt))
    assert [r["label"] for r in records] == ["blue", "purple", "red"]
    for record in records:
        template = record[REMAKE_KEY]["20"]["inputs"]["template"]
        assert template == record["positive"] and "{" not in template
        again = remade(comfy_server, record)
        assert np.array_equal(image_of(comfy_server, again), image_of(comfy_server, record))
        # one variant: the pinned template has no group, so nothing differs and the label is empty
        assert again["label"] == ""
        assert_same_details(record, again, differ=("label",))


def test_each_item_of_a_per_image_batch_of_4_is_remade_alone_at_batch_1(comfy_server: ComfyServer) -> None:
    prompt = custom_sampler_prompt([SEED_NODE, 1], batch=4, batch_seeds="per image", seed=406220)
    prompt[SEED_NODE]["inputs"]["mode"] = "random"
    records = details_of(comfy_server.run(with_details(prompt, "remake_batch")))
    assert [r["batch_index"] for r in records] == [0, 1, 2, 3]
    for record in records:
        assert record[REMAKE_KEY]["4"]["inputs"]["batch_size"] == 1
        again = remade(comfy_server, record)
        difference = np.abs(image_of(comfy_server, again).astype(int) - image_of(comfy_server, record).astype(int))
        assert difference.max() <= 1  # the model's arithmetic depends on the batch size (README)
        assert (again["batch_index"], again["batch_size"], again["seeds"]) == (0, 1, [record["seed"]])
        assert_same_details(record, again, differ=BATCH_FIELDS)


def test_an_item_of_a_shared_noise_batch_is_remade_from_its_batch(comfy_server: ComfyServer) -> None:
    prompt = custom_sampler_prompt([SEED_NODE, 1], batch=2, seed=406220)
    records = details_of(comfy_server.run(with_details(prompt, "remake_shared")))
    remake = records[1][REMAKE_KEY]
    assert remake["4"]["inputs"]["batch_size"] == 2  # ComfyUI's batch noise is one draw for the whole batch
    again = remade(comfy_server, records[1])
    assert np.array_equal(image_of(comfy_server, again), image_of(comfy_server, records[1]))
    assert_same_details(records[1], again, differ=BATCH_FIELDS)


def test_a_variation_image_is_remade_from_its_remake_prompt(comfy_server: ComfyServer) -> None:
    prompt = custom_sampler_prompt([SEED_NODE, 1], seed=406220)
    prompt[SEED_NODE]["inputs"].update(mode="random", variation_strength=0.3)  # a random variation seed too
    [record] = details_of(comfy_server.run(with_details(prompt, "remake_variation")))
    assert record[REMAKE_KEY][SEED_NODE]["inputs"]["variation_seed"] == record["variation_seed"]
    again = remade(comfy_server, record)
    assert np.array_equal(image_of(comfy_server, again), image_of(comfy_server, record))
    assert (again["variation_seed"], again["variation_strength"]) == (record["variation_seed"], 0.3)
    assert_same_details(record, again)
