"""Registers the seed resolution (``nodes.core.resolve``) as ComfyUI's on_prompt handler."""

from __future__ import annotations

import logging
from typing import Any

from .core.resolve import resolve_request
from .core.seeds import SeedCounter

logger = logging.getLogger("seed_number")

counter = SeedCounter()
_registered = False


def on_prompt(json_data: Any) -> Any:
    """ComfyUI on_prompt handler: resolve every Seed Source's seed in the request, in place."""
    try:
        resolved = resolve_request(json_data, counter)
    except Exception:  # never lose the user's prompt over our bookkeeping
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


def register() -> bool:
    """Add the handler to the running PromptServer once; False when there is no server (tests)."""
    global _registered
    if _registered:
        return True
    instance = running_server()
    if instance is None:
        return False
    instance.add_on_prompt_handler(on_prompt)
    _registered = True
    logger.info("Seed Number: seed resolution registered for POST /prompt")
    return True
