"""Prompt resolution: turn every Seed Source's requested mode into the concrete seed it will use.

Runs on each ``POST /prompt`` (ComfyUI's on_prompt hook) before validation and queueing, for the
browser and API clients alike. For each ``SeedSource|SeedNumber`` node that will run and whose
inputs are valid it writes the seed it will use and ``mode: "fixed"`` into the queued prompt, and
the same into the workflow that will be embedded in saved images, so that re-queueing either
re-makes the image. The mode asked for goes into the prompt as the extra input ``_requested_mode``
(ComfyUI ignores inputs a node does not declare, but keys its cache on them, so a cached receipt
never shows a stale mode) and, with the base seed and sweep size, under
``extra_pnginfo["seed_number"]`` (a PNG text chunk of every saved image).

Inputs that ComfyUI's validation would refuse are left exactly as they are, so the client gets
its HTTP 400 naming the input. Linked seeds are resolved when the node runs. An explicit ``null``
for a combo input of one of our nodes becomes :data:`NULL`, which that node's validation refuses
by name (ComfyUI does not check V3 combo values, and validation cannot tell a null from a link).

This runs on aiohttp's event loop for every client, so it holds these rules by construction:

- **Linear in the request**: the workflow and each subgraph definition are indexed by id once
  (lazily, once each); node ids of more than :data:`MAX_ID_PARTS` parts are not looked up; at most
  :data:`MAX_SOURCES` Seed Sources are resolved per request; non-dict entries are skipped.
- **All or nothing**: :func:`plan_request` reads the request and changes nothing; only then
  :meth:`Plan.apply` writes, with plain assignments. Any error while planning leaves the prompt,
  the workflow and the counters exactly as they were.
- **Only ours**: only nodes whose ``class_type`` (prompt) or ``type`` (workflow) is one of the
  pack's are ever written.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Collection, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .prompt_graph import is_link
from .seeds import (
    DEFAULT_MODE,
    MAX_COUNT,
    MODES,
    NODE_ID,
    Queued,
    SeedCounter,
    coerce_seed,
    coerce_strength,
    draw_random_seed,
)

logger = logging.getLogger("seed_number")

REQUESTED_KEY = "_requested_mode"
"""Undeclared prompt input carrying the mode this queueing asked for (read back by the node)."""
EXTRA_KEY = "seed_number"
"""Key in ``extra_pnginfo`` (so also a PNG text chunk) holding the resolved seeds."""
EXTRA_VERSION = 2
"""Version of that chunk: 2 stores the base seed and ``count`` (the sweep is derivable)."""
WIDGET_ORDER = (
    "seed_number",
    "mode",
    "ideogram_range",
    "batch_seeds",
    "count",
    "noise_source",
    "variation_seed",
    "variation_strength",
)
"""Seed Source's widget inputs in schema order, i.e. their slots in a workflow's ``widgets_values``."""
MAX_SOURCES = 1024
"""Most Seed Sources one request has resolved; a prompt with more is queued unchanged."""
MAX_ID_PARTS = 16
"""Deepest subgraph path (``a:b:…``) looked up in the workflow."""


class NullInput(str):
    """An explicit JSON ``null`` sent for a combo input: no option equals it, and it reads ``null``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "null"


NULL = NullInput("<null>")
"""What an explicit null for one of our combo inputs becomes, so validation refuses it by name."""


@dataclass(frozen=True)
class ServerView:
    """What resolution needs to know about the running server (the node layer fills it in).

    ``combos`` maps each of the pack's node ids to its combo input names; ``is_output`` tells
    whether a node class is an output node (None: every node counts as executed); ``queued``
    whether a prompt id reached the queue (None: every queueing counts).
    """

    combos: Mapping[str, Collection[str]] = field(default_factory=dict)
    is_output: Callable[[str], bool] | None = None
    queued: Queued | None = None

    @property
    def ours(self) -> Collection[str]:
        return {NODE_ID, *self.combos}


@dataclass(frozen=True)
class Resolved:
    """One Seed Source's resolution: the node id, the seed it will use and the mode asked for."""

    node_id: str
    seed: int
    requested_mode: str
    count: int = 1
    variation_seed: int | None = None
    """A variation seed the hook drew (the request left it out), else None."""

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"seed": self.seed, "mode": self.requested_mode}
        if self.count > 1:
            data["count"] = self.count
        if self.variation_seed is not None:
            data["variation_seed"] = self.variation_seed
        return data


@dataclass
class Plan:
    """Every write one request needs, computed before any is made."""

    resolved: list[Resolved] = field(default_factory=list)
    writes: list[tuple[Any, Any, Any]] = field(default_factory=list)
    """(container, key, value): prompt inputs, workflow widgets and null markers."""
    steps: list[tuple[str, Hashable, int]] = field(default_factory=list)
    """Counter steps (client, key, seed) to record once the plan is applied."""
    pnginfo: dict[str, Any] | None = None
    queued: Queued | None = None
    """Whether a prompt id reached the queue: settles the counters' pending steps."""

    def apply(self, json_data: dict[str, Any], counter: SeedCounter) -> None:
        """Make the planned writes: plain assignments into containers checked while planning."""
        ticket = None
        if self.steps and self.queued is not None:
            if "prompt_id" not in json_data:
                json_data["prompt_id"] = str(uuid.uuid4())  # the id ComfyUI would have drawn itself
            ticket = str(json_data["prompt_id"])
        for container, key, value in self.writes:
            container[key] = value
        if self.pnginfo is not None:
            extra_data = json_data.setdefault("extra_data", {})
            pnginfo = extra_data.setdefault("extra_pnginfo", {})
            pnginfo[EXTRA_KEY] = self.pnginfo
        for client, key, seed in self.steps:
            counter.commit(client, key, seed, ticket, self.queued)


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


def _plan_source(
    node_id: str, inputs: dict[str, Any], client_id: str, counter: SeedCounter, draw: Callable[[bool], int], plan: Plan
) -> Resolved | None:
    """Plan one Seed Source's seed into ``plan``; None when it must be left as it is."""
    mode = inputs.get("mode", DEFAULT_MODE)
    if not isinstance(mode, str) or mode not in MODES:
        return None
    ideogram = _as_bool(inputs.get("ideogram_range", False))
    if ideogram is None:
        return None
    raw = inputs.get("seed_number")
    if is_link(raw):
        return None
    base = coerce_seed(raw) if "seed_number" in inputs else None
    if base is None and "seed_number" in inputs:
        return None
    count = _as_count(inputs.get("count", 1))
    if mode == "random" or base is None:
        seed = draw(ideogram)
    elif mode == "fixed":
        seed = base
    else:
        key = (node_id, base)
        seed = counter.peek(client_id, key, base, mode, stride=count, queued=plan.queued)
        plan.steps.append((client_id, key, seed))
    plan.writes += [(inputs, "seed_number", seed), (inputs, "mode", "fixed"), (inputs, REQUESTED_KEY, mode)]
    variation = _draw_variation(inputs, ideogram, draw)
    if variation is not None:
        plan.writes.append((inputs, "variation_seed", variation))
    return Resolved(node_id, seed, mode, count, variation)


def _draw_variation(inputs: dict[str, Any], ideogram: bool, draw: Callable[[bool], int]) -> int | None:
    """A random variation seed when the request leaves it out and a strength other than 0 (or a
    linked one) will use it; None when there is nothing to pin."""
    if "variation_seed" in inputs or "variation_strength" not in inputs:
        return None
    strength = inputs["variation_strength"]
    if not is_link(strength) and not coerce_strength(strength):  # 0, or invalid: validation refuses it
        return None
    return draw(ideogram)


class _WorkflowIndex:
    """A workflow's nodes by id, and each subgraph definition's, each indexed at most once."""

    def __init__(self, workflow: dict[str, Any]) -> None:
        self._top = _index(workflow.get("nodes"))
        self._subgraphs: dict[str, Any] = {}
        definitions = workflow.get("definitions")
        subgraphs = definitions.get("subgraphs") if isinstance(definitions, dict) else None
        for sg in subgraphs if isinstance(subgraphs, list) else ():
            if isinstance(sg, dict) and isinstance(sg.get("id"), str):
                self._subgraphs.setdefault(sg["id"], sg)
        self._inner: dict[str, dict[str, dict[str, Any]]] = {}

    def find(self, node_id: str) -> dict[str, Any] | None:
        """The workflow node for a prompt id, following subgraph paths like ``"5:3"``."""
        if node_id.count(":") >= MAX_ID_PARTS:
            return None
        nodes: dict[str, dict[str, Any]] | None = self._top
        found = None
        for part in node_id.split(":"):
            if nodes is None:
                return None
            found = nodes.get(part)
            if found is None:
                return None
            nodes = self._subgraph_nodes(found.get("type"))
        return found

    def _subgraph_nodes(self, sg_id: Any) -> dict[str, dict[str, Any]] | None:
        if not isinstance(sg_id, str) or sg_id not in self._subgraphs:
            return None
        if sg_id not in self._inner:
            self._inner[sg_id] = _index(self._subgraphs[sg_id].get("nodes"))
        return self._inner[sg_id]


def _index(nodes: Any) -> dict[str, dict[str, Any]]:
    """``{str(id): node}`` for the dict entries of a node list (the first of duplicate ids wins)."""
    index: dict[str, dict[str, Any]] = {}
    # filter() skips junk entries at C speed: a 10 MB list of zeros costs milliseconds, not a second.
    for node in filter(_is_dict, nodes) if isinstance(nodes, list) else ():
        node_id = node.get("id")
        if isinstance(node_id, int | str) and not isinstance(node_id, bool):
            index.setdefault(str(node_id), node)
    return index


_is_dict = dict.__instancecheck__


def _widget_writes(node: dict[str, Any], seed: int) -> list[tuple[Any, Any, Any]]:
    """The writes that set a Seed Source's seed and ``fixed`` mode in its workflow widgets."""
    values = node.get("widgets_values")
    names = ("seed_number", "mode")
    if isinstance(values, list) and len(values) >= 2:
        slots: tuple[Any, ...] = tuple(WIDGET_ORDER.index(name) for name in names)
    elif isinstance(values, dict):
        slots = names
    else:
        return []
    return [(values, slots[0], seed), (values, slots[1], "fixed")]


def executed_nodes(prompt: dict[str, Any], is_output: Callable[[str], bool], targets: Any = None) -> set[str]:
    """Ids of the prompt nodes that will run: the output nodes (of ``targets``, when a list) and
    everything they read from through links. One visit per node and per input."""
    wanted = {str(t) for t in targets if isinstance(t, str | int)} if isinstance(targets, list) else None
    stack = [
        str(node_id)
        for node_id, node in prompt.items()
        if isinstance(node, dict)
        and isinstance(node.get("class_type"), str)
        and is_output(node["class_type"])
        and (wanted is None or str(node_id) in wanted)
    ]
    seen = set(stack)
    while stack:
        node = prompt.get(stack.pop())
        inputs = node.get("inputs") if isinstance(node, dict) else None
        for value in inputs.values() if isinstance(inputs, dict) else ():
            if is_link(value) and isinstance(value[0], str | int):
                source = str(value[0])
                if source not in seen and source in prompt:
                    seen.add(source)
                    stack.append(source)
    return seen


def plan_request(
    json_data: Any,
    counter: SeedCounter,
    draw: Callable[[bool], int] = draw_random_seed,
    server: ServerView | None = None,
) -> Plan | None:
    """Everything one ``POST /prompt`` body needs written; reads it and changes nothing."""
    server = server or ServerView()
    if not isinstance(json_data, dict):
        return None
    prompt = json_data.get("prompt")
    if not isinstance(prompt, dict):
        return None
    client_id = json_data.get("client_id")
    client_id = client_id if isinstance(client_id, str) else ""
    plan = Plan(queued=server.queued)
    ours = server.ours
    sources: list[tuple[str, dict[str, Any]]] = []
    for node_id, node in prompt.items():
        if not isinstance(node, dict) or not isinstance(node.get("inputs"), dict):
            continue
        class_type = node.get("class_type")
        if not isinstance(class_type, str) or class_type not in ours:
            continue
        inputs = node["inputs"]
        plan.writes += [
            (inputs, name, NULL) for name in server.combos.get(class_type, ()) if inputs.get(name, 0) is None
        ]
        if class_type == NODE_ID:
            sources.append((str(node_id), inputs))
    if server.is_output is not None and sources:
        running = executed_nodes(prompt, server.is_output, json_data.get("partial_execution_targets"))
        sources = [(node_id, inputs) for node_id, inputs in sources if node_id in running]
    if len(sources) > MAX_SOURCES:
        logger.warning(
            "Seed Number: this prompt has %d Seed Sources, more than the %d resolved per request; their seeds "
            "are drawn when they run (so this prompt is not re-made from its stored copy)",
            len(sources),
            MAX_SOURCES,
        )
        sources = []
    for node_id, inputs in sources:
        result = _plan_source(node_id, inputs, client_id, counter, draw, plan)
        if result is not None:
            plan.resolved.append(result)
    if plan.resolved:
        _plan_records(json_data, plan)
    return plan


def _plan_records(json_data: dict[str, Any], plan: Plan) -> None:
    """Plan the ``seed_number`` chunk and the workflow widgets, where the request has room for them."""
    extra_data = json_data.get("extra_data", {})
    pnginfo = extra_data.get("extra_pnginfo", {}) if isinstance(extra_data, dict) else None
    if not isinstance(pnginfo, dict):  # a value of the client's we do not understand: left alone
        return
    plan.pnginfo = {"version": EXTRA_VERSION, "nodes": {r.node_id: r.as_dict() for r in plan.resolved}}
    workflow = pnginfo.get("workflow")
    if not isinstance(workflow, dict):
        return
    index = _WorkflowIndex(workflow)
    for r in plan.resolved:
        node = index.find(r.node_id)
        if node is not None and node.get("type") == NODE_ID:
            plan.writes += _widget_writes(node, r.seed)


def resolve_request(
    json_data: Any,
    counter: SeedCounter,
    draw: Callable[[bool], int] = draw_random_seed,
    server: ServerView | None = None,
) -> list[Resolved]:
    """Resolve every Seed Source in a ``POST /prompt`` body, in place, all or nothing.

    An error while planning propagates with nothing changed (the hook logs it and queues the
    request as sent); malformed parts of the request are skipped, not errors.
    """
    plan = plan_request(json_data, counter, draw, server)
    if plan is None:
        return []
    plan.apply(json_data, counter)
    return plan.resolved


def requested_mode(prompt: Any, node_id: Any, fallback: str) -> str:
    """The mode a run asked for, as the prompt hook recorded it (``fallback`` when it did not)."""
    try:
        mode = prompt[str(node_id)]["inputs"][REQUESTED_KEY]
    except (KeyError, TypeError):
        return fallback
    return mode if mode in MODES else fallback
