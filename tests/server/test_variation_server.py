"""Variation seeds through a real ComfyUI (issue 14, part 1): near-duplicates in one queue, recorded
per image, written as A1111 writes them, and re-made bit-identically from the PNG's own prompt."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from tests.prompts import SEED_NODE, details_prompt
from tests.server.helpers import pixels, png_text, receipt
from tools.comfy_server import ComfyServer

DETAILS_NODE = "8"


def variation_prompt(batch: int = 1, **seed_inputs: Any) -> dict[str, Any]:
    """Seed Source's noise (with the given variation inputs) → SamplerCustomAdvanced → Seed Details."""
    return details_prompt("variation", batch=batch, **seed_inputs)


def details(entry: dict[str, Any]) -> list[dict[str, Any]]:
    return entry["outputs"][DETAILS_NODE]["seed_number_details"]


@pytest.mark.parametrize("noise_source", ["comfy", "a1111 gpu"])
def test_a_variation_png_remakes_itself_from_a_random_variation_seed(
    comfy_server: ComfyServer, noise_source: str
) -> None:
    # no variation_seed: the prompt hook draws one and pins it into the queued prompt
    entry = comfy_server.run(variation_prompt(noise_source=noise_source, variation_strength=0.3))
    [first] = details(entry)
    variation = receipt(entry)["variation_seed"]
    assert isinstance(variation, int) and first["variation_seed"] == variation
    assert (first["seed"], first["variation_strength"], first["noise_source"]) == (406220, 0.3, noise_source)
    path = comfy_server.output_path(first["image"])
    text = png_text(path)
    assert f"Variation seed: {variation}, Variation seed strength: 0.3" in text["parameters"]
    assert ("RNG: NV" if noise_source == "a1111 gpu" else "RNG: CPU") in text["parameters"]
    again = comfy_server.run(json.loads(text["prompt"]))  # what dragging the PNG back in queues
    [second] = details(again)
    assert np.array_equal(pixels(comfy_server.output_path(second["image"])), pixels(path))
    assert second["variation_seed"] == variation


def test_a_small_strength_keeps_the_composition_and_strength_0_is_the_seeds_image(comfy_server: ComfyServer) -> None:
    base = details(comfy_server.run(variation_prompt(variation_seed=17, variation_strength=0.0)))[0]
    plain = details(comfy_server.run(variation_prompt()))[0]
    assert np.array_equal(
        pixels(comfy_server.output_path(base["image"])), pixels(comfy_server.output_path(plain["image"]))
    )
    assert (
        "variation_seed" not in base
        and "Variation seed" not in png_text(comfy_server.output_path(base["image"]))["parameters"]
    )
    near = details(comfy_server.run(variation_prompt(variation_seed=17, variation_strength=0.05)))[0]
    far = details(comfy_server.run(variation_prompt(variation_seed=17, variation_strength=1.0)))[0]
    base_px, near_px, far_px = (pixels(comfy_server.output_path(d["image"])).astype(float) for d in (base, near, far))
    assert 0 < np.abs(near_px - base_px).mean() < np.abs(far_px - base_px).mean()


def test_near_duplicates_in_one_queue_are_recorded_per_image(comfy_server: ComfyServer) -> None:
    entry = comfy_server.run(
        variation_prompt(batch=3, batch_seeds="per image", variation_seed=100, variation_strength=0.2)
    )
    found = details(entry)
    assert [d["seed"] for d in found] == [406220] * 3  # A1111's seeds: the seed for all
    assert [d["variation_seed"] for d in found] == [100, 101, 102]  # variation seed + i
    images = [pixels(comfy_server.output_path(d["image"])) for d in found]
    assert not np.array_equal(images[0], images[1])
    # image 2 alone at batch size 1 with its own variation seed: the same initial noise, same picture
    alone = details(
        comfy_server.run(variation_prompt(batch_seeds="per image", variation_seed=102, variation_strength=0.2))
    )[0]
    diff = np.abs(pixels(comfy_server.output_path(alone["image"])).astype(int) - images[2].astype(int))
    assert diff.max() <= 1  # batch-size arithmetic: within one 8-bit level (see the README)


def test_sd_parsers_reads_the_variation(comfy_server: ComfyServer) -> None:
    import sd_parsers

    entry = comfy_server.run(variation_prompt(variation_seed=77, variation_strength=0.25))
    info = sd_parsers.ParserManager().parse(str(comfy_server.output_path(details(entry)[0]["image"])))
    assert info is not None
    assert info.metadata["Variation seed"] == "77" and info.metadata["Variation seed strength"] == "0.25"


def test_the_contact_sheet_captions_each_near_duplicate_with_its_variation(comfy_server: ComfyServer) -> None:
    prompt = variation_prompt(batch=3, batch_seeds="per image", variation_seed=100, variation_strength=0.2)
    prompt["9"] = {
        "class_type": "SeedContactSheet|SeedNumber",
        "inputs": {
            "images": ["7", 0],
            "seed": [SEED_NODE, 0],
            "columns": 3,
            "filename_prefix": "tests/var_sheet",
            "save": True,
        },
    }
    entry = comfy_server.run(prompt)
    assert entry["outputs"]["9"]["seed_number_captions"] == [
        "Seed 406220 · var 100 @ 0.2",
        "Seed 406220 · var 101 @ 0.2",
        "Seed 406220 · var 102 @ 0.2",
    ]
