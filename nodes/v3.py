"""The single import point of ComfyUI's V3 node API for the whole pack."""

from __future__ import annotations

from typing import Any

from comfy_api.latest import ComfyExtension, io, ui

from .core.prompt_graph import linked_outputs

__all__ = ["ComfyExtension", "io", "output_ids", "ui", "wired_outputs"]


_OUTPUT_IDS: dict[str, tuple[str, ...]] = {}


def output_ids(node: type[io.ComfyNode]) -> tuple[str, ...]:
    """The ids of ``node``'s outputs in slot order, read once from its schema.

    A link ``[node_id, k]`` reads output slot ``k``; the pack names outputs by id everywhere else
    (run-time records, wiring checks), mapped through this.
    """
    key = f"{node.__module__}.{node.__qualname__}"
    ids = _OUTPUT_IDS.get(key)
    if ids is None:
        ids = _OUTPUT_IDS[key] = tuple(output.id for output in node.define_schema().outputs or [])
    return ids


def wired_outputs(node: type[io.ComfyNode], prompt: Any, node_id: Any) -> set[str] | None:
    """The ids of the outputs of ``node`` (instance ``node_id``) that some node of ``prompt`` reads;
    None when the prompt is not known."""
    slots = linked_outputs(prompt, node_id)
    if slots is None:
        return None
    ids = output_ids(node)
    return {ids[k] for k in slots if 0 <= k < len(ids)}
