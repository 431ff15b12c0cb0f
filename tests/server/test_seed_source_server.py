"""Seed Source end to end: a real headless ComfyUI, the demo checkpoint, /prompt and /history."""

from __future__ import annotations

import json
import random
import threading

import numpy as np
import pytest
import websocket

from seed_number.nodes.core.resolve import WIDGET_ORDER
from seed_number.nodes.core.seeds import MAX_SEED
from tests.prompts import SEED_NODE, custom_sampler_prompt, example_prompt
from tests.server.helpers import pixels, png_text, queued_prompt, receipt, saved_images
from tools.comfy_server import ComfyServer, new_client_id


def test_pack_loads_cleanly_and_is_listed(comfy_server: ComfyServer) -> None:
    log = comfy_server.log_path.read_text(errors="replace")  # whole log: startup is at its head
    timing = [line for line in log.splitlines() if line.rstrip().endswith("custom_nodes/seed-number")]
    assert timing and "IMPORT FAILED" not in timing[-1]
    startup = log.split("Starting server")[0]
    assert not [line for line in startup.splitlines() if 'File "' in line and "seed-number" in line]  # no traceback
    assert "Seed Number: seed resolution registered" in log
    info = comfy_server.get_json("/object_info/SeedSource%7CSeedNumber")["SeedSource|SeedNumber"]
    assert tuple(info["input"]["optional"]) == WIDGET_ORDER
    assert info["input"]["optional"]["seed_number"][1]["max"] == MAX_SEED
    assert info["output_name"] == ["seed", "noise"]
    templates = comfy_server.get_json("/workflow_templates")
    assert "seed_source_txt2img" in templates.get("seed-number", [])
    status, body = comfy_server.request("GET", "/api/workflow_templates/seed-number/seed_source_txt2img.json")
    body = body if isinstance(body, dict) else json.loads(body)
    assert status == 200 and any(n["type"] == "SeedSource|SeedNumber" for n in body["nodes"])
    status, js = comfy_server.request("GET", "/extensions/seed-number/seed_source.js")
    assert status == 200 and b"SeedNumber.SeedSource" in js


def test_random_mode_distinct_seeds_and_png_prompt_remakes_pixels(comfy_server: ComfyServer) -> None:
    entries = [comfy_server.run(example_prompt(mode="random")) for _ in range(5)]
    seeds = [receipt(e)["seed"] for e in entries]
    assert len(set(seeds)) == 5
    for entry, seed in zip(entries, seeds, strict=True):
        assert receipt(entry)["mode"] == "random"
        stored = queued_prompt(entry)[SEED_NODE]["inputs"]
        assert stored["seed_number"] == seed and stored["mode"] == "fixed"  # the seed shown is the seed used
        image = saved_images(comfy_server, entry)[0]
        embedded = json.loads(png_text(image)["prompt"])
        assert embedded[SEED_NODE]["inputs"]["seed_number"] == seed
        assert json.loads(png_text(image)["seed_number"])["nodes"][SEED_NODE] == {"seed": seed, "mode": "random"}
    # every PNG's embedded prompt, re-posted as it is, re-makes identical pixels
    originals = [pixels(saved_images(comfy_server, e)[0]) for e in entries]
    for entry, original in zip(entries, originals, strict=True):
        embedded = json.loads(png_text(saved_images(comfy_server, entry)[0])["prompt"])
        embedded["8"]["inputs"]["filename_prefix"] = "tests/remake"
        again = comfy_server.run(embedded)
        assert np.array_equal(pixels(saved_images(comfy_server, again)[0]), original)
    assert len({originals[i].tobytes() for i in range(5)}) == 5  # different seeds, different images
    # and after a server restart
    embedded = json.loads(png_text(saved_images(comfy_server, entries[0])[0])["prompt"])
    embedded["8"]["inputs"]["filename_prefix"] = "tests/after_restart"
    comfy_server.restart()
    after = comfy_server.run(embedded)
    assert receipt(after)["seed"] == seeds[0]
    assert np.array_equal(pixels(saved_images(comfy_server, after)[0]), originals[0])


def test_history_prompt_requeued_remakes_pixels(comfy_server: ComfyServer) -> None:
    first = comfy_server.run(example_prompt())
    again = comfy_server.run(queued_prompt(first))
    assert receipt(again)["seed"] == receipt(first)["seed"]
    assert np.array_equal(pixels(saved_images(comfy_server, again)[0]), pixels(saved_images(comfy_server, first)[0]))


def test_ui_workflow_in_png_carries_the_resolved_seed(comfy_server: ComfyServer) -> None:
    workflow = json.loads(
        (comfy_server.base_dir / "custom_nodes/seed-number/workflows/seed_source_txt2img.json").read_text()
    )
    entry = comfy_server.run(example_prompt(mode="random"), extra_data={"extra_pnginfo": {"workflow": workflow}})
    seed = receipt(entry)["seed"]
    saved = json.loads(png_text(saved_images(comfy_server, entry)[0])["workflow"])
    node = next(n for n in saved["nodes"] if n["id"] == 5)
    assert node["widgets_values"][:2] == [seed, "fixed"]  # dragging the PNG back in re-makes it


def test_fixed_mode_requeued_runs_nothing_again(comfy_server: ComfyServer) -> None:
    seed = random.randrange(MAX_SEED)
    first = comfy_server.run(example_prompt(seed_number=seed, mode="fixed"))
    second = comfy_server.run(example_prompt(seed_number=seed, mode="fixed"))
    cached = [m[1]["nodes"] for m in second["status"]["messages"] if m[0] == "execution_cached"]
    assert sorted(cached[0]) == sorted(example_prompt())  # every node came from the cache
    assert receipt(first)["seed"] == receipt(second)["seed"] == seed
    assert receipt(second)["mode"] == "fixed"


def test_increment_and_decrement_give_consecutive_seeds_per_client(comfy_server: ComfyServer) -> None:
    client = new_client_id()
    base = random.randrange(10**6, 10**9)
    ups = [
        receipt(comfy_server.run(example_prompt(seed_number=base, mode="increment"), client_id=client))["seed"]
        for _ in range(3)
    ]
    assert ups == [base, base + 1, base + 2]
    downs = [
        receipt(comfy_server.run(example_prompt(seed_number=base, mode="decrement"), client_id=client))["seed"]
        for _ in range(2)
    ]
    assert downs == [base + 1, base]
    assert receipt(comfy_server.run(example_prompt(seed_number=base, mode="increment")))["mode"] == "increment"


def test_api_client_without_seed_gets_random_seed_and_receipt_over_websocket(comfy_server: ComfyServer) -> None:
    client = new_client_id()
    ws = websocket.create_connection(comfy_server.url.replace("http", "ws") + f"/ws?clientId={client}", timeout=60)
    try:
        prompt = example_prompt()
        prompt[SEED_NODE]["inputs"] = {}  # nothing given at all: a random seed is assigned
        prompt_id = comfy_server.queue(prompt, client_id=client)
        executed = None
        while True:
            message = ws.recv()
            if not isinstance(message, str):
                continue
            event = json.loads(message)
            data = event.get("data", {})
            if event["type"] == "executed" and data.get("node") == SEED_NODE and data["prompt_id"] == prompt_id:
                executed = data["output"]["seed_number_receipt"][0]
            if event["type"] == "executing" and data.get("node") is None and data.get("prompt_id") == prompt_id:
                break
    finally:
        ws.close()
    entry = comfy_server.wait(prompt_id)
    assert executed == receipt(entry)
    assert executed["mode"] == "random" and 0 <= executed["seed"] <= MAX_SEED


def test_ideogram_range_draws_within_ideogram_seeds(comfy_server: ComfyServer) -> None:
    seeds = [receipt(comfy_server.run(example_prompt(mode="random", ideogram_range=True)))["seed"] for _ in range(3)]
    assert all(0 <= s <= 2_147_483_647 for s in seeds) and len(set(seeds)) == 3


def test_global_rng_reseeding_elsewhere_does_not_repeat_seeds(comfy_server: ComfyServer) -> None:
    # A test-only pack's node calls random.seed(0), numpy.random.seed(0) and torch.manual_seed(0) on
    # every run: before Seed Source (its INT feeds the seed input: resolved at run time) or beside it.
    linked, hooked = [], []
    for _ in range(3):
        prompt = example_prompt(mode="random")
        prompt["30"] = {"class_type": "ReseedGlobalRNGs", "inputs": {}}
        hooked.append(receipt(comfy_server.run(prompt))["seed"])
        prompt[SEED_NODE]["inputs"]["seed_number"] = ["30", 0]
        linked.append(receipt(comfy_server.run(prompt))["seed"])
    assert len(set(hooked)) == 3 and len(set(linked)) == 3


@pytest.mark.parametrize("size", [64, 72])  # latent 4x8x8 and 4x9x9 (not a multiple of 16 elements)
def test_noise_output_shared_and_per_image_pixels(comfy_server: ComfyServer, size: int) -> None:
    seed = random.randrange(10**9)
    ours = comfy_server.run(custom_sampler_prompt([SEED_NODE, 1], size=size, batch=4, seed=seed))
    core = comfy_server.run(custom_sampler_prompt(None, size=size, batch=4, seed=seed))
    ours_px = [pixels(p) for p in saved_images(comfy_server, ours)]
    core_px = [pixels(p) for p in saved_images(comfy_server, core)]
    assert all(np.array_equal(a, b) for a, b in zip(ours_px, core_px, strict=True))  # shared == ComfyUI's noise
    batch = comfy_server.run(
        custom_sampler_prompt([SEED_NODE, 1], size=size, batch=4, seed=seed, batch_seeds="per image")
    )
    batch_px = [pixels(p).astype(int) for p in saved_images(comfy_server, batch)]
    for k in range(4):
        alone = comfy_server.run(
            custom_sampler_prompt([SEED_NODE, 1], size=size, batch=1, seed=seed + k, batch_seeds="per image")
        )
        alone_px = pixels(saved_images(comfy_server, alone)[0]).astype(int)
        # The initial noise is bitwise equal (tests/comfy checks the tensors); the model's own CPU math
        # differs by batch size in the last bits, which shows as at most one 8-bit level here.
        assert np.abs(alone_px - batch_px[k]).max() <= 1
        assert all(np.abs(alone_px - batch_px[j]).max() > 20 for j in range(4) if j != k)


def test_server_keeps_serving_parallel_clients(comfy_server: ComfyServer) -> None:
    results: list[int] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            results.append(receipt(comfy_server.run(example_prompt(mode="random"), client_id=new_client_id()))["seed"])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors and len(set(results)) == 4


def test_seed_source_inside_a_subgraph_id_is_resolved(comfy_server: ComfyServer) -> None:
    # The frontend flattens subgraphs into ids like "50:3" before queueing.
    prompt = example_prompt(mode="random")
    prompt["50:3"] = prompt.pop(SEED_NODE)
    prompt["6"]["inputs"]["seed"] = ["50:3", 0]
    entries = [comfy_server.run(prompt) for _ in range(2)]
    seeds = [receipt(e, "50:3")["seed"] for e in entries]
    assert seeds[0] != seeds[1]
    for entry, seed in zip(entries, seeds, strict=True):
        assert receipt(entry, "50:3")["node"] == "50:3"
        assert queued_prompt(entry)["50:3"]["inputs"]["seed_number"] == seed
