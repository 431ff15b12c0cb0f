"""Every UI example workflow in the real editor queues exactly its API-format twin.

Every API workflow has a UI twin; those not made by hand are what ``tools.workflow_ui`` writes.
For each ``workflows/<name>.json`` with a ``workflows/api/<name>.json``: the workflow loads without
missing nodes, dialogs or errors from our files, every link is typed as the frontend types a link it
draws, and ``app.graphToPrompt()`` gives the API workflow (inputs only the editor sends must hold the
node's defaults from ``/object_info``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from tests.paths import WORKFLOWS
from tools.comfy_server import ComfyServer
from tools.workflow_ui import convert, default_names, render

if TYPE_CHECKING:
    from tests.browser.comfy_page import ComfyPage

PAIRS = sorted(p.stem for p in WORKFLOWS.glob("*.json") if (WORKFLOWS / "api" / p.name).is_file())

LINKS = """() => Array.from(app.graph.links.values ? app.graph.links.values() : Object.values(app.graph.links))
  .filter((l) => l && l.id != null)
  .map((l) => {
    const origin = app.graph.getNodeById(l.origin_id);
    const target = app.graph.getNodeById(l.target_id);
    const input = target?.inputs?.[l.target_slot];
    const output = origin?.outputs?.[l.origin_slot];
    return { id: l.id, type: l.type, origin: l.origin_id, target: l.target_id,
             input: input?.name ?? null, input_type: input?.type ?? null, output_type: output?.type ?? null };
  })"""


def widget_defaults(node_def: dict[str, Any]) -> dict[str, Any]:
    """Default of each widget input of an ``/object_info`` entry (a combo without one: its first option)."""
    defaults = {}
    for group in ("required", "optional"):
        for name, spec in (node_def["input"].get(group) or {}).items():
            options = spec[1] if len(spec) > 1 else {}
            if options.get("forceInput"):
                continue
            if isinstance(spec[0], list) or spec[0] == "COMBO":
                choices = spec[0] if isinstance(spec[0], list) else options["options"]
                defaults[name] = options.get("default") or choices[0]
            elif spec[0] in ("INT", "FLOAT", "STRING", "BOOLEAN"):
                defaults[name] = options.get("default")
    return defaults


@pytest.fixture(scope="module")
def object_info(comfy_server: ComfyServer) -> dict[str, Any]:
    return comfy_server.get_json("/object_info", timeout=120)


def test_every_api_workflow_has_a_ui_twin() -> None:
    api = sorted(p.stem for p in (WORKFLOWS / "api").glob("*.json"))
    assert api and api == PAIRS, "write the missing twins: python -m tools.workflow_ui"


@pytest.mark.parametrize("name", default_names())
def test_generated_ui_workflow_is_up_to_date(object_info: dict[str, Any], name: str) -> None:
    ui_path = WORKFLOWS / f"{name}.json"
    generated = render(convert(json.loads((WORKFLOWS / "api" / f"{name}.json").read_text()), object_info, name))
    assert ui_path.is_file() and ui_path.read_text() == generated, (
        f"{ui_path.name} is not the conversion of api/{ui_path.name}: python -m tools.workflow_ui {name}"
    )


@pytest.mark.parametrize("name", PAIRS)
def test_ui_workflow_queues_its_api_workflow(comfy_page: ComfyPage, object_info: dict[str, Any], name: str) -> None:
    workflow = json.loads((WORKFLOWS / f"{name}.json").read_text())
    expected = json.loads((WORKFLOWS / "api" / f"{name}.json").read_text())
    comfy_page.load_workflow(workflow)
    page = comfy_page.page

    missing = page.evaluate(
        "() => app.graph.nodes.filter((n) => !LiteGraph.registered_node_types[n.type]).map((n) => n.type)"
    )
    assert missing == []
    assert page.locator(".p-dialog:visible").count() == 0, "a dialog (missing nodes?) opened on load"
    assert page.evaluate("() => app.graph.nodes.length") == len(workflow["nodes"])

    # Links keep the type the frontend gives a link it draws: the input's type, else the output's.
    links = page.evaluate(LINKS)
    assert len(links) == len(workflow["links"])
    for link in links:
        assert link["type"] == (link["input_type"] or link["output_type"]), link
    file_inputs = {  # link id -> (target, input name, type) as written in the file
        row[0]: (row[3], next(i["name"] for i in n["inputs"] if i.get("link") == row[0]), row[5])
        for row in workflow["links"]
        for n in workflow["nodes"]
        if n["id"] == row[3]
    }
    assert {lk["id"]: (lk["target"], lk["input"], lk["type"]) for lk in links} == file_inputs

    output = page.evaluate("async () => (await app.graphToPrompt()).output")
    assert sorted(output) == sorted(expected)
    for node_id, api_node in expected.items():
        got = output[node_id]
        assert got["class_type"] == api_node["class_type"], node_id
        want = api_node["inputs"]
        assert {k: got["inputs"].get(k) for k in want} == want, f"node {node_id} ({api_node['class_type']})"
        extra = sorted(set(got["inputs"]) - set(want))
        defaults = widget_defaults(object_info[api_node["class_type"]])
        for key in extra:
            assert key in defaults, f"node {node_id}: the editor sends {key!r}, not a widget of the node"
            assert got["inputs"][key] == defaults[key], f"node {node_id}: {key} is not its default"
    assert comfy_page.errors_from_pack() == []
