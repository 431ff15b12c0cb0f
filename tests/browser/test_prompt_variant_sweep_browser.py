"""Prompt Variant Sweep in the real ComfyUI editor: the frontend must not resolve the template's {a|b}."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from tests.paths import ROOT

if TYPE_CHECKING:
    from tests.browser.comfy_page import ComfyPage

API_WORKFLOW = ROOT / "workflows" / "api" / "variant_sweep_batched.json"
SWEEP, STOCK = 20, 30
TEMPLATE = "dark {blue|purple|red} gradient"


def test_graph_to_prompt_keeps_the_template_braces(comfy_page: ComfyPage) -> None:
    api = json.loads(API_WORKFLOW.read_text())
    # A stock CLIPTextEncode beside it shows the frontend's dynamic prompts are active in this editor.
    api[str(STOCK)] = {"class_type": "CLIPTextEncode", "inputs": {"text": TEMPLATE, "clip": ["1", 1]}}
    comfy_page.page.evaluate("(api) => app.loadApiJson(api, 'variant_sweep_batched')", api)
    comfy_page.page.wait_for_function("() => window.app.extensionManager.workflow.isBusy === false")
    assert comfy_page.page.evaluate("(id) => app.graph.getNodeById(id)?.type", SWEEP) == "PromptVariantSweep|SeedNumber"

    comfy_page.set_widget(SWEEP, "template", TEMPLATE)
    comfy_page.set_widget(SWEEP, "negative", "{ugly|blurry}")
    output = comfy_page.page.evaluate("async () => (await app.graphToPrompt()).output")

    sweep = output[str(SWEEP)]
    assert sweep["class_type"] == "PromptVariantSweep|SeedNumber"
    assert sweep["inputs"]["template"] == TEMPLATE  # braces intact: the server expands the variants
    assert sweep["inputs"]["negative"] == "{ugly|blurry}"
    assert sweep["inputs"]["seed"] == ["5", 0] and sweep["inputs"]["latent"] == ["4", 0]
    stock = output[str(STOCK)]["inputs"]["text"]
    assert stock in {"dark blue gradient", "dark purple gradient", "dark red gradient"}  # resolved by the browser
    assert comfy_page.errors_from_pack() == []
