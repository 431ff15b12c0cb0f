"""Bad input to Seed Source through the API: HTTP 400 with node_errors naming the input; still serving."""

from __future__ import annotations

from typing import Any

import pytest

from seed_number.nodes.core.seeds import MAX_SEED
from tests.prompts import SEED_NODE, example_prompt
from tests.server.helpers import receipt
from tools.comfy_server import ComfyServer

# (input, value, ComfyUI's error type) — what each bad value must be refused with.
CASES: list[tuple[str, Any, str]] = [
    ("seed_number", -1, "value_smaller_than_min"),
    ("seed_number", -(2**63), "value_smaller_than_min"),
    ("seed_number", MAX_SEED + 1, "value_bigger_than_max"),
    ("seed_number", 2**64, "value_bigger_than_max"),
    ("seed_number", "abc", "invalid_input_type"),
    ("seed_number", "1.5", "invalid_input_type"),
    ("seed_number", "", "invalid_input_type"),
    ("seed_number", "inf", "invalid_input_type"),
    ("seed_number", None, "invalid_input_type"),
    ("seed_number", {"seed": 1}, "invalid_input_type"),
    ("seed_number", [1, 2, 3], "bad_linked_input"),
    ("seed_number", [], "bad_linked_input"),
    ("seed_number", ["1", 0], "return_type_mismatch"),  # a link to the checkpoint's MODEL
    ("mode", "sometimes", "custom_validation_failed"),
    ("mode", "Random", "custom_validation_failed"),
    ("mode", "RANDOM", "custom_validation_failed"),
    ("mode", "", "custom_validation_failed"),
    ("mode", " fixed", "custom_validation_failed"),
    ("mode", 3, "custom_validation_failed"),
    ("mode", True, "custom_validation_failed"),
    ("mode", {"mode": "fixed"}, "custom_validation_failed"),
    ("mode", ["fixed"], "bad_linked_input"),
    ("batch_seeds", "per_image", "custom_validation_failed"),
    ("batch_seeds", "Shared", "custom_validation_failed"),
    ("batch_seeds", 1, "custom_validation_failed"),
    ("ideogram_range", [True, False, True], "bad_linked_input"),
    ("ideogram_range", ["4", 0], "return_type_mismatch"),  # a link to a LATENT
    ("noise_source", "banana", "custom_validation_failed"),
    ("noise_source", "A1111 GPU", "custom_validation_failed"),
    ("noise_source", "a1111_gpu", "custom_validation_failed"),
    ("noise_source", 0, "custom_validation_failed"),
    ("variation_strength", -0.1, "custom_validation_failed"),
    ("variation_strength", 1.5, "custom_validation_failed"),
    ("variation_strength", float("nan"), "custom_validation_failed"),
    ("variation_strength", float("inf"), "custom_validation_failed"),
    ("variation_strength", "abc", "custom_validation_failed"),
    ("variation_strength", [1, 2, 3], "bad_linked_input"),
    ("variation_seed", -1, "value_smaller_than_min"),
    ("variation_seed", MAX_SEED + 1, "value_bigger_than_max"),
    ("variation_seed", "abc", "invalid_input_type"),
]


@pytest.mark.parametrize(("name", "value", "error_type"), CASES, ids=[f"{c[0]}={c[1]!r}" for c in CASES])
def test_bad_input_is_refused_naming_the_input(
    comfy_server: ComfyServer, name: str, value: Any, error_type: str
) -> None:
    prompt = example_prompt(mode="random")
    prompt[SEED_NODE]["inputs"][name] = value
    status, body = comfy_server.post_prompt(prompt)
    assert status == 400, body
    errors = body["node_errors"][SEED_NODE]["errors"]
    assert any(e["type"] == error_type and e["extra_info"]["input_name"] == name for e in errors), errors
    if error_type == "custom_validation_failed":
        assert any(e["details"].startswith(name) and name in e["details"].split(" - ", 1)[-1] for e in errors)


@pytest.mark.parametrize("name", ["mode", "batch_seeds"])
def test_explicit_null_choice_is_http_400_naming_the_input(comfy_server: ComfyServer, name: str) -> None:
    # Validation cannot tell an explicit null from a linked value, but the prompt hook sees the raw
    # JSON: it turns the null into a value validation refuses by name, as stock ComfyUI does (issue 11).
    prompt = example_prompt(mode="random")
    prompt[SEED_NODE]["inputs"][name] = None
    status, reply = comfy_server.post_prompt(prompt)
    assert status == 400
    errors = reply["node_errors"][SEED_NODE]["errors"]
    assert any(
        e["type"] == "custom_validation_failed"
        and e["details"].split(" - ", 1)[-1].startswith(f"{name}: null is not one of")
        for e in errors
    ), errors


def test_after_all_bad_input_the_server_still_serves(comfy_server: ComfyServer) -> None:
    for name, value, _ in CASES:
        prompt = example_prompt()
        prompt[SEED_NODE]["inputs"][name] = value
        assert comfy_server.post_prompt(prompt)[0] == 400
    entry = comfy_server.run(example_prompt(mode="random"))
    assert receipt(entry)["mode"] == "random"


@pytest.mark.parametrize(("value", "expected"), [("12", 12), (1.5, 1), (True, 1), (12.0, 12)])
def test_values_comfyui_coerces_are_used_as_coerced(comfy_server: ComfyServer, value: Any, expected: int) -> None:
    entry = comfy_server.run(example_prompt(seed_number=value, mode="fixed"))
    assert receipt(entry)["seed"] == expected
