"""Render Speed Preset and the contact sheet inside a real (in-process) ComfyUI."""

from __future__ import annotations

import importlib
from types import ModuleType, SimpleNamespace

import pytest
import torch

from .conftest import run_node


@pytest.fixture(scope="module")
def preset_module(comfy: ModuleType) -> ModuleType:
    return importlib.import_module("seed_number.nodes.render_speed_preset")


@pytest.fixture(scope="module")
def sheet_module(comfy: ModuleType) -> ModuleType:
    return importlib.import_module("seed_number.nodes.contact_sheet")


def test_every_node_schema_is_valid_for_comfyui(comfy: ModuleType) -> None:
    extension = importlib.import_module("seed_number.nodes.extension")
    for node in extension.NODES:
        schema = node.GET_SCHEMA()  # ComfyUI's own checks (unique ids, types) run here
        info = node.GET_NODE_INFO_V1()
        assert info["category"] == "Seed Number" and info["name"].endswith("|SeedNumber")
        inputs = {**info["input"].get("required", {}), **info["input"].get("optional", {})}
        assert all("tooltip" in spec[1] for spec in inputs.values()), schema.node_id


def fake_model(config_name: str, comfy: ModuleType) -> SimpleNamespace:
    """A MODEL-like object whose config is ComfyUI's own class of that name."""
    import comfy.model_sampling
    import comfy.supported_models as supported

    config_cls = getattr(supported, config_name)
    sampling = type("MS", (comfy.model_sampling.EPS, comfy.model_sampling.ModelSamplingDiscrete), {})()
    return SimpleNamespace(
        model=SimpleNamespace(model_config=config_cls.__new__(config_cls)),
        get_model_object=lambda name: sampling,
    )


@pytest.mark.parametrize(
    ("config", "family"),
    [
        ("SD15", "SD1.5"),
        ("SDXL", "SDXL"),
        ("SSD1B", "SDXL"),
        ("SD3", "SD3.x"),
        ("Flux", "Flux-dev"),
        ("FluxSchnell", "Flux-schnell"),
    ],
)
def test_auto_detects_the_family_from_comfyui_model_configs(
    comfy: ModuleType, preset_module: ModuleType, config: str, family: str
) -> None:
    model = fake_model(config, comfy)
    out = run_node(preset_module.RenderSpeedPreset, speed="Default", model_family="auto", model=model)
    assert out.ui["seed_number_speed"][0]["family"] == family


AUTO_FAMILY = {
    # every class of ComfyUI 0.3.64's supported_models -> what auto picks from the class alone
    "SD15": "SD1.5",
    "SD15_instructpix2pix": "SD1.5",
    "SD20": "SD2.x",
    "SD21UnclipL": "SD2.x",
    "SD21UnclipH": "SD2.x",
    "LotusD": "SD2.x",  # a subclass of SD20 (depth estimation): SD2.x numbers, pick your own
    "SD_X4Upscaler": "SD2.x",  # a subclass of SD20 (upscaler): likewise
    "SDXL": "SDXL",
    "SDXL_instructpix2pix": "SDXL",
    "SSD1B": "SDXL",
    "KOALA_700M": "SDXL",
    "KOALA_1B": "SDXL",
    "Segmind_Vega": "SDXL",
    "SD3": "SD3.x",
    "AuraFlow": "AuraFlow",
    "PixArtAlpha": "PixArt-Alpha",
    "PixArtSigma": "PixArt-Sigma",
    "HunyuanDiT": "HunyuanDiT",
    "HunyuanDiT1": "HunyuanDiT",
    "Flux": "Flux-dev",
    "FluxSchnell": "Flux-schnell",
    "FluxInpaint": "Flux-Fill",
    "Chroma": "Chroma",
    "ChromaRadiance": "Chroma-Radiance",
    "QwenImage": "Qwen-Image",
    "HiDream": "HiDream-Full",
    "Lumina2": "Lumina2",
    "Omnigen2": "OmniGen2",
    "HunyuanImage21": "HunyuanImage-2.1",
    "CosmosT2IPredict2": "Cosmos-Predict2",
    "CosmosI2VPredict2": "Cosmos-Predict2",
    "WAN21_T2V": "Wan2.1",
    "WAN22_T2V": "Wan2.2-5B",
    **dict.fromkeys(  # Wan's video subclasses: Wan 2.1 numbers for a single frame
        ["WAN21_I2V", "WAN21_FunControl2V", "WAN21_Vace", "WAN21_Camera", "WAN22_Camera", "WAN22_S2V"], "Wan2.1"
    ),
    **dict.fromkeys(["WAN21_HuMo", "WAN22_Animate"], "Wan2.1"),
    # not image families (video, audio, 3D, refiners, Stable Cascade's two stages): no auto family
    **dict.fromkeys(
        [
            "Stable_Zero123",
            "SDXLRefiner",
            "Stable_Cascade_C",
            "Stable_Cascade_B",
            "SV3D_u",
            "SV3D_p",
            "SVD_img2vid",
            "StableAudio",
            "GenmoMochi",
            "LTXV",
            "HunyuanImage21Refiner",
            "HunyuanVideo",
            "HunyuanVideoI2V",
            "HunyuanVideoSkyreelsI2V",
            "CosmosT2V",
            "CosmosI2V",
            "Hunyuan3Dv2",
            "Hunyuan3Dv2mini",
            "Hunyuan3Dv2_1",
            "ACEStep",
        ]
    ),
}


def test_auto_maps_every_comfyui_model_class(comfy: ModuleType, preset_module: ModuleType) -> None:
    import comfy.supported_models as supported

    table = preset_module.preset_table()
    classes = {cls.__name__: cls for cls in supported.models}
    assert set(classes) == set(AUTO_FAMILY)  # a class ComfyUI adds must be placed here
    for name, cls in classes.items():
        assert table.detect([c.__name__ for c in cls.__mro__]) == AUTO_FAMILY[name], name
    assert set(AUTO_FAMILY.values()) - {None} <= set(table.families)


def test_ladder_outputs_lists_for_stock_and_custom_sampling(comfy: ModuleType, preset_module: ModuleType) -> None:
    import comfy.samplers

    model = fake_model("SD15", comfy)
    out = run_node(preset_module.RenderSpeedPreset, speed="Ladder", model_family="SD1.5", model=model)
    steps, cfg, sampler_name, scheduler, sampler, sigmas, label, denoise = out.args
    assert steps == [12, 20, 40] and label == ["Turbo", "Default", "Quality"]
    assert all(name in comfy.samplers.KSampler.SAMPLERS for name in sampler_name)
    assert all(isinstance(s, comfy.samplers.KSAMPLER) for s in sampler)
    for n, sig, sched in zip(steps, sigmas, scheduler, strict=True):
        expected = comfy.samplers.calculate_sigmas(model.get_model_object("model_sampling"), sched, n).cpu()
        assert torch.equal(sig, expected) and len(sig) == n + 1  # what BasicScheduler gives
    assert denoise == [1.0, 1.0, 1.0] and cfg == [7.0, 7.0, 7.0]


def test_auto_without_model_or_unknown_model_names_the_input(comfy: ModuleType, preset_module: ModuleType) -> None:
    with pytest.raises(ValueError, match="model_family auto needs a MODEL on the model input"):
        run_node(preset_module.RenderSpeedPreset, speed="Turbo", model_family="auto")
    with pytest.raises(ValueError, match="does not know the model type GenmoMochi"):
        mochi = fake_model("GenmoMochi", comfy)
        run_node(preset_module.RenderSpeedPreset, speed="Turbo", model_family="auto", model=mochi)
    assert "speed: 'Fast'" in preset_module.RenderSpeedPreset.validate_inputs(speed="Fast", model_family="SD1.5")
    # without a model the sigmas output is None (and refused when something is wired to it)
    assert run_node(preset_module.RenderSpeedPreset, speed="Turbo", model_family="SDXL").args[5] == [None]


def test_contact_sheet_node_grids_a_list_and_a_batch(sheet_module: ModuleType, tmp_path, monkeypatch) -> None:
    import folder_paths

    monkeypatch.setattr(folder_paths, "get_temp_directory", lambda: str(tmp_path))
    images = [torch.rand(1, 32, 48, 3), torch.rand(2, 32, 48, 3)]
    out = run_node(
        sheet_module.SeedContactSheet,
        images=images,
        seed=[5, 6],
        label=["a", "b"],
        columns=[0],
        filename_prefix=["x"],
        save=[False],
    )
    [sheet] = out.args
    assert sheet.shape[0] == 1 and sheet.shape[3] == 3 and sheet.shape[2] > 2 * 48
    assert out.ui["seed_number_captions"] == ["Seed 5 · a", "Seed 6 · b", "Seed 6 · b"]
    [saved] = out.ui["images"]
    assert saved["type"] == "temp" and (tmp_path / saved["filename"]).exists()
    assert "filename_prefix" in sheet_module.SeedContactSheet.validate_inputs(filename_prefix=["../escape"])
