"""Seed sweeps end to end: Seed Source count N → one queue, N images, each re-made alone."""

from __future__ import annotations

import json

import numpy as np

from tests.prompts import SEED_NODE
from tests.server.helpers import SHEET_NODE, api_workflow, pixels, png_text, queued_prompt, receipt, saved_images
from tools.comfy_server import ComfyServer


def test_count_8_renders_8_distinct_images_and_each_remakes_alone(comfy_server: ComfyServer) -> None:
    entry = comfy_server.run(api_workflow("seed_sweep", mode="random", count=8))
    got = receipt(entry)
    seeds = got["seeds"]
    assert got["count"] == 8 and got["mode"] == "random"
    assert seeds == [got["seed"] + k for k in range(8)]
    images = saved_images(comfy_server, entry, node="8")
    assert len(images) == 8
    originals = [pixels(p) for p in images]
    assert len({o.tobytes() for o in originals}) == 8
    # every PNG knows its sweep (base seed + count), and the resolved prompt re-makes the whole sweep
    chunk = json.loads(png_text(images[3])["seed_number"])["nodes"][SEED_NODE]
    assert chunk == {"seed": seeds[0], "mode": "random", "count": 8}  # the sweep is seed, seed+1, …
    stored = queued_prompt(entry)[SEED_NODE]["inputs"]
    assert (stored["seed_number"], stored["mode"], stored["count"]) == (seeds[0], "fixed", 8)
    # the contact sheet captions each cell with its own seed
    assert entry["outputs"][SHEET_NODE]["seed_number_captions"] == [f"Seed {s}" for s in seeds]
    # seed k from the receipt, set as a fixed seed alone, gives image k's exact pixels
    for k in (0, 5, 7):
        alone = api_workflow("seed_sweep", mode="fixed", seed_number=seeds[k], count=1)
        again = comfy_server.run(alone)
        assert receipt(again)["seeds"] == [seeds[k]]
        assert np.array_equal(pixels(saved_images(comfy_server, again, node="8")[0]), originals[k])


def test_increment_sweeps_do_not_overlap(comfy_server: ComfyServer) -> None:
    first = comfy_server.run(api_workflow("seed_sweep", mode="increment", seed_number=1000, count=3))
    second = comfy_server.run(api_workflow("seed_sweep", mode="increment", seed_number=1000, count=3))
    assert receipt(first)["seeds"] == [1000, 1001, 1002]
    assert receipt(second)["seeds"] == [1003, 1004, 1005]


def test_count_above_the_cap_or_wrong_type_is_http_400_naming_count(comfy_server: ComfyServer) -> None:
    for value, kind in ((65, "value_bigger_than_max"), (0, "value_smaller_than_min"), ("many", "invalid_input_type")):
        status, reply = comfy_server.request(
            "POST", "/prompt", {"prompt": api_workflow("seed_sweep", mode="random", count=value)}
        )
        assert status == 400
        error = reply["node_errors"][SEED_NODE]["errors"][0]
        assert error["type"] == kind and error["extra_info"]["input_name"] == "count"
    assert comfy_server.run(api_workflow("seed_sweep", mode="random", count=2))["status"]["completed"]
