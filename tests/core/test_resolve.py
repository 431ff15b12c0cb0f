"""Prompt resolution: what the on_prompt hook writes into prompts and workflows."""

from __future__ import annotations

import copy
import itertools
import json
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seed_number.nodes.core.resolve import (
    EXTRA_KEY,
    MAX_SOURCES,
    NULL,
    REQUESTED_KEY,
    ServerView,
    executed_nodes,
    requested_mode,
    resolve_request,
)
from seed_number.nodes.core.seeds import MAX_SEED, NODE_ID, SeedCounter, check_choices
from tests.paths import ROOT
from tools.adversarial import adversarial_body


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
    # benchmarks/bench_seed_source.py measures this (~0.1 ms); the bound here only guards against a
    # hang or a blowup (generous for a busy 2-core machine), not speed.
    base = api_example()
    prompt = {}
    for i in itertools.islice(itertools.count(), 50):
        node = copy.deepcopy(base[str(i % 8 + 1)])
        prompt[str(i)] = node
    start = time.perf_counter()
    resolve_request({"prompt": prompt}, SeedCounter())
    assert time.perf_counter() - start < 2.0


def test_seed_sweep_records_every_seed_and_increments_by_the_sweep_size() -> None:
    counter = SeedCounter()
    body = request({"seed_number": 10, "mode": "random", "count": 4})
    resolve_request(body, counter, draw=lambda ideogram: MAX_SEED - 1)
    assert body["extra_data"]["extra_pnginfo"][EXTRA_KEY]["nodes"]["5"] == {
        "seed": MAX_SEED - 1,
        "mode": "random",
        "count": 4,  # the sweep MAX_SEED - 1, MAX_SEED, 0, 1 is derivable: a request cannot amplify it
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
        assert "count" not in body["extra_data"]["extra_pnginfo"][EXTRA_KEY]["nodes"]["5"]


# -- hardening (issue 11): bounded, all or nothing, only ours ------------------------------------


def test_workflow_node_of_another_type_with_the_same_id_is_never_rewritten() -> None:
    latent = {"id": 5, "type": "EmptyLatentImage", "widgets_values": [512, 512, 1]}
    body = request({"seed_number": 3, "mode": "random"}, workflow={"nodes": [latent]})
    resolve_request(body, SeedCounter(), draw=lambda ideogram: 42)
    assert body["prompt"]["5"]["inputs"]["seed_number"] == 42
    assert latent["widgets_values"] == [512, 512, 1]


def test_an_error_while_planning_leaves_prompt_workflow_and_counters_as_sent() -> None:
    workflow = {
        "nodes": [{"id": n, "type": NODE_ID, "widgets_values": [0, "random", False, "shared", 1]} for n in (5, 6)]
    }
    body = {
        "client_id": "c1",
        "prompt": {
            "4": {"class_type": NODE_ID, "inputs": {"seed_number": 100, "mode": "increment"}},
            "5": {"class_type": NODE_ID, "inputs": {"mode": "random"}},
            "6": {"class_type": NODE_ID, "inputs": {"mode": "random"}},
        },
        "extra_data": {"extra_pnginfo": {"workflow": workflow}},
    }
    sent = copy.deepcopy(body)
    draws = iter([1])

    def draw(ideogram: bool) -> int:
        return next(draws)  # the second random source raises StopIteration mid-way

    counter = SeedCounter()
    with pytest.raises(StopIteration):
        resolve_request(body, counter, draw=draw)
    assert body == sent
    assert len(counter) == 0


def test_unhashable_and_junk_ids_are_skipped_not_errors() -> None:
    workflow = {
        "nodes": [
            0,
            None,
            {"id": [1]},
            {"id": 5, "type": {"x": 1}},
            {"id": 7, "type": NODE_ID, "widgets_values": [0, "random"]},
        ],
        "definitions": {"subgraphs": [{"id": ["sg"]}, {"id": "sg", "nodes": "junk"}, 3]},
    }
    body = {
        "prompt": {
            "5:3": {"class_type": NODE_ID, "inputs": {"mode": "random"}},
            "7": {"class_type": NODE_ID, "inputs": {"mode": "random"}},
        },
        "extra_data": {"extra_pnginfo": {"workflow": workflow}},
    }
    resolved = resolve_request(body, SeedCounter(), draw=lambda ideogram: 9)
    assert sorted(r.node_id for r in resolved) == ["5:3", "7"]
    assert workflow["nodes"][4]["widgets_values"] == [9, "fixed"]


def test_a_failed_validation_consumes_no_increment_step() -> None:
    counter = SeedCounter()
    queued: set[str] = set()
    server = ServerView(queued=queued.__contains__)
    seeds = []
    for valid in (True, False, True, True):
        body = request({"seed_number": 100, "mode": "increment"})
        resolve_request(body, counter, server=server)
        seeds.append(body["prompt"]["5"]["inputs"]["seed_number"])
        if valid:  # what ComfyUI does after validation: only a valid prompt reaches the queue
            queued.add(body["prompt_id"])
    assert seeds == [100, 101, 101, 102]


def test_one_client_cannot_evict_another_clients_counters() -> None:
    counter = SeedCounter()
    victim = [resolve_request(request({"seed_number": 100, "mode": "increment"}, client_id="victim"), counter)[0].seed]
    flood = {"client_id": "attacker", "prompt": {}}
    for i in range(4200):
        flood["prompt"][str(i)] = {"class_type": NODE_ID, "inputs": {"seed_number": 1, "mode": "increment"}}
    for _ in range(3):  # each request over MAX_SOURCES is left alone; build smaller floods too
        resolve_request(copy.deepcopy(flood), counter)
        small = {"client_id": "attacker", "prompt": dict(list(flood["prompt"].items())[:MAX_SOURCES])}
        resolve_request(copy.deepcopy(small), counter)
    victim.append(
        resolve_request(request({"seed_number": 100, "mode": "increment"}, client_id="victim"), counter)[0].seed
    )
    assert victim == [100, 101]


def test_more_sources_than_the_cap_are_left_for_run_time() -> None:
    prompt = {str(i): {"class_type": NODE_ID, "inputs": {"mode": "random"}} for i in range(MAX_SOURCES + 1)}
    body = {"prompt": copy.deepcopy(prompt)}
    assert resolve_request(body, SeedCounter()) == []
    assert body == {"prompt": prompt}


def test_explicit_null_for_our_combos_becomes_a_value_validation_refuses_by_name() -> None:
    server = ServerView(combos={NODE_ID: frozenset({"mode", "batch_seeds"}), "Other|SeedNumber": frozenset({"speed"})})
    body = {
        "prompt": {
            "5": {"class_type": NODE_ID, "inputs": {"seed_number": 1, "mode": None, "batch_seeds": None}},
            "6": {"class_type": "Other|SeedNumber", "inputs": {"speed": None}},
            "7": {"class_type": "KSampler", "inputs": {"sampler_name": None}},
        }
    }
    assert resolve_request(body, SeedCounter(), server=server) == []
    assert body["prompt"]["5"]["inputs"] == {"seed_number": 1, "mode": NULL, "batch_seeds": NULL}
    assert body["prompt"]["6"]["inputs"] == {"speed": NULL}
    assert body["prompt"]["7"]["inputs"] == {"sampler_name": None}  # not ours: untouched
    with pytest.raises(ValueError) as refused:
        check_choices(NULL, "shared", allow_none=True)
    assert str(refused.value) == "mode: null is not one of fixed, random, increment, decrement"
    assert json.dumps(NULL) == '"<null>"'


def test_only_sources_of_the_executed_graph_are_resolved_and_recorded() -> None:
    outputs = {"SaveImage"}
    prompt = {
        "1": {"class_type": NODE_ID, "inputs": {"mode": "random"}},
        "2": {"class_type": "KSampler", "inputs": {"seed": ["1", 0]}},
        "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0]}},
        "4": {"class_type": NODE_ID, "inputs": {"mode": "random", "count": 64}},  # connected to nothing
    }
    body = {"prompt": prompt}
    resolved = resolve_request(body, SeedCounter(), draw=lambda i: 5, server=ServerView(is_output=outputs.__contains__))
    assert [r.node_id for r in resolved] == ["1"]
    assert list(body["extra_data"]["extra_pnginfo"][EXTRA_KEY]["nodes"]) == ["1"]
    assert prompt["4"]["inputs"] == {"mode": "random", "count": 64}
    assert executed_nodes(prompt, outputs.__contains__, targets=["3"]) == {"1", "2", "3"}
    assert executed_nodes(prompt, outputs.__contains__, targets=["2"]) == set()


@pytest.mark.parametrize("shape", ["many_sources", "deep_id"])
def test_adversarial_request_shapes_are_linear(shape: str) -> None:
    """Issue 11's two freezing shapes (13.5 s and 14 s before); the benchmark holds the real figure."""
    body = adversarial_body(shape, megabytes=1.0)
    start = time.perf_counter()
    resolve_request(body, SeedCounter())
    assert time.perf_counter() - start < 2.0  # measured ~10 ms per MB: a generous bound for a busy CI


def test_client_prompt_id_is_kept_and_one_is_added_only_for_counters() -> None:
    server = ServerView(queued=lambda pid: True)
    fixed = request({"seed_number": 1, "mode": "fixed"})
    resolve_request(fixed, SeedCounter(), server=server)
    assert "prompt_id" not in fixed
    mine = {**request({"seed_number": 1, "mode": "increment"}), "prompt_id": "abc"}
    resolve_request(mine, SeedCounter(), server=server)
    assert mine["prompt_id"] == "abc"
    drawn = request({"seed_number": 1, "mode": "increment"})
    resolve_request(drawn, SeedCounter(), server=server)
    assert isinstance(drawn["prompt_id"], str) and len(drawn["prompt_id"]) == 36


@pytest.mark.parametrize(
    ("strength", "pinned"),
    [(0.3, True), ("0.5", True), (["7", 0], True), (0, False), (0.0, False), (float("nan"), False), (7, False)],
)
def test_absent_variation_seed_is_drawn_and_pinned_only_when_a_strength_uses_it(strength: object, pinned: bool) -> None:
    draws = iter([111, 222])
    body = request({"seed_number": 3, "mode": "fixed", "variation_strength": strength})
    resolve_request(body, SeedCounter(), draw=lambda ideogram: next(draws))
    inputs = body["prompt"]["5"]["inputs"]
    chunk = body["extra_data"]["extra_pnginfo"][EXTRA_KEY]["nodes"]["5"]
    if pinned:
        assert inputs["variation_seed"] == 111 and chunk["variation_seed"] == 111
    else:
        assert "variation_seed" not in inputs and "variation_seed" not in chunk
    assert inputs["variation_strength"] is strength  # left exactly as sent: validation judges it


def test_a_given_variation_seed_is_kept() -> None:
    body = request({"seed_number": 3, "mode": "random", "variation_seed": 9, "variation_strength": 0.2})
    resolve_request(body, SeedCounter(), draw=lambda ideogram: 5)
    assert body["prompt"]["5"]["inputs"]["variation_seed"] == 9
    assert "variation_seed" not in body["extra_data"]["extra_pnginfo"][EXTRA_KEY]["nodes"]["5"]
