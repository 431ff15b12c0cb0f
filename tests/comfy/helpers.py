"""Helpers for the comfy tier (ComfyUI imported in-process by the ``comfy`` fixture)."""

from __future__ import annotations


def run_node(node_cls: type, hidden: dict | None = None, **inputs: object):
    """Execute a V3 node as ComfyUI does: a class clone with its hidden inputs, then execute."""
    from comfy_api.latest import io

    clone = node_cls.PREPARE_CLASS_CLONE({io.Hidden.unique_id: "5", **(hidden or {})})
    return clone.EXECUTE_NORMALIZED(**inputs)
