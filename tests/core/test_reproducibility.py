"""Reproducibility verdicts: where the noise is drawn, environment differences, batch-spanning noise."""

from __future__ import annotations

import pytest

from seed_number.nodes.core.details_json import details_json, parse_details_json
from seed_number.nodes.core.reproducibility import reproducibility


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


def test_seeds_past_32_bits_note_what_torchs_cpu_generator_keeps() -> None:
    seed = 2**32 + 1234
    for source in ("comfy", "a1111 cpu"):
        result = reproducibility("euler", "cpu", "cpu", seed=seed, noise_source=source)
        assert result["verdict"] == "same machine"
        assert f"low 32 bits of seed {seed}: seed 1234 draws the same noise" in result["reasons"][-1]
    assert not any(
        "32 bits" in r for r in reproducibility("euler", "cpu", "cpu", seed=1234, noise_source="comfy")["reasons"]
    )
    gpu = reproducibility("euler", "cpu", "cpu", seed=seed, noise_source="a1111 gpu")["reasons"]
    assert not any("32 bits" in r for r in gpu) and any("same on any device" in r for r in gpu)
