"""Tiny generated DiT models: detected by ComfyUI's own loader, configured and sampled at every speed."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import pytest
import torch

from tests.comfy.helpers import run_node


@pytest.fixture(scope="module")
def tiny(comfy: ModuleType) -> ModuleType:
    return importlib.import_module("tools.tiny_models")


def test_tiny_sd3_is_deterministic_small_and_loads_as_sd3(comfy: ModuleType, tiny: ModuleType, tmp_path: Path) -> None:
    import comfy.sd

    path = tiny.ensure_model("sd3", tmp_path)
    assert path.stat().st_size < 5_000_000  # 3.8 MB
    assert path.read_bytes() == tiny.model_bytes("sd3")  # same seed, same bytes
    model = comfy.sd.load_diffusion_model(str(path))  # what the stock UNETLoader calls
    assert type(model.model.model_config).__name__ == "SD3"


def test_tiny_sd3_speed_ladder_with_auto_shift_and_stand_in_conditioning(
    comfy: ModuleType, tiny: ModuleType, tmp_path: Path
) -> None:
    import comfy.sample
    import comfy.sd

    preset = importlib.import_module("seed_number.nodes.render_speed_preset")
    model = comfy.sd.load_diffusion_model(str(tiny.ensure_model("sd3", tmp_path)))
    # a text-encoder stand-in: SD3's conditioning shape (T5/CLIP context 4096 wide, pooled 2048)
    generator = torch.Generator().manual_seed(1)
    positive = [[torch.randn(1, 8, 4096, generator=generator), {"pooled_output": torch.randn(1, 2048)}]]
    negative = [[torch.zeros(1, 8, 4096), {"pooled_output": torch.zeros(1, 2048)}]]
    out = run_node(preset.RenderSpeedPreset, speed="Ladder", model_family="auto", model=model, positive=positive)
    steps, cfg, samplers, schedulers, _, sigmas, _, _, models, positives = out.args
    assert [u["family"] for u in out.ui["seed_number_speed"]] == ["SD3.x"] * 3
    assert all(m.get_model_object("model_sampling").shift == 3.0 for m in models)
    latent = torch.zeros(1, 16, 16, 16)
    noise = comfy.sample.prepare_noise(latent, 406220)
    images = []
    for k in range(3):
        samples = comfy.sample.sample(
            models[k], noise, steps[k], cfg[k], samplers[k], schedulers[k], positives[k], negative, latent
        )
        assert torch.isfinite(samples).all() and len(sigmas[k]) == steps[k] + 1
        images.append(samples)
    assert not torch.equal(images[0], images[2])  # other step counts, other results, from one noise


def test_seed_details_reads_family_shift_and_guidance_a_real_preset_recorded(
    comfy: ModuleType, tiny: ModuleType, tmp_path: Path
) -> None:
    import comfy.sd
    from comfy_api.latest import io

    from seed_number.nodes.core.prompt_details import details_for_sampler
    from seed_number.nodes.state import run_values

    preset = importlib.import_module("seed_number.nodes.render_speed_preset")
    model = comfy.sd.load_diffusion_model(str(tiny.ensure_model("sd3", tmp_path)))
    # SD3.5-shaped: UNETLoader -> Render Speed Preset (model, positive) -> CFGGuider -> SamplerCustomAdvanced
    prompt = {
        "1": {"class_type": "UNETLoader", "inputs": {"unet_name": "tiny_sd3.safetensors", "weight_dtype": "default"}},
        "3": {"class_type": "CLIPTextEncode", "inputs": {"text": "a red circle", "clip": ["2", 0]}},
        "20": {
            "class_type": "RenderSpeedPreset|SeedNumber",
            "inputs": {"speed": "Ladder", "model_family": "auto", "model": ["1", 0], "positive": ["3", 0]},
        },
        "6": {
            "class_type": "CFGGuider",
            "inputs": {"model": ["20", 8], "positive": ["20", 9], "negative": ["3", 0], "cfg": ["20", 1]},
        },
        "7": {"class_type": "RandomNoise", "inputs": {"noise_seed": 7}},
        "11": {
            "class_type": "SamplerCustomAdvanced",
            "inputs": {"noise": ["7", 0], "guider": ["6", 0], "sampler": ["20", 4], "sigmas": ["20", 5]},
        },
    }
    positive = [[torch.zeros(1, 8, 4096), {"pooled_output": torch.zeros(1, 2048)}]]
    hidden = {io.Hidden.unique_id: "20", io.Hidden.prompt: prompt}
    out = run_node(
        preset.RenderSpeedPreset, hidden, speed="Ladder", model_family="auto", model=model, positive=positive
    )
    rows = [details_for_sampler(prompt, "11", run_values.tap(prompt, k, 0)) for k in range(3)]
    assert [(r["family"], r["shift"], r["speed"].split(" ")[0]) for r in rows] == [
        ("SD3.x", 3.0, "Turbo"),
        ("SD3.x", 3.0, "Default"),
        ("SD3.x", 3.0, "Quality"),
    ]
    assert [r["steps"] for r in rows] == out.args[0] and "guidance" not in rows[0]  # SD3 takes no guidance
    assert rows[0]["model"] == "tiny_sd3.safetensors"
