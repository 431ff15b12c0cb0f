"""Render Speed presets as data: the shipped table, overrides, lookups and family detection."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from seed_number.nodes.core.presets import (
    LADDER,
    SHIPPED_PATH,
    SPEEDS,
    PresetError,
    TableCache,
    build_table,
    parse_families,
    speeds_for,
)
from seed_number.nodes.core.sampler_names import per_step_noise, reproducibility_note

SAMPLERS = [
    "euler",
    "euler_ancestral",
    "dpmpp_2m",
    "dpmpp_2m_sde",
    "dpmpp_2m_sde_gpu",
    "lcm",
    "uni_pc",
    "res_multistep",
]
SCHEDULERS = ["normal", "karras", "simple", "sgm_uniform", "beta"]
FAMILIES = [  # public API: these option names stay forever
    "SD1.5",
    "SD2.x",
    "SDXL",
    "SDXL-Turbo",
    "SDXL-Lightning",
    "SD3.x",
    "SD3.5-Large-Turbo",
    "Flux-dev",
    "Flux-schnell",
    "Flux-Kontext",
    "Flux-Fill",
    "Chroma",
    "Chroma-Radiance",
    "Qwen-Image",
    "Qwen-Image-Lightning-4step",
    "Qwen-Image-Lightning-8step",
    "Qwen-Image-Distill",
    "HiDream-Full",
    "HiDream-Dev",
    "HiDream-Fast",
    "Lumina2",
    "Neta-Lumina",
    "AuraFlow",
    "PixArt-Sigma",
    "PixArt-Alpha",
    "HunyuanDiT",
    "HunyuanImage-2.1",
    "HunyuanImage-2.1-Distilled",
    "Cosmos-Predict2",
    "Wan2.1",
    "Wan2.2-5B",
    "OmniGen2",
]
PER_STEP_NOISE = {"SDXL-Turbo", "HiDream-Dev", "HiDream-Fast"}
"""Families whose reference sampler draws per-step noise (their speed label carries the note)."""


COMPLETE = {"steps": 2, "cfg": 1, "sampler": "euler", "scheduler": "simple"}


def table(override: Path | None = None):
    return build_table(SAMPLERS, SCHEDULERS, override)


def test_shipped_table_has_every_family_and_speed_with_a_note() -> None:
    data = json.loads(SHIPPED_PATH.read_text())
    t = table()
    assert t.families == FAMILIES
    for family in FAMILIES:
        assert t.notes[family]
        steps = [t.get(family, s).steps for s in SPEEDS]
        assert steps == sorted(steps) and len(set(steps)) == 3  # Turbo < Default < Quality
        for speed in SPEEDS:
            preset = t.get(family, speed)
            assert preset.note
            assert (per_step_noise(preset.sampler) != "none") == (family in PER_STEP_NOISE)
            assert {preset.sampler} == {t.get(family, s).sampler for s in SPEEDS}
            assert data["families"][family]["speeds"][speed]["steps"] == preset.steps
    assert t.get("SD3.x", "Default").shift == 3.0
    assert t.get("Flux-dev", "Default").guidance == 3.5 and t.get("Flux-Kontext", "Default").guidance == 2.5
    assert t.get("Qwen-Image", "Default").shift_node == "ModelSamplingAuraFlow"
    for family in FAMILIES:  # a shift only with a shift node, guidance only with a guidance node
        for speed in SPEEDS:
            preset = t.get(family, speed)
            assert (preset.shift is not None) == (t.shift_nodes[family] is not None), family
            assert (preset.guidance is not None) == (t.guidance_nodes[family] is not None), family


def test_speeds_for_ladder_is_turbo_default_quality() -> None:
    assert speeds_for(LADDER) == ("Turbo", "Default", "Quality")
    assert speeds_for("Quality") == ("Quality",)


def test_detect_prefers_the_most_specific_config_class() -> None:
    t = table()
    assert t.detect(["SD15", "BASE", "object"]) == "SD1.5"
    assert t.detect(["SSD1B", "SDXL", "BASE"]) == "SDXL"
    assert t.detect(["FluxSchnell", "Flux", "BASE"]) == "Flux-schnell"
    assert t.detect(["FluxInpaint", "Flux", "BASE"]) == "Flux-Fill"
    assert t.detect(["WAN21", "BASE"]) is None
    assert t.detect(["HiDream", "BASE"]) == "HiDream-Full"  # the base variant of a shared class
    assert t.detect(["QwenImage"]) == "Qwen-Image" and t.detect(["SD3"]) == "SD3.x"


@pytest.mark.parametrize(
    ("cls", "files", "family", "pattern"),
    [
        ("SDXL", ["sd_xl_turbo_1.0_fp16.safetensors"], "SDXL-Turbo", "turbo"),
        ("SDXL", ["sdxl_lightning_4step.safetensors"], "SDXL-Lightning", "lightning"),
        ("SDXL", ["sd_xl_base_1.0.safetensors"], "SDXL", None),
        ("SD3", ["sd3.5_large_turbo.safetensors"], "SD3.5-Large-Turbo", "turbo"),
        ("Flux", ["flux1-dev-kontext_fp8_scaled.safetensors"], "Flux-Kontext", "kontext"),
        ("Flux", ["flux1-krea-dev_fp8_scaled.safetensors"], "Flux-dev", None),
        ("HiDream", ["hidream_i1_dev_fp8.safetensors"], "HiDream-Dev", "dev"),
        ("HiDream", ["hidream_i1_fast_fp8.safetensors"], "HiDream-Fast", "fast"),
        ("HiDream", ["hidream_i1_full_fp8.safetensors"], "HiDream-Full", None),
        (
            "QwenImage",
            ["qwen_image_fp8_e4m3fn.safetensors", "Qwen-Image-Lightning-8steps-V1.0.safetensors"],
            "Qwen-Image-Lightning-8step",
            "lightning8step",
        ),
        (
            "QwenImage",
            ["Qwen-Image-Lightning-4steps-V1.0-bf16.safetensors"],
            "Qwen-Image-Lightning-4step",
            "lightning4step",
        ),
        ("QwenImage", ["qwen_image_distill_full_fp8_e4m3fn.safetensors"], "Qwen-Image-Distill", "distill"),
        ("Lumina2", ["NetaYumev35_pretrained_all_in_one.safetensors"], "Neta-Lumina", "neta"),
        ("HunyuanImage21", ["hunyuanimage2.1_distilled_bf16.safetensors"], "HunyuanImage-2.1-Distilled", "distill"),
        ("FluxSchnell", ["flux1-schnell-kontext.safetensors"], "Flux-schnell", None),  # not a variant of its class
    ],
)
def test_auto_refines_a_shared_class_from_the_file_name_and_says_which_rule(
    cls: str, files: list[str], family: str, pattern: str | None
) -> None:
    found = table().detect_from([cls, "BASE"], files)
    assert found is not None and (found.family, found.model_class) == (family, cls)
    if pattern is None:
        assert found.rule == f"model class {cls}"
    else:
        assert found.rule.startswith(f"model class {cls} and file name ") and f"(contains {pattern!r})" in found.rule


def test_override_merges_fields_and_adds_families(tmp_path: Path) -> None:
    path = tmp_path / "o.json"
    path.write_text(
        json.dumps(
            {
                "families": {
                    "SD1.5": {"speeds": {"Turbo": {"steps": 8}}, "detect": ["SD15", "SD20"]},
                    "Mine": {
                        "speeds": {s: {"steps": 2, "cfg": 1, "sampler": "lcm", "scheduler": "simple"} for s in SPEEDS}
                    },
                }
            }
        )
    )
    t = table(path)
    turbo = t.get("SD1.5", "Turbo")
    assert (turbo.steps, turbo.sampler, turbo.cfg) == (8, "dpmpp_2m", 7.0)
    assert t.detect(["SD20"]) == "SD1.5"
    assert t.families[-1] == "Mine" and t.get("Mine", "Quality").cfg == 1.0
    assert "per-step noise on the device" in t.get("Mine", "Turbo").label()
    assert t.sources == (str(SHIPPED_PATH), str(path))


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("nope", "top level must be an object"),
        ({"families": []}, "'families' must be a non-empty object"),
        ({"families": {"auto": {}}}, "'auto' cannot be a family name"),
        ({"families": {"X": {"speeds": {}, "colour": 1}}}, "unknown key 'colour'"),
        ({"families": {"SD1.5": {"detect": "SD15", "speeds": {}}}}, "families.SD1.5.detect: must be a list"),
        ({"families": {"SD1.5": {"speeds": {"Turbo": {"steps": True}}}}}, "steps: True is not a whole number"),
        ({"families": {"SD1.5": {"speeds": {"Turbo": {"steps": 10001}}}}}, "steps: 10001"),
        ({"families": {"SD1.5": {"speeds": {"Turbo": {"cfg": -1}}}}}, "cfg: -1 is not a number from 0 to 100"),
        ({"families": {"SD1.5": {"speeds": {"Turbo": {"denoise": 1.5}}}}}, "denoise: 1.5"),
        ({"families": {"SD1.5": {"speeds": {"Turbo": {"shift": 0}}}}}, "shift: 0 is not a positive number"),
        ({"families": {"SD3.x": {"speeds": {"Turbo": {"shift": -1.5}}}}}, "shift: -1.5 is not a positive number"),
        ({"families": {"SD3.x": {"speeds": {"Turbo": {"shift": 101}}}}}, "shift: 101 is not a positive number up"),
        ({"families": {"Flux-dev": {"speeds": {"Turbo": {"guidance": -1}}}}}, "guidance: -1 is not a number"),
        ({"families": {"SD1.5": {"shift_node": "ModelSamplingSD3", "speeds": {}}}}, "shift_node follows its"),
        ({"families": {"New": {"shift_node": "ModelSamplingX", "speeds": {}}}}, "shift_node: 'ModelSamplingX'"),
        ({"families": {"New": {"guidance_node": "CFG", "speeds": {}}}}, "guidance_node: 'CFG' is not one of"),
        ({"families": {"New": {"file_names": ["--"], "speeds": {}}}}, "New.file_names: must be a list"),
        ({"families": {"SD1.5": {"speeds": {"Turbo": {"note": 3}}}}}, "note: must be text"),
        ({"families": {"SD1.5": {"speeds": {"Turbo": []}}}}, "Turbo: must be an object"),
        (
            {"families": {"Y": {"speeds": {s: {"steps": 2, "cfg": 1, "sampler": "euler"} for s in SPEEDS}}}},
            "Turbo: missing scheduler",
        ),
    ],
)
def test_bad_documents_name_the_source_and_the_entry(document: object, message: str) -> None:
    with pytest.raises(PresetError) as err:
        parse_families(document, "my.json", SAMPLERS, SCHEDULERS, known=FAMILIES)
    assert str(err.value).startswith("my.json: ") and message in str(err.value)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            {"families": {"SD1.5": {"speeds": {"Turbo": {"shift": 3.0}}}}},
            "families.SD1.5.speeds.Turbo.shift: SD1.5's model class has no shift",
        ),
        (
            {"families": {"Qwen-Image": {"speeds": {"Default": {"guidance": 3.5}}}}},
            "families.Qwen-Image.speeds.Default.guidance: Qwen-Image takes no guidance",
        ),
        (
            {"families": {"Mine": {"speeds": {s: {**COMPLETE, "shift": 2.0} for s in SPEEDS}}}},
            "families.Mine.speeds.Turbo.shift: Mine's model class has no shift",
        ),
    ],
)
def test_shift_or_guidance_where_the_family_has_none_names_the_file_entry(
    tmp_path: Path, document: dict, message: str
) -> None:
    path = tmp_path / "o.json"
    path.write_text(json.dumps(document))
    with pytest.raises(PresetError) as err:
        table(path)
    assert str(err.value) == f"{path}: {message}" or str(err.value).startswith(f"{path}: {message}")


def test_a_new_family_with_a_shift_node_and_file_names(tmp_path: Path) -> None:
    path = tmp_path / "o.json"
    speeds = {s: {**COMPLETE, "shift": 5.0, "guidance": 4.0} for s in SPEEDS}
    family = {"detect": ["SD3"], "file_names": ["my_sd3_merge"], "shift_node": "ModelSamplingSD3"}
    path.write_text(json.dumps({"families": {"Mine": {**family, "guidance_node": "FluxGuidance", "speeds": speeds}}}))
    t = table(path)
    assert t.get("Mine", "Default").shift == 5.0 and t.get("Mine", "Default").shift_node == "ModelSamplingSD3"
    assert t.detect_from(["SD3"], ["My-SD3-Merge.safetensors"]).family == "Mine"
    assert t.detect(["SD3"]) == "SD3.x"


def test_unreadable_files_are_clear_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"families": {')
    with pytest.raises(PresetError, match=r"broken.json: broken JSON at line 1 column 15"):
        table(broken)
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(PresetError, match=r"deep\.json"):
        table(deep)
    big = tmp_path / "big.json"
    big.write_bytes(b" " * 1_000_001)
    with pytest.raises(PresetError, match="too large"):
        table(big)


def test_cache_rebuilds_on_change_and_keeps_failing_until_fixed(tmp_path: Path) -> None:
    path = tmp_path / "o.json"
    cache = TableCache()
    assert cache.get(SAMPLERS, SCHEDULERS, path).get("SD1.5", "Turbo").steps == 12  # no file: shipped only
    path.write_text('{"families": {"SD1.5": {"speeds": {"Turbo": {"steps": -1}}}}}')
    for _ in range(2):
        with pytest.raises(PresetError, match="steps: -1"):
            cache.get(SAMPLERS, SCHEDULERS, path)
    path.write_text('{"families": {"SD1.5": {"speeds": {"Turbo": {"steps": 5}}}}}')
    os.utime(path, ns=(1, 1))  # a different mtime even on coarse clocks
    assert cache.get(SAMPLERS, SCHEDULERS, path).get("SD1.5", "Turbo").steps == 5
    with pytest.raises(PresetError, match="no preset for model_family 'SD9'"):
        cache.get(SAMPLERS, SCHEDULERS, path).get("SD9", "Turbo")


@pytest.mark.parametrize(
    ("sampler", "kind"),
    [
        ("euler", "none"),
        ("dpmpp_2m", "none"),
        ("euler_ancestral", "device"),
        ("dpmpp_2m_sde_gpu", "device"),
        ("lcm", "device"),
        ("ddpm", "device"),
        ("dpmpp_2m_sde", "cpu"),
    ],
)
def test_per_step_noise_classification(sampler: str, kind: str) -> None:
    assert per_step_noise(sampler) == kind
    assert (reproducibility_note(sampler) is None) == (kind == "none")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"cfg": 10**400}, "cfg: a 401-digit number is not a number"),
        ({"steps": 10**400}, "steps: a 401-digit number is not a whole number"),
        ({"shift": -(10**400)}, "shift: a 401-digit number is not a positive number"),
        ({"denoise": 1e-300}, "denoise: 1e-300 is not a number from 0.01 to 1"),
        ({"steps": 500, "denoise": 0.02}, "needs a schedule of 25,000 steps, over 10,000"),
    ],
)
def test_hostile_numbers_in_an_override_are_preset_errors_never_crashes(
    tmp_path: Path, fields: dict, message: str
) -> None:
    """Issue 11: these once raised OverflowError (the pack failed to load) or grew schedules unboundedly."""
    path = tmp_path / "presets.json"
    path.write_text(json.dumps({"families": {"SD1.5": {"speeds": {"Turbo": fields}}}}))
    with pytest.raises(PresetError, match=message) as info:
        table(path)
    assert str(path) in str(info.value) and len(str(info.value)) < 300
    cache = TableCache()
    with pytest.raises(PresetError):  # the cache turns every failure into a PresetError naming the file
        cache.get(SAMPLERS, SCHEDULERS, path)
