"""Helpers for the server tier: receipts, pixels and PNG metadata of finished runs, example API
workflows, websocket event capture and the noise probe's log. The prompts themselves are in
``tests/prompts.py``; the fixtures (``comfy_server``, ``probe_server``) in the conftest files."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from tests.paths import WORKFLOWS
from tests.prompts import SEED_NODE
from tools.comfy_server import ComfyServer


def receipt(entry: dict[str, Any], node: str = SEED_NODE) -> dict[str, Any]:
    return entry["outputs"][node]["seed_number_receipt"][0]


def saved_images(server: ComfyServer, entry: dict[str, Any], node: str = "8") -> list[Path]:
    return [server.output_path(img) for img in entry["outputs"][node]["images"]]


def pixels(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB")).copy()


def png_text(path: Path) -> dict[str, str]:
    with Image.open(path) as im:
        im.load()
        return dict(im.text)


def queued_prompt(entry: dict[str, Any]) -> dict[str, Any]:
    """The prompt as ComfyUI stored it in /history (after our hook resolved the seeds)."""
    return copy.deepcopy(entry["prompt"][2])


# -- Render Speed Preset, seed sweeps and event capture ---------------------------------------

PRESET_NODE = "9"
SHEET_NODE = "10"


def api_workflow(name: str, size: int = 64, **seed_inputs: Any) -> dict[str, Any]:
    """An example API workflow, shrunk to ``size`` px, with Seed Source inputs overridden."""
    prompt = json.loads((WORKFLOWS / "api" / f"{name}.json").read_text())
    for node in prompt.values():
        if node["class_type"] == "EmptyLatentImage":
            node["inputs"].update(width=size, height=size)
        if "filename_prefix" in node["inputs"]:
            node["inputs"]["filename_prefix"] = f"tests/{name}_{node['class_type'].split('|')[0]}"
    prompt[SEED_NODE]["inputs"].update(seed_inputs)
    return prompt


def run_with_events(server: ComfyServer, prompt: dict[str, Any], timeout: float = 300.0) -> tuple[dict, list[dict]]:
    """Queue ``prompt`` as a websocket client; the history entry and every event it received."""
    import websocket

    from tools.comfy_server import new_client_id

    client = new_client_id()
    ws = websocket.create_connection(server.url.replace("http", "ws") + f"/ws?clientId={client}", timeout=timeout)
    events: list[dict] = []
    try:
        prompt_id = server.queue(prompt, client_id=client)
        while True:
            message = ws.recv()
            if not isinstance(message, str):
                continue
            event = json.loads(message)
            events.append(event)
            data = event.get("data", {})
            if data.get("prompt_id") != prompt_id:
                continue
            if event["type"] == "executing" and data.get("node") is None:
                break
            if event["type"] == "execution_error":
                raise AssertionError(f"execution error: {data.get('exception_message')}")
    finally:
        ws.close()
    return server.wait(prompt_id, timeout=timeout), events


def executed_nodes(events: list[dict]) -> list[str]:
    """Node ids in the order ComfyUI started executing them (one entry per execution)."""
    return [e["data"]["node"] for e in events if e["type"] == "executing" and e["data"].get("node") is not None]


def cached_nodes(entry: dict[str, Any]) -> list[str]:
    """The nodes a run took from the cache, from its /history status messages."""
    for kind, data in entry.get("status", {}).get("messages", []):
        if kind == "execution_cached":
            return [str(n) for n in data.get("nodes", [])]
    return []


def noise_log(server: ComfyServer) -> list[dict[str, Any]]:
    return server.get_json("/seed_number_probe/noise")


def clear_noise_log(server: ComfyServer) -> None:
    server.request("POST", "/seed_number_probe/noise/clear", {})
