"""Prompt graph walks: cycles, dangling links and long chains end a walk (noted), never hang or raise."""

from __future__ import annotations

import json
from typing import Any

import pytest

from seed_number.nodes.core.prompt_details import details_from_comfy_prompt
from seed_number.nodes.core.prompt_graph import is_link, link_source, linked_outputs, upstream_nodes


@pytest.mark.parametrize(
    ("prompt", "note"),
    [
        ({"1": {"class_type": "KSampler", "inputs": {"seed": ["1", 0], "positive": ["1", 0], "steps": 4}}}, "loop"),
        (
            {
                "1": {"class_type": "KSampler", "inputs": {"seed": ["2", 0], "negative": ["2", 0], "steps": 4}},
                "2": {"class_type": "Foo", "inputs": {"value": ["1", 0], "conditioning": ["1", 0]}},
            },
            "loop",
        ),
        ({"1": {"class_type": "KSampler", "inputs": {"seed": ["99", 0], "steps": 4}}}, "missing node '99'"),
        ({"1": {"class_type": "KSampler", "inputs": {"seed": [{"a": 1}, 0], "steps": 4}}}, "invalid node id"),
        ({"1": {"class_type": "KSampler", "inputs": {"steps": 4}}, "2": "junk", "3": {"inputs": {}}}, "2 malformed"),
    ],
)
def test_prompt_cycles_and_dangling_links_leave_fields_out(prompt: dict[str, Any], note: str) -> None:
    problems: list[str] = []
    assert details_from_comfy_prompt(json.dumps(prompt), problems) == {"steps": 4}
    assert any(note in p for p in problems), problems


def test_prompt_long_chains_and_many_samplers_are_bounded() -> None:
    chain = {str(i): {"class_type": "Foo", "inputs": {"value": [str(i + 1), 0]}} for i in range(1, 5000)}
    chain["5000"] = {"class_type": "PrimitiveInt", "inputs": {"value": 5}}
    chain["0"] = {"class_type": "KSampler", "inputs": {"seed": ["1", 0], "steps": 3}}
    problems: list[str] = []
    assert details_from_comfy_prompt(json.dumps(chain), problems) == {"steps": 3}
    assert "more than 64 links" in problems[0]
    ring = {
        str(i): {"class_type": "KSampler", "inputs": {"seed": i, "model": [str((i + 1) % 300), 0]}} for i in range(300)
    }
    assert details_from_comfy_prompt(json.dumps(ring))["seed"] == 299  # every sampler feeds another: highest id


def test_link_helpers_are_the_one_definition_of_a_link() -> None:
    assert is_link(["4", 0]) and is_link([4, 1]) and not is_link(["4", "0"]) and not is_link("4")
    assert link_source(["4", 0]) == "4" and link_source([4, 0]) == "4"
    assert link_source([4.5, 0]) is None and link_source(None) is None
    prompt = {
        "1": {"class_type": "A", "inputs": {"x": 1}},
        "2": {"class_type": "B", "inputs": {"a": ["1", 0], "b": [1, 2]}},
        "3": {"class_type": "C", "inputs": {"a": ["2", 0], "loop": ["3", 0]}},
        "4": "malformed",
    }
    assert linked_outputs(prompt, "1") == {0, 2}
    assert [node_id for node_id, _ in upstream_nodes(prompt, "3", limit=10)] == ["3", "2", "1"]
    assert len(upstream_nodes(prompt, "3", limit=2)) == 2
    assert upstream_nodes(prompt, "4", limit=10) == [("4", "malformed")]
