"""Registers the seed resolution (``nodes.core.resolve``) as ComfyUI's on_prompt handler.

The handler runs on aiohttp's event loop for every ``POST /prompt`` of every client: it never
raises into ComfyUI, and on any error it leaves the request exactly as sent (resolution is planned
in full before anything is written).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from .core.resolve import ServerView, resolve_request
from .state import queue_counter
from .v3 import io

logger = logging.getLogger("seed_number")

_view = ServerView()
_registered = False


def on_prompt(json_data: Any) -> Any:
    """ComfyUI on_prompt handler: resolve every Seed Source's seed in the request, in place."""
    try:
        resolved = resolve_request(json_data, queue_counter, server=_view)
    except Exception:  # never lose the user's prompt over our bookkeeping: nothing was written
        logger.exception("Seed Number could not resolve the seeds of this prompt; it is queued unchanged")
        return json_data
    for r in resolved:
        logger.debug("Seed Source %s: %s -> seed %d", r.node_id, r.requested_mode, r.seed)
    return json_data


def running_server() -> Any:
    """ComfyUI's running PromptServer, or None (tests and scripts import the pack without one)."""
    try:
        from server import PromptServer
    except ImportError:
        return None
    return getattr(PromptServer, "instance", None)


def combo_inputs(node_classes: Iterable[type[io.ComfyNode]]) -> dict[str, frozenset[str]]:
    """Each node's combo input ids, read from its schema (the one list of which inputs are combos)."""
    combos = {}
    for node in node_classes:
        schema = node.GET_SCHEMA()
        combos[schema.node_id] = frozenset(i.id for i in schema.inputs if isinstance(i, io.Combo.Input))
    return combos


def _is_output(class_type: str) -> bool:
    import nodes  # ComfyUI's node registry, complete by the time prompts arrive

    return getattr(nodes.NODE_CLASS_MAPPINGS.get(class_type), "OUTPUT_NODE", False) is True


def _queued_in(server: Any) -> Any:
    """A function telling whether a prompt id reached ``server``'s queue (queued, running or done)."""

    def queued(prompt_id: str) -> bool:
        queue = getattr(server, "prompt_queue", None)
        if queue is None:
            return True
        if prompt_id in queue.history:
            return True
        running, waiting = queue.get_current_queue_volatile()
        return any(item[1] == prompt_id for item in running) or any(item[1] == prompt_id for item in waiting)

    return queued


def register(node_classes: Iterable[type[io.ComfyNode]] = ()) -> bool:
    """Add the handler to the running PromptServer once; False when there is no server (tests)."""
    global _registered, _view
    if _registered:
        return True
    instance = running_server()
    if instance is None:
        return False
    _view = ServerView(combos=combo_inputs(node_classes), is_output=_is_output, queued=_queued_in(instance))
    instance.add_on_prompt_handler(on_prompt)
    _registered = True
    logger.info("Seed Number: seed resolution registered for POST /prompt")
    return True
