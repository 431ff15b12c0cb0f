"""Images from A1111 / Forge re-made through a real ComfyUI (issue 19): Load Seed Details reads the
``parameters`` text, Seed Source draws A1111's initial noise, read back out of the sampler bitwise.

The graph samples zero steps: sigmas ``[1.0]`` (KarrasScheduler with one step, split before its
last sigma), so SamplerCustomAdvanced returns ``noise · 1 + empty latent`` through the model's
latent format (``/ 0.18215`` for SD1), and SaveLatent writes it to a file the test reads.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image
from PIL.PngImagePlugin import PngInfo
from safetensors.torch import load_file

from seed_number.nodes.core.a1111_noise import a1111_noise
from tests.paths import ROOT
from tools.comfy_server import ComfyError, ComfyServer

SD1_SCALE = 0.18215
LOADER, SOURCE, LATENT, SAMPLER, SAVE = "30", "31", "32", "39", "40"

# What AUTOMATIC1111 1.10 writes into a PNG's "parameters" chunk (its field order and names).
PARAMETERS = (
    "a red fox in the snow, detailed\n"
    "Negative prompt: blurry, lowres\n"
    "Steps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: {seed}, Size: {width}x{height}, "
    "Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, {extra}Version: v1.10.1"
)


def a1111_png(
    server: ComfyServer, name: str, seed: int, extra: str = "", width: int = 64, height: int = 64, version: str = ""
) -> str:
    """An A1111-made PNG in the server's input folder (the pixels do not matter, the text does);
    ``version`` replaces A1111's ``v1.10.1`` (e.g. ``ComfyUI 0.3.64`` for a ComfyUI-made text)."""
    text = PARAMETERS.format(seed=seed, width=width, height=height, extra=extra)
    info = PngInfo()
    info.add_text("parameters", text.replace("v1.10.1", version) if version else text)
    Image.new("RGB", (width, height), (90, 120, 150)).save(server.base_dir / "input" / name, pnginfo=info)
    return name


def remake_prompt(image: str, batch: int = 1, prefix: str = "tests/a1111_remake") -> dict[str, Any]:
    """Load Seed Details → Seed Source (everything linked) → SamplerCustomAdvanced at sigma 1 → SaveLatent."""
    prompt = {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "seed_number_demo_sd15.safetensors"}},
        "2": {"class_type": "CLIPTextEncode", "inputs": {"text": [LOADER, 1], "clip": ["1", 1]}},
        "3": {"class_type": "CLIPTextEncode", "inputs": {"text": [LOADER, 2], "clip": ["1", 1]}},
        LOADER: {"class_type": "LoadSeedDetails|SeedNumber", "inputs": {"image": image}},
        SOURCE: {
            "class_type": "SeedSource|SeedNumber",
            "inputs": {
                "seed_number": [LOADER, 0],
                "mode": "fixed",
                "noise_source": [LOADER, 11],
                "variation_seed": [LOADER, 12],
                "variation_strength": [LOADER, 13],
            },
        },
        LATENT: {
            "class_type": "EmptyLatentImage",
            "inputs": {"width": [LOADER, 8], "height": [LOADER, 9], "batch_size": batch},
        },
        "33": {
            "class_type": "CFGGuider",
            "inputs": {"model": ["1", 0], "positive": ["2", 0], "negative": ["3", 0], "cfg": 1.0},
        },
        "34": {"class_type": "KSamplerSelect", "inputs": {"sampler_name": "euler"}},
        "35": {
            "class_type": "KarrasScheduler",
            "inputs": {"steps": 1, "sigma_max": 1.0, "sigma_min": 1.0, "rho": 7.0},
        },
        "36": {"class_type": "SplitSigmas", "inputs": {"sigmas": ["35", 0], "step": 0}},
        SAMPLER: {
            "class_type": "SamplerCustomAdvanced",
            "inputs": {
                "noise": [SOURCE, 1],
                "guider": ["33", 0],
                "sampler": ["34", 0],
                "sigmas": ["36", 0],
                "latent_image": [LATENT, 0],
            },
        },
        SAVE: {"class_type": "SaveLatent", "inputs": {"samples": [SAMPLER, 0], "filename_prefix": prefix}},
    }
    return prompt


def expected_out(noise: torch.Tensor) -> torch.Tensor:
    """What the zero-step sampler returns for ``noise``: the SD1 latent format's ``process_out``."""
    return noise / SD1_SCALE


def saved_latent(server: ComfyServer, entry: dict[str, Any]) -> torch.Tensor:
    [saved] = entry["outputs"][SAVE]["latents"]
    return load_file(str(server.base_dir / "output" / saved["subfolder"] / saved["filename"]))["latent_tensor"]


CASES = [
    # (RNG / variation fields, seed, batch, A1111's noise for it)
    ("", 1234, 1, dict(source="a1111 gpu")),
    ("RNG: NV, ", 2**32 + 1234, 3, dict(source="a1111 gpu")),
    ("RNG: CPU, ", 1234, 3, dict(source="a1111 cpu")),
    ("Variation seed: 99, Variation seed strength: 0.3, ", 1234, 3, dict(variation_seed=99, variation_strength=0.3)),
    (
        "Variation seed: 7, Variation seed strength: 0.05, RNG: CPU, ",
        4000000000,
        2,
        dict(source="a1111 cpu", variation_seed=7, variation_strength=0.05),
    ),
]


@pytest.mark.parametrize(
    ("extra", "seed", "batch", "a1111"), CASES, ids=["default", "nv-64bit", "cpu", "variation", "cpu-variation"]
)
def test_an_a1111_png_remade_draws_a1111s_initial_noise(
    comfy_server: ComfyServer, extra: str, seed: int, batch: int, a1111: dict[str, Any]
) -> None:
    name = a1111_png(comfy_server, f"a1111_{abs(hash((extra, seed, batch)))}.png", seed, extra)
    entry = comfy_server.run(remake_prompt(name, batch=batch))
    expected = a1111_noise(seed, (4, 8, 8), batch, **a1111)
    got = saved_latent(comfy_server, entry)
    assert got.shape == (batch, 4, 8, 8)
    assert torch.equal(got, expected_out(expected)), float((got - expected_out(expected)).abs().max())
    receipt = entry["outputs"][SOURCE]["seed_number_receipt"][0]
    assert receipt["seed"] == seed and receipt["noise_source"] == a1111.get("source", "a1111 gpu")
    assert receipt["variation_seed"] == a1111.get("variation_seed")
    loaded = entry["outputs"][LOADER]["seed_number_loaded"][0]
    assert loaded["noise_source"] == receipt["noise_source"] and loaded["source"].startswith("a1111")


def test_a_comfyui_made_image_keeps_comfyui_noise(comfy_server: ComfyServer) -> None:
    name = a1111_png(comfy_server, "comfy_made.png", 55, version="ComfyUI 0.3.64")
    entry = comfy_server.run(remake_prompt(name, batch=2))
    comfy = torch.randn((2, 4, 8, 8), generator=torch.Generator().manual_seed(55))  # ComfyUI's shared batch noise
    assert torch.equal(saved_latent(comfy_server, entry), expected_out(comfy))


@pytest.mark.parametrize(
    "extra",
    ["RNG: Banana, ", "Variation seed strength: 7, Variation seed: 5, ", "Seed resize from: 9x, ENSD: many, "],
)
def test_odd_a1111_fields_fall_back_as_documented(comfy_server: ComfyServer, extra: str) -> None:
    # unknown RNG → A1111's default (GPU); an out-of-range strength → no variation; each noted
    name = a1111_png(comfy_server, f"odd_{abs(hash(extra))}.png", 1234, extra)
    entry = comfy_server.run(remake_prompt(name))
    assert torch.equal(saved_latent(comfy_server, entry), expected_out(a1111_noise(1234, (4, 8, 8))))
    assert entry["outputs"][LOADER]["seed_number_loaded"][0]["problems"]


@pytest.mark.parametrize("seed_text", ["12x4", str(2**70), ""])
def test_a_malformed_or_huge_seed_is_a_clear_node_error(comfy_server: ComfyServer, seed_text: str) -> None:
    info = PngInfo()
    info.add_text("parameters", PARAMETERS.replace("{seed}", seed_text).format(width=64, height=64, extra=""))
    name = f"bad_seed_{abs(hash(seed_text))}.png"
    Image.new("RGB", (64, 64)).save(comfy_server.base_dir / "input" / name, pnginfo=info)
    with pytest.raises(ComfyError, match=r'"node_id": "30".*Load Seed Details: image: no seed found'):
        comfy_server.run(remake_prompt(name))
    assert comfy_server.get_json("/system_stats")  # still serving


def test_the_example_workflow_remakes_an_a1111_png(comfy_server: ComfyServer) -> None:
    import json

    prompt = json.loads((ROOT / "workflows/api/remake_a1111_image.json").read_text())
    loader = next(k for k, v in prompt.items() if v["class_type"] == "LoadSeedDetails|SeedNumber")
    prompt[loader]["inputs"]["image"] = a1111_png(comfy_server, "example_a1111.png", 31337, "RNG: NV, ")
    for node in prompt.values():
        if "steps" in node["inputs"] and not isinstance(node["inputs"]["steps"], list):
            node["inputs"]["steps"] = 2
    entry = comfy_server.run(prompt)
    receipts = [o["seed_number_receipt"][0] for o in entry["outputs"].values() if "seed_number_receipt" in o]
    assert receipts and receipts[0]["seed"] == 31337 and receipts[0]["noise_source"] == "a1111 gpu"
    images = [o for o in entry["outputs"].values() if o.get("images")]
    assert images and np.asarray(Image.open(comfy_server.output_path(images[0]["images"][0]))).size
