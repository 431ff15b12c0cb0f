"""Prompt resolution: what the on_prompt hook writes into prompts and workflows."""

from __future__ import annotations

import copy
import itertools
import json
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seed_number.nodes.core.resolve import EXTRA_KEY, REQUESTED_KEY, requested_mode, resolve_request
from seed_number.nodes.core.seeds import MAX_SEED, NODE_ID, SeedCounter

ROOT = Path(__file__).resolve().parents[2]


def api_example() -> dict:
    return json.loads((ROOT / "workflows/api/seed_source_txt2img.json").read_text())


def ui_example() -> dict:
    return json.loads((ROOT / "workflows/seed_source_txt2img.json").read_text())


def request(inputs: dict, workflow: dict | None = None, client_id: str = "c1") -> dict:
    body = {"client_id": client_id, "prompt": {"5": {"class_type": NODE_ID, "inputs": inputs}}}
    if workflow is not None:
        body["extra_data"] = {"extra_pnginfo": {"workflow": workflow}}
    return body


def test_random_mode_becomes_fixed_with_the_drawn_seed_everywhere() -> None:
    body = request({"seed_number": 3, "mode": "random"}, workflow=ui_example())
    resolved = resolve_request(body, SeedCounter(), draw=lambda ideogram: 424242)
    assert [(r.node_id, r.seed, r.requested_mode) for r in resolved] == [("5", 424242, "random")]
    assert body["prompt"]["5"]["inputs"] == {"seed_number": 424242, "mode": "fixed", REQUESTED_KEY: "random"}
    wf_node = next(n for n in body["extra_data"]["extra_pnginfo"]["workflow"]["nodes"] if n["id"] == 5)
    assert wf_node["widgets_values"][:2] == [424242, "fixed"]
    info = body["extra_data"]["extra_pnginfo"]
    assert info[EXTRA_KEY]["nodes"]["5"] == {"seed": 424242, "mode": "random"}
    assert requested_mode(body["prompt"], "5", "fixed") == "random"
    assert requested_mode({}, "5", "fixed") == "fixed"


def test_api_client_without_extra_data_gets_seed_and_receipt_info() -> None:
    body = {"prompt": {"9": {"class_type": NODE_ID, "inputs": {}}}}
    resolve_request(body, SeedCounter(), draw=lambda ideogram: 7)
    assert body["prompt"]["9"]["inputs"] == {"seed_number": 7, "mode": "fixed", REQUESTED_KEY: "random"}
    assert body["extra_data"]["extra_pnginfo"][EXTRA_KEY]["nodes"]["9"]["mode"] == "random"


def test_fixed_mode_keeps_the_users_seed() -> None:
    body = request({"seed_number": "12", "mode": "fixed"})
    resolve_request(body, SeedCounter())
    assert body["prompt"]["5"]["inputs"] == {"seed_number": 12, "mode": "fixed", REQUESTED_KEY: "fixed"}


def test_increment_and_decrement_per_client_and_node() -> None:
    counter = SeedCounter()
    seen = []
    for _ in range(3):
        body = request({"seed_number": 100, "mode": "increment"})
        resolve_request(body, counter)
        seen.append(body["prompt"]["5"]["inputs"]["seed_number"])
    other = request({"seed_number": 100, "mode": "increment"}, client_id="c2")
    resolve_request(other, counter)
    down = request({"seed_number": 100, "mode": "decrement"})
    resolve_request(down, counter)
    assert seen == [100, 101, 102]
    assert other["prompt"]["5"]["inputs"]["seed_number"] == 100
    assert down["prompt"]["5"]["inputs"]["seed_number"] == 101  # one down from the last used


@pytest.mark.parametrize(
    "inputs",
    [
        {"seed_number": -1, "mode": "random"},
        {"seed_number": MAX_SEED + 1, "mode": "fixed"},
        {"seed_number": "abc", "mode": "random"},
        {"seed_number": None, "mode": "random"},
        {"seed_number": {"a": 1}, "mode": "random"},
        {"seed_number": 5, "mode": "Random"},
        {"seed_number": 5, "mode": "sometimes"},
        {"seed_number": 5, "mode": 3},
        {"seed_number": 5, "mode": "random", "ideogram_range": "yes"},
        {"seed_number": ["1", 0], "mode": "random"},
    ],
)
def test_invalid_or_linked_inputs_are_left_untouched_for_validation(inputs: dict) -> None:
    body = request(copy.deepcopy(inputs))
    assert resolve_request(body, SeedCounter()) == []
    assert body["prompt"]["5"]["inputs"] == inputs
    assert "extra_data" not in body


def test_subgraph_ids_rewrite_the_node_inside_the_subgraph_definition() -> None:
    inner = {"id": 3, "type": NODE_ID, "widgets_values": [0, "random", False, "shared"]}
    workflow = {
        "nodes": [{"id": 5, "type": "sg-1", "widgets_values": []}],
        "definitions": {"subgraphs": [{"id": "sg-1", "nodes": [inner]}]},
    }
    body = {
        "prompt": {"5:3": {"class_type": NODE_ID, "inputs": {"mode": "random"}}},
        "extra_data": {"extra_pnginfo": {"workflow": workflow}},
    }
    resolve_request(body, SeedCounter(), draw=lambda ideogram: 99)
    assert inner["widgets_values"][:2] == [99, "fixed"]


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=10,
)


@given(JSONISH, JSONISH)
def test_never_raises_on_arbitrary_bodies(prompt: object, extra: object) -> None:
    resolve_request({"prompt": {"1": {"class_type": NODE_ID, "inputs": prompt}}, "extra_data": extra}, SeedCounter())
    resolve_request(prompt, SeedCounter())


@given(st.integers(min_value=0, max_value=MAX_SEED), st.sampled_from(["fixed", "random", "increment", "decrement"]))
def test_resolved_prompts_are_stable_when_requeued(seed: int, mode: str) -> None:
    body = request({"seed_number": seed, "mode": mode}, workflow=ui_example())
    resolve_request(body, SeedCounter())
    again = copy.deepcopy(body)
    resolve_request(again, SeedCounter())
    assert again["prompt"]["5"]["inputs"]["seed_number"] == body["prompt"]["5"]["inputs"]["seed_number"]
    assert again["prompt"]["5"]["inputs"]["mode"] == "fixed"  # a resolved prompt re-queued uses the same seed
    assert again["prompt"]["5"]["inputs"][REQUESTED_KEY] == "fixed"


def test_example_api_workflow_matches_ui_workflow_widgets() -> None:
    api, ui = api_example(), ui_example()
    assert api["5"]["class_type"] == NODE_ID
    ui_node = next(n for n in ui["nodes"] if n["id"] == 5)
    assert ui_node["widgets_values"] == list(api["5"]["inputs"].values())


def test_resolution_of_a_50_node_prompt_is_fast_enough_to_not_matter() -> None:
    # The benchmark script measures this properly; here only a sanity bound against regressions.
    base = api_example()
    prompt = {}
    for i in itertools.islice(itertools.count(), 50):
        node = copy.deepcopy(base[str(i % 8 + 1)])
        prompt[str(i)] = node
    start = time.perf_counter()
    resolve_request({"prompt": prompt}, SeedCounter())
    assert time.perf_counter() - start < 0.5


def test_seed_sweep_records_every_seed_and_increments_by_the_sweep_size() -> None:
    counter = SeedCounter()
    body = request({"seed_number": 10, "mode": "random", "count": 4})
    resolve_request(body, counter, draw=lambda ideogram: MAX_SEED - 1)
    assert body["extra_data"]["extra_pnginfo"][EXTRA_KEY]["nodes"]["5"] == {
        "seed": MAX_SEED - 1,
        "mode": "random",
        "seeds": [MAX_SEED - 1, MAX_SEED, 0, 1],
    }
    firsts = []
    for _ in range(3):
        body = request({"seed_number": 100, "mode": "increment", "count": "3"})  # ComfyUI accepts "3" as 3
        firsts.append(resolve_request(body, counter)[0].seed)
    assert firsts == [100, 103, 106]
    for bad in (0, 65, "x", None, [1, 0]):  # validation will refuse it; the seed is still resolved, no sweep
        body = request({"seed_number": 7, "mode": "fixed", "count": bad})
        resolve_request(body, counter)
        assert body["prompt"]["5"]["inputs"]["count"] == bad
        assert "seeds" not in body["extra_data"]["extra_pnginfo"][EXTRA_KEY]["nodes"]["5"]
