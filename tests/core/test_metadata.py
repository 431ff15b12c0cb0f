"""Generation details: A1111 text, our JSON, ComfyUI prompt graphs, PNG reading, model hash, reproducibility."""

from __future__ import annotations

import ast
import hashlib
import io
import json
import os
import random
import re
import struct
import subprocess
import sys
import threading
import zlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from seed_number.nodes.core import model_hash
from seed_number.nodes.core.a1111_infotext import a1111_parameters, model_stem, parse_a1111_parameters
from seed_number.nodes.core.details_fields import FIELDS, DetailsError, validate_details
from seed_number.nodes.core.details_json import details_json, parse_details_json
from seed_number.nodes.core.model_hash import HashCache, autov2_hash, file_sha256
from seed_number.nodes.core.png_details import ReadResult, png_text_chunks, read_png_details
from seed_number.nodes.core.png_text import DETAILS_CHUNK
from seed_number.nodes.core.prompt_details import details_from_comfy_prompt
from seed_number.nodes.core.reproducibility import VERDICTS, reproducibility
from seed_number.nodes.core.resolve import REQUESTED_KEY
from seed_number.nodes.core.sampler_names import (
    A1111_SAMPLERS,
    COMFY_SAMPLERS,
    COMFY_SCHEDULERS,
    a1111_sampler_name,
    comfy_sampler_from_a1111,
    per_step_noise,
)
from seed_number.nodes.core.seeds import NODE_ID
from tests.conftest import hostile_pngs

ROOT = Path(__file__).resolve().parents[2]

DETAILS: dict[str, Any] = {k: v for k, v in hostile_pngs().GOOD_DETAILS.items() if k != "version"}


def save_png(path: Path, texts: dict[str, str], *, zip_: bool = False, itxt: bool = False) -> Path:
    """An 8×8 PNG with ``texts`` written by Pillow (tEXt, or zTXt with ``zip_``, or iTXt with ``itxt``)."""
    info = PngInfo()
    for key, value in texts.items():
        if itxt:
            info.add_itxt(key, value, zip=zip_)
        else:
            info.add_text(key, value, zip=zip_)
    Image.new("RGB", (8, 8), (10, 20, 30)).save(path, pnginfo=info)
    return path


def raw_chunk(ctype: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", zlib.crc32(data, zlib.crc32(ctype)))


DETAILS_MODULES = (
    "details_fields",
    "a1111_infotext",
    "details_json",
    "prompt_graph",
    "prompt_details",
    "png_text",
    "png_details",
    "model_hash",
    "reproducibility",
)


def test_details_modules_import_no_comfyui_torch_numpy_or_pillow() -> None:
    imports = "; ".join(f"import seed_number.nodes.core.{name}" for name in DETAILS_MODULES)
    code = (
        f"import sys; from tools.pack import load_pack; load_pack(); {imports}; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'comfy', 'comfy_api', 'torch', 'numpy', 'PIL'}))"
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"


# -- A1111 parameters: writer --------------------------------------------------------------


def test_writer_full_example_exact() -> None:
    assert a1111_parameters(DETAILS) == (
        "a cat\nNegative prompt: blurry\n"
        "Steps: 20, Sampler: Euler, Schedule type: Normal, CFG scale: 7, Seed: 406220, Size: 512x512, "
        "Model hash: a1b2c3d4e5, Model: sd15, Seed Number speed: Default, Variant: purple, Version: ComfyUI 0.3.64"
    )


def test_writer_quotes_like_a1111_and_glues_karras_onto_the_sampler() -> None:
    details = {
        "positive": "a cat, sitting\non a mat",
        "negative": "",
        "steps": 30,
        "cfg": 7.5,
        "sampler": "dpmpp_2m_sde_gpu",
        "scheduler": "karras",
        "seed": 1,
        "denoise": 0.35,
        "model": "SDXL/my: model.safetensors",
        "label": 'say "hi", please',
        "speed": '"quoted',
    }
    assert a1111_parameters(details) == (
        "a cat, sitting\non a mat\nNegative prompt: \n"
        "Steps: 30, Sampler: DPM++ 2M SDE Karras, Schedule type: Karras, CFG scale: 7.5, Seed: 1, "
        'Model: "my: model", Denoising strength: 0.35, Seed Number speed: "\\"quoted", '
        'Variant: "say \\"hi\\", please"'
    )


def test_writer_empty_details_still_has_the_negative_line() -> None:
    assert a1111_parameters({}) == "\nNegative prompt: "


@pytest.mark.parametrize(
    ("details", "line"),
    [
        (
            {"sampler": "res_multistep", "scheduler": "exponential"},
            "Sampler: res_multistep Exponential, Schedule type: Exponential",
        ),
        (
            {"sampler": "euler_ancestral", "scheduler": "linear_quadratic"},
            "Sampler: Euler a, Schedule type: linear_quadratic",
        ),
        ({"sampler": "ddim", "scheduler": "ddim_uniform"}, "Sampler: DDIM, Schedule type: DDIM"),
        ({"cfg": float("nan"), "steps": True, "seed": -5, "denoise": 1.0, "width": 512}, None),
        ({"cfg": 1e-05, "denoise": 0}, "CFG scale: 1e-05, Denoising strength: 0"),
        ({"label": "  padded ", "speed": "tab\there"}, 'Seed Number speed: "tab\\there", Variant: "  padded "'),
        ({"label": 'mid"quote', "model_hash": "abc"}, 'Model hash: abc, Variant: mid"quote'),
        ({"comfyui_version": "0.3.64+git:abc"}, 'Version: "ComfyUI 0.3.64+git:abc"'),
    ],
)
def test_writer_fields(details: dict[str, Any], line: str | None) -> None:
    text = a1111_parameters(details)
    lines = text.split("\n")
    assert lines[:2] == ["", "Negative prompt: "]
    assert (lines[2] if len(lines) > 2 else None) == line


@pytest.mark.parametrize(
    ("name", "stem"),
    [
        ("sd15.safetensors", "sd15"),
        ("SDXL/juggernaut_v9.safetensors", "juggernaut_v9"),
        ("C:\\models\\v1-5-pruned.ckpt", "v1-5-pruned"),
        ("model.v2.gguf", "model.v2"),
        ("no_extension", "no_extension"),
        (".hidden", ".hidden"),
    ],
)
def test_model_stem_like_a1111(name: str, stem: str) -> None:
    assert model_stem(name) == stem


@pytest.mark.parametrize(
    ("sampler", "scheduler", "a1111"),
    [
        ("euler", "normal", "Euler"),
        ("euler_ancestral", "simple", "Euler a"),
        ("heun", None, "Heun"),
        ("dpm_2", "karras", "DPM2 Karras"),
        ("dpm_2_ancestral", "karras", "DPM2 a Karras"),
        ("lms", "karras", "LMS Karras"),
        ("dpm_fast", None, "DPM fast"),
        ("dpm_adaptive", None, "DPM adaptive"),
        ("dpmpp_2s_ancestral", "karras", "DPM++ 2S a Karras"),
        ("dpmpp_sde", "karras", "DPM++ SDE Karras"),
        ("dpmpp_sde_gpu", "karras", "DPM++ SDE Karras"),
        ("dpmpp_2m", "karras", "DPM++ 2M Karras"),
        ("dpmpp_2m_sde", "exponential", "DPM++ 2M SDE Exponential"),
        ("dpmpp_2m_sde_gpu", "karras", "DPM++ 2M SDE Karras"),
        ("dpmpp_3m_sde_gpu", "exponential", "DPM++ 3M SDE Exponential"),
        ("ddim", "ddim_uniform", "DDIM"),
        ("uni_pc", "simple", "UniPC"),
        ("lcm", "sgm_uniform", "LCM"),
        ("res_multistep", "beta", "res_multistep"),
    ],
)
def test_sampler_names_both_ways(sampler: str, scheduler: str | None, a1111: str) -> None:
    assert a1111_sampler_name(sampler, scheduler) == a1111
    back, glued = comfy_sampler_from_a1111(a1111)
    assert back == sampler.removesuffix("_gpu")
    assert glued == (scheduler if scheduler in ("karras", "exponential") else None)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Euler a", ("euler_ancestral", None)),
        ("euler a", ("euler_ancestral", None)),
        ("k_dpmpp_2m", ("dpmpp_2m", None)),
        ("DPM++ 2M SDE Heun Karras", ("dpmpp_2m_sde_heun", "karras")),
        ("DPM++ 2M SGM Uniform", ("dpmpp_2m", "sgm_uniform")),
        ("Euler Automatic", ("Euler Automatic", None)),
        ("euler_ancestral", ("euler_ancestral", None)),
        ("PLMS", ("PLMS", None)),
        ("Restart Karras", ("Restart", "karras")),
        ("  DPM++ 2M Karras ", ("dpmpp_2m", "karras")),
    ],
)
def test_comfy_sampler_from_a1111(name: str, expected: tuple[str, str | None]) -> None:
    assert comfy_sampler_from_a1111(name) == expected


# -- A1111 parameters: reader --------------------------------------------------------------


def test_parse_real_a1111_infotext() -> None:
    text = (
        "masterpiece, best quality, 1girl,\n(blue hair:1.2), <lora:foo:0.8>\n"
        "Negative prompt: lowres, bad anatomy\n"
        "Steps: 28, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 3723547839, Size: 832x1216, "
        "Model hash: 31e35c80fc, Model: sd_xl_base_1.0, Denoising strength: 0.4, Hires upscale: 1.5, "
        'Lora hashes: "foo: 1a2b3c4d5e6f", Version: v1.10.1'
    )
    problems: list[str] = []
    assert parse_a1111_parameters(text, problems) == {
        "positive": "masterpiece, best quality, 1girl,\n(blue hair:1.2), <lora:foo:0.8>",
        "negative": "lowres, bad anatomy",
        "steps": 28,
        "sampler": "dpmpp_2m",
        "scheduler": "karras",
        "cfg": 6.5,
        "seed": 3723547839,
        "width": 832,
        "height": 1216,
        "model_hash": "31e35c80fc",
        "model": "sd_xl_base_1.0",
        "denoise": 0.4,
    }
    assert problems == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "a cat\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 5",
            {"positive": "a cat", "negative": "", "steps": 20, "sampler": "euler_ancestral", "cfg": 7.0, "seed": 5},
        ),
        (
            "a\nNegative prompt:b\nc\nSteps: 1, Sampler: DPM++ SDE Karras, CFG scale: 2",
            {
                "positive": "a",
                "negative": "b\nc",
                "steps": 1,
                "sampler": "dpmpp_sde",
                "scheduler": "karras",
                "cfg": 2.0,
            },
        ),
        ("just a prompt, style: anime", {"positive": "just a prompt, style: anime", "negative": ""}),
        ("Seed: 7", {"positive": "", "negative": "", "seed": 7}),
        (
            'x\nNegative prompt: y\nSteps: 3, Variant: "abc, Seed: 5, Sampler: Euler\r\n\n',
            {"positive": "x", "negative": "y", "steps": 3, "label": '"abc', "seed": 5, "sampler": "euler"},
        ),
        (
            "p\nNegative prompt: n\nSteps: 3, Sampler: Euler, Schedule type: Automatic, CFG scale: 4",
            {"positive": "p", "negative": "n", "steps": 3, "sampler": "euler", "cfg": 4.0},
        ),
        ("", {"positive": "", "negative": ""}),
    ],
)
def test_parse_tolerates_a1111_variants(text: str, expected: dict[str, Any]) -> None:
    assert parse_a1111_parameters(text) == expected


def test_parse_reports_bad_numbers_and_keeps_the_rest() -> None:
    problems: list[str] = []
    text = f"p\nNegative prompt: n\nSteps: many, Sampler: Euler, CFG scale: nan, Seed: {2**80}, Size: 5x"
    details = parse_a1111_parameters(text, problems)
    assert details == {"positive": "p", "negative": "n", "sampler": "euler"}
    assert len(problems) == 4
    assert any("steps" in p for p in problems) and any("'seed'" in p for p in problems)


def test_parse_refuses_non_text() -> None:
    with pytest.raises(DetailsError):
        parse_a1111_parameters(b"bytes")  # type: ignore[arg-type]


_ALPHABET = st.one_of(st.sampled_from(list(',:"\n\r \t\\{}[]\u00e9\u2028')), st.characters(codec="utf-8"))
_TEXT = st.text(alphabet=_ALPHABET, max_size=40)
_NAME = st.text(alphabet=_ALPHABET, min_size=1, max_size=20)


@settings(max_examples=150, deadline=None)
@given(
    positive=_TEXT,
    negative=_TEXT,
    label=_NAME,
    speed=_NAME,
    model=st.text(alphabet=st.characters(codec="utf-8", exclude_characters="/\\."), min_size=1, max_size=20),
    seed=st.integers(0, 2**64 - 1),
    steps=st.integers(1, 10_000),
    cfg=st.floats(0, 100, allow_nan=False),
    denoise=st.floats(0, 1, allow_nan=False),
    sampler=st.sampled_from([s for s in COMFY_SAMPLERS if not s.endswith("_gpu")]),
    scheduler=st.sampled_from(COMFY_SCHEDULERS),
    size=st.tuples(st.integers(1, 16384), st.integers(1, 16384)),
)
def test_parse_inverts_write(
    positive: str,
    negative: str,
    label: str,
    speed: str,
    model: str,
    seed: int,
    steps: int,
    cfg: float,
    denoise: float,
    sampler: str,
    scheduler: str,
    size: tuple[int, int],
) -> None:
    assume(not any(line.startswith("Negative prompt:") for line in positive.split("\n")))
    details = {
        "positive": positive,
        "negative": negative,
        "label": label,
        "speed": speed,
        "model": model + ".safetensors",
        "model_hash": "0123456789",
        "seed": seed,
        "steps": steps,
        "cfg": cfg,
        "denoise": denoise,
        "sampler": sampler,
        "scheduler": scheduler,
        "width": size[0],
        "height": size[1],
        "comfyui_version": "0.3.64",
    }
    problems: list[str] = []
    back = parse_a1111_parameters(a1111_parameters(details), problems)
    expected = {**details, "model": model}
    if denoise >= 1:
        del expected["denoise"]
    assert back == expected
    assert problems == []


def test_sd_parsers_reads_what_we_write(tmp_path: Path) -> None:
    """sd-parsers' A1111 parser: ≥3 of Steps/Sampler/CFG scale/Seed on the last line, values split on ','."""
    sd_parsers = pytest.importorskip("sd_parsers")
    details = {
        **DETAILS,
        "positive": "a cat, masterpiece\n(sitting:1.2) on a mat",
        "negative": "blurry, lowres",
        "sampler": "dpmpp_2m",
        "scheduler": "karras",
        "label": "red, blue",
        "model": "SD/my: model.safetensors",
    }
    texts = {**png_text_chunks(details), "prompt": "{}", "workflow": '{"links": []}'}  # like a ComfyUI save
    info = sd_parsers.ParserManager().parse(save_png(tmp_path / "a.png", texts))
    assert info is not None and info.generator.name == "AUTOMATIC1111"
    (sampler,) = info.samplers
    assert sampler.name == "DPM++ 2M Karras"
    assert sampler.parameters == {"seed": "406220", "steps": "20", "cfg_scale": "7", "scheduler": "Karras"}
    assert [p.value for p in sampler.prompts] == [details["positive"]]
    assert [p.value for p in sampler.negative_prompts] == ["blurry, lowres"]
    assert sampler.model is not None and sampler.model.hash == "a1b2c3d4e5"

    empty_negative = {**details, "negative": "", "positive": "ünïcode prompt ✓"}
    info = sd_parsers.ParserManager().parse(save_png(tmp_path / "b.png", png_text_chunks(empty_negative)))
    assert info is not None
    assert [p.value for p in info.samplers[0].prompts] == ["ünïcode prompt ✓"]
    assert info.samplers[0].negative_prompts == []


def _comfyui_frontend_import(parameters: str) -> dict[str, str] | None:
    """ComfyUI frontend's ``importA1111`` (pnginfo.ts): the values it would put into its graph, or None."""
    p = parameters.rfind("\nSteps:")
    if p == -1:
        return None
    line = parameters[p:].split("\n")[1]
    opts = {}
    for match in re.finditer(r'\s*([^:]+:\s*([^"\{].*?|".*?"|\{.*?\}))\s*(,|$)', line):
        key, value = match.group(0).split(":")[:2]
        opts[key.strip().lower()] = value.removesuffix(",").strip()
    needle = "\nNegative prompt:"
    p2 = parameters.rfind(needle, 0, p + len(needle))
    if p2 == -1:
        return None
    opts["positive"] = parameters[:p2].strip()
    opts["negative"] = parameters[p2 + 18 : p].strip()
    name = opts.get("sampler", "").lower().replace("++", "pp", 1).replace(" ", "_")
    opts["scheduler"] = "karras" if "karras" in name else "normal"
    opts["sampler_name"] = name.replace("karras", "").rstrip("_")
    return opts


@pytest.mark.parametrize("negative", ["blurry, lowres", ""])
def test_comfyui_frontend_a1111_import_reads_our_text(negative: str) -> None:
    details = {**DETAILS, "sampler": "dpmpp_2m", "scheduler": "karras", "negative": negative}
    opts = _comfyui_frontend_import(a1111_parameters(details))
    assert opts is not None
    assert opts["positive"] == "a cat" and opts["negative"] == negative
    assert (opts["steps"], opts["seed"], opts["cfg scale"]) == ("20", "406220", "7")
    assert (opts["sampler_name"], opts["scheduler"]) == ("dpmpp_2m", "karras")
    assert opts["sampler_name"] in COMFY_SAMPLERS


def test_comfyui_frontend_import_needs_the_negative_line() -> None:
    """Why the writer always emits ``Negative prompt:``: without it ComfyUI imports nothing."""
    assert _comfyui_frontend_import("a cat\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: 1") is None


# -- our JSON ------------------------------------------------------------------------------


def test_details_json_is_compact_sorted_ascii_versioned() -> None:
    numpy = pytest.importorskip("numpy")
    text = details_json(
        {"seed": numpy.int64(1), "cfg": float("nan"), "denoise": numpy.float32(0.5), "positive": "café", "z": (1, 2)}
    )
    assert text == '{"cfg":null,"denoise":0.5,"positive":"caf\\u00e9","seed":1,"version":1,"z":[1,2]}'
    assert details_json({"version": 99, "steps": float("inf")}) == '{"steps":null,"version":1}'


def test_details_json_refuses_what_json_cannot_hold() -> None:
    with pytest.raises(DetailsError):
        details_json({"seed": object()})
    with pytest.raises(DetailsError):
        details_json("not a mapping")  # type: ignore[arg-type]


def test_details_json_round_trip_example() -> None:
    problems: list[str] = []
    assert parse_details_json(details_json(DETAILS), problems) == DETAILS
    assert problems == []


_FIELD_VALUES = {
    "seed": st.integers(0, 2**64 - 1),
    "seeds": st.lists(st.integers(0, 2**53 - 1), max_size=5),
    "positive": st.text(),
    "negative": st.text(),
    "label": st.text(max_size=50),
    "steps": st.integers(1, 10_000),
    "cfg": st.floats(0, 100),
    "denoise": st.floats(0, 1),
    "width": st.integers(1, 2**31 - 1),
    "sampler": st.sampled_from(COMFY_SAMPLERS),
    "vae": st.none(),
    "reproducible": st.fixed_dictionaries(
        {"verdict": st.sampled_from(VERDICTS), "reasons": st.lists(st.text(), max_size=5)}
    ),
}


@settings(max_examples=150, deadline=None)
@given(st.fixed_dictionaries({}, optional=_FIELD_VALUES))
def test_details_json_round_trips(details: dict[str, Any]) -> None:
    problems: list[str] = []
    assert parse_details_json(details_json(details), problems) == details
    assert problems == []


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ('"12"', "seed"),
        (str(2**80), "seed"),
        ("-1", "seed"),
        ("1.5", "seed"),
        ("true", "seed"),
        ("NaN", "seed"),
        ('"x"', "steps"),
        ("0", "steps"),
        ("NaN", "cfg"),
        ("Infinity", "cfg"),
        ("1e400", "denoise"),
        ("[]", "width"),
        ('[1, "2"]', "seeds"),
        ('{"verdict": 1}', "reproducible"),
        ('{"a": 1}', "model"),
        ("5", "positive"),
        (json.dumps("x" * 5000), "label"),
    ],
)
def test_parse_details_json_drops_wrong_types_and_says_so(raw: str, field: str) -> None:
    problems: list[str] = []
    text = details_json({**DETAILS, field: None}).replace(f'"{field}":null', f'"{field}":{raw}')
    details = parse_details_json(text, problems)
    assert field not in details
    assert details == {k: v for k, v in DETAILS.items() if k != field}
    assert len(problems) == 1 and repr(field) in problems[0]


def test_parse_details_json_accepts_integral_floats() -> None:
    assert parse_details_json('{"version": 1, "steps": 20.0, "seed": 5e3}') == {"steps": 20, "seed": 5000}


def test_parse_details_json_versions_and_unknown_fields() -> None:
    problems: list[str] = []
    details = parse_details_json('{"seed": 1, "future": "x", "nested": {"a": [1]}, "version": 2}', problems)
    assert details == {"seed": 1, "future": "x"}
    assert len(problems) == 2 and "newer" in problems[0] and "'nested'" in problems[1]
    problems.clear()
    assert parse_details_json('{"seed": 1}', problems) == {"seed": 1}
    assert problems == ["details JSON has no valid version (null)"]


@pytest.mark.parametrize(
    "text", ["", "{", "[1]", "null", '"x"', "[" * 100_000, '{"a":' * 100_000, '{"seed": ' + "9" * 5000 + "}"]
)
def test_parse_details_json_raises_only_details_error(text: str) -> None:
    with pytest.raises(DetailsError):
        parse_details_json(text)


def test_parse_details_json_length_limit() -> None:
    with pytest.raises(DetailsError, match="max_text"):
        parse_details_json('{"positive": "' + "a" * 100 + '"}', max_text=50)


def test_validate_details_keeps_none() -> None:
    assert validate_details({"vae": None, "seed": None}) == {"vae": None, "seed": None}
    assert set(FIELDS) >= set(DETAILS)


# -- ComfyUI prompt chunk ------------------------------------------------------------------


def demo_prompt(**seed_source: Any) -> dict[str, Any]:
    prompt = json.loads((ROOT / "workflows/api/seed_source_txt2img.json").read_text())
    prompt["5"]["inputs"].update(seed_source)
    return prompt


def test_prompt_demo_workflow_resolved_by_the_hook() -> None:
    prompt = demo_prompt(seed_number=406220, mode="fixed", **{REQUESTED_KEY: "random"})
    problems: list[str] = []
    assert details_from_comfy_prompt(json.dumps(prompt), problems) == {
        "seed": 406220,
        "seed_node": "5",
        "mode": "random",
        "steps": 20,
        "cfg": 7.0,
        "denoise": 1.0,
        "sampler": "euler",
        "scheduler": "normal",
        "positive": "a lighthouse on a cliff at dusk, dark blue gradient sky",
        "negative": "blurry, low quality",
        "width": 512,
        "height": 512,
        "batch_size": 1,
        "model": "seed_number_demo_sd15.safetensors",
    }
    assert problems == []


def test_prompt_unresolved_random_seed_source_gives_no_seed() -> None:
    problems: list[str] = []
    details = details_from_comfy_prompt(json.dumps(demo_prompt(seed_number=0, mode="random")), problems)
    assert "seed" not in details and details["mode"] == "random" and details["steps"] == 20
    assert problems == ["prompt: Seed Source '5' is in 'random' mode, not resolved: the seed used is unknown"]


def _custom_advanced(noise: dict[str, Any]) -> dict[str, Any]:
    return {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sd3.safetensors"}},
        "2": {"class_type": "LoraLoader", "inputs": {"model": ["1", 0], "clip": ["1", 1], "lora_name": "x"}},
        "3": {"class_type": "PrimitiveStringMultiline", "inputs": {"value": "a red fox"}},
        "4": {"class_type": "CLIPTextEncode", "inputs": {"text": ["3", 0], "clip": ["2", 1]}},
        "5": {"class_type": "CLIPTextEncode", "inputs": {"text": "ugly", "clip": ["2", 1]}},
        "6": {
            "class_type": "CFGGuider",
            "inputs": {"model": ["2", 0], "positive": ["4", 0], "negative": ["5", 0], "cfg": 4.5},
        },
        "7": {"class_type": "KSamplerSelect", "inputs": {"sampler_name": "euler_ancestral"}},
        "8": {
            "class_type": "BasicScheduler",
            "inputs": {"model": ["2", 0], "scheduler": "karras", "steps": 25, "denoise": 1.0},
        },
        "9": {"class_type": "EmptySD3LatentImage", "inputs": {"width": 1024, "height": 768, "batch_size": 2}},
        "10": noise,
        "11": {
            "class_type": "SamplerCustomAdvanced",
            "inputs": {
                "noise": ["10", 1],
                "guider": ["6", 0],
                "sampler": ["7", 0],
                "sigmas": ["8", 0],
                "latent_image": ["9", 0],
            },
        },
    }


@pytest.mark.parametrize(
    ("noise", "seed", "mode"),
    [
        ({"class_type": "RandomNoise", "inputs": {"noise_seed": 77}}, 77, None),
        (
            {"class_type": NODE_ID, "inputs": {"seed_number": 88, "mode": "fixed", REQUESTED_KEY: "increment"}},
            88,
            "increment",
        ),
    ],
)
def test_prompt_sampler_custom_advanced(noise: dict[str, Any], seed: int, mode: str | None) -> None:
    details = details_from_comfy_prompt(json.dumps(_custom_advanced(noise)))
    expected = {
        "seed": seed,
        "cfg": 4.5,
        "positive": "a red fox",
        "negative": "ugly",
        "sampler": "euler_ancestral",
        "steps": 25,
        "denoise": 1.0,
        "scheduler": "karras",
        "width": 1024,
        "height": 768,
        "batch_size": 2,
        "model": "sd3.safetensors",
    }
    assert details == ({**expected, "mode": mode, "seed_node": "10"} if mode else expected)


def test_prompt_sampler_custom_with_sampler_and_scheduler_nodes() -> None:
    prompt = {
        "1": {"class_type": "UNETLoader", "inputs": {"unet_name": "flux1-dev.safetensors"}},
        "2": {"class_type": "SamplerDPMPP_2M_SDE", "inputs": {"solver_type": "midpoint", "noise_device": "gpu"}},
        "3": {"class_type": "KarrasScheduler", "inputs": {"steps": 30, "sigma_max": 14.6, "sigma_min": 0.03}},
        "4": {"class_type": "SplitSigmas", "inputs": {"sigmas": ["3", 0], "step": 0}},
        "5": {"class_type": "PrimitiveInt", "inputs": {"value": 1234}},
        "6": {
            "class_type": "SamplerCustom",
            "inputs": {"model": ["1", 0], "noise_seed": ["5", 0], "cfg": 1, "sampler": ["2", 0], "sigmas": ["4", 0]},
        },
    }
    assert details_from_comfy_prompt(json.dumps(prompt)) == {
        "seed": 1234,
        "cfg": 1.0,
        "sampler": "dpmpp_2m_sde_gpu",
        "steps": 30,
        "scheduler": "karras",
        "model": "flux1-dev.safetensors",
    }


def test_prompt_ksampler_advanced_with_primitives_and_controlnet() -> None:
    prompt = {
        "1": {"class_type": "PrimitiveInt", "inputs": {"value": 12}},
        "2": {"class_type": "PrimitiveFloat", "inputs": {"value": 5.5}},
        "3": {"class_type": "CLIPTextEncode", "inputs": {"text": "pos"}},
        "4": {"class_type": "CLIPTextEncode", "inputs": {"text": "neg"}},
        "5": {
            "class_type": "ControlNetApplyAdvanced",
            "inputs": {"positive": ["3", 0], "negative": ["4", 0], "strength": 1},
        },
        "6": {
            "class_type": "KSamplerAdvanced",
            "inputs": {
                "noise_seed": 9,
                "steps": ["1", 0],
                "cfg": ["2", 0],
                "sampler_name": "lcm",
                "scheduler": "sgm_uniform",
                "positive": ["5", 0],
                "negative": ["5", 1],
            },
        },
    }
    assert details_from_comfy_prompt(json.dumps(prompt)) == {
        "seed": 9,
        "steps": 12,
        "cfg": 5.5,
        "sampler": "lcm",
        "scheduler": "sgm_uniform",
        "positive": "pos",
        "negative": "neg",
    }


def _two_pass() -> dict[str, Any]:
    return {
        "1": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 512, "batch_size": 1}},
        "2": {"class_type": "KSampler", "inputs": {"seed": 1, "steps": 20, "denoise": 1.0, "latent_image": ["1", 0]}},
        "3": {"class_type": "LatentUpscale", "inputs": {"samples": ["2", 0], "width": 1024, "height": 1024}},
        "4": {"class_type": "KSampler", "inputs": {"seed": 2, "steps": 10, "denoise": 0.5, "latent_image": ["3", 0]}},
        "5": {"class_type": "VAEDecode", "inputs": {"samples": ["4", 0]}},
        "6": {"class_type": "SaveImage", "inputs": {"images": ["5", 0]}},
    }


def test_prompt_two_pass_reads_the_last_sampler() -> None:
    prompt = _two_pass()
    prompt = {k: prompt[k] for k in ("4", "3", "5", "1", "6", "2")}  # the order of the JSON does not matter
    problems: list[str] = []
    details = details_from_comfy_prompt(json.dumps(prompt), problems)
    assert details == {"seed": 2, "steps": 10, "denoise": 0.5, "width": 1024, "height": 1024}
    assert problems == ["prompt: 2 samplers; read node '4' (KSampler), the last"]


def test_prompt_parallel_samplers_prefer_seed_details_then_output_then_highest_id() -> None:
    prompt = {
        "3": {"class_type": "KSampler", "inputs": {"seed": 3}},
        "9": {"class_type": "KSampler", "inputs": {"seed": 9}},
        "10": {"class_type": "KSampler", "inputs": {"seed": 10}},
        "20": {"class_type": "VAEDecode", "inputs": {"samples": ["9", 0]}},
        "21": {"class_type": "SaveImage", "inputs": {"images": ["20", 0]}},
    }
    assert details_from_comfy_prompt(json.dumps(prompt))["seed"] == 9
    prompt["22"] = {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0]}}
    prompt["23"] = {"class_type": "SeedDetails|SeedNumber", "inputs": {"images": ["22", 0]}}
    assert details_from_comfy_prompt(json.dumps(prompt))["seed"] == 3
    del prompt["21"], prompt["23"]
    assert details_from_comfy_prompt(json.dumps(prompt))["seed"] == 10


@pytest.mark.parametrize(
    ("prompt", "note"),
    [
        ({"1": {"class_type": "KSampler", "inputs": {"seed": ["1", 0], "positive": ["1", 0], "steps": 4}}}, "loop"),
        (
            {
                "1": {"class_type": "KSampler", "inputs": {"seed": ["2", 0], "negative": ["2", 0], "steps": 4}},
                "2": {"class_type": "Foo", "inputs": {"value": ["1", 0], "conditioning": ["1", 0]}},
            },
            "loop",
        ),
        ({"1": {"class_type": "KSampler", "inputs": {"seed": ["99", 0], "steps": 4}}}, "missing node '99'"),
        ({"1": {"class_type": "KSampler", "inputs": {"seed": [{"a": 1}, 0], "steps": 4}}}, "invalid node id"),
        ({"1": {"class_type": "KSampler", "inputs": {"steps": 4}}, "2": "junk", "3": {"inputs": {}}}, "2 malformed"),
    ],
)
def test_prompt_cycles_and_dangling_links_leave_fields_out(prompt: dict[str, Any], note: str) -> None:
    problems: list[str] = []
    assert details_from_comfy_prompt(json.dumps(prompt), problems) == {"steps": 4}
    assert any(note in p for p in problems), problems


def test_prompt_long_chains_and_many_samplers_are_bounded() -> None:
    chain = {str(i): {"class_type": "Foo", "inputs": {"value": [str(i + 1), 0]}} for i in range(1, 5000)}
    chain["5000"] = {"class_type": "PrimitiveInt", "inputs": {"value": 5}}
    chain["0"] = {"class_type": "KSampler", "inputs": {"seed": ["1", 0], "steps": 3}}
    problems: list[str] = []
    assert details_from_comfy_prompt(json.dumps(chain), problems) == {"steps": 3}
    assert "more than 64 links" in problems[0]
    ring = {
        str(i): {"class_type": "KSampler", "inputs": {"seed": i, "model": [str((i + 1) % 300), 0]}} for i in range(300)
    }
    assert details_from_comfy_prompt(json.dumps(ring))["seed"] == 299  # every sampler feeds another: highest id


@pytest.mark.parametrize("text", ["[]", "3", "{", "[" * 50_000])
def test_prompt_that_is_not_an_object_raises_details_error(text: str) -> None:
    with pytest.raises(DetailsError):
        details_from_comfy_prompt(text)


def test_prompt_without_sampler_is_empty() -> None:
    problems: list[str] = []
    assert details_from_comfy_prompt('{"1": {"class_type": "SaveImage", "inputs": {}}}', problems) == {}
    assert problems == ["prompt: no sampler node (KSampler, SamplerCustom…) found"]


# -- reading PNGs --------------------------------------------------------------------------


def test_read_png_prefers_our_json(tmp_path: Path) -> None:
    texts = {**png_text_chunks(DETAILS), "prompt": json.dumps(demo_prompt(seed_number=1, mode="fixed"))}
    result = read_png_details(save_png(tmp_path / "a.png", texts))
    assert result == ReadResult(DETAILS, "seed_number", [])


def test_read_png_falls_back_to_prompt_then_parameters(tmp_path: Path) -> None:
    prompt = json.dumps(demo_prompt(seed_number=406220, mode="fixed"))
    params = a1111_parameters(DETAILS)
    result = read_png_details(save_png(tmp_path / "p.png", {"prompt": prompt, "parameters": params}))
    assert result.source == "comfyui prompt" and result.details["seed"] == 406220
    result = read_png_details(save_png(tmp_path / "a.png", {"parameters": params}))
    assert result.source == "a1111 parameters" and result.details["seed"] == 406220
    assert result.details["sampler"] == "euler" and result.details["positive"] == "a cat"
    broken = read_png_details(save_png(tmp_path / "b.png", {DETAILS_CHUNK: "{", "parameters": params}))
    assert broken.source == "a1111 parameters"
    assert broken.problems[0].startswith("seed_number_details: details is not valid JSON")


@pytest.mark.parametrize(("zip_", "itxt"), [(True, False), (False, True), (True, True)])
def test_read_png_compressed_and_international_text(tmp_path: Path, zip_: bool, itxt: bool) -> None:
    details = {**DETAILS, "positive": "ünïcode ✓ " * 50}
    path = save_png(tmp_path / "c.png", png_text_chunks(details), zip_=zip_, itxt=itxt)
    assert read_png_details(path) == ReadResult(details, "seed_number", [])
    assert read_png_details(path, max_text=100).source == "none"


def test_read_png_text_after_idat_and_all_input_kinds(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, format="PNG")
    data = buffer.getvalue()
    data = data[:-12] + raw_chunk(b"tEXt", DETAILS_CHUNK.encode() + b"\0" + details_json(DETAILS).encode()) + data[-12:]
    path = tmp_path / "late.png"
    path.write_bytes(data)
    expected = ReadResult(DETAILS, "seed_number", [])
    for source in (path, str(path), data, bytearray(data), memoryview(data)):
        assert read_png_details(source) == expected


def test_read_png_skips_bad_crc_and_respects_max_bytes(tmp_path: Path) -> None:
    path = save_png(tmp_path / "a.png", png_text_chunks(DETAILS))
    data = bytearray(path.read_bytes())
    at = data.index(b"Seed Number speed")
    data[at] ^= 0x20
    result = read_png_details(bytes(data))
    assert result.source == "seed_number"
    data[data.index(b'"seed":406220') + 8] ^= 0x01
    result = read_png_details(bytes(data))
    assert result.source == "none"
    assert [p.split(": ", 1)[1] for p in result.problems[:2]] == ["bad CRC; skipped", "bad CRC; skipped"]
    clipped = read_png_details(path, max_bytes=100)
    assert clipped.source == "none" and clipped.problems[0] == "stopped after max_bytes (100 bytes)"


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP", "GIF", "BMP"])
def test_read_non_png_is_source_none(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"x.{fmt.lower()}"
    Image.new("RGB", (8, 8)).save(path, format=fmt)
    expected_name = {"WEBP": "WebP"}.get(fmt, fmt)
    assert read_png_details(path) == ReadResult({}, "none", [f"not a PNG file ({expected_name})"])
    assert read_png_details(b"") == ReadResult({}, "none", ["not a PNG file (empty file)"])


def test_read_png_without_details(tmp_path: Path) -> None:
    path = save_png(tmp_path / "plain.png", {"Software": "x"})
    assert read_png_details(path).problems == [
        "no generation details: no seed_number_details, prompt or parameters text"
    ]


def test_read_png_unreadable_paths_raise_details_error(tmp_path: Path) -> None:
    with pytest.raises(DetailsError, match="cannot read"):
        read_png_details(tmp_path / "missing.png")
    with pytest.raises(DetailsError, match="not a regular file"):
        read_png_details(tmp_path)
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "fifo")
        with pytest.raises(DetailsError, match="not a regular file"):
            read_png_details(tmp_path / "fifo")  # would block forever if opened
    with pytest.raises(DetailsError, match="cannot read"):
        read_png_details(str(tmp_path / "nul\0byte.png"))
    with pytest.raises(DetailsError, match="path or bytes"):
        read_png_details(123)  # type: ignore[arg-type]


def test_read_png_from_any_buffer(tmp_path: Path) -> None:
    numpy = pytest.importorskip("numpy")
    data = save_png(tmp_path / "a.png", png_text_chunks(DETAILS)).read_bytes()
    padded = data + bytes(-len(data) % 4)  # bytes after IEND are ignored
    as_ints = numpy.frombuffer(padded, dtype=numpy.uint8).view(numpy.int32)  # a memoryview of format "i"
    strided = numpy.repeat(numpy.frombuffer(data, dtype=numpy.uint8), 2)[::2]  # not contiguous
    expected = ReadResult(DETAILS, "seed_number", [])
    assert read_png_details(memoryview(as_ints)) == expected
    assert read_png_details(memoryview(strided)) == expected


# -- model hash ----------------------------------------------------------------------------


def test_autov2_hash_is_sha256_prefix(tmp_path: Path) -> None:
    data = random.Random(7).randbytes(3 * 1024 * 1024 + 17)
    path = tmp_path / "model.safetensors"
    path.write_bytes(data)
    assert file_sha256(path) == hashlib.sha256(data).hexdigest()
    assert autov2_hash(path) == hashlib.sha256(data).hexdigest()[:10]


def test_autov2_hash_is_cached_by_path_size_and_mtime(tmp_path: Path) -> None:
    cache = HashCache()
    path = tmp_path / "m.ckpt"
    path.write_bytes(b"a" * 1000)
    first = autov2_hash(path, cache)
    stat = path.stat()
    path.write_bytes(b"b" * 1000)  # same size; put the old mtime back: a cache hit must not re-read
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert autov2_hash(path, cache) == first
    assert autov2_hash(tmp_path / "." / "m.ckpt", cache) == first  # keyed by the real path
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert autov2_hash(path, cache) == hashlib.sha256(b"b" * 1000).hexdigest()[:10]


def test_autov2_hash_own_cache_and_bound(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "x.bin"
    path.write_bytes(b"x")
    stat = path.stat()
    cache = {(str(path.resolve()), stat.st_size, stat.st_mtime_ns): "f" * 64}
    assert autov2_hash(path, cache) == "f" * 10
    calls = []
    real = model_hash._sha256_file
    monkeypatch.setattr(model_hash, "_sha256_file", lambda p: calls.append(p) or real(p))
    bounded = HashCache(max_entries=3)
    paths = []
    for i in range(5):
        paths.append(tmp_path / f"{i}.bin")
        paths[-1].write_bytes(bytes([i]))
        autov2_hash(paths[-1], bounded)
    assert len(bounded) <= 3
    autov2_hash(paths[-1], bounded)
    assert len(calls) == 5


def test_autov2_hash_threads_agree(tmp_path: Path) -> None:
    path = tmp_path / "t.bin"
    path.write_bytes(random.Random(3).randbytes(2 * 1024 * 1024))
    results: list[str] = []
    cache = HashCache()
    threads = [threading.Thread(target=lambda: results.append(autov2_hash(path, cache))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [hashlib.sha256(path.read_bytes()).hexdigest()[:10]] * 8


def test_autov2_hash_missing_file_raises_oserror(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        autov2_hash(tmp_path / "nope")


# -- reproducibility -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sampler", "device", "noise_device", "verdict", "reason"),
    [
        ("euler", "cpu", "cpu", "same machine", "all noise from CPU generators; model on cpu"),
        (
            "dpmpp_2m",
            "cuda:0",
            "cpu",
            "same machine",
            "all noise from CPU generators; model on cuda:0: other GPUs round differently",
        ),
        ("euler_ancestral", "cuda:0", "cpu", "same machine and device", "per-step noise drawn on cuda:0"),
        ("euler_ancestral", "cpu", "cpu", "same machine", "per-step noise drawn on cpu"),
        ("lcm", "mps", "cpu", "same machine and device", "per-step noise drawn on mps"),
        (
            "dpmpp_2m_sde",
            "cuda:0",
            "cpu",
            "same machine",
            "per-step noise from a CPU Brownian tree: reproducible on same ComfyUI/torch",
        ),
        ("dpmpp_2m_sde_gpu", "cuda:0", "cpu", "same machine and device", "per-step noise drawn on cuda:0"),
        ("euler", "cuda:0", "cuda:0", "same machine and device", "initial noise drawn on cuda:0"),
        (
            "my_custom_sampler",
            "cpu",
            "cpu",
            "unknown",
            "sampler 'my_custom_sampler' is not a ComfyUI sampler known here: its per-step noise is unknown",
        ),
        (
            None,
            "cpu",
            "cpu",
            "unknown",
            "sampler None is not a ComfyUI sampler known here: its per-step noise is unknown",
        ),
        ("euler", "", "cpu", "unknown", "the device or noise device is unknown"),
    ],
)
def test_reproducibility_verdicts(
    sampler: str | None, device: str, noise_device: str, verdict: str, reason: str
) -> None:
    result = reproducibility(sampler, device, noise_device)
    assert result["verdict"] == verdict
    assert reason in result["reasons"]
    assert set(result) == {"verdict", "reasons"} and len(result["reasons"]) <= 3


def test_reproducibility_environment_differences() -> None:
    saved = {"comfyui_version": "0.3.64", "torch_version": "2.4.1", "device": "cuda:0"}
    result = reproducibility("euler", "cuda:0", "cpu", saved, {**saved, "torch_version": "2.5.0", "device": None})
    assert result["verdict"] == "not expected"
    assert result["reasons"][0] == "torch 2.4.1, now 2.5.0"
    assert reproducibility("euler", "cuda:0", "cpu", saved, dict(saved))["verdict"] == "same machine"


def test_reproducibility_batch_reason_and_round_trip() -> None:
    result = reproducibility("dpmpp_sde", "cpu", "cpu", batch_size=4)
    assert "per-step noise spans the batch: re-make at batch size 4" in result["reasons"]
    problems: list[str] = []
    assert parse_details_json(details_json({"reproducible": result}), problems) == {"reproducible": result}
    assert problems == []


def test_every_comfy_sampler_is_classified() -> None:
    kinds = {name: per_step_noise(name) for name in COMFY_SAMPLERS}
    assert None not in kinds.values()
    assert {n for n, k in kinds.items() if k == "cpu"} == {
        "dpmpp_sde",
        "dpmpp_2m_sde",
        "dpmpp_2m_sde_heun",
        "dpmpp_3m_sde",
    }
    assert all(kinds[n] == "device" for n in COMFY_SAMPLERS if "ancestral" in n or n.endswith("_gpu"))
    assert set(A1111_SAMPLERS) <= set(COMFY_SAMPLERS)


def test_sampler_lists_match_installed_comfyui() -> None:
    from tools.comfy_server import find_comfyui

    comfyui = find_comfyui()
    if comfyui is None:
        pytest.skip("ComfyUI not found: sampler lists not compared")
    tree = ast.parse((comfyui / "comfy" / "samplers.py").read_text())
    found: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name == "KSAMPLER_NAMES":
                found[name] = ast.literal_eval(node.value)
            elif name == "SCHEDULER_HANDLERS" and isinstance(node.value, ast.Dict):
                found[name] = [ast.literal_eval(k) for k in node.value.keys if k is not None]
    samplers = found["KSAMPLER_NAMES"] + ["ddim", "uni_pc", "uni_pc_bh2"]
    assert set(samplers) == set(COMFY_SAMPLERS), "ComfyUI's samplers changed: update sampler_names.py"
    assert set(found["SCHEDULER_HANDLERS"]) == set(COMFY_SCHEDULERS)
