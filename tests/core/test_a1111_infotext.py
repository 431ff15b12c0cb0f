"""A1111 ``parameters``: the writer, the reader, and what other readers (sd-parsers, ComfyUI) make of it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from seed_number.nodes.core.a1111_infotext import a1111_parameters, a1111_rng, model_stem, parse_a1111_parameters
from seed_number.nodes.core.details_fields import DetailsError
from seed_number.nodes.core.png_details import png_text_chunks
from seed_number.nodes.core.sampler_names import (
    COMFY_SAMPLERS,
    COMFY_SCHEDULERS,
)
from tests.core.details_samples import DETAILS, save_png


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
        "noise_source": "a1111 gpu",  # no RNG: A1111's default
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
    # a parameter line without RNG is A1111's default noise (a1111 gpu); no parameter line, no noise source
    has_params = ("positive" in expected and "steps" in expected) or "seed" in expected
    assert parse_a1111_parameters(text) == ({**expected, "noise_source": "a1111 gpu"} if has_params else expected)


def test_parse_reports_bad_numbers_and_keeps_the_rest() -> None:
    problems: list[str] = []
    text = f"p\nNegative prompt: n\nSteps: many, Sampler: Euler, CFG scale: nan, Seed: {2**80}, Size: 5x"
    details = parse_a1111_parameters(text, problems)
    assert details == {"positive": "p", "negative": "n", "sampler": "euler", "noise_source": "a1111 gpu"}
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
    expected = {**details, "model": model, "noise_source": "comfy"}  # ComfyUI-made, no RNG written
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


# -- RNG, variation seeds, ENSD, seed resize (issue 19) ---------------------------------------------

A1111_110 = (
    "a red fox in the snow\nNegative prompt: blurry\n"
    "Steps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 1234, Size: 512x512, "
    "Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, {extra}Version: v1.10.1"
)


@pytest.mark.parametrize(
    ("extra", "source"),
    [("", "a1111 gpu"), ("RNG: NV, ", "a1111 gpu"), ("RNG: GPU, ", "a1111 gpu"), ("RNG: CPU, ", "a1111 cpu")],
)
def test_rng_gives_the_noise_source(extra: str, source: str) -> None:
    problems: list[str] = []
    assert parse_a1111_parameters(A1111_110.format(extra=extra), problems)["noise_source"] == source
    assert problems == []


def test_unknown_rng_falls_back_to_a1111s_default_and_says_so() -> None:
    problems: list[str] = []
    details = parse_a1111_parameters(A1111_110.format(extra="RNG: Banana, "), problems)
    assert details["noise_source"] == "a1111 gpu"
    assert problems == ["parameters: RNG 'Banana' is not GPU, NV or CPU; a1111 gpu assumed"]


def test_variation_ensd_and_seed_resize_are_read() -> None:
    extra = "Variation seed: 99, Variation seed strength: 0.3, Seed resize from: 768x512, ENSD: 31337, "
    details = parse_a1111_parameters(A1111_110.format(extra=extra))
    assert details["variation_seed"] == 99 and details["variation_strength"] == 0.3
    assert details["seed_resize_from"] == "768x512" and details["ensd"] == 31337


@pytest.mark.parametrize(
    "extra", ["Variation seed strength: 7, Variation seed: 5, ", "Variation seed: banana, ", "Seed resize from: 5x, "]
)
def test_bad_variation_values_are_dropped_and_reported(extra: str) -> None:
    problems: list[str] = []
    details = parse_a1111_parameters(A1111_110.format(extra=extra), problems)
    assert details["seed"] == 1234 and "variation_strength" not in details and "seed_resize_from" not in details
    assert len(problems) == 1


@pytest.mark.parametrize(
    ("details", "rng"),
    [
        ({"noise_source": "a1111 gpu", "batch_size": 4}, "NV"),
        ({"noise_source": "a1111 cpu", "batch_size": 4}, "CPU"),
        ({"noise_source": "comfy", "batch_size": 1}, "CPU"),
        ({"noise_source": "comfy", "batch_size": 4, "batch_seeds": "per image"}, "CPU"),
        ({"noise_source": "comfy", "batch_size": 4, "batch_seeds": "shared"}, None),
        ({}, None),
    ],
)
def test_rng_is_written_where_an_a1111_rng_draws_the_same_noise(details: dict[str, Any], rng: str | None) -> None:
    assert a1111_rng(details) == rng
    text = a1111_parameters({"seed": 5, "steps": 4, **details})
    assert (f"RNG: {rng}" in text) if rng else ("RNG:" not in text)


def test_variation_is_written_with_a1111s_names_and_read_back() -> None:
    details = {"seed": 5, "steps": 4, "variation_seed": 77, "variation_strength": 0.25, "noise_source": "a1111 gpu"}
    text = a1111_parameters(details)
    assert "Variation seed: 77, Variation seed strength: 0.25" in text and "RNG: NV" in text
    back = parse_a1111_parameters(text)
    assert (back["variation_seed"], back["variation_strength"], back["noise_source"]) == (77, 0.25, "a1111 gpu")
    assert "Variation seed" not in a1111_parameters({**details, "variation_strength": 0.0})


def test_a_comfyui_made_image_reads_as_comfy_noise_unless_nv() -> None:
    comfy = {"seed": 5, "steps": 4, "comfyui_version": "0.3.64", "noise_source": "comfy", "batch_size": 1}
    assert parse_a1111_parameters(a1111_parameters(comfy))["noise_source"] == "comfy"
    nv = {**comfy, "noise_source": "a1111 gpu"}
    assert parse_a1111_parameters(a1111_parameters(nv))["noise_source"] == "a1111 gpu"
