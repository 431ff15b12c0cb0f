"""Beside badly behaved packs: one reseeds every global RNG on each run, one patches prepare_noise.

A second headless ComfyUI loads both test-only packs (``tests/fixtures``). Seed Source's random
seeds must stay distinct, its shared ``noise`` must give the same pixels as an unpatched ComfyUI,
and the pack must say once, in the log, that prepare_noise was replaced.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.paths import ROOT
from tests.prompts import SEED_NODE, custom_sampler_prompt, example_prompt
from tests.server.helpers import pixels, receipt, saved_images
from tools.comfy_server import ComfyServer

WARNING_START = "Seed Number: comfy.sample.prepare_noise has been replaced by"
RESEED_NODE = "30"


@pytest.fixture(scope="module")
def patched_server(
    comfyui_path: Path, demo_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ComfyServer]:
    """A headless ComfyUI with the pack, a global-RNG reseeding pack and a prepare_noise-patching pack."""
    fixtures = ROOT / "tests" / "fixtures"
    server = ComfyServer(
        comfyui_path,
        checkpoints=[demo_checkpoint],
        base_dir=tmp_path_factory.mktemp("comfy-other-packs"),
        extra_custom_nodes=[fixtures / "rng_reseed_pack", fixtures / "noise_patch_pack"],
    )
    server.start()
    yield server
    server.cleanup()


def reseeding(prompt: dict[str, Any]) -> dict[str, Any]:
    """``prompt`` with the ReseedGlobalRNGs output node beside Seed Source (it runs on every queue)."""
    prompt[RESEED_NODE] = {"class_type": "ReseedGlobalRNGs", "inputs": {}}
    return prompt


def warning_count(server: ComfyServer) -> int:
    return server.log_tail(10_000_000).count(WARNING_START)


def test_random_seeds_stay_distinct_beside_global_reseeding_and_patched_noise(patched_server: ComfyServer) -> None:
    prompt = reseeding(custom_sampler_prompt([SEED_NODE, 1]))
    prompt[SEED_NODE]["inputs"].update(mode="random")
    ids = [patched_server.queue(prompt) for _ in range(8)]
    entries = [patched_server.wait(i) for i in ids]
    seeds = [receipt(e)["seed"] for e in entries]
    assert len(set(seeds)) == 8, seeds
    assert len({pixels(saved_images(patched_server, e)[0]).tobytes() for e in entries}) == 8


def test_shared_noise_is_bit_identical_to_unpatched_comfyui(
    patched_server: ComfyServer, comfy_server: ComfyServer
) -> None:
    seed = random.randrange(10**9)
    prompt = reseeding(custom_sampler_prompt([SEED_NODE, 1], batch=2, seed=seed))
    patched = patched_server.run(prompt)
    plain = comfy_server.run(prompt)
    assert receipt(patched)["seed"] == receipt(plain)["seed"] == seed
    patched_px = [pixels(p) for p in saved_images(patched_server, patched)]
    plain_px = [pixels(p) for p in saved_images(comfy_server, plain)]
    assert len(patched_px) == len(plain_px) == 2
    assert all(np.array_equal(a, b) for a, b in zip(patched_px, plain_px, strict=True))
    # The patch is live: KSampler fed by the same seed (through prepare_noise) does differ.
    ksampler = example_prompt(seed_number=seed, mode="fixed")
    ks_patched = pixels(saved_images(patched_server, patched_server.run(ksampler))[0])
    ks_plain = pixels(saved_images(comfy_server, comfy_server.run(ksampler))[0])
    assert not np.array_equal(ks_patched, ks_plain)


def test_patch_is_warned_about_exactly_once_and_never_without_it(
    patched_server: ComfyServer, comfy_server: ComfyServer
) -> None:
    for server in (patched_server, comfy_server):
        for _ in range(3):
            server.run(reseeding(example_prompt(mode="random")))
    log = patched_server.log_tail(10_000_000)
    assert warning_count(patched_server) == 1, log[-4000:]
    [line] = [line for line in log.splitlines() if WARNING_START in line]
    assert "noise_patch_pack" in line and "Seed Source's `noise` output does not use it" in line
    assert warning_count(comfy_server) == 0
