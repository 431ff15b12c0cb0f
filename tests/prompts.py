"""API prompts the server and browser tiers queue: the example workflow shrunk for tests, and the
same graph through SamplerCustomAdvanced (with Seed Details when the test reads image details)."""

from __future__ import annotations

import json
from typing import Any

from tests.paths import WORKFLOWS

SEED_NODE = "5"
DETAILS_NODE = "8"
"""The example's save node: SaveImage, or Seed Details in :func:`details_prompt`."""


def example_prompt(size: int = 64, steps: int = 4, batch: int = 1, **seed_inputs: Any) -> dict[str, Any]:
    """The example API workflow, shrunk for tests, with Seed Source inputs overridden."""
    prompt = json.loads((WORKFLOWS / "api" / "seed_source_txt2img.json").read_text())
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


def details_prompt(
    prefix: str, seed: int = 406220, batch: int = 1, batch_seeds: str = "shared", **seed_inputs: Any
) -> dict[str, Any]:
    """Seed Source's noise → SamplerCustomAdvanced → VAE Decode → Seed Details (``filename_prefix``
    ``tests/<prefix>``), with Seed Source inputs overridden."""
    prompt = custom_sampler_prompt([SEED_NODE, 1], batch=batch, seed=seed, batch_seeds=batch_seeds)
    prompt[SEED_NODE]["inputs"].update(seed_inputs)
    prompt[DETAILS_NODE] = {
        "class_type": "SeedDetails|SeedNumber",
        "inputs": {"images": ["7", 0], "filename_prefix": f"tests/{prefix}", "save": True},
    }
    return prompt
