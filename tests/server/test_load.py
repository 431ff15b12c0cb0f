"""Load (issue 7, item 2): 50 prompts from 3 websocket clients at once, on the session's real ComfyUI.

Every prompt is the example graph at 64², 2 steps, random mode, with Seed Details as its output node
and its own positive text ("load test #k"), so that each receipt, queued prompt, PNG and event can be
matched to the one prompt that made it.

Memory: the server's resident set size is read from ``/proc/<pid>/status`` after a warm-up batch
(models loaded, caches filled) and again after the 50 prompts. The pack's own in-process caches are
bounded by construction and cannot be inspected from outside the server process:
``nodes/core/run_values.py`` ``RunValues(max_entries=512)`` (what Seed Source / Render Speed Preset /
Prompt Variant Sweep output, per node and upstream signature) and ``nodes/core/seeds.py``
``SeedCounter(max_keys=2048, max_clients=256)`` (the last increment/decrement seed per client, node and
base seed; one client's requests evict only that client's counters).
Filling those bounds through the server would take thousands of runs, so this test asserts only
that the server's RSS does not grow by more than 10 % over one load batch.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import websocket

from tests.prompts import SEED_NODE, example_prompt
from tests.server.helpers import png_text, queued_prompt, receipt, saved_images
from tools.comfy_server import ComfyServer, new_client_id

logger = logging.getLogger(__name__)

CLIENTS = 3
PROMPTS = 50
WARM_UP = 10
DETAILS_NODE = "8"
POSITIVE_NODE = "2"
RSS_GROWTH = 1.10
TIMEOUT = 300.0


def load_prompt(k: int) -> dict[str, Any]:
    """The example graph, 64², 2 steps, random mode, Seed Details as output, positive text "load test #k"."""
    prompt = example_prompt(size=64, steps=2, mode="random")
    prompt[POSITIVE_NODE]["inputs"]["text"] = text_of(k)
    prompt[DETAILS_NODE] = {
        "class_type": "SeedDetails|SeedNumber",
        "inputs": {"images": prompt[DETAILS_NODE]["inputs"]["images"], "filename_prefix": "tests/load", "save": True},
    }
    return prompt


def text_of(k: int) -> str:
    return f"load test #{k}"


def rss_kib(pid: int) -> int:
    """VmRSS of a process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS in /proc/{pid}/status")


class Listener:
    """One websocket client, reading its events on its own thread until stopped."""

    def __init__(self, server: ComfyServer) -> None:
        self.client_id = new_client_id()
        self.ws = websocket.create_connection(
            server.url.replace("http", "ws") + f"/ws?clientId={self.client_id}", timeout=30
        )
        # ComfyUI greets every new socket with a status message naming its sid: the client is registered.
        first = json.loads(self.ws.recv())
        assert first["type"] == "status" and first["data"]["sid"] == self.client_id, first
        self.events: list[dict[str, Any]] = []
        self.finished: set[str] = set()
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"ws-{self.client_id[:6]}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        self.ws.settimeout(0.5)
        try:
            while not self._stop.is_set():
                try:
                    message = self.ws.recv()
                except websocket.WebSocketTimeoutException:
                    continue
                if not isinstance(message, str):
                    continue  # binary previews carry no prompt id
                event = json.loads(message)
                self.events.append(event)
                data = event.get("data") or {}
                if event.get("type") == "executing" and data.get("node") is None and data.get("prompt_id"):
                    self.finished.add(data["prompt_id"])  # ComfyUI's last message of a prompt
        except BaseException as exc:  # reported by the test
            self.error = exc

    def wait_finished(self, prompt_ids: set[str], deadline: float) -> None:
        while not prompt_ids <= self.finished and time.monotonic() < deadline and self.error is None:
            time.sleep(0.05)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.ws.close()

    def prompt_ids_seen(self) -> set[str]:
        """Every prompt id that any event this client received names."""
        return {
            e["data"]["prompt_id"] for e in self.events if isinstance(e.get("data"), dict) and "prompt_id" in e["data"]
        }

    def of_type(self, kind: str, prompt_id: str) -> list[dict[str, Any]]:
        return [e["data"] for e in self.events if e.get("type") == kind and e["data"].get("prompt_id") == prompt_id]


def run_batch(server: ComfyServer, count: int, first: int) -> dict[str, Any]:
    """Queue ``count`` prompts (texts ``first`` …) round-robin from 3 clients at once; wait for all.

    Returns {"listeners", "owner": {prompt_id: client_id}, "index": {prompt_id: k}, "entries": {prompt_id: entry}}.
    """
    listeners = [Listener(server) for _ in range(CLIENTS)]
    try:
        plan: list[list[int]] = [list(range(first + c, first + count, CLIENTS)) for c in range(CLIENTS)]

        def post_all(c: int) -> list[tuple[int, str]]:
            client = listeners[c].client_id
            return [(k, server.queue(load_prompt(k), client_id=client)) for k in plan[c]]

        with ThreadPoolExecutor(CLIENTS) as pool:  # the three clients post at the same time
            posted = list(pool.map(post_all, range(CLIENTS)))
        owner = {pid: listeners[c].client_id for c in range(CLIENTS) for _, pid in posted[c]}
        index = {pid: k for per_client in posted for k, pid in per_client}
        assert len(owner) == count, "ComfyUI gave two prompts one id"
        deadline = time.monotonic() + TIMEOUT
        entries = {pid: server.wait(pid, timeout=max(1.0, deadline - time.monotonic())) for pid in owner}
        for c, listener in enumerate(listeners):
            listener.wait_finished({pid for _, pid in posted[c]}, deadline)
    finally:
        for listener in listeners:
            listener.close()
    return {"listeners": listeners, "owner": owner, "index": index, "entries": entries}


def test_50_prompts_from_3_clients_distinct_seeds_consistent_outputs_own_events_bounded_memory(
    comfy_server: ComfyServer,
) -> None:
    assert comfy_server.process is not None
    pid = comfy_server.process.pid
    run_batch(comfy_server, WARM_UP, first=1000)  # loads the checkpoint and fills ComfyUI's and our caches
    time.sleep(1.0)
    before = rss_kib(pid)

    started = time.monotonic()
    batch = run_batch(comfy_server, PROMPTS, first=0)
    elapsed = time.monotonic() - started
    time.sleep(1.0)
    after = rss_kib(pid)
    logger.info(
        "load: %d prompts in %.1f s; server RSS %.1f MiB after warm-up, %.1f MiB after (x%.3f)",
        PROMPTS,
        elapsed,
        before / 1024,
        after / 1024,
        after / before,
    )

    entries: dict[str, dict[str, Any]] = batch["entries"]
    owner: dict[str, str] = batch["owner"]
    index: dict[str, int] = batch["index"]
    assert sorted(index.values()) == list(range(PROMPTS))

    # 50 distinct random seeds
    seeds = {pid: receipt(entry)["seed"] for pid, entry in entries.items()}
    assert len(set(seeds.values())) == PROMPTS

    # every receipt, queued prompt, ui record and PNG agrees with its own prompt
    filenames = set()
    for prompt_id, entry in entries.items():
        seed, text = seeds[prompt_id], text_of(index[prompt_id])
        assert entry["prompt"][3]["client_id"] == owner[prompt_id]
        got = receipt(entry)
        assert got["mode"] == "random" and got["node"] == SEED_NODE
        queued = queued_prompt(entry)
        assert queued[SEED_NODE]["inputs"]["seed_number"] == seed and queued[SEED_NODE]["inputs"]["mode"] == "fixed"
        assert queued[POSITIVE_NODE]["inputs"]["text"] == text
        [shown] = entry["outputs"][DETAILS_NODE]["seed_number_details"]
        assert (shown["seed"], shown["positive"], shown["mode"]) == (seed, text, "random")
        [image] = saved_images(comfy_server, entry, node=DETAILS_NODE)
        filenames.add(image.name)
        chunks = png_text(image)
        embedded = json.loads(chunks["prompt"])
        assert embedded[SEED_NODE]["inputs"]["seed_number"] == seed
        assert embedded[POSITIVE_NODE]["inputs"]["text"] == text
        assert json.loads(chunks["seed_number"])["nodes"][SEED_NODE] == {"seed": seed, "mode": "random"}
        details = json.loads(chunks["seed_number_details"])
        assert (details["seed"], details["positive"]) == (seed, text)
    assert len(filenames) == PROMPTS, "two prompts wrote one file"

    # each client got the execution events of its own prompts, complete, and none of the others'
    for listener in batch["listeners"]:
        assert listener.error is None, f"websocket client failed: {listener.error!r}"
        mine = {pid for pid, client in owner.items() if client == listener.client_id}
        assert len(mine) in (PROMPTS // CLIENTS, PROMPTS // CLIENTS + 1)
        assert listener.prompt_ids_seen() == mine
        for prompt_id in mine:
            assert listener.of_type("execution_start", prompt_id)
            assert listener.of_type("execution_success", prompt_id)
            executed = {e["node"]: e["output"] for e in listener.of_type("executed", prompt_id)}
            assert executed[SEED_NODE]["seed_number_receipt"] == [receipt(entries[prompt_id])]
            assert executed[DETAILS_NODE]["seed_number_details"][0]["seed"] == seeds[prompt_id]

    # no leak: the server's memory after the batch is within 10 % of before
    assert after <= RSS_GROWTH * before, f"RSS grew from {before} KiB to {after} KiB"
