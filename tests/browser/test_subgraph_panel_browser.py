"""A Seed Source inside a real subgraph in the real ComfyUI editor: queued as "12:5", reused from the panel.

The workflow is the example txt2img with its Seed Source converted into a subgraph (node 12) by
``tests/subgraphs.py``'s ``ui_subgraph``, plus a second, unconnected Seed Source at the
root, so that "Use this seed" can only reach the inner node through its execution id path (with one
Seed Source in the workflow the panel would fall back to "the only one").
"""

from __future__ import annotations

import copy
import json
from typing import TYPE_CHECKING, Any

import numpy as np

from tests.browser.panel_helpers import (
    ENTRY,
    RECEIPT,
    load_json,
    open_panel,
    panel_entries,
    wait_for_prompt_entries,
)
from tests.paths import ROOT
from tests.server.helpers import pixels
from tests.subgraphs import api_subgraph, ui_subgraph, workflow_node

if TYPE_CHECKING:
    from tests.browser.comfy_page import ComfyPage

SEED_SOURCE_TYPE = "SeedSource|SeedNumber"
OUTER, INNER, DECOY = 12, 5, 9
PATH = f"{OUTER}:{INNER}"
DECOY_WIDGETS = [123, "fixed", False, "shared", 1, "comfy", 0, 0.0]

INNER_WIDGET = """([outer, inner, name]) => {
  const node = app.graph.getNodeById(outer)?.subgraph?.getNodeById(inner);
  const w = node?.widgets?.find((x) => x.name === name);
  return w ? { value: w.value ?? null, label: w.label ?? null, cls: node.comfyClass } : null;
}"""


def subgraph_workflow() -> dict[str, Any]:
    """The example at 64², 4 steps, its Seed Source inside subgraph 12, a decoy Seed Source at the root."""
    workflow = load_json("seed_source_txt2img.json")
    nodes = {n["id"]: n for n in workflow["nodes"]}
    nodes[4]["widgets_values"] = [64, 64, 1]
    nodes[6]["widgets_values"][2] = 4
    decoy = copy.deepcopy(nodes[INNER])
    decoy.update(id=DECOY, pos=[40, 900], widgets_values=list(DECOY_WIDGETS), title="Decoy")
    for output in decoy["outputs"]:
        output["links"] = None
    workflow["nodes"].append(decoy)
    workflow["last_node_id"] = max(workflow["last_node_id"], DECOY)
    return ui_subgraph(workflow, {INNER}, OUTER, "Seed")


def expected_api_prompt() -> dict[str, Any]:
    prompt = json.loads((ROOT / "workflows" / "api" / "seed_source_txt2img.json").read_text())
    prompt["4"]["inputs"].update(width=64, height=64)
    prompt["6"]["inputs"]["steps"] = 4
    prompt[str(DECOY)] = {
        "class_type": SEED_SOURCE_TYPE,
        "inputs": dict(zip(prompt["5"]["inputs"], DECOY_WIDGETS, strict=True)),
    }
    return api_subgraph(prompt, {str(INNER)}, str(OUTER))


def inner_widget(comfy_page: ComfyPage, name: str) -> dict[str, Any]:
    found = comfy_page.page.evaluate(INNER_WIDGET, [OUTER, INNER, name])
    assert found is not None, f"no widget {name!r} on node {PATH}"
    return found


def test_use_this_seed_sets_the_seed_source_inside_a_subgraph(comfy_page: ComfyPage) -> None:
    page = comfy_page.page
    comfy_page.load_workflow(subgraph_workflow())
    assert page.locator(".p-dialog:visible").count() == 0, "a dialog (missing nodes?) opened on load"
    mode = inner_widget(comfy_page, "mode")
    assert (mode["cls"], mode["value"]) == (SEED_SOURCE_TYPE, "random")

    # The frontend flattens the subgraph exactly as the server tier's hand-built prompts do.
    output = page.evaluate("async () => (await app.graphToPrompt()).output")
    expected = expected_api_prompt()
    assert sorted(output) == sorted(expected)
    for node_id, node in expected.items():
        assert (output[node_id]["class_type"], output[node_id]["inputs"]) == (node["class_type"], node["inputs"])

    open_panel(page)
    comfy_page.set_batch_count(1)
    (first,) = comfy_page.run()
    [got] = first["outputs"][PATH][RECEIPT]
    seed = got["seed"]
    assert (got["node"], got["mode"]) == (PATH, "random")
    # the prompt hook rewrote the inner node in the frontend's own subgraph export
    embedded = first["prompt"][3]["extra_pnginfo"]["workflow"]
    assert workflow_node(embedded, PATH)["widgets_values"][:2] == [seed, "fixed"]
    # the inner node shows the seed it used; the editor keeps the chosen mode
    page.wait_for_function(
        "([args, label]) => { const n = app.graph.getNodeById(args[0])?.subgraph?.getNodeById(args[1]);"
        " return n?.widgets?.find((w) => w.name === 'used')?.label === label; }",
        arg=[[OUTER, INNER], f"used: {seed}"],
        timeout=15_000,
    )
    assert inner_widget(comfy_page, "mode")["value"] == "random"

    prompt_id = first["prompt"][1]
    wait_for_prompt_entries(page, prompt_id)
    [entry] = [e for e in panel_entries(page) if e["prompt_id"] == prompt_id]
    assert entry["seed"] == str(seed)
    page.locator(f"{ENTRY}[data-prompt-id='{prompt_id}'] button[data-action=use]").click()
    assert inner_widget(comfy_page, "seed_number")["value"] == seed
    assert inner_widget(comfy_page, "mode")["value"] == "fixed"
    assert [w["value"] for w in comfy_page.widgets(DECOY)[: len(DECOY_WIDGETS)]] == DECOY_WIDGETS, (
        "the decoy must stay as it was"
    )
    toast = page.locator(".p-toast-message", has_text="Seed applied").last
    toast.wait_for(state="visible", timeout=10_000)
    assert str(seed) in toast.inner_text()

    (second,) = comfy_page.run()
    [again] = second["outputs"][PATH][RECEIPT]
    assert (again["seed"], again["mode"]) == (seed, "fixed")
    images = [comfy_page.server.output_path(run["outputs"]["8"]["images"][0]) for run in (first, second)]
    assert images[0] != images[1] and np.array_equal(pixels(images[0]), pixels(images[1]))
    assert comfy_page.errors_from_pack() == []
