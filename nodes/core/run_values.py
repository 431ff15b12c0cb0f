"""What the pack's nodes output when they last ran, so Seed Details can tell each image its values.

A KSampler fed by lists (a speed ladder, a seed sweep, a prompt sweep) runs once per list element,
and the prompt alone does not say which element made which image. Seed Source, Render Speed Preset
and Prompt Variant Sweep therefore record their outputs here when they run, keyed by node id and by
a signature of the node and everything upstream of it in the prompt. ComfyUI's cache is keyed on
the same inputs, so a node taken from the cache (not run again) finds the record of the run that
filled the cache. Bounded; thread-safe; nothing global outside this object.

A record maps ``want`` (see :data:`prompt_graph.Tap`) to ``{output id or "*": [value per list element]}``;
a value may itself be a list over batch items, or ``{"per_image_base": seed}`` (seed + batch index).
Records are written and read by output *id* (the schema's name of the output, e.g. ``"steps"``): the
recording node gives its output ids in slot order once, and a link's output index is mapped to the id
through them, so reordering a node's outputs cannot silently mix up the values read back.

The store itself is process-wide state and lives in the node layer (``nodes/state.py``).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from .prompt_graph import NO_VALUE, Tap, upstream_nodes

MAX_UPSTREAM = 2000


def upstream_signature(prompt: Mapping[str, Any], node_id: str) -> str:
    """A hash of ``node_id``'s class and inputs and those of every node upstream of it."""
    parts = [
        (current, json.dumps([node.get("class_type"), node.get("inputs")], sort_keys=True, default=repr))
        for current, node in upstream_nodes(prompt, node_id, MAX_UPSTREAM)
        if isinstance(node, dict | Mapping)
    ]
    return hashlib.sha256(json.dumps(sorted(parts)).encode()).hexdigest()


Values = dict[str, dict[str, list[Any]]]
"""``{want: {output id or "*": [value per list element]}}``."""


class Record(NamedTuple):
    """One node's recorded run: its output ids in slot order, and the values by ``want`` and output id."""

    outputs: tuple[str, ...]
    values: Values

    def slot(self, want: str, index: int) -> list[Any] | None:
        """The values of output ``index`` for ``want`` (those recorded for every output, ``"*"``, else)."""
        slots = self.values.get(want, {})
        output = self.outputs[index] if 0 <= index < len(self.outputs) else None
        found = slots.get(output) if output is not None else None
        return found if found is not None else slots.get("*")


class RunValues:
    """Bounded store of the recorded outputs, newest kept."""

    def __init__(self, max_entries: int = 512) -> None:
        self._records: OrderedDict[tuple[str, str], Record] = OrderedDict()
        self._max = max_entries
        self._lock = threading.Lock()

    def record(self, prompt: Any, node_id: Any, outputs: Sequence[str], values: Values) -> None:
        """Keep ``values`` of node ``node_id`` of ``prompt``, whose outputs are ``outputs`` (ids, in slot order).

        ValueError when a key of ``values`` is not one of ``outputs`` (nor ``"*"``): a renamed output
        fails loudly in the tests instead of recording what nothing reads.
        """
        unknown = [k for slots in values.values() for k in slots if k != "*" and k not in outputs]
        if unknown:
            raise ValueError(f"run values recorded for unknown outputs {sorted(unknown)} (outputs: {list(outputs)})")
        if not isinstance(prompt, Mapping):
            return
        key = (str(node_id), upstream_signature(prompt, str(node_id)))
        with self._lock:
            self._records.pop(key, None)
            self._records[key] = Record(tuple(outputs), values)
            while len(self._records) > self._max:
                self._records.popitem(last=False)

    def lookup(self, prompt: Mapping[str, Any], node_id: str) -> Record | None:
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
            values = record.slot(want, index) if record is not None else None
            if not values:
                return NO_VALUE
            value = values[min(element, len(values) - 1)]
            if isinstance(value, dict) and "per_image_base" in value:
                return value["per_image_base"] + item
            if isinstance(value, list):
                return value[min(item, len(value) - 1)] if value else NO_VALUE
            return value

        return tap
