"""Reading details from a PNG: our JSON first, then ComfyUI's prompt, then A1111 parameters."""

from __future__ import annotations

import json
from pathlib import Path

from seed_number.nodes.core.a1111_infotext import a1111_parameters
from seed_number.nodes.core.png_details import ReadResult, png_text_chunks, read_png_details
from seed_number.nodes.core.png_text import DETAILS_CHUNK
from tests.core.details_samples import DETAILS, demo_prompt, save_png


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


def test_read_png_without_details(tmp_path: Path) -> None:
    path = save_png(tmp_path / "plain.png", {"Software": "x"})
    assert read_png_details(path).problems == [
        "no generation details: no seed_number_details, prompt or parameters text"
    ]
