"""Seed Source in the real ComfyUI editor: the extension, the example workflow, Run, and the buttons."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from seed_number.nodes.core.resolve import WIDGET_ORDER
from tests.browser.panel_helpers import receipt
from tests.paths import ROOT

if TYPE_CHECKING:
    from tests.browser.comfy_page import ComfyPage

WORKFLOW = ROOT / "workflows" / "seed_source_txt2img.json"
API_WORKFLOW = ROOT / "workflows" / "api" / "seed_source_txt2img.json"
NODE_TYPE = "SeedSource|SeedNumber"
SEED_SOURCE, LATENT, SAMPLER = 5, 4, 6
"""Node ids in the example workflow."""
MAX_SEED = 2**53 - 1
IDEOGRAM_MAX_SEED = 2_147_483_647
INPUT_WIDGETS = list(WIDGET_ORDER)
DEFAULT_VALUES = [0, "random", False, "shared", 1, "comfy", 0, 0]
BUTTONS = {
    "used": "used: —",
    "new_random_seed": "⚄ new fixed random seed",
    "reuse_used_seed": "♻ reuse last used seed",
}


def example_workflow() -> dict[str, Any]:
    return json.loads(WORKFLOW.read_text())


def open_small_example(comfy_page: ComfyPage) -> None:
    """The example workflow, shrunk to 64x64 and 4 steps so a CPU run takes about a second."""
    comfy_page.load_workflow(example_workflow())
    comfy_page.set_widget(LATENT, "width", 64)
    comfy_page.set_widget(LATENT, "height", 64)
    comfy_page.set_widget(SAMPLER, "steps", 4)


def queued_inputs(entry: dict[str, Any]) -> dict[str, Any]:
    """Seed Source's inputs as the server queued them (after the prompt hook)."""
    return entry["prompt"][2][str(SEED_SOURCE)]["inputs"]


def embedded_workflow_node(entry: dict[str, Any]) -> dict[str, Any]:
    workflow = entry["prompt"][3]["extra_pnginfo"]["workflow"]
    return next(n for n in workflow["nodes"] if n["id"] == SEED_SOURCE)


def test_page_loads_with_the_extension_registered(comfy_page: ComfyPage) -> None:
    extensions = comfy_page.server.get_json("/extensions")
    assert "/extensions/seed-number/seed_source.js" in extensions

    page = comfy_page.page
    names = comfy_page.extension_names()
    assert names.count("SeedNumber.SeedSource") == 1, names
    assert page.evaluate(f"() => !!LiteGraph.registered_node_types[{json.dumps(NODE_TYPE)}]")
    served = {url: status for url, status in comfy_page.responses.items() if "/extensions/seed-number/" in url}
    assert served and all(status == 200 for status in served.values()), served
    assert comfy_page.errors_from_pack() == []


def test_example_workflow_loads_and_queues_as_the_api_example(comfy_page: ComfyPage) -> None:
    comfy_page.load_workflow(example_workflow())
    page = comfy_page.page

    missing = page.evaluate(
        "() => app.graph.nodes.filter((n) => !LiteGraph.registered_node_types[n.type]).map((n) => n.type)"
    )
    assert missing == []
    assert page.locator(".p-dialog:visible").count() == 0, "a dialog (missing nodes?) opened on load"
    assert page.evaluate("() => app.graph.nodes.length") == 8

    node = page.evaluate(
        "(id) => { const n = app.graph.getNodeById(id); return {type: n.type, cls: n.comfyClass} }", SEED_SOURCE
    )
    assert node == {"type": NODE_TYPE, "cls": NODE_TYPE}
    widgets = comfy_page.widgets(SEED_SOURCE)
    assert [w["name"] for w in widgets] == [*INPUT_WIDGETS, *BUTTONS]
    assert [w["value"] for w in widgets[: len(INPUT_WIDGETS)]] == DEFAULT_VALUES
    assert {w["name"]: w["label"] for w in widgets[len(INPUT_WIDGETS) :]} == BUTTONS
    # The buttons add nothing to the saved widget values (the prompt hook rewrites them by position).
    saved = page.evaluate("(id) => app.graph.getNodeById(id).serialize().widgets_values", SEED_SOURCE)
    assert saved == DEFAULT_VALUES
    assert all(w["type"] == "button" and w["serialize"] is False for w in widgets[len(INPUT_WIDGETS) :])

    output = page.evaluate("async () => (await app.graphToPrompt()).output")
    expected = json.loads(API_WORKFLOW.read_text())
    assert sorted(output) == sorted(expected)
    for node_id, api_node in expected.items():
        assert output[node_id]["class_type"] == api_node["class_type"], node_id
        assert output[node_id]["inputs"] == api_node["inputs"], node_id
    assert comfy_page.errors_from_pack() == []


def test_run_batch_of_three_shows_the_last_used_seed(comfy_page: ComfyPage) -> None:
    open_small_example(comfy_page)
    comfy_page.set_batch_count(3)
    runs = comfy_page.run(3)

    seeds = []
    for entry in runs:
        inputs, got = queued_inputs(entry), receipt(entry)
        assert inputs["mode"] == "fixed", inputs
        assert got == {
            "seed": inputs["seed_number"],
            "seeds": [inputs["seed_number"]],
            "count": 1,
            "mode": "random",
            "batch_seeds": "shared",
            "noise_source": "comfy",
            "variation_seed": None,
            "variation_strength": 0.0,
            "node": "5",
        }
        assert 0 <= got["seed"] <= MAX_SEED
        # The workflow saved with the image carries the same concrete seed, so re-opening it re-makes it.
        assert embedded_workflow_node(entry)["widgets_values"][:2] == [got["seed"], "fixed"]
        assert entry["prompt"][3]["extra_pnginfo"]["seed_number"]["nodes"]["5"] == {
            "seed": got["seed"],
            "mode": "random",
        }
        seeds.append(got["seed"])
    assert len(set(seeds)) == 3, f"random mode repeated a seed: {seeds}"

    last = seeds[-1]  # runs are sorted by prompt number
    comfy_page.wait_for_used_label(SEED_SOURCE, last)
    assert f"used: {last}" in comfy_page.drawn_used_labels(), "the canvas never drew the used seed"
    assert comfy_page.widget(SEED_SOURCE, "mode")["value"] == "random", "the editor must keep the chosen mode"
    assert comfy_page.widget(SEED_SOURCE, "seed_number")["value"] == 0

    shot = comfy_page.screenshot("seed_source_node.png")
    assert shot.stat().st_size > 10_000
    assert comfy_page.errors_from_pack() == []


def test_reuse_used_seed_fixes_it_for_the_next_run(comfy_page: ComfyPage) -> None:
    open_small_example(comfy_page)
    comfy_page.set_batch_count(1)
    (first,) = comfy_page.run()
    used = receipt(first)["seed"]
    comfy_page.wait_for_used_label(SEED_SOURCE, used)

    comfy_page.click_widget(SEED_SOURCE, "used")  # copies the seed
    assert comfy_page.clipboard(str(used)) == str(used)

    comfy_page.click_widget(SEED_SOURCE, "reuse_used_seed")
    assert comfy_page.widget(SEED_SOURCE, "seed_number")["value"] == used
    assert comfy_page.widget(SEED_SOURCE, "mode")["value"] == "fixed"

    (second,) = comfy_page.run()
    assert queued_inputs(second)["seed_number"] == used
    assert queued_inputs(second)["mode"] == "fixed"
    assert receipt(second)["seed"] == used
    assert receipt(second)["mode"] == "fixed"  # the receipt names this run's mode, not the cached one's
    assert second["prompt"][3]["extra_pnginfo"]["seed_number"]["nodes"]["5"] == {"seed": used, "mode": "fixed"}
    images = [comfy_page.server.output_path(e["outputs"]["8"]["images"][0]) for e in (first, second)]
    pixels = [np.asarray(Image.open(path).convert("RGB")) for path in images]
    assert images[0] != images[1] and np.array_equal(pixels[0], pixels[1])  # the same pixels, re-made
    comfy_page.wait_for_used_label(SEED_SOURCE, used)
    assert comfy_page.errors_from_pack() == []


def test_buttons_before_any_run(comfy_page: ComfyPage) -> None:
    comfy_page.load_workflow(example_workflow())

    # Nothing used yet: reusing changes nothing.
    comfy_page.click_widget(SEED_SOURCE, "reuse_used_seed")
    assert comfy_page.widget(SEED_SOURCE, "seed_number")["value"] == 0
    assert comfy_page.widget(SEED_SOURCE, "mode")["value"] == "random"
    assert comfy_page.widget(SEED_SOURCE, "used")["label"] == "used: —"

    comfy_page.click_widget(SEED_SOURCE, "new_random_seed")
    seed = comfy_page.widget(SEED_SOURCE, "seed_number")["value"]
    assert isinstance(seed, int) and 0 <= seed <= MAX_SEED and seed != 0
    assert comfy_page.widget(SEED_SOURCE, "mode")["value"] == "fixed"

    comfy_page.set_widget(SEED_SOURCE, "ideogram_range", True)
    drawn = set()
    for _ in range(4):
        comfy_page.click_widget(SEED_SOURCE, "new_random_seed")
        drawn.add(comfy_page.widget(SEED_SOURCE, "seed_number")["value"])
    assert all(isinstance(s, int) and 0 <= s <= IDEOGRAM_MAX_SEED for s in drawn), drawn
    assert len(drawn) > 1, "the dice button drew the same seed every time"
    assert comfy_page.errors_from_pack() == []
