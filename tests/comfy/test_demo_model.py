"""The trained demo model (``weights/``) built, loaded and sampled by ComfyUI's own code, in-process.

Thresholds, not hashes: training on another CPU may differ in the last bits. Skipped when the checkout
has no ``weights/``.
"""

from __future__ import annotations

import pathlib
from types import ModuleType

import pytest

from tools.demo_model import MANIFEST, WEIGHTS_DIR, build, data

pytestmark = [
    pytest.mark.comfy,
    pytest.mark.skipif(not (WEIGHTS_DIR / MANIFEST).exists(), reason="no trained weights/ in this checkout"),
]

PROMPTS = [("red", "circle", "blue"), ("yellow", "square", "black"), ("white", "triangle", "green"),
           ("purple", "square", "orange")]  # fmt: skip
SEED = 3


@pytest.fixture(scope="module")
def sampler(comfy: ModuleType, tmp_path_factory: pytest.TempPathFactory):
    from tools.demo_model.evaluate import Sampler

    checkpoint = build.build(WEIGHTS_DIR, tmp_path_factory.mktemp("trained") / "trained.safetensors")
    return Sampler(checkpoint)


def test_the_built_checkpoint_loads_as_sd15(sampler) -> None:
    assert sampler.model_type == "SD15"
    assert sampler.vae.first_stage_model.__class__.__name__ == "TAESD"


def test_a_generation_has_the_background_the_prompt_asks_for(sampler) -> None:
    backgrounds = []
    for fg, shape, bg in PROMPTS:
        image = sampler.image(data.prompt(fg, shape, bg), SEED, steps=10, cfg=6.0)
        assert image.shape == (64, 64, 3)
        backgrounds.append((data.analyse(image).background, bg))
    right = sum(got == want for got, want in backgrounds)
    assert right >= len(PROMPTS) - 1, backgrounds


def test_a_rebuild_from_the_same_weights_is_reused(sampler, tmp_path: pathlib.Path) -> None:
    first = build.build(WEIGHTS_DIR, tmp_path / "m.safetensors")
    mtime = first.stat().st_mtime_ns
    assert build.build(WEIGHTS_DIR, tmp_path / "m.safetensors").stat().st_mtime_ns == mtime
