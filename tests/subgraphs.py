"""The two formats of a subgraph (server and browser tiers): the prompt queued and the UI workflow.

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
import uuid
from typing import Any

from seed_number.nodes.core.prompt_graph import is_link

SUBGRAPH_NAMESPACE = uuid.UUID("5eed0000-0000-4000-8000-00000000005b")
INPUT_NODE, OUTPUT_NODE = -10, -20


def api_subgraph(prompt: dict[str, Any], inner: set[str], outer: str) -> dict[str, Any]:
    """``prompt`` as the frontend queues it with the nodes ``inner`` inside subgraph node ``outer``."""

    def rename(node_id: str) -> str:
        return f"{outer}:{node_id}" if node_id in inner else node_id

    flat = {}
    for node_id, node in prompt.items():
        node = copy.deepcopy(node)
        for name, value in node["inputs"].items():
            if is_link(value):
                node["inputs"][name] = [rename(str(value[0])), value[1]]
        flat[rename(str(node_id))] = node
    return flat


def _link(link_id: int, origin: Any, origin_slot: int, target: Any, target_slot: int, link_type: str) -> dict[str, Any]:
    """A link inside a subgraph definition (the frontend's object form)."""
    return {
        "id": link_id,
        "origin_id": origin,
        "origin_slot": origin_slot,
        "target_id": target,
        "target_slot": target_slot,
        "type": link_type,
    }


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
            inner_links.append(_link(link_id, origin, origin_slot, target, target_slot, link_type))
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
            inner_links.append(_link(inside, INPUT_NODE, index, target, target_slot, link_type))
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
                inner_links.append(_link(inside, origin, origin_slot, OUTPUT_NODE, index, link_type))
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
