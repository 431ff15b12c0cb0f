"""Subgraphs (issue 7, item 4): Seed Source, Render Speed Preset and Seed Details inside a subgraph.

The two formats of a subgraph (the queued prompt and the UI workflow) are built by
``tests/subgraphs.py`` from the example workflows; the browser tier checks them against the real
frontend.
"""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import numpy as np
import pytest

from seed_number.nodes.core.presets import SPEEDS
from tests.paths import ROOT
from tests.prompts import SEED_NODE
from tests.server.helpers import api_workflow, cached_nodes, pixels, png_text, queued_prompt, receipt, saved_images
from tests.subgraphs import api_subgraph, ui_subgraph, workflow_node
from tools.comfy_server import ComfyServer, new_client_id

SEED_SOURCE = "SeedSource|SeedNumber"
DETAILS = "SeedDetails|SeedNumber"


def ui_example(name: str) -> dict[str, Any]:
    return json.loads((ROOT / "workflows" / f"{name}.json").read_text())


def details_example(size: int = 64, steps: int = 4, **seed_inputs: Any) -> dict[str, Any]:
    """``seed_details_txt2img`` in API format: Seed Source → KSampler → VAE Decode → Seed Details."""
    prompt = api_workflow("seed_details_txt2img", size=size, **seed_inputs)
    prompt["6"]["inputs"]["steps"] = steps
    prompt["8"]["inputs"]["filename_prefix"] = "tests/subgraph"
    return prompt


def in_subgraphs(path: str, prompt: dict[str, Any], workflow: dict[str, Any], node: str) -> tuple[dict, dict]:
    """Both formats with node ``node`` moved into the (possibly nested) subgraph path ``path``."""
    *outers, leaf = path.split(":")
    assert leaf == node
    ids = node
    for outer in reversed(outers):
        prompt = api_subgraph(prompt, {ids}, outer)
        workflow = ui_subgraph(workflow, {int(ids.split(":")[0])}, int(outer), f"Subgraph {outer}")
        ids = f"{outer}:{ids}"
    return prompt, workflow


# -- tests ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["12:5", "12:20:5"])
def test_seed_source_in_a_subgraph_receipt_prompt_png_workflow_and_remake(comfy_server: ComfyServer, path: str) -> None:
    prompt, workflow = in_subgraphs(path, details_example(mode="random"), ui_example("seed_details_txt2img"), SEED_NODE)
    assert prompt["6"]["inputs"]["seed"] == [path, 0]
    entry = comfy_server.run(prompt, extra_data={"extra_pnginfo": {"workflow": workflow}})

    got = receipt(entry, path)
    seed = got["seed"]
    assert (got["node"], got["mode"]) == (path, "random")
    assert SEED_NODE not in entry["outputs"]
    stored = queued_prompt(entry)[path]["inputs"]
    assert (stored["seed_number"], stored["mode"], stored["_requested_mode"]) == (seed, "fixed", "random")

    # Seed Details outside the subgraph follows the sampler's seed link into it
    [shown] = entry["outputs"]["8"]["seed_number_details"]
    assert (shown["seed"], shown["mode"], shown["sampler_node"]) == (seed, "random", "6")

    [image] = saved_images(comfy_server, entry, node="8")
    chunks = png_text(image)
    embedded = json.loads(chunks["prompt"])
    assert embedded[path]["inputs"]["seed_number"] == seed and embedded[path]["inputs"]["mode"] == "fixed"
    assert json.loads(chunks["seed_number"])["nodes"] == {path: {"seed": seed, "mode": "random"}}
    assert json.loads(chunks["seed_number_details"])["seed"] == seed
    saved_workflow = json.loads(chunks["workflow"])
    inner = workflow_node(saved_workflow, path)
    assert inner["type"] == SEED_SOURCE
    # dragged back in, it re-makes the image
    assert inner["widgets_values"] == [seed, "fixed", False, "shared", 1, "comfy", 0, 0.0]
    assert not [n for n in saved_workflow["nodes"] if n["type"] == SEED_SOURCE]  # nothing added at the root
    # apart from that one widget pair, the embedded workflow is the one sent
    workflow_node(workflow, path)["widgets_values"][:2] = [seed, "fixed"]
    assert saved_workflow == workflow

    # the PNG's prompt, posted again as it is, re-makes identical pixels (the sampler really runs again)
    embedded["8"]["inputs"]["filename_prefix"] = "tests/subgraph_remake"
    again = comfy_server.run(embedded)
    assert receipt(again, path)["seed"] == seed and receipt(again, path)["mode"] == "fixed"
    assert "6" not in cached_nodes(again)
    [remade] = saved_images(comfy_server, again, node="8")
    assert remade != image and np.array_equal(pixels(remade), pixels(image))


def test_render_speed_ladder_and_seed_details_in_subgraphs(comfy_server: ComfyServer) -> None:
    # Subgraph 12 holds Seed Source, Render Speed Preset and KSampler; VAE Decode and the contact
    # sheet stay at the root; Seed Details sits in subgraph 13, two boundaries from its sampler.
    prompt = api_workflow("render_speed_ladder", size=64, mode="random")
    prompt["8"] = {
        "class_type": DETAILS,
        "inputs": {"images": ["7", 0], "filename_prefix": "tests/subgraph_ladder", "save": True},
    }
    prompt = api_subgraph(api_subgraph(prompt, {"5", "9", "6"}, "12"), {"8"}, "13")
    workflow = ui_example("render_speed_ladder")
    [save] = [n for n in workflow["nodes"] if n["id"] == 8]
    save.update(type=DETAILS, widgets_values=["tests/subgraph_ladder", True], properties={"Node name for S&R": DETAILS})
    workflow = ui_subgraph(ui_subgraph(workflow, {5, 9, 6}, 12, "Seed and speed"), {8}, 13, "Details")
    assert prompt["12:6"]["inputs"]["steps"] == ["12:9", 0] and prompt["7"]["inputs"]["samples"] == ["12:6", 0]
    entry = comfy_server.run(prompt, extra_data={"extra_pnginfo": {"workflow": workflow}})

    seed = receipt(entry, "12:5")["seed"]
    speeds = entry["outputs"]["12:9"]["seed_number_speed"]
    assert [(s["speed"], s["steps"], s["node"]) for s in speeds] == [
        ("Turbo", 12, "12:9"),
        ("Default", 20, "12:9"),
        ("Quality", 40, "12:9"),
    ]
    shown = entry["outputs"]["13:8"]["seed_number_details"]
    assert [(d["speed"], d["steps"], d["seed"], d["sampler_node"]) for d in shown] == [
        (speed, steps, seed, "12:6") for speed, steps in zip(SPEEDS, (12, 20, 40), strict=True)
    ]
    assert entry["outputs"]["10"]["seed_number_captions"] == [f"Seed {seed} · {speed}" for speed in SPEEDS]

    images = saved_images(comfy_server, entry, node="13:8")
    assert len(images) == 3 and len({pixels(p).tobytes() for p in images}) == 3
    for speed, image in zip(SPEEDS, images, strict=True):
        chunks = png_text(image)
        details = json.loads(chunks["seed_number_details"])
        assert (details["speed"], details["seed"]) == (speed, seed)
        assert json.loads(chunks["prompt"])["12:5"]["inputs"]["seed_number"] == seed
        saved_workflow = json.loads(chunks["workflow"])
        assert workflow_node(saved_workflow, "12:5")["widgets_values"][:2] == [seed, "fixed"]
        assert workflow_node(saved_workflow, "12:9")["widgets_values"] == ["Ladder", "auto"]

    # one speed of the ladder, re-made from the PNG's prompt: the same pixels
    embedded = json.loads(png_text(images[2])["prompt"])
    embedded["12:9"]["inputs"]["speed"] = "Quality"
    embedded["13:8"]["inputs"]["filename_prefix"] = "tests/subgraph_ladder_remake"
    again = comfy_server.run(embedded)
    [remade] = saved_images(comfy_server, again, node="13:8")
    assert [d["speed"] for d in again["outputs"]["13:8"]["seed_number_details"]] == ["Quality"]
    assert np.array_equal(pixels(remade), pixels(images[2]))


def test_increment_counts_per_subgraph_instance(comfy_server: ComfyServer) -> None:
    # Two instances (12 and 13) of one subgraph definition: the same inner Seed Source (5), so the
    # same inputs, queued as "12:5" and "13:5". Each instance counts on its own.
    base = random.randrange(10**6, 10**9)
    prompt = details_example(steps=2, seed_number=base, mode="increment")
    prompt["30"] = {"class_type": "PreviewAny", "inputs": {"source": [SEED_NODE, 0]}}
    prompt["13:5"] = copy.deepcopy(prompt[SEED_NODE])
    prompt["30"]["inputs"]["source"] = ["13:5", 0]
    prompt = api_subgraph(prompt, {SEED_NODE}, "12")
    client = new_client_id()
    runs = [comfy_server.run(copy.deepcopy(prompt), client_id=client) for _ in range(3)]
    assert [receipt(r, "12:5")["seed"] for r in runs] == [base, base + 1, base + 2]
    assert [receipt(r, "13:5")["seed"] for r in runs] == [base, base + 1, base + 2]
    assert [r["outputs"]["8"]["seed_number_details"][0]["seed"] for r in runs] == [base, base + 1, base + 2]
    assert {receipt(r, "12:5")["mode"] for r in runs} == {"increment"}
