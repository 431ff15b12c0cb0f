"""Prompt resolution: turn every Seed Source's requested mode into the concrete seed it will use.

Runs on each ``POST /prompt`` (ComfyUI's on_prompt hook) before validation and queueing, for the
browser and API clients alike. For each ``SeedSource|SeedNumber`` node whose inputs are valid it
writes the seed it will use and ``mode: "fixed"`` into the queued prompt, and the same into the
workflow that will be embedded in saved images, so that re-queueing either re-makes the image. The
mode asked for goes into the prompt as the extra input ``_requested_mode`` (ComfyUI ignores inputs a
node does not declare, but keys its cache on them, so a cached receipt never shows a stale mode) and,
with the seed, under ``extra_pnginfo["seed_number"]`` (a PNG text chunk of every saved image).

Inputs that ComfyUI's validation would refuse are left exactly as they are, so the client gets
its HTTP 400 naming the input. Linked seeds are resolved when the node runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .seeds import (
    DEFAULT_MODE,
    MAX_COUNT,
    MODES,
    NODE_ID,
    SeedCounter,
    coerce_seed,
    draw_random_seed,
    is_link,
    sweep_seeds,
)

REQUESTED_KEY = "_requested_mode"
"""Undeclared prompt input carrying the mode this queueing asked for (read back by the node)."""
EXTRA_KEY = "seed_number"
"""Key in ``extra_pnginfo`` (so also a PNG text chunk) holding the resolved seeds."""
WIDGET_ORDER = ("seed_number", "mode", "ideogram_range", "batch_seeds", "count")
"""Seed Source's widget inputs in schema order, i.e. their slots in a workflow's ``widgets_values``."""


@dataclass(frozen=True)
class Resolved:
    """One Seed Source's resolution: the node id, the seed it will use and the mode asked for."""

    node_id: str
    seed: int
    requested_mode: str
    count: int = 1

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"seed": self.seed, "mode": self.requested_mode}
        if self.count > 1:
            data["seeds"] = sweep_seeds(self.seed, self.count)
        return data


def _as_count(value: Any) -> int:
    """The sweep size ComfyUI's validation would accept, else 1 (validation then refuses the prompt)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return 1
    try:
        count = int(value)
    except (ValueError, OverflowError):
        return 1
    return count if 1 <= count <= MAX_COUNT else 1


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    return None


def resolve_node(
    node_id: str,
    inputs: dict[str, Any],
    client_id: str,
    counter: SeedCounter,
    draw: Callable[[bool], int] = draw_random_seed,
) -> Resolved | None:
    """Resolve one Seed Source's inputs in place; None when it must be left as it is."""
    mode = inputs.get("mode", DEFAULT_MODE)
    if not isinstance(mode, str) or mode not in MODES:
        return None
    ideogram = _as_bool(inputs.get("ideogram_range", False))
    if ideogram is None:
        return None
    raw = inputs.get("seed_number")
    if is_link(raw):
        return None
    if "seed_number" in inputs:
        base = coerce_seed(raw)
        if base is None:
            return None
    else:
        base = None
    count = _as_count(inputs.get("count", 1))
    if mode == "random" or base is None:
        seed = draw(ideogram)
    elif mode == "fixed":
        seed = base
    else:
        seed = counter.next((client_id, node_id, base), base, mode, stride=count)
    inputs["seed_number"] = seed
    inputs["mode"] = "fixed"
    inputs[REQUESTED_KEY] = mode
    return Resolved(node_id, seed, mode, count)


def _find_workflow_node(workflow: dict[str, Any], node_id: str) -> dict[str, Any] | None:
    """The workflow node for a prompt id, following subgraph paths like ``"5:3"``."""
    subgraphs = {}
    definitions = workflow.get("definitions")
    if isinstance(definitions, dict) and isinstance(definitions.get("subgraphs"), list):
        subgraphs = {sg.get("id"): sg for sg in definitions["subgraphs"] if isinstance(sg, dict)}
    nodes = workflow.get("nodes")
    found = None
    for part in node_id.split(":"):
        if not isinstance(nodes, list):
            return None
        found = next((n for n in nodes if isinstance(n, dict) and str(n.get("id")) == part), None)
        if found is None:
            return None
        nodes = subgraphs.get(found.get("type"), {}).get("nodes")
    return found


def _write_widgets(node: dict[str, Any], seed: int) -> None:
    values = node.get("widgets_values")
    if isinstance(values, list) and len(values) >= 2:
        values[0] = seed
        values[1] = "fixed"
    elif isinstance(values, dict):
        values["seed_number"] = seed
        values["mode"] = "fixed"


def resolve_request(
    json_data: Any, counter: SeedCounter, draw: Callable[[bool], int] = draw_random_seed
) -> list[Resolved]:
    """Resolve every Seed Source in a ``POST /prompt`` body, in place. Never raises on bad input."""
    if not isinstance(json_data, dict):
        return []
    prompt = json_data.get("prompt")
    if not isinstance(prompt, dict):
        return []
    client_id = json_data.get("client_id")
    client_id = client_id if isinstance(client_id, str) else ""
    resolved = []
    for node_id, node in prompt.items():
        if isinstance(node, dict) and node.get("class_type") == NODE_ID and isinstance(node.get("inputs"), dict):
            result = resolve_node(str(node_id), node["inputs"], client_id, counter, draw)
            if result is not None:
                resolved.append(result)
    if not resolved:
        return resolved
    extra_data = json_data.get("extra_data")
    if not isinstance(extra_data, dict):
        extra_data = json_data["extra_data"] = {}
    pnginfo = extra_data.get("extra_pnginfo")
    if not isinstance(pnginfo, dict):
        pnginfo = extra_data["extra_pnginfo"] = {}
    pnginfo[EXTRA_KEY] = {"version": 1, "nodes": {r.node_id: r.as_dict() for r in resolved}}
    workflow = pnginfo.get("workflow")
    if isinstance(workflow, dict):
        for r in resolved:
            wf_node = _find_workflow_node(workflow, r.node_id)
            if wf_node is not None:
                _write_widgets(wf_node, r.seed)
    return resolved


def requested_mode(prompt: Any, node_id: Any, fallback: str) -> str:
    """The mode a run asked for, as the prompt hook recorded it (``fallback`` when it did not)."""
    try:
        mode = prompt[str(node_id)]["inputs"][REQUESTED_KEY]
    except (KeyError, TypeError):
        return fallback
    return mode if mode in MODES else fallback
