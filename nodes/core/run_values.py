"""What the pack's nodes output when they last ran, so Seed Details can tell each image its values.

A KSampler fed by lists (a speed ladder, a seed sweep, a prompt sweep) runs once per list element,
and the prompt alone does not say which element made which image. Seed Source, Render Speed Preset
and Prompt Variant Sweep therefore record their outputs here when they run, keyed by node id and by
a signature of the node and everything upstream of it in the prompt. ComfyUI's cache is keyed on
the same inputs, so a node taken from the cache (not run again) finds the record of the run that
filled the cache. Bounded; thread-safe; nothing global outside this object.

A record maps ``want`` (see :data:`prompt_graph.Tap`) to ``{output_index or "*": [value per list element]}``;
a value may itself be a list over batch items, or ``{"per_image_base": seed}`` (seed + batch index).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from .prompt_graph import NO_VALUE, Tap
from .seeds import is_link

MAX_UPSTREAM = 2000


def upstream_signature(prompt: Mapping[str, Any], node_id: str) -> str:
    """A hash of ``node_id``'s class and inputs and those of every node upstream of it."""
    parts: list[tuple[str, str]] = []
    seen: set[str] = set()
    stack = [str(node_id)]
    while stack and len(seen) < MAX_UPSTREAM:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        node = prompt.get(current)
        if not isinstance(node, Mapping):
            continue
        inputs = node.get("inputs")
        if not isinstance(inputs, Mapping):
            inputs = {}
        parts.append((current, json.dumps([node.get("class_type"), inputs], sort_keys=True, default=repr)))
        stack.extend(str(v[0]) for v in inputs.values() if is_link(v))
    return hashlib.sha256(json.dumps(sorted(parts)).encode()).hexdigest()


class RunValues:
    """Bounded store of the recorded outputs, newest kept."""

    def __init__(self, max_entries: int = 512) -> None:
        self._records: OrderedDict[tuple[str, str], dict[str, dict[Any, list[Any]]]] = OrderedDict()
        self._max = max_entries
        self._lock = threading.Lock()

    def record(self, prompt: Any, node_id: Any, values: dict[str, dict[Any, list[Any]]]) -> None:
        if not isinstance(prompt, Mapping):
            return
        key = (str(node_id), upstream_signature(prompt, str(node_id)))
        with self._lock:
            self._records.pop(key, None)
            self._records[key] = values
            while len(self._records) > self._max:
                self._records.popitem(last=False)

    def lookup(self, prompt: Mapping[str, Any], node_id: str) -> dict[str, dict[Any, list[Any]]] | None:
        key = (str(node_id), upstream_signature(prompt, str(node_id)))
        with self._lock:
            return self._records.get(key)

    def tapper(self, prompt: Mapping[str, Any]) -> Callable[[int, int], Tap]:
        """``tap`` for ``prompt``, as a function of (list element, batch item)."""
        return lambda element, item: self.tap(prompt, element, item)

    def tap(self, prompt: Mapping[str, Any], element: int, item: int) -> Tap:
        """A tap for list element ``element`` and batch item ``item`` (ComfyUI's list rule: a
        shorter list repeats its last value)."""
        cache: dict[str, Any] = {}

        def tap(node_id: str, class_type: str, index: int, want: str) -> Any:
            if node_id not in cache:
                cache[node_id] = self.lookup(prompt, node_id)
            record = cache[node_id]
            if not record:
                return NO_VALUE
            slots = record.get(want, {})
            values = slots.get(index, slots.get("*"))
            if not values:
                return NO_VALUE
            value = values[min(element, len(values) - 1)]
            if isinstance(value, dict) and "per_image_base" in value:
                return value["per_image_base"] + item
            if isinstance(value, list):
                return value[min(item, len(value) - 1)] if value else NO_VALUE
            return value

        return tap


run_values = RunValues()
"""The store the pack's nodes record into (one per ComfyUI process)."""
