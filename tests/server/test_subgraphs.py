"""Subgraphs (issue 7, item 4): Seed Source, Render Speed Preset and Seed Details inside a subgraph.

The frontend (ComfyUI_frontend ≥ 1.24, bundled 1.27.10) queues a subgraph flattened: an inner node
gets the execution id ``"<outer node id>:<inner id>"`` (nested: ``"12:20:5"``), links to it read
``["12:5", 0]``, and links leaving it point straight at the outer nodes. The UI workflow it embeds
keeps the subgraph: an outer node whose ``type`` is the subgraph's uuid, and the inner nodes (with
their ``widgets_values``) in ``workflow["definitions"]["subgraphs"]`` — every subgraph, nested ones
included, listed flat at the root, each with its own ``links`` as objects and the boundary nodes
``-10`` (inputs) and ``-20`` (outputs). :func:`ui_subgraph` and :func:`api_subgraph` build both
formats from the example workflows; the browser tier checks them against the real frontend.
"""

from __future__ import annotations

import copy
import json
import random
import uuid
from typing import Any

import numpy as np
import pytest

from seed_number.nodes.core.presets import SPEEDS
from tests.paths import ROOT
from tests.prompts import SEED_NODE
from tests.server.helpers import api_workflow, cached_nodes, pixels, png_text, queued_prompt, receipt, saved_images
from tools.comfy_server import ComfyServer, new_client_id

SEED_SOURCE = "SeedSource|SeedNumber"
DETAILS = "SeedDetails|SeedNumber"
SUBGRAPH_NAMESPACE = uuid.UUID("5eed0000-0000-4000-8000-00000000005b")
INPUT_NODE, OUTPUT_NODE = -10, -20


# -- the two formats of a subgraph ------------------------------------------------------------------


def _is_link(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and isinstance(value[1], int)


def api_subgraph(prompt: dict[str, Any], inner: set[str], outer: str) -> dict[str, Any]:
    """``prompt`` as the frontend queues it with the nodes ``inner`` inside subgraph node ``outer``."""

    def rename(node_id: str) -> str:
        return f"{outer}:{node_id}" if node_id in inner else node_id

    flat = {}
    for node_id, node in prompt.items():
        node = copy.deepcopy(node)
        for name, value in node["inputs"].items():
            if _is_link(value):
                node["inputs"][name] = [rename(str(value[0])), value[1]]
        flat[rename(str(node_id))] = node
    return flat


def ui_subgraph(workflow: dict[str, Any], inner: set[int], outer: int, name: str) -> dict[str, Any]:
    """A UI workflow with the nodes ``inner`` moved into a new subgraph, instanced as node ``outer``.

    Links crossing the boundary become subgraph inputs (one per outer source slot) and outputs (one
    per inner source slot), as the frontend's "Convert to Subgraph" makes them.
    """
    wf = copy.deepcopy(workflow)
    subgraph_id = str(uuid.uuid5(SUBGRAPH_NAMESPACE, f"{name}/{outer}"))
    definitions = wf.setdefault("definitions", {}).setdefault("subgraphs", [])
    nodes = {n["id"]: n for n in wf["nodes"]}
    all_link_ids = [link[0] for link in wf["links"]] + [
        link["id"] for sg in definitions for link in sg.get("links", [])
    ]
    next_link = max([wf.get("last_link_id", 0), *all_link_ids]) + 1

    def new_link_id() -> int:
        nonlocal next_link
        next_link += 1
        return next_link - 1

    outer_links: list[list[Any]] = []
    inner_links: list[dict[str, Any]] = []
    sg_inputs: list[dict[str, Any]] = []
    sg_outputs: list[dict[str, Any]] = []
    outer_inputs: list[dict[str, Any]] = []
    outer_outputs: list[dict[str, Any]] = []
    input_slots: dict[tuple[int, int], int] = {}
    output_slots: dict[tuple[int, int], int] = {}

    def slot(kind: str, index: int, slot_name: str, link_type: str, x: float, y: float) -> dict[str, Any]:
        return {
            "id": str(uuid.uuid5(SUBGRAPH_NAMESPACE, f"{subgraph_id}/{kind}/{index}")),
            "name": slot_name,
            "type": link_type,
            "linkIds": [],
            "localized_name": slot_name,
            "pos": [x, y + 20 * index],
        }

    for link in wf["links"]:
        link_id, origin, origin_slot, target, target_slot, link_type = link
        if origin in inner and target in inner:
            inner_links.append(
                {
                    "id": link_id,
                    "origin_id": origin,
                    "origin_slot": origin_slot,
                    "target_id": target,
                    "target_slot": target_slot,
                    "type": link_type,
                }
            )
        elif target in inner:  # enters the subgraph: outer source -> subgraph input -> inner target
            key = (origin, origin_slot)
            target_input = nodes[target]["inputs"][target_slot]
            if key not in input_slots:
                index = input_slots[key] = len(sg_inputs)
                taken = {s["name"] for s in sg_inputs}
                slot_name = (
                    target_input["name"] if target_input["name"] not in taken else f"{target_input['name']}_{index}"
                )
                sg_inputs.append(slot("input", index, slot_name, link_type, 100, 100))
                outer_inputs.append({"name": slot_name, "type": link_type, "link": link_id})
                outer_links.append([link_id, origin, origin_slot, outer, index, link_type])
            else:  # a second inner target of the same source: the outer link is shared
                nodes[origin]["outputs"][origin_slot]["links"].remove(link_id)
            index = input_slots[key]
            inside = new_link_id()
            target_input["link"] = inside
            sg_inputs[index]["linkIds"].append(inside)
            inner_links.append(
                {
                    "id": inside,
                    "origin_id": INPUT_NODE,
                    "origin_slot": index,
                    "target_id": target,
                    "target_slot": target_slot,
                    "type": link_type,
                }
            )
        elif origin in inner:  # leaves the subgraph: inner source -> subgraph output -> outer target
            key = (origin, origin_slot)
            source_links = nodes[origin]["outputs"][origin_slot]["links"]
            if key not in output_slots:
                index = output_slots[key] = len(sg_outputs)
                slot_name = nodes[origin]["outputs"][origin_slot]["name"]
                sg_outputs.append(slot("output", index, slot_name, link_type, 900, 100))
                outer_outputs.append({"name": slot_name, "type": link_type, "links": []})
                inside = new_link_id()
                sg_outputs[index]["linkIds"].append(inside)
                source_links[source_links.index(link_id)] = inside
                inner_links.append(
                    {
                        "id": inside,
                        "origin_id": origin,
                        "origin_slot": origin_slot,
                        "target_id": OUTPUT_NODE,
                        "target_slot": index,
                        "type": link_type,
                    }
                )
            else:
                source_links.remove(link_id)
            index = output_slots[key]
            outer_outputs[index]["links"].append(link_id)
            outer_links.append([link_id, outer, index, target, target_slot, link_type])
        else:
            outer_links.append(link)

    moved = [nodes[i] for i in sorted(inner)]
    instance = {
        "id": outer,
        "type": subgraph_id,
        "pos": moved[0]["pos"],
        "size": [260, 30 + 20 * max(len(outer_inputs), len(outer_outputs), 1)],
        "flags": {},
        "order": 0,
        "mode": 0,
        "inputs": outer_inputs,
        "outputs": outer_outputs,
        "properties": {},
        "widgets_values": [],
        "title": name,
    }
    last_node_id = max(wf.get("last_node_id", 0), outer, *nodes)
    definitions.append(
        {
            "id": subgraph_id,
            "version": 1,
            "state": {"lastGroupId": 0, "lastNodeId": last_node_id, "lastLinkId": next_link - 1, "lastRerouteId": 0},
            "revision": 0,
            "config": {},
            "name": name,
            "inputNode": {"id": INPUT_NODE, "bounding": [0, 100, 120, 60]},
            "outputNode": {"id": OUTPUT_NODE, "bounding": [900, 100, 120, 60]},
            "inputs": sg_inputs,
            "outputs": sg_outputs,
            "widgets": [],
            "nodes": moved,
            "groups": [],
            "links": inner_links,
            "extra": {},
        }
    )
    wf["nodes"] = [n for n in wf["nodes"] if n["id"] not in inner] + [instance]
    wf["links"] = outer_links
    wf["last_node_id"] = last_node_id
    wf["last_link_id"] = next_link - 1
    return wf


def workflow_node(workflow: dict[str, Any], path: str) -> dict[str, Any]:
    """The UI node an execution id names, through the subgraph definitions ("12:20:5")."""
    definitions = {sg["id"]: sg for sg in workflow.get("definitions", {}).get("subgraphs", [])}
    nodes = workflow["nodes"]
    node: dict[str, Any] = {}
    for part in path.split(":"):
        [node] = [n for n in nodes if str(n["id"]) == part]
        nodes = definitions[node["type"]]["nodes"] if node["type"] in definitions else []
    return node


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
