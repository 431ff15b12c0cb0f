"""The re-make prompt of one image: a minimal API prompt that makes exactly this image alone.

Pure Python (stdlib only, no ComfyUI). :func:`remake_prompt` takes one image's details (as Seed
Details found them, before its overrides), the executed API prompt and the id of the node that saved
the image, and returns a new API prompt:

- **ancestors only**: the save node and every node upstream of it (other outputs, contact sheets and
  unrelated branches dropped), each node under its own id (``sampler_node``/``seed_node`` stay valid);
- **Seed Source** that made the image's seed: ``mode`` ``fixed``, ``seed_number`` the image's seed,
  ``count`` 1, and with a variation its ``variation_seed``; the hook's ``_requested_mode`` (and every
  other ``_`` key of the pack's nodes) is left out;
- **Render Speed Preset** ``Ladder`` (or a linked speed): ``speed`` the image's speed;
- **Prompt Variant Sweep** with ``{…}`` groups: ``template`` the image's resolved prompt, escaped so it
  has no groups (``variants.escape``): one variant, the same text;
- **a batch item** ``k`` of ``N``: when each item's initial noise does not depend on the batch (Seed
  Source ``per image`` or an ``a1111`` noise source, or Prompt Variant Sweep's noise) and the sampler
  draws no per-step noise, the batch becomes 1 (``batch_size`` of the empty latent, or the pinned
  sweep) with the item's own seed and variation seed; otherwise (ComfyUI's shared batch noise: item
  ``k`` is a slice of one draw for the whole batch, which no batch-1 draw reproduces in general) the
  batch is kept, with its first item's seeds, and a stock ``ImageFromBatch`` (``batch_index`` k,
  ``length`` 1) hands the save node item ``k`` alone: bitwise the same pixels, at the batch's cost.

When the image cannot be made alone (a Seed Source sweeping seeds that is not the image's, several
variant sweeps, a speed that is not a preset speed, …) the result is None and ``problems`` says why.
Never raises on content; linear in the prompt's size (two link indexes, bounded walks).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypeGuard

from .details_fields import MAX_DEFAULT_TEXT
from .presets import NODE_ID as SPEED_NODE_ID
from .presets import SPEEDS
from .prompt_graph import CONDITIONING_INPUTS, MAX_LINK_DEPTH, TEXT_INPUTS, PromptGraph, is_link, seed_input
from .sampler_names import per_step_noise
from .seeds import DEFAULT_NOISE_SOURCE, MAX_SEED, NOISE_SOURCES
from .seeds import NODE_ID as SEED_NODE_ID
from .seeds import NOISE_OUTPUT as SEED_NOISE_OUTPUT
from .variants import LATENT_OUTPUT as VARIANT_LATENT_OUTPUT
from .variants import MAX_TEMPLATE_LENGTH, VariantError, escape, has_groups
from .variants import NODE_ID as VARIANT_NODE_ID
from .variants import NOISE_OUTPUT as VARIANT_NOISE_OUTPUT

__all__ = ["BATCH_ITEM_CLASS", "REMAKE_CHUNK", "REMAKE_KEY", "remake_json", "remake_prompt"]

REMAKE_KEY = "remake_prompt"
"""Key of the re-make prompt in each record of Seed Details' ``ui`` output (``/history``)."""
REMAKE_CHUNK = "seed_number_remake"
"""PNG text chunk holding the re-make prompt (API-format JSON)."""
BATCH_ITEM_CLASS = "ImageFromBatch"
"""The stock node that picks one item of a kept batch."""
MAX_BATCH_INDEX = 4095
"""ImageFromBatch's largest ``batch_index``."""
PACK_SUFFIX = "|SeedNumber"

_ALONE, _KEEP, _FAIL = "alone", "keep", "fail"
"""Batch plans: item made at batch size 1, batch kept and the item picked, no re-make."""

Node = dict[str, Any]


def remake_prompt(
    details: Mapping[str, Any], prompt: Mapping[Any, Any], save_node: Any, problems: list[str] | None = None
) -> dict[str, Node] | None:
    """The API prompt that makes only the image of ``details`` saved by ``save_node``; None if none can.

    ``details`` are the image's details as found from the graph (``seed``, ``seeds``, ``seed_node``,
    ``sampler_node``, ``speed``, ``positive``, ``variation_seed``, ``noise_source``, ``batch_seeds``,
    ``sampler``, ``batch_index``, ``batch_size``); ``prompt`` is the executed API prompt. The input is
    never modified. See the module docstring for what is pinned and how batch items are handled.
    """
    problems = [] if problems is None else problems
    if not isinstance(details, Mapping) or not isinstance(prompt, Mapping):
        problems.append("remake: details and prompt must be mappings")
        return None
    graph = PromptGraph(prompt, problems)
    save = str(save_node)
    if save not in graph.nodes:
        problems.append(f"remake: save node {save!r} is not in the prompt")
        return None
    keep = graph.upstream([save]) | {save}
    out = {node_id: _copy_node(prompt, node_id, *graph.nodes[node_id]) for node_id in graph.nodes if node_id in keep}
    item = _batch_item(details)
    plan = _ALONE if item is None else _batch_plan(out, graph, details)
    if plan == _FAIL:
        problems.append("remake: a batch item whose batch comes from a variant sweep needs per-item noise")
        return None
    kept = item if plan == _KEEP else None
    steps = (
        lambda: _pin_seed_source(out, graph, details, kept, problems),
        lambda: _pin_speed(out, details, problems),
        lambda: _pin_variant(out, graph, details, problems),
        lambda: _pick_item(out, save, kept, problems) if kept is not None else True,
    )
    if not all(step() for step in steps):
        return None
    return _prune(out, save)


def remake_json(remake: Mapping[str, Any]) -> str | None:
    """The re-make prompt as the JSON of ``REMAKE_CHUNK``; None when it is longer than a reader reads."""
    try:
        text = json.dumps(remake, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError):
        return None
    return text if len(text) <= MAX_DEFAULT_TEXT else None


# -- copying and pruning -------------------------------------------------------------------


def _copy_node(prompt: Mapping[Any, Any], node_id: str, class_type: str, inputs: dict[str, Any]) -> Node:
    """A new node: the class, a copy of the inputs (links copied, the pack's ``_`` keys left out), the title."""
    ours = class_type.endswith(PACK_SUFFIX)
    copied = {
        name: list(value) if isinstance(value, list) else value
        for name, value in inputs.items()
        if not (ours and isinstance(name, str) and name.startswith("_"))
    }
    node: Node = {"class_type": class_type, "inputs": copied}
    original = prompt.get(node_id)
    meta = original.get("_meta") if isinstance(original, Mapping) else None
    if isinstance(meta, Mapping) and isinstance(meta.get("title"), str):
        node["_meta"] = {"title": meta["title"]}
    return node


def _prune(out: dict[str, Node], save: str) -> dict[str, Node]:
    """``out`` without the nodes a pin cut off from the save node (a literal replaced their link)."""
    graph = PromptGraph(out, [])
    keep = graph.upstream([save]) | {save}
    return {node_id: node for node_id, node in out.items() if node_id in keep}


# -- which nodes feed the sampler ----------------------------------------------------------


def _sampler(graph: PromptGraph, details: Mapping[str, Any]) -> tuple[str, dict[str, Any]] | None:
    sampler = details.get("sampler_node")
    if isinstance(sampler, str) and sampler in graph.nodes:
        return sampler, graph.nodes[sampler][1]
    return None


def _seed_target(graph: PromptGraph, details: Mapping[str, Any]) -> tuple[str, int, str, dict[str, Any]] | None:
    """The node (and output) the sampler's seed or noise input links to."""
    sampler = _sampler(graph, details)
    if sampler is None:
        return None
    name = seed_input(graph.nodes[sampler[0]][0])
    return graph.target(sampler[1].get(name))


def _image_seed_source(graph: PromptGraph, details: Mapping[str, Any]) -> str | None:
    """The Seed Source that made the image's seed: ``seed_node``, or the one behind a sweep's noise."""
    seed_node = details.get("seed_node")
    if isinstance(seed_node, str) and graph.nodes.get(seed_node, ("",))[0] == SEED_NODE_ID:
        return seed_node
    hop = _seed_target(graph, details)
    if hop is not None and hop[2] == VARIANT_NODE_ID:
        hop = graph.target(hop[3].get("seed"))
    return hop[0] if hop is not None and hop[2] == SEED_NODE_ID else None


def _positive_sweep(graph: PromptGraph, details: Mapping[str, Any]) -> str | None:
    """The Prompt Variant Sweep up the sampler's positive conditioning (through its guider), if any."""
    sampler = _sampler(graph, details)
    if sampler is None:
        return None
    inputs = sampler[1]
    value = inputs.get("positive")
    guider = graph.target(inputs.get("guider"))
    if guider is not None:
        g_inputs = guider[3]
        value = g_inputs.get("positive", g_inputs.get("conditioning", g_inputs.get("cond1")))
    seen: set[str] = set()
    for _ in range(MAX_LINK_DEPTH):
        hop = graph.target(value)
        if hop is None or hop[0] in seen:
            return None
        seen.add(hop[0])
        if hop[2] == VARIANT_NODE_ID:
            return hop[0]
        h_inputs = hop[3]
        name = next((n for n in (*CONDITIONING_INPUTS, *TEXT_INPUTS) if is_link(h_inputs.get(n))), None)
        value = h_inputs.get(name) if name else None
    return None


# -- pins ----------------------------------------------------------------------------------


def _whole(value: Any, lo: int, hi: int) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi


def _pin_seed_source(
    out: dict[str, Node], graph: PromptGraph, details: Mapping[str, Any], item: int | None, problems: list[str]
) -> bool:
    """The image's Seed Source fixed at its seed, count 1; any other one must already make one seed.

    ``item`` (a kept batch) takes the batch's first seeds instead of item ``item``'s own.
    """
    chosen = _image_seed_source(graph, details)
    for node_id, node in out.items():
        if node["class_type"] != SEED_NODE_ID or node_id == chosen:
            continue
        inputs = node["inputs"]
        if inputs.get("count", 1) != 1 or inputs.get("mode") != "fixed":
            problems.append(f"remake: Seed Source {node_id!r} does not make the image's seed and is not one fixed seed")
            return False
    if chosen is None or chosen not in out:
        return True
    seed, variation = details.get("seed"), details.get("variation_seed")
    if item is not None:
        seeds = details.get("seeds")
        seed = seeds[0] if isinstance(seeds, list) and seeds else seed
        if isinstance(variation, int) and _per_image(details):
            variation -= item
    if not _whole(seed, 0, MAX_SEED):
        problems.append(f"remake: the image's seed {seed!r} is not a Seed Source seed")
        return False
    inputs = out[chosen]["inputs"]
    inputs.update(seed_number=seed, mode="fixed", count=1)
    if details.get("variation_strength"):
        if not _whole(variation, 0, MAX_SEED):
            problems.append(f"remake: the image's variation seed {variation!r} is not a Seed Source seed")
            return False
        inputs["variation_seed"] = variation
    return True


def _pin_speed(out: dict[str, Node], details: Mapping[str, Any], problems: list[str]) -> bool:
    """Every Render Speed Preset not set to one speed (``Ladder``, or linked) set to the image's speed."""
    for node_id, node in out.items():
        if node["class_type"] != SPEED_NODE_ID or node["inputs"].get("speed") in SPEEDS:
            continue
        speed = details.get("speed")
        if speed not in SPEEDS:
            problems.append(f"remake: Render Speed Preset {node_id!r}: the image's speed {speed!r} is not one speed")
            return False
        node["inputs"]["speed"] = speed
    return True


def _sweeps(out: dict[str, Node]) -> list[str]:
    """The Prompt Variant Sweeps of ``out`` whose template has groups (or cannot be read)."""
    found = []
    for node_id, node in out.items():
        if node["class_type"] != VARIANT_NODE_ID:
            continue
        template = node["inputs"].get("template")
        try:
            grouped = not isinstance(template, str) or len(template) > MAX_TEMPLATE_LENGTH or has_groups(template)
        except VariantError:
            grouped = True
        if grouped:
            found.append(node_id)
    return found


def _pin_variant(out: dict[str, Node], graph: PromptGraph, details: Mapping[str, Any], problems: list[str]) -> bool:
    """The Prompt Variant Sweep of the image's prompt pinned to its resolved text (escaped: no groups)."""
    sweeps = _sweeps(out)
    if not sweeps:
        return True
    positive = details.get("positive")
    if sweeps != [_positive_sweep(graph, details)] or not isinstance(positive, str):
        problems.append(f"remake: Prompt Variant Sweep(s) {', '.join(sweeps)}: which variant made the image is unknown")
        return False
    template = escape(positive)
    if len(template) > MAX_TEMPLATE_LENGTH:
        problems.append("remake: the image's prompt, escaped, is longer than a template may be")
        return False
    out[sweeps[0]]["inputs"]["template"] = template
    return True


# -- batch items ---------------------------------------------------------------------------


def _batch_item(details: Mapping[str, Any]) -> int | None:
    """The image's batch index when it is one item of a batch of several, else None."""
    size, index = details.get("batch_size"), details.get("batch_index")
    if _whole(size, 2, 1 << 30) and _whole(index, 0, size - 1):
        return index
    return None


def _per_image(details: Mapping[str, Any]) -> bool:
    """True when Seed Source gave each batch item its own seeds (``per image``, or an a1111 source)."""
    source = details.get("noise_source")
    return details.get("batch_seeds") == "per image" or (source in NOISE_SOURCES and source != DEFAULT_NOISE_SOURCE)


def _batch_plan(out: dict[str, Node], graph: PromptGraph, details: Mapping[str, Any]) -> str:
    """How to make a batch item alone: ``_ALONE`` (the batch made 1 here), ``_KEEP`` or ``_FAIL``.

    Alone when the item's initial noise does not depend on the batch (Seed Source's own seeds per
    item, or a variant sweep's noise: every item the batch-1 noise) and the sampler draws no per-step
    noise (that noise spans the batch), and the batch comes straight from an empty latent's
    ``batch_size`` or from a variant sweep (pinned to one variant: a batch of 1). A batch a grouped
    variant sweep makes cannot be kept (its pin changes it): then ``_FAIL``.
    """
    hop = _seed_target(graph, details)
    sampler = _sampler(graph, details)
    latent = graph.target(sampler[1].get("latent_image")) if sampler is not None else None
    from_sweep = latent is not None and latent[2] == VARIANT_NODE_ID and latent[1] == VARIANT_LATENT_OUTPUT
    swept = from_sweep and latent is not None and latent[0] in _sweeps(out)
    own_noise = hop is not None and (
        (hop[2] == SEED_NODE_ID and hop[1] == SEED_NOISE_OUTPUT and _per_image(details))
        or (hop[2] == VARIANT_NODE_ID and hop[1] == VARIANT_NOISE_OUTPUT)
    )
    if latent is None or latent[0] not in out or not own_noise or per_step_noise(details.get("sampler")) != "none":
        return _FAIL if swept else _KEEP
    if swept:
        return _ALONE
    inputs = out[latent[0]]["inputs"]
    if all(_whole(inputs.get(n), 1, 1 << 30) for n in ("width", "height", "batch_size")):
        inputs["batch_size"] = 1
        return _ALONE
    return _KEEP


def _pick_item(out: dict[str, Node], save: str, item: int, problems: list[str]) -> bool:
    """Keep the batch and hand the save node item ``item`` alone (stock ImageFromBatch)."""
    inputs = out[save]["inputs"]
    images = inputs.get("images")
    if not is_link(images) or item > MAX_BATCH_INDEX:
        problems.append("remake: the batch item cannot be picked (no linked images input, or index over 4095)")
        return False
    numbers = [int(n) for n in out if n.isdigit() and len(n) < 19]
    new_id = str(max(numbers, default=0) + 1)
    while new_id in out:  # pragma: no cover - max + 1 of the numeric ids is free
        new_id += "0"
    out[new_id] = {
        "class_type": BATCH_ITEM_CLASS,
        "inputs": {"image": images, "batch_index": item, "length": 1},
        "_meta": {"title": f"Seed Number: batch item {item}"},
    }
    inputs["images"] = [new_id, 0]
    return True
