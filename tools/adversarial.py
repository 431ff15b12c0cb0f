"""Hostile ``POST /prompt`` bodies for the prompt hook: the shapes that once froze the server.

Used by the regression tests (core and server tiers) and by ``benchmarks/bench_hook.py``:

- ``many_sources``: 1,000 Seed Sources with empty inputs and a workflow of ``[0, 0, …]`` filler
  nodes (a 662 KB body blocked the event loop 13.5 s when every source rescanned the workflow);
- ``deep_id``: one Seed Source whose id has 2,000 subgraph parts, and a subgraph definition that
  contains itself plus filler entries (304 KB blocked it 14 s when every part rescanned it).

Each body is padded with filler to about ``megabytes`` of JSON. With ``connected`` (the default)
one ``PreviewAny`` output node links to every source (through undeclared inputs, which ComfyUI
ignores), so the hook really resolves them all — the worst case for the pack's own code — and then
validation refuses the request (``source`` is missing), so nothing runs.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

SEED_SOURCE = "SeedSource|SeedNumber"
SHAPES = ("many_sources", "deep_id")
SOURCES = 1000
ID_PARTS = 2000


def _filler(body: dict[str, Any], megabytes: float) -> int:
    """How many ``0, `` entries (3 bytes each) bring ``body`` to about ``megabytes`` of JSON."""
    return max(0, int((megabytes * 1_000_000 - len(json.dumps(body))) / 3))


def _output(source_ids: list[str]) -> dict[str, Any]:
    # Undeclared inputs only: the hook follows every link, ComfyUI's validation then refuses the
    # missing ``source`` (HTTP 400), so nothing runs and a measurement sees the request alone.
    return {"class_type": "PreviewAny", "inputs": {f"also_{k}": [sid, 0] for k, sid in enumerate(source_ids)}}


def adversarial_body(shape: str, megabytes: float = 1.0, connected: bool = True, stock: bool = False) -> dict[str, Any]:
    """A request body of ``shape`` (one of SHAPES), about ``megabytes`` of JSON.

    ``stock``: the same graph with ComfyUI's own ``PrimitiveInt`` in place of each Seed Source, for a
    server without the pack (it validates and runs the same shape of graph: a fair baseline).
    """
    source = (
        {"class_type": "PrimitiveInt", "inputs": {"value": 1}} if stock else {"class_type": SEED_SOURCE, "inputs": {}}
    )
    if shape == "many_sources":
        prompt = {str(i): json.loads(json.dumps(source)) for i in range(1, SOURCES + 1)}
        if connected:
            prompt["0"] = _output(list(prompt))
        nodes: list[Any] = []
        body = {"prompt": prompt, "extra_data": {"extra_pnginfo": {"workflow": {"nodes": nodes}}}}
        nodes += [0] * _filler(body, megabytes)
        return body
    if shape == "deep_id":
        node_id = ":".join(["1"] * ID_PARTS)
        inner: list[Any] = [{"id": 1, "type": "sg"}]
        workflow = {"nodes": [{"id": 1, "type": "sg"}], "definitions": {"subgraphs": [{"id": "sg", "nodes": inner}]}}
        prompt = {node_id: source}
        if connected:
            prompt["0"] = _output([node_id])
        body = {
            "prompt": prompt,
            "extra_data": {"extra_pnginfo": {"workflow": workflow}},
        }
        inner[:0] = [0] * _filler(body, megabytes)  # the node a path part finds sits behind all of it
        return body
    raise ValueError(f"unknown shape {shape!r}: one of {', '.join(SHAPES)}")


def post_while_polling(server: Any, body: bytes, poll: str = "/queue") -> tuple[int, float, float]:
    """POST ``body`` to ``/prompt`` while another client polls ``GET poll``.

    Returns (status, seconds the POST took, the longest a single GET waited meanwhile): a server
    whose event loop is blocked answers neither.
    """
    done = threading.Event()
    waits: list[float] = []

    def poller() -> None:
        while not done.is_set():
            start = time.perf_counter()
            server.request("GET", poll, timeout=120)
            waits.append(time.perf_counter() - start)

    thread = threading.Thread(target=poller, daemon=True)
    thread.start()
    time.sleep(0.05)  # the poller is going before the request lands
    start = time.perf_counter()
    status, _ = server.request("POST", "/prompt", body, timeout=120)
    took = time.perf_counter() - start
    done.set()
    thread.join(timeout=120)
    return status, took, max(waits, default=0.0)


def wait_idle(server: Any, timeout: float = 120.0) -> None:
    """Wait until ``server`` runs and holds no prompt (so a measurement sees only its own request)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        queue = server.get_json("/queue")
        if not queue.get("queue_running") and not queue.get("queue_pending"):
            return
        time.sleep(0.05)
    raise TimeoutError(f"the server was still busy after {timeout:.0f}s")
