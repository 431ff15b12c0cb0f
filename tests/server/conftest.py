"""Helpers for the server tier: example prompts, pixels and PNG metadata of finished runs."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from tools.comfy_server import ComfyServer

ROOT = Path(__file__).resolve().parents[2]
SEED_NODE = "5"


def example_prompt(size: int = 64, steps: int = 4, batch: int = 1, **seed_inputs: Any) -> dict[str, Any]:
    """The example API workflow, shrunk for tests, with Seed Source inputs overridden."""
    prompt = json.loads((ROOT / "workflows/api/seed_source_txt2img.json").read_text())
    prompt["4"]["inputs"].update(width=size, height=size, batch_size=batch)
    prompt["6"]["inputs"]["steps"] = steps
    prompt[SEED_NODE]["inputs"].update(seed_inputs)
    prompt["8"]["inputs"]["filename_prefix"] = "tests/seed_source"
    return prompt


def custom_sampler_prompt(
    noise: list | None, size: int = 64, batch: int = 1, seed: int = 0, batch_seeds: str = "shared"
) -> dict[str, Any]:
    """SamplerCustomAdvanced fed by Seed Source's noise (or core RandomNoise when ``noise`` is None)."""
    prompt = example_prompt(size=size, batch=batch, seed_number=seed, mode="fixed", batch_seeds=batch_seeds)
    del prompt["6"]
    prompt.update(
        {
            "10": {"class_type": "RandomNoise", "inputs": {"noise_seed": seed}},
            "11": {
                "class_type": "CFGGuider",
                "inputs": {"model": ["1", 0], "positive": ["2", 0], "negative": ["3", 0], "cfg": 7.0},
            },
            "12": {"class_type": "KSamplerSelect", "inputs": {"sampler_name": "euler"}},
            "13": {
                "class_type": "BasicScheduler",
                "inputs": {"model": ["1", 0], "scheduler": "normal", "steps": 4, "denoise": 1.0},
            },
            "14": {
                "class_type": "SamplerCustomAdvanced",
                "inputs": {
                    "noise": noise or ["10", 0],
                    "guider": ["11", 0],
                    "sampler": ["12", 0],
                    "sigmas": ["13", 0],
                    "latent_image": ["4", 0],
                },
            },
        }
    )
    if noise is not None:
        del prompt["10"]
    else:
        del prompt[SEED_NODE]
    prompt["7"]["inputs"]["samples"] = ["14", 0]
    return prompt


def receipt(entry: dict[str, Any], node: str = SEED_NODE) -> dict[str, Any]:
    return entry["outputs"][node]["seed_number_receipt"][0]


def saved_images(server: ComfyServer, entry: dict[str, Any], node: str = "8") -> list[Path]:
    return [server.output_path(img) for img in entry["outputs"][node]["images"]]


def pixels(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB")).copy()


def png_text(path: Path) -> dict[str, str]:
    with Image.open(path) as im:
        im.load()
        return dict(im.text)


def queued_prompt(entry: dict[str, Any]) -> dict[str, Any]:
    """The prompt as ComfyUI stored it in /history (after our hook resolved the seeds)."""
    return copy.deepcopy(entry["prompt"][2])
