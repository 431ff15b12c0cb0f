"""Prompt Variant Sweep end to end: a real headless ComfyUI, the demo checkpoint, /prompt and /history."""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np
import pytest

from tests.paths import ROOT
from tests.server.helpers import pixels, saved_images
from tools.comfy_server import ComfyServer

SWEEP, SAVE, SHEET, LOADER, SEED, LATENT = "20", "8", "10", "1", "5", "4"
"""Node ids in workflows/api/variant_sweep_*.json."""
TEMPLATE = "a lighthouse on a cliff at dusk, dark {blue|purple|red} gradient sky"
LABELS = ["blue", "purple", "red"]

logger = logging.getLogger("seed_number")


def sweep_prompt(kind: str, execution: str | None = None, seed: int = 406220, **sweep_inputs: Any) -> dict[str, Any]:
    """An example API workflow (``list`` or ``batched``) shrunk to 64² px and 4 steps."""
    prompt = json.loads((ROOT / f"workflows/api/variant_sweep_{kind}.json").read_text())
    prompt[LATENT]["inputs"].update(width=64, height=64)
    prompt[SEED]["inputs"].update(seed_number=seed, mode="fixed")
    if "6" in prompt:
        prompt["6"]["inputs"]["steps"] = 4
    if "13" in prompt:
        prompt["13"]["inputs"]["steps"] = 4
    prompt[SAVE]["inputs"]["filename_prefix"] = f"tests/variant_sweep_{kind}"
    prompt[SHEET]["inputs"]["filename_prefix"] = f"tests/variant_sweep_{kind}_sheet"
    if execution is not None:
        prompt[SWEEP]["inputs"]["execution"] = execution
    prompt[SWEEP]["inputs"].update(sweep_inputs)
    return prompt


def cached_nodes(entry: dict[str, Any]) -> list[str]:
    return next(m[1]["nodes"] for m in entry["status"]["messages"] if m[0] == "execution_cached")


def variants(entry: dict[str, Any]) -> list[dict[str, Any]]:
    return entry["outputs"][SWEEP]["seed_number_variants"]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else float(10 * np.log10(255.0**2 / mse))


def test_list_sweep_with_stock_ksampler_caches_and_reruns_only_the_sweep(comfy_server: ComfyServer) -> None:
    info = comfy_server.get_json("/object_info/PromptVariantSweep%7CSeedNumber")["PromptVariantSweep|SeedNumber"]
    assert info["display_name"] == "Prompt Variant Sweep" and info["output_is_list"] == [True] * 7

    prompt = sweep_prompt("list")
    first = comfy_server.run(prompt)
    images = [pixels(p) for p in saved_images(comfy_server, first, SAVE)]
    assert len(images) == 3  # the stock KSampler ran once per variant
    assert len({img.tobytes() for img in images}) == 3  # different prompts, different pixels
    assert [v["label"] for v in variants(first)] == LABELS
    assert [v["prompt"] for v in variants(first)][1] == "a lighthouse on a cliff at dusk, dark purple gradient sky"
    assert [(v["chunk"], v["item"]) for v in variants(first)] == [(0, 0), (1, 0), (2, 0)]
    assert first["outputs"][SHEET]["seed_number_captions"] == [f"Seed 406220 · {label}" for label in LABELS]

    again = comfy_server.run(prompt)  # the same prompt: nothing is recomputed
    assert sorted(cached_nodes(again)) == sorted(prompt)

    edited = sweep_prompt("list", template=TEMPLATE.replace("red", "green"))
    changed = comfy_server.run(edited)
    cached = cached_nodes(changed)
    assert LOADER in cached and SEED in cached and LATENT in cached  # the checkpoint is not loaded again
    assert SWEEP not in cached and "6" not in cached
    assert [v["label"] for v in variants(changed)] == ["blue", "purple", "green"]
    changed_images = [pixels(p) for p in saved_images(comfy_server, changed, SAVE)]
    assert np.array_equal(changed_images[0], images[0]) and not np.array_equal(changed_images[2], images[2])


def test_batched_items_match_list_images_in_one_sampler_pass(comfy_server: ComfyServer, record_property: Any) -> None:
    listed = comfy_server.run(sweep_prompt("batched", execution="list"))
    batched = comfy_server.run(sweep_prompt("batched", execution="batched"))
    sweep_info = batched["outputs"][SWEEP]["seed_number_sweep"][0]
    assert sweep_info["chunks"] == [3]  # one chunk: SamplerCustomAdvanced ran once, on a batch of 3
    assert [(v["chunk"], v["item"]) for v in variants(batched)] == [(0, 0), (0, 1), (0, 2)]
    assert listed["outputs"][SWEEP]["seed_number_sweep"][0]["chunks"] == [1, 1, 1]
    assert batched["outputs"][SHEET]["seed_number_captions"] == [f"Seed 406220 · {label}" for label in LABELS]

    list_px = [pixels(p) for p in saved_images(comfy_server, listed, SAVE)]
    batch_px = [pixels(p) for p in saved_images(comfy_server, batched, SAVE)]
    assert len(list_px) == len(batch_px) == 3
    same = [psnr(batch_px[k], list_px[k]) for k in range(3)]
    across = [psnr(batch_px[k], list_px[j]) for k in range(3) for j in range(3) if j != k]
    record_property("psnr_batched_vs_list_db", [round(float(x), 2) for x in same])
    record_property("psnr_across_variants_db_max", round(float(max(across)), 2))
    logger.info("PSNR batched vs list per variant: %s dB; across variants at most %.2f dB", same, max(across))
    assert min(same) >= 35.0
    # The demo checkpoint's images are all mostly mid-grey, so different variants are close too; each
    # batch item must still be far closer to its own variant's list image than to any other.
    assert max(across) + 10.0 < min(same)


@pytest.mark.parametrize(
    ("sweep_inputs", "input_name", "fragments"),
    [
        ({"template": "dark {blue|purple gradient"}, "template", ["unclosed '{'", "at position 5"]),
        ({"template": "dark blue} gradient"}, "template", ["unmatched '}'", "at position 9"]),
        ({"template": "{a|b|c}{d|e|f}", "max_variants": 4}, "max_variants", ["9 variants", "over max_variants 4"]),
        ({"mode": "sometimes"}, "mode", ["'sometimes' is not one of"]),
        ({"execution": "parallel"}, "execution", ["'parallel' is not one of"]),
        ({"group": -1}, "group", ["from 0 to"]),
    ],
)
def test_bad_inputs_are_refused_with_400_naming_the_input(
    comfy_server: ComfyServer, sweep_inputs: dict[str, Any], input_name: str, fragments: list[str]
) -> None:
    status, body = comfy_server.request("POST", "/prompt", {"prompt": sweep_prompt("list", **sweep_inputs)})
    assert status == 400, body
    errors = body["node_errors"][SWEEP]["errors"]
    assert errors and all(e["type"] == "custom_validation_failed" for e in errors)
    details = errors[0]["details"]
    assert f"{input_name}: " in details and all(f in details for f in fragments), details


def test_server_keeps_serving_after_refusals(comfy_server: ComfyServer) -> None:
    bad = sweep_prompt("list", template="{a|b")
    assert comfy_server.request("POST", "/prompt", {"prompt": bad})[0] == 400
    good = comfy_server.run(sweep_prompt("list", template="dark {blue|red} gradient", seed=7))
    assert [v["label"] for v in variants(good)] == ["blue", "red"]
    assert len(saved_images(comfy_server, good, SAVE)) == 2
