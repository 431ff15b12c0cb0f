"""Property test of the prompt hook's resolution (issue 11): over generated prompts and workflows —
random node shapes, ids, subgraph nesting and junk types — it never raises (but for an injected
failure), never changes a node that is not ours, and either rewrites fully or leaves all as sent."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from seed_number.nodes.core.resolve import NULL, REQUESTED_KEY, ServerView, resolve_request
from seed_number.nodes.core.seeds import NODE_ID, SeedCounter

OTHER = "RenderSpeedPreset|SeedNumber"
SERVER = ServerView(combos={NODE_ID: frozenset({"mode", "batch_seeds"}), OTHER: frozenset({"speed"})})
OURS = {NODE_ID, OTHER}

JUNK = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 2**60) | st.floats() | st.text(max_size=4),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3),
    max_leaves=6,
)
PART = st.sampled_from(["1", "2", "5", "7"])
IDS = st.lists(PART, min_size=1, max_size=4).map(":".join) | st.text(max_size=4)
CLASS = st.sampled_from([NODE_ID, OTHER, "KSampler", "EmptyLatentImage", "PreviewAny"]) | JUNK
INPUT_VALUE = (
    st.sampled_from(["fixed", "random", "increment", "decrement", "sometimes"])
    | st.integers(-2, 2**54)
    | st.none()
    | st.lists(st.sampled_from(["1", "5", 0, 1]), min_size=2, max_size=2)
    | JUNK
)
INPUTS = st.dictionaries(
    st.sampled_from(["seed_number", "mode", "batch_seeds", "count", "ideogram_range", "speed", "images"]),
    INPUT_VALUE,
    max_size=5,
)
PROMPT_NODE = st.fixed_dictionaries({"class_type": CLASS, "inputs": INPUTS | JUNK}) | JUNK
PROMPT = st.dictionaries(IDS, PROMPT_NODE, max_size=8)
SG_IDS = st.sampled_from(["sg-a", "sg-b"])
WIDGETS = st.lists(INPUT_VALUE, max_size=5) | st.dictionaries(st.sampled_from(["seed_number", "mode"]), JUNK) | JUNK
WF_NODE = (
    st.fixed_dictionaries(
        {"id": st.integers(0, 8) | st.sampled_from(["1", "5", "7"]) | JUNK, "type": CLASS | SG_IDS},
        optional={"widgets_values": WIDGETS},
    )
    | JUNK
)
WF_NODES = st.lists(WF_NODE, max_size=8)
WORKFLOW = st.fixed_dictionaries(
    {"nodes": WF_NODES | JUNK},
    optional={
        "definitions": st.fixed_dictionaries(
            {"subgraphs": st.lists(st.fixed_dictionaries({"id": SG_IDS | JUNK, "nodes": WF_NODES | JUNK}), max_size=3)}
        )
        | JUNK
    },
)
BODY = st.fixed_dictionaries(
    {"prompt": PROMPT},
    optional={
        "client_id": st.text(max_size=3) | JUNK,
        "extra_data": st.fixed_dictionaries(
            {}, optional={"extra_pnginfo": st.fixed_dictionaries({}, optional={"workflow": WORKFLOW | JUNK}) | JUNK}
        )
        | JUNK,
    },
)


class InjectedError(Exception):
    """The failure injected into a random draw."""


def masked(value: Any, key: str) -> Any:
    """``value`` with every dict whose ``key`` names one of our classes replaced by a marker."""
    if isinstance(value, dict):
        if value.get(key) in OURS if isinstance(value.get(key), str) else False:
            return "<ours>"
        return {k: masked(v, key) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v, key) for v in value]
    return value


def split(body: dict[str, Any]) -> tuple[Any, Any]:
    """(the prompt, everything else) with our nodes masked: what must never change."""
    rest = {k: v for k, v in body.items() if k not in ("prompt", "prompt_id")}
    extra = rest.get("extra_data")
    if isinstance(extra, dict):  # our chunk, and the empty containers that hold it, may be added
        pnginfo = extra.get("extra_pnginfo", {})
        if isinstance(pnginfo, dict):
            pnginfo = {k: v for k, v in pnginfo.items() if k != "seed_number"}
            extra = {k: v for k, v in extra.items() if k != "extra_pnginfo"}
            extra |= {"extra_pnginfo": pnginfo} if pnginfo else {}
        rest = {k: v for k, v in rest.items() if k != "extra_data"} | ({"extra_data": extra} if extra else {})
    return masked(body["prompt"], "class_type"), masked(rest, "type")


@settings(max_examples=400, deadline=None)
@given(BODY, st.integers(0, 6))
def test_the_hook_never_raises_touches_only_ours_and_is_all_or_nothing(body: dict[str, Any], fail_at: int) -> None:
    sent = copy.deepcopy(body)
    draws = iter(range(fail_at))

    def draw(ideogram: bool) -> int:  # fails on draw number ``fail_at`` (never, if there are fewer)
        try:
            return 1000 + next(draws)
        except StopIteration:
            raise InjectedError from None

    try:
        resolved = resolve_request(body, SeedCounter(), draw=draw, server=SERVER)
    except InjectedError:
        assert body == sent  # all or nothing: nothing was written
        return
    assert split(body) == split(sent)  # nothing that is not ours changed
    for r in resolved:  # ... and every resolved source was rewritten in full
        inputs = body["prompt"][r.node_id]["inputs"]
        assert (inputs["seed_number"], inputs["mode"], inputs[REQUESTED_KEY]) == (r.seed, "fixed", r.requested_mode)
    for node_id, node in body["prompt"].items():
        ours = isinstance(node, dict) and isinstance(node.get("class_type"), str) and node["class_type"] in OURS
        if ours and isinstance(node.get("inputs"), dict):
            before = sent["prompt"][node_id]["inputs"]
            for name, value in node["inputs"].items():
                if value is NULL:
                    assert before[name] is None  # only an explicit null becomes the marker
