"""Every example workflow is listed in the template browser, and every API workflow runs (shrunk)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.paths import WORKFLOWS
from tools.comfy_server import ComfyServer

API_NAMES = sorted(p.stem for p in (WORKFLOWS / "api").glob("*.json"))


def shrunk(name: str) -> dict[str, Any]:
    """The API workflow at 64x64 and, where steps is a literal, 2 steps; saved under tests/."""
    prompt = json.loads((WORKFLOWS / "api" / f"{name}.json").read_text())
    for node in prompt.values():
        inputs = node["inputs"]
        if node["class_type"] == "EmptyLatentImage":
            inputs.update(width=64, height=64)
        if "steps" in inputs and not isinstance(inputs["steps"], list):
            inputs["steps"] = 2
        if isinstance(inputs.get("filename_prefix"), str):
            inputs["filename_prefix"] = f"tests/examples/{name}_{inputs['filename_prefix'].rsplit('/', 1)[-1]}"
    return prompt


def test_every_ui_workflow_is_a_template(comfy_server: ComfyServer) -> None:
    templates = comfy_server.get_json("/workflow_templates")
    assert sorted(templates.get("seed-number", [])) == sorted(p.stem for p in WORKFLOWS.glob("*.json"))


@pytest.mark.parametrize("name", API_NAMES)
def test_api_workflow_runs(comfy_server: ComfyServer, name: str) -> None:
    entry = comfy_server.run(shrunk(name))
    images = [img for out in entry["outputs"].values() for img in out.get("images", [])]
    assert images, f"{name} saved no images: {entry['outputs']}"
    assert all(comfy_server.output_path(img).is_file() for img in images)
