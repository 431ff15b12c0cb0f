"""Seed Details and Load Seed Details end to end: chunks, readers, two samplers, round trips, bad input."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.paths import ROOT
from tests.prompts import SEED_NODE, custom_sampler_prompt, example_prompt
from tests.server.helpers import api_workflow, pixels, png_text, receipt, saved_images
from tools.comfy_server import ComfyError, ComfyServer

DETAILS_NODE = "8"


def with_details(prompt: dict[str, Any], node: str = DETAILS_NODE, **inputs: Any) -> dict[str, Any]:
    """Replace the Save Image node by Seed Details on the same images."""
    images = prompt[node]["inputs"]["images"]
    prompt[node] = {
        "class_type": "SeedDetails|SeedNumber",
        "inputs": {"images": images, "filename_prefix": "tests/details", "save": True, **inputs},
    }
    return prompt


def details_of(entry: dict[str, Any], node: str = DETAILS_NODE) -> list[dict[str, Any]]:
    return entry["outputs"][node]["seed_number_details"]


def ui_workflow() -> dict[str, Any]:
    return json.loads((ROOT / "workflows" / "seed_source_txt2img.json").read_text())


def test_png_holds_four_chunks_readable_by_sd_parsers_and_comfyui(comfy_server: ComfyServer) -> None:
    import sd_parsers

    prompt = with_details(example_prompt(mode="random"))
    prompt["2"]["inputs"]["text"] = "a lighthouse, at dusk: dark blue gradient"
    entry = comfy_server.run(prompt, extra_data={"extra_pnginfo": {"workflow": ui_workflow()}})
    seed = receipt(entry)["seed"]
    [image] = saved_images(comfy_server, entry, node=DETAILS_NODE)
    text = png_text(image)
    assert {"prompt", "workflow", "parameters", "seed_number_details"} <= set(text)
    # the embedded prompt and workflow carry the resolved seed: dragging the PNG back in re-makes it
    assert json.loads(text["prompt"])[SEED_NODE]["inputs"]["seed_number"] == seed
    wf_node = next(n for n in json.loads(text["workflow"])["nodes"] if str(n["id"]) == SEED_NODE)
    assert wf_node["widgets_values"][:2] == [seed, "fixed"]
    ours = json.loads(text["seed_number_details"])
    assert ours["seed"] == seed and ours["mode"] == "random" and ours["steps"] == 4
    assert ours["positive"] == "a lighthouse, at dusk: dark blue gradient" and ours["negative"] == "blurry, low quality"
    assert ours["model"] == "seed_number_demo_sd15.safetensors" and len(ours["model_hash"]) == 10
    assert ours["reproducible"]["verdict"] == "same machine" and ours["torch_version"]
    [shown] = details_of(entry)
    assert {k: shown[k] for k in ours} == ours  # the ui (history, browser) shows what the file holds
    # ComfyUI's own A1111 import needs a "Negative prompt:" line and "Steps:"
    parameters = text["parameters"]
    assert "\nNegative prompt: blurry, low quality\nSteps: 4, Sampler: Euler, " in parameters
    assert f"Seed: {seed}" in parameters and "Size: 64x64" in parameters
    info = sd_parsers.ParserManager().parse(str(image))
    assert info is not None
    [sampler] = info.samplers
    assert sampler.name == "Euler"
    assert sampler.parameters["seed"] == str(seed) and sampler.parameters["steps"] == "4"
    assert sampler.parameters["cfg_scale"] == "7"
    assert [p.value for p in sampler.prompts] == ["a lighthouse, at dusk: dark blue gradient"]
    assert [p.value for p in sampler.negative_prompts] == ["blurry, low quality"]


def test_two_samplers_each_image_gets_its_own_seed(comfy_server: ComfyServer) -> None:
    prompt = with_details(example_prompt(mode="random"))
    prompt.update(
        {
            "20": {"class_type": "SeedSource|SeedNumber", "inputs": {"seed_number": 777, "mode": "fixed"}},
            "21": {
                "class_type": "KSampler",
                "inputs": {
                    **prompt["6"]["inputs"],
                    "seed": ["20", 0],
                    "latent_image": ["6", 0],
                    "denoise": 0.5,
                    "steps": 3,
                    "sampler_name": "dpmpp_2m",
                },
            },
            "22": {"class_type": "VAEDecode", "inputs": {"samples": ["21", 0], "vae": ["1", 2]}},
            "23": {
                "class_type": "SeedDetails|SeedNumber",
                "inputs": {"images": ["22", 0], "filename_prefix": "tests/second_pass", "save": True},
            },
        }
    )
    entry = comfy_server.run(prompt)
    [base] = details_of(entry)
    [second] = details_of(entry, "23")
    assert base["seed"] == receipt(entry)["seed"] and base["sampler_node"] == "6" and base["steps"] == 4
    assert second["seed"] == 777 and second["sampler_node"] == "21"
    assert (base["seed_node"], second["seed_node"]) == ("5", "20")  # which Seed Source to reuse
    assert (second["steps"], second["denoise"], second["sampler"]) == (3, 0.5, "dpmpp_2m")
    second_png = json.loads(png_text(saved_images(comfy_server, entry, node="23")[0])["seed_number_details"])
    assert second_png["seed"] == 777


def load_and_remake_prompt(image_name: str) -> dict[str, Any]:
    """Load Seed Details → Seed Source (fixed, linked seed) + KSampler, prompts and size from the file."""
    prompt = example_prompt(mode="fixed")
    prompt["30"] = {"class_type": "LoadSeedDetails|SeedNumber", "inputs": {"image": image_name}}
    prompt[SEED_NODE]["inputs"].update(seed_number=["30", 0], mode="fixed")
    prompt["2"]["inputs"]["text"] = ["30", 1]
    prompt["3"]["inputs"]["text"] = ["30", 2]
    prompt["4"]["inputs"].update(width=["30", 8], height=["30", 9])
    prompt["6"]["inputs"].update(steps=["30", 4], cfg=["30", 5], sampler_name=["30", 6], scheduler=["30", 7])
    prompt["8"]["inputs"]["filename_prefix"] = "tests/remade"
    return prompt


def test_round_trip_details_load_remake_identical_pixels(comfy_server: ComfyServer) -> None:
    prompt = with_details(example_prompt(size=64, steps=3, mode="random"))
    prompt["6"]["inputs"].update(sampler_name="dpmpp_2m", scheduler="karras", cfg=6.5)
    first = comfy_server.run(prompt)
    [image] = saved_images(comfy_server, first, node=DETAILS_NODE)
    shutil.copyfile(image, comfy_server.base_dir / "input" / "roundtrip.png")
    again = comfy_server.run(load_and_remake_prompt("roundtrip.png"))
    loaded = again["outputs"]["30"]["seed_number_loaded"][0]
    assert loaded["source"] == "seed_number" and loaded["seed"] == receipt(first)["seed"]
    assert (loaded["steps"], loaded["cfg"], loaded["sampler"], loaded["scheduler"]) == (3, 6.5, "dpmpp_2m", "karras")
    assert receipt(again)["seed"] == receipt(first)["seed"]
    assert np.array_equal(pixels(saved_images(comfy_server, again)[0]), pixels(image))
    assert loaded["reproducible_here"]["verdict"] == "same machine"  # same ComfyUI, torch and device


def test_a1111_only_png_is_read_from_parameters(comfy_server: ComfyServer) -> None:
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text(
        "parameters",
        "a red cube\nNegative prompt: fog\nSteps: 3, Sampler: DPM++ 2M Karras, CFG scale: 5.5, Seed: 123, Size: 64x64",
    )
    Image.new("RGB", (64, 64)).save(comfy_server.base_dir / "input" / "a1111.png", pnginfo=info)
    entry = comfy_server.run(load_and_remake_prompt("a1111.png"))
    loaded = entry["outputs"]["30"]["seed_number_loaded"][0]
    assert loaded["source"].startswith("a1111 parameters")
    assert (loaded["seed"], loaded["positive"], loaded["negative"]) == (123, "a red cube", "fog")
    assert (loaded["steps"], loaded["cfg"], loaded["sampler"], loaded["scheduler"]) == (3, 5.5, "dpmpp_2m", "karras")
    assert receipt(entry)["seed"] == 123


def test_batch_of_4_per_image_seeds_recorded_and_each_remade_alone(comfy_server: ComfyServer) -> None:
    prompt = with_details(custom_sampler_prompt([SEED_NODE, 1], batch=4, seed=5000, batch_seeds="per image"))
    entry = comfy_server.run(prompt)
    details = details_of(entry)
    assert [d["seed"] for d in details] == [5000, 5001, 5002, 5003]
    assert all(d["seeds"] == [5000, 5001, 5002, 5003] for d in details)
    assert [d["batch_index"] for d in details] == [0, 1, 2, 3] and {d["batch_size"] for d in details} == {4}
    images = saved_images(comfy_server, entry, node=DETAILS_NODE)
    for k, image in enumerate(images):
        alone = with_details(custom_sampler_prompt([SEED_NODE, 1], batch=1, seed=5000 + k, batch_seeds="per image"))
        remade = comfy_server.run(alone)
        assert details_of(remade)[0]["seed"] == 5000 + k
        diff = np.abs(pixels(saved_images(comfy_server, remade, node=DETAILS_NODE)[0]).astype(int) - pixels(image))
        # bitwise-identical initial noise; the model's own CPU arithmetic depends on the batch size
        # and may move a pixel by one 8-bit level (README, "Batches and exactness")
        assert diff.max() <= 1


def test_save_off_previews_with_details(comfy_server: ComfyServer) -> None:
    entry = comfy_server.run(with_details(example_prompt(mode="random"), save=False))
    [image] = entry["outputs"][DETAILS_NODE]["images"]
    assert image["type"] == "temp"
    assert (
        json.loads(png_text(comfy_server.output_path(image))["seed_number_details"])["seed"] == receipt(entry)["seed"]
    )


@pytest.mark.parametrize("prefix", ["../escape", "/tmp/abs", "a/../../b", "C:\\x"])
def test_prefix_outside_output_is_http_400(comfy_server: ComfyServer, prefix: str) -> None:
    status, reply = comfy_server.request(
        "POST", "/prompt", {"prompt": with_details(example_prompt(), filename_prefix=prefix)}
    )
    assert status == 400
    error = reply["node_errors"][DETAILS_NODE]["errors"][0]
    assert "filename_prefix" in error["details"]


def test_load_refuses_paths_outside_input_and_files_without_details(comfy_server: ComfyServer) -> None:
    inputs = comfy_server.base_dir / "input"
    outside = comfy_server.base_dir / "secret.png"
    shutil.copyfile(ROOT / "tests" / "fixtures" / "noise_probe_pack" / "__init__.py", outside)
    link = inputs / "link_out.png"
    if not link.exists():
        os.symlink(outside, link)
    for name in ("../secret.png", str(outside), "link_out.png", "sub/../../secret.png"):
        status, reply = comfy_server.request("POST", "/prompt", {"prompt": load_and_remake_prompt(name)})
        assert status == 400, name
        assert "image" in reply["node_errors"]["30"]["errors"][0]["details"], name
    from PIL import Image

    Image.new("RGB", (8, 8)).save(inputs / "plain.png")
    with pytest.raises(ComfyError, match=r"no seed found in 'plain\.png'"):
        comfy_server.run(load_and_remake_prompt("plain.png"))
    assert comfy_server.run(example_prompt())["status"]["completed"]  # the server keeps serving


def test_hostile_files_through_the_api_give_clear_errors(comfy_server: ComfyServer, tmp_path: Path) -> None:
    import random

    from tests.core import hostile_pngs

    files = hostile_pngs.write_corpus(tmp_path, random.Random(99))
    for path in files[:: max(1, len(files) // 30)]:
        target = comfy_server.base_dir / "input" / f"hostile_{path.name}"
        shutil.copyfile(path, target)
        prompt = {
            "30": {"class_type": "LoadSeedDetails|SeedNumber", "inputs": {"image": target.name}},
            "31": {"class_type": "PreviewAny", "inputs": {"source": ["30", 10]}},
        }
        try:
            entry = comfy_server.run(prompt, timeout=60)
        except ComfyError as exc:
            assert "Load Seed Details: image:" in str(exc), str(exc)[:500]
        else:
            assert isinstance(entry["outputs"]["30"]["seed_number_loaded"][0]["seed"], int)
    assert comfy_server.run(example_prompt())["status"]["completed"]


def test_details_on_a_ladder_and_a_sweep_know_each_images_list_values(comfy_server: ComfyServer) -> None:
    ladder = api_workflow("render_speed_ladder", seed_number=406220, mode="fixed")
    ladder = with_details(ladder)
    entry = comfy_server.run(ladder)
    shown = details_of(entry)
    assert [(d["speed"], d["steps"], d["seed"]) for d in shown] == [
        ("Turbo", 12, 406220),
        ("Default", 20, 406220),
        ("Quality", 40, 406220),
    ]
    # re-queued unchanged, every node is cached but Seed Details still knows the list values
    again = comfy_server.run(ladder | {"8": {**ladder["8"], "inputs": {**ladder["8"]["inputs"], "save": False}}})
    assert [d["steps"] for d in details_of(again)] == [12, 20, 40]
    sweep = with_details(api_workflow("seed_sweep", mode="random", count=4))
    entry = comfy_server.run(sweep)
    seeds = receipt(entry)["seeds"]
    assert [d["seed"] for d in details_of(entry)] == seeds
    assert {d["speed"] for d in details_of(entry)} == {"Turbo"}


@pytest.mark.parametrize("name", ["variant_sweep_list", "variant_sweep_batched"])
def test_details_of_a_prompt_sweep_name_each_images_variant(comfy_server: ComfyServer, name: str) -> None:
    prompt = with_details(api_workflow(name, seed_number=406220, mode="fixed"))
    entry = comfy_server.run(prompt)
    shown = details_of(entry)
    assert [d["label"] for d in shown] == ["blue", "purple", "red"]
    assert [d["positive"] for d in shown] == [
        f"a lighthouse on a cliff at dusk, dark {colour} gradient sky" for colour in ("blue", "purple", "red")
    ]
    assert {d["seed"] for d in shown} == {406220} and {d["negative"] for d in shown} == {"blurry, low quality"}
    batched = name.endswith("batched")
    assert [d["batch_index"] for d in shown] == ([0, 1, 2] if batched else [0, 0, 0])
    png = json.loads(png_text(saved_images(comfy_server, entry, node=DETAILS_NODE)[2])["seed_number_details"])
    assert png["label"] == "red" and "dark red gradient" in png["positive"]
