"""ComfyUI's API-format prompt as a graph: links, who feeds an input, bounded walks, run-time taps.

The one place that says what a link is and how to follow one: every walk over a prompt in the pack
uses this module (``is_link``, ``link_source``, ``linked_outputs``, ``upstream_nodes``,
``PromptGraph``).

Pure Python (stdlib only). A prompt is ``{node_id: {"class_type": …, "inputs": {…}}}``; an input that is a
link ``[node_id, output_index]`` (see :func:`is_link`) points at the output of another node. ComfyUI
writes node ids as strings; a link may hold a string or an integer id (both name the same node).
``PromptGraph`` holds the well-formed nodes (malformed ones are counted in ``problems``) and follows
links: ``target`` (the node a link points at), ``links_of``/``upstream`` (who feeds a node), ``follow``
(through pass-through inputs to a literal) and ``walk`` (a chain with a caller's step). Every walk stops
after ``MAX_LINK_DEPTH`` hops and at a node seen before, so cycles and dangling links end a walk (noted
in ``problems``) instead of raising or hanging.

A ``Tap`` supplies the run-time value of a node's output (what the pack's nodes recorded when they ran);
``tapped_value`` asks it and remembers in ``tapped`` which nodes it answered for.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

__all__ = [
    "CONDITIONING_INPUTS",
    "MAX_LINK_DEPTH",
    "NO_VALUE",
    "TEXT_INPUTS",
    "PromptGraph",
    "Tap",
    "is_link",
    "link_source",
    "linked_outputs",
    "node_inputs",
    "seed_input",
    "upstream_nodes",
]

MAX_LINK_DEPTH = 64
"""Links followed from one input of a ComfyUI graph before giving up."""
TEXT_INPUTS = ("text", "text_g", "t5xxl", "clip_l", "prompt")
"""Inputs of ComfyUI's text encoders that hold the prompt text."""
CONDITIONING_INPUTS = ("conditioning", "conditioning_to", "conditioning_1", "cond", "cond1", "positive")
"""Inputs through which conditioning nodes pass a CONDITIONING on (the first one a node has)."""
_SAMPLER_SEED_INPUTS = {"KSampler": "seed", "SamplerCustomAdvanced": "noise"}


def seed_input(sampler_class: str) -> str:
    """The input of a sampler node that carries its seed (``noise_seed`` for KSamplerAdvanced and SamplerCustom)."""
    return _SAMPLER_SEED_INPUTS.get(sampler_class, "noise_seed")


NO_VALUE = object()
"""What a :data:`Tap` returns for an output it does not know."""
Tap = Callable[[str, str, int, str], Any]
"""``tap(node_id, class_type, output_index, want)``: a run-time value of a node's output, or NO_VALUE.

``want`` is ``"value"`` (a number or text the output stands for), ``"text"`` (the prompt text a
CONDITIONING output was encoded from) or ``"label"`` (a speed or variant label). Seed Details
supplies one built from what the pack's nodes recorded when they ran; prompts read back from a PNG
have none, and the graph's literal inputs are used.
"""


def is_link(value: Any) -> bool:
    """True for an API-format link ``[node_id, output_index]``."""
    return isinstance(value, list) and len(value) == 2 and isinstance(value[1], int)


def _link_id(link: list[Any]) -> str | None:
    node_id = link[0]
    if isinstance(node_id, str):
        return node_id
    return str(node_id) if isinstance(node_id, int) and not isinstance(node_id, bool) else None


def link_source(value: Any) -> str | None:
    """The id (as a string) of the node a link points at; None for anything that is not a valid link."""
    return _link_id(value) if is_link(value) else None


def node_inputs(node: Any) -> Mapping[Any, Any]:
    """A raw prompt node's ``inputs`` (empty for a malformed node)."""
    inputs = node.get("inputs") if isinstance(node, dict | Mapping) else None  # dict first: the fast check
    return inputs if isinstance(inputs, dict | Mapping) else {}


def linked_outputs(prompt: Any, node_id: Any) -> set[int] | None:
    """Output slots of node ``node_id`` that some node of the API ``prompt`` reads; None when unknown.

    One pass over the prompt (linear in its size); malformed nodes are skipped.
    """
    if not isinstance(prompt, Mapping) or node_id is None:
        return None
    wanted = str(node_id)
    return {
        value[1]
        for node in prompt.values()
        for value in node_inputs(node).values()
        if link_source(value) == wanted and not isinstance(value[1], bool)
    }


def upstream_nodes(prompt: Mapping[Any, Any], node_id: Any, limit: int) -> list[tuple[str, Any]]:
    """``(id, node)`` of ``node_id`` and every node up its links, each once, at most ``limit`` of them.

    Works on the raw prompt (a malformed node is returned as it is and ends its branch); depth-first,
    cycles safe, never raises.
    """
    found: list[tuple[str, Any]] = []
    seen: set[str] = set()
    stack = [str(node_id)]
    while stack and len(seen) < limit:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        node = prompt.get(current)
        found.append((current, node))
        for value in node_inputs(node).values():
            if isinstance(value, list):  # most inputs are literals: skip the call
                source = link_source(value)
                if source is not None:
                    stack.append(source)
    return found


class PromptGraph:
    """An API-format prompt ``{node_id: {"class_type", "inputs"}}`` with bounded link following."""

    def __init__(self, graph: Mapping[Any, Any], problems: list[str], tap: Tap | None = None) -> None:
        self.nodes: dict[str, tuple[str, dict[str, Any]]] = {}
        self.problems = problems
        self.tap = tap
        self.tapped: set[str] = set()
        """Nodes whose run-time output values the tap supplied (see :data:`Tap`)."""
        malformed = 0
        for node_id, node in graph.items():
            inputs = node.get("inputs", {}) if isinstance(node, dict) else None
            if isinstance(node, dict) and isinstance(node.get("class_type"), str) and isinstance(inputs, dict):
                self.nodes[str(node_id)] = (node["class_type"], inputs)
            else:
                malformed += 1
        if malformed:
            problems.append(f"prompt: {malformed} malformed node(s) ignored")
        self._reported: set[str] = set()

    def _note(self, message: str) -> None:
        if message not in self._reported and len(self._reported) < 20:
            self._reported.add(message)
            self.problems.append(message)

    def target(self, value: Any) -> tuple[str, int, str, dict[str, Any]] | None:
        """The node a link points at, or None (not a link, or dangling: reported)."""
        if not is_link(value):
            return None
        node_id = _link_id(value)
        if node_id is None:
            self._note("prompt: a link has an invalid node id")
            return None
        node = self.nodes.get(node_id)
        if node is None:
            self._note(f"prompt: a link points at missing node {node_id!r}")
            return None
        return node_id, value[1], node[0], node[1]

    def links_of(self, node_id: str) -> list[str]:
        """The nodes that feed ``node_id`` through its links (one entry per linked input)."""
        _, inputs = self.nodes[node_id]
        out = []
        for value in inputs.values():
            source = link_source(value)
            if source is not None and source in self.nodes:
                out.append(source)
        return out

    def upstream(self, starts: list[str]) -> set[str]:
        """Every node reachable backwards along links from ``starts`` (one BFS, cycles safe)."""
        seen: set[str] = set()
        queue = deque(starts)
        while queue:
            for source in self.links_of(queue.popleft()):
                if source not in seen:
                    seen.add(source)
                    queue.append(source)
        return seen

    def follow(self, value: Any, names: tuple[str, ...]) -> tuple[Any, str | None]:
        """Follow links through the first input of ``names`` each node has; ``(literal, last node id)``."""
        seen: set[str] = set()
        last: str | None = None
        for _ in range(MAX_LINK_DEPTH):
            if not is_link(value):
                return value, last
            hop = self.target(value)
            if hop is None:
                return None, last
            node_id, index, class_type, inputs = hop
            if node_id in seen:
                self._note(f"prompt: links loop through node {node_id!r}")
                return None, last
            seen.add(node_id)
            last = node_id
            tapped = self.tapped_value(node_id, class_type, index, "value")
            if tapped is not NO_VALUE:
                return tapped, node_id
            name = next((n for n in names if n in inputs), None)
            if name is None:
                return None, last
            value = inputs[name]
        self._note(f"prompt: more than {MAX_LINK_DEPTH} links in a row; gave up")
        return None, last

    def tapped_value(self, node_id: str, class_type: str, index: int, want: str) -> Any:
        """The tap's run-time ``want`` of output ``index`` of ``node_id``, or NO_VALUE (no tap, or unknown).

        A node the tap answers for is added to ``tapped``.
        """
        if self.tap is None:
            return NO_VALUE
        value = self.tap(node_id, class_type, index, want)
        if value is not NO_VALUE:
            self.tapped.add(node_id)
        return value

    def walk(
        self, value: Any, step: Callable[[int, str, dict[str, Any]], tuple[Any, Any]], want: str | None = None
    ) -> Any:
        """Follow a link chain: ``step(output_index, class_type, inputs)`` gives ``(result, next_value)``.

        With ``want``, a node whose run-time value the tap knows ends the chain with that value.
        """
        seen: set[str] = set()
        for _ in range(MAX_LINK_DEPTH):
            hop = self.target(value)
            if hop is None:
                return None
            node_id, index, class_type, inputs = hop
            if node_id in seen:
                self._note(f"prompt: links loop through node {node_id!r}")
                return None
            seen.add(node_id)
            if want is not None:
                tapped = self.tapped_value(node_id, class_type, index, want)
                if tapped is not NO_VALUE:
                    return tapped
            result, value = step(index, class_type, inputs)
            if result is not None:
                return result
        self._note(f"prompt: more than {MAX_LINK_DEPTH} links in a row; gave up")
        return None
