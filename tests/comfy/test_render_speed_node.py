"""Render Speed Preset and the contact sheet inside a real (in-process) ComfyUI."""

from __future__ import annotations

import importlib
from types import ModuleType, SimpleNamespace

import pytest
import torch

from tests.comfy.helpers import run_node


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
    model_type = {"SD3": "FLOW", "Flux": "FLUX", "FluxSchnell": "FLUX"}.get(config, "EPS")
    out = run_node(
        preset_module.RenderSpeedPreset, speed="Default", model_family="auto", model=real_model(config, model_type)
    )
    assert out.ui["seed_number_speed"][0]["family"] == family
    assert out.ui["seed_number_speed"][0]["detected_by"] == f"model class {config}"


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
    steps, cfg, sampler_name, scheduler, sampler, sigmas, label, denoise, models, positives = out.args
    assert models == [model, model, model] and positives == [None, None, None]  # SD1.5: no shift, no guidance
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


# -- the node configures the model: shift as ComfyUI's ModelSampling* nodes, guidance as FluxGuidance --


def real_model(config_name: str, model_type: str = "FLOW"):
    """A ModelPatcher over a bare module with ComfyUI's own config class and sampling object."""
    import comfy.model_base
    import comfy.model_patcher
    import comfy.supported_models as supported

    config_cls = getattr(supported, config_name)
    config = config_cls.__new__(config_cls)
    module = torch.nn.Module()
    module.model_config = config
    module.model_sampling = comfy.model_base.model_sampling(config, getattr(comfy.model_base.ModelType, model_type))
    return comfy.model_patcher.ModelPatcher(module, torch.device("cpu"), torch.device("cpu"))


def comfy_shifted(model, shift_node: str, shift: float):
    """The same model patched by ComfyUI's own shift node."""
    from comfy_extras import nodes_model_advanced as advanced

    if shift_node == "ModelSamplingFlux":  # max_shift == base_shift: the node's shift is exactly that value
        return advanced.ModelSamplingFlux().patch(model, shift, shift, 1024, 1024)[0]
    node = getattr(advanced, shift_node)()
    return (node.patch(model, shift) if shift_node == "ModelSamplingSD3" else node.patch_aura(model, shift))[0]


@pytest.mark.parametrize(
    ("config", "model_type", "family", "shift_node"),
    [
        ("SD3", "FLOW", "SD3.x", "ModelSamplingSD3"),
        ("HiDream", "FLOW", "HiDream-Dev", "ModelSamplingSD3"),
        ("WAN21_T2V", "FLOW", "Wan2.1", "ModelSamplingSD3"),
        ("QwenImage", "FLUX", "Qwen-Image", "ModelSamplingAuraFlow"),
        ("Lumina2", "FLOW", "Lumina2", "ModelSamplingAuraFlow"),
        ("AuraFlow", "FLOW", "AuraFlow", "ModelSamplingAuraFlow"),
        ("Chroma", "FLUX", "Chroma", "ModelSamplingAuraFlow"),
        ("Flux", "FLUX", "Flux-dev", "ModelSamplingFlux"),
        ("FluxSchnell", "FLUX", "Flux-schnell", "ModelSamplingFlux"),
    ],
)
def test_shift_sigmas_equal_comfyuis_own_node_and_basic_scheduler_bitwise(
    comfy: ModuleType, preset_module: ModuleType, config: str, model_type: str, family: str, shift_node: str
) -> None:
    from comfy_extras.nodes_custom_sampler import BasicScheduler

    model = real_model(config, model_type)
    out = run_node(preset_module.RenderSpeedPreset, speed="Ladder", model_family=family, model=model)
    steps, _, _, schedulers, _, sigmas, _, _, models, _ = out.args
    table = preset_module.preset_table()
    for k, speed in enumerate(("Turbo", "Default", "Quality")):
        preset = table.get(family, speed)
        assert preset.shift_node == shift_node and models[k] is not model  # a clone: the input stays as it was
        theirs = comfy_shifted(model, shift_node, preset.shift)
        [expected] = BasicScheduler().get_sigmas(theirs, schedulers[k], steps[k], 1.0)
        [ours] = BasicScheduler().get_sigmas(models[k], schedulers[k], steps[k], 1.0)
        assert torch.equal(sigmas[k], expected) and torch.equal(ours, expected), (family, speed)
        ms = models[k].get_model_object("model_sampling")
        assert type(ms).__mro__[1:3] == type(theirs.get_model_object("model_sampling")).__mro__[1:3]
        assert out.ui["seed_number_speed"][k]["shift_applied"] is True
    assert model.get_model_object("model_sampling") is model.model.model_sampling  # untouched


def test_guidance_equals_flux_guidance_and_leaves_the_input_alone(comfy: ModuleType, preset_module: ModuleType) -> None:
    from comfy_extras.nodes_flux import FluxGuidance

    cond = [[torch.ones(1, 3, 8), {"pooled_output": torch.zeros(1, 8)}], [torch.zeros(1, 2, 8), {"guidance": 9.0}]]
    for family, guidance in (("Flux-dev", 3.5), ("Flux-Kontext", 2.5), ("Flux-Fill", 30.0)):
        out = run_node(preset_module.RenderSpeedPreset, speed="Default", model_family=family, positive=cond)
        [ours] = out.args[9]
        [theirs] = FluxGuidance.execute(cond, guidance).args
        assert len(ours) == len(theirs) == 2
        for a, b in zip(ours, theirs, strict=True):
            assert a[0] is b[0] and a[1].keys() == b[1].keys() and a[1]["guidance"] == b[1]["guidance"] == guidance
        assert out.ui["seed_number_speed"][0]["guidance_applied"] is True
    assert "guidance" not in cond[0][1] and cond[1][1]["guidance"] == 9.0  # FluxGuidance copies; so do we
    out = run_node(preset_module.RenderSpeedPreset, speed="Default", model_family="Qwen-Image", positive=cond)
    assert out.args[9] == [cond]  # no guidance for Qwen-Image: passed through


def test_a_shift_family_on_a_model_without_shift_is_a_clear_error(comfy: ModuleType, preset_module: ModuleType) -> None:
    model = real_model("SD15", "EPS")
    with pytest.raises(ValueError, match=r"model_family SD3\.x applies a shift .* has no shift"):
        run_node(preset_module.RenderSpeedPreset, speed="Turbo", model_family="SD3.x", model=model)
    out = run_node(preset_module.RenderSpeedPreset, speed="Turbo", model_family="SD1.5", model=model)
    assert out.args[8] == [model] and out.ui["seed_number_speed"][0]["shift_applied"] is False


@pytest.mark.parametrize(
    ("config", "loader", "family", "rule"),
    [
        (
            "HiDream",
            {"class_type": "UNETLoader", "inputs": {"unet_name": "hidream_i1_fast_fp8.safetensors"}},
            "HiDream-Fast",
            "model class HiDream and file name 'hidream_i1_fast_fp8.safetensors' (contains 'fast')",
        ),
        (
            "HiDream",
            {"class_type": "UNETLoader", "inputs": {"unet_name": "hidream_i1_full_fp8.safetensors"}},
            "HiDream-Full",
            "model class HiDream",
        ),
        (
            "SDXL",
            {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sd_xl_turbo_1.0_fp16.safetensors"}},
            "SDXL-Turbo",
            "model class SDXL and file name 'sd_xl_turbo_1.0_fp16.safetensors' (contains 'turbo')",
        ),
    ],
)
def test_auto_refines_the_family_from_the_loader_file_name_in_the_prompt(
    comfy: ModuleType, preset_module: ModuleType, config: str, loader: dict, family: str, rule: str
) -> None:
    from comfy_api.latest import io

    prompt = {
        "1": loader,
        "2": {"class_type": "LoraLoaderModelOnly", "inputs": {"model": ["1", 0], "lora_name": "style.safetensors"}},
        "5": {"class_type": "RenderSpeedPreset|SeedNumber", "inputs": {"model": ["2", 0], "speed": "Default"}},
    }
    model = real_model(config, "EPS" if config == "SDXL" else "FLOW")
    out = run_node(
        preset_module.RenderSpeedPreset,
        hidden={io.Hidden.prompt: prompt},
        speed="Default",
        model_family="auto",
        model=model,
    )
    [ui] = out.ui["seed_number_speed"]
    assert (ui["family"], ui["detected_by"]) == (family, rule)
