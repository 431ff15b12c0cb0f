"""Benchmark (not a test): the prompt hook under adversarial requests (issue 11).

Run: ``scripts/bench`` or ``python -m benchmarks.bench_hook [--runs N]``. The two request shapes
that once froze the server (``tools/adversarial.py``: 1,000 Seed Sources over a workflow of filler
nodes; one Seed Source with a 2,000-part subgraph id), at 1 MB and 10 MB, every source linked to an
output so the hook really resolves them all:

- hook time per MB, in-process (``resolve_request``), beside ``json.loads`` of the same body — the
  parse every server, stock or not, already pays for that request;
- ``POST /prompt`` round trip and the worst wait of a ``GET /queue`` sent meanwhile, on a headless
  ComfyUI with the pack beside a stock one without it, sent the same graph with ComfyUI's own
  ``PrimitiveInt`` in place of each Seed Source (both servers validate and run the same shape;
  each request is sent to an idle server).

Goals: hook ≤ 20 ms per MB; ``/queue`` latency during the request within 2× of the stock server.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

from benchmarks.common import record

SIZES_MB = (1.0, 10.0)


def hook_ms(body: dict[str, Any], runs: int) -> tuple[float, float]:
    """Median ms of the hook and of ``json.loads`` for one body (a fresh copy per hook run)."""
    from seed_number.nodes.core.resolve import ServerView, resolve_request
    from seed_number.nodes.core.seeds import NODE_ID, SeedCounter

    view = ServerView(combos={NODE_ID: frozenset({"mode", "batch_seeds"})}, is_output="PreviewAny".__eq__)
    text = json.dumps(body)
    hook, parse = [], []
    for _ in range(runs):
        start = time.perf_counter()
        fresh = json.loads(text)
        parse.append(time.perf_counter() - start)
        start = time.perf_counter()
        resolve_request(fresh, SeedCounter(), server=view)
        hook.append(time.perf_counter() - start)
    return statistics.median(hook) * 1000, statistics.median(parse) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    from tools.adversarial import SHAPES, adversarial_body, post_while_polling, wait_idle
    from tools.comfy_server import ComfyServer, find_comfyui
    from tools.pack import load_pack

    load_pack()
    comfyui = find_comfyui()
    if comfyui is None:
        print("no ComfyUI found (set COMFYUI_PATH): nothing measured")  # noqa: T201
        return 1
    rows = []
    servers = {"pack": ComfyServer(comfyui, cpu=True), "stock": ComfyServer(comfyui, cpu=True, pack=False)}
    try:
        for server in servers.values():
            server.start()
        for shape in SHAPES:
            for size in SIZES_MB:
                body = adversarial_body(shape, megabytes=size)
                raw = {"pack": json.dumps(body).encode()}
                raw["stock"] = json.dumps(adversarial_body(shape, megabytes=size, stock=True)).encode()
                megabytes = len(raw["pack"]) / 1e6
                hook, parse = hook_ms(body, args.runs)
                posts: dict[str, list[tuple[int, float, float]]] = {name: [] for name in servers}
                for i in range(args.runs):  # alternating order, so drift hits both alike
                    for name in sorted(servers, reverse=i % 2 == 1):
                        wait_idle(servers[name])
                        posts[name].append(post_while_polling(servers[name], raw[name]))
                took = {name: statistics.median(p[1] for p in runs) * 1000 for name, runs in posts.items()}
                wait = {name: statistics.median(p[2] for p in runs) * 1000 for name, runs in posts.items()}
                label = f"{shape} {megabytes:.0f} MB"
                print(  # noqa: T201
                    f"hook_{shape}_{size:g}mb: hook_ms={hook:.1f} ({hook / megabytes:.1f} ms/MB), "
                    f"json_parse_ms={parse:.1f}, post_ms pack={took['pack']:.0f} stock={took['stock']:.0f}, "
                    f"worst_queue_wait_ms pack={wait['pack']:.0f} stock={wait['stock']:.0f}, runs={args.runs}"
                )
                rows += [
                    {
                        "what": f"prompt hook, adversarial body ({label}), per MB (goal ≤ 20 ms/MB)",
                        "measured": f"{hook / megabytes:.1f} ms/MB",
                        "baseline": f"{parse / megabytes:.1f} ms/MB (json.loads of the same body)",
                        "ratio": f"{hook / parse:.2f}×",
                    },
                    {
                        "what": f"worst GET /queue wait during POST /prompt ({label}) (goal ≤ 2× stock)",
                        "measured": f"{wait['pack']:.0f} ms",
                        "baseline": f"{wait['stock']:.0f} ms (stock ComfyUI, no pack)",
                        "ratio": f"{wait['pack'] / wait['stock']:.2f}×",
                    },
                ]
    finally:
        for server in servers.values():
            server.cleanup()
    record("bench_hook", rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
