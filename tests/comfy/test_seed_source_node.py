"""Seed Source inside a real (in-process) ComfyUI: schema, execution, noise against core's own."""

from __future__ import annotations

import random
from types import ModuleType

import pytest
import torch

from seed_number.nodes.core.resolve import REQUESTED_KEY, WIDGET_ORDER
from seed_number.nodes.core.seeds import MAX_SEED
from tests.comfy.helpers import run_node


def test_schema_as_object_info_lists_it(seed_source: ModuleType) -> None:
    info = seed_source.SeedSource.GET_NODE_INFO_V1()
    assert info["name"] == "SeedSource|SeedNumber"
    assert info["category"] == "Seed Number"
    optional = info["input"]["optional"]
    assert tuple(optional) == WIDGET_ORDER  # the prompt hook writes workflow widgets by this order
    assert optional["noise_source"][1]["options"] == ["comfy", "a1111 gpu", "a1111 cpu"]
    assert optional["noise_source"][1]["default"] == "comfy"
    assert optional["variation_seed"][0] == "INT" and optional["variation_seed"][1]["max"] == MAX_SEED
    strength_type, strength_opts = optional["variation_strength"]
    assert strength_type == "FLOAT" and (strength_opts["min"], strength_opts["max"], strength_opts["default"]) == (
        0.0,
        1.0,
        0.0,
    )
    assert optional["count"][1]["min"] == 1 and optional["count"][1]["max"] == 64
    seed_type, seed_opts = optional["seed_number"]
    assert seed_type == "INT" and seed_opts["min"] == 0 and seed_opts["max"] == MAX_SEED
    assert "control_after_generate" not in seed_opts  # no frontend control widget attached
    assert optional["mode"][1]["options"] == ["fixed", "random", "increment", "decrement"]
    assert optional["mode"][1]["default"] == "random"
    assert optional["batch_seeds"][1]["options"] == ["shared", "per image"]
    assert all("tooltip" in spec[1] for spec in optional.values())
    assert info["output"] == ["INT", "NOISE"] and info["output_name"] == ["seed", "noise"]
    assert info["output_is_list"] == [True, True]  # a seed sweep fans out downstream


def test_fixed_mode_outputs_seed_noise_and_receipt(seed_source: ModuleType) -> None:
    out = run_node(seed_source.SeedSource, seed_number=1234, mode="fixed", batch_seeds="shared")
    [seed], [noise] = out.args
    assert seed == 1234 and noise.seed == 1234
    assert out.ui == {
        "seed_number_receipt": [
            {
                "seed": 1234,
                "seeds": [1234],
                "count": 1,
                "mode": "fixed",
                "batch_seeds": "shared",
                "noise_source": "comfy",
                "variation_seed": None,
                "variation_strength": 0.0,
                "node": "5",
            }
        ]
    }


def test_count_sweeps_consecutive_seeds_with_one_noise_each(seed_source: ModuleType) -> None:
    out = run_node(seed_source.SeedSource, seed_number=MAX_SEED - 1, mode="fixed", count=4)
    seeds, noises = out.args
    assert seeds == [MAX_SEED - 1, MAX_SEED, 0, 1]  # wraps like increment does
    assert [n.seed for n in noises] == seeds
    assert out.ui["seed_number_receipt"][0]["seeds"] == seeds
    with pytest.raises(ValueError, match="count: 65 is not a whole number from 1 to 64"):
        run_node(seed_source.SeedSource, seed_number=1, mode="fixed", count=65)


def test_receipt_reports_the_mode_the_hook_recorded(seed_source: ModuleType) -> None:
    prompt = {"5": {"class_type": "SeedSource|SeedNumber", "inputs": {REQUESTED_KEY: "random"}}}
    out = run_node(seed_source.SeedSource, {"PROMPT": prompt}, seed_number=99, mode="fixed")
    assert out.args[0] == [99] and out.ui["seed_number_receipt"][0]["mode"] == "random"


def test_random_mode_without_the_hook_still_draws_distinct_seeds(seed_source: ModuleType) -> None:
    seeds = set()
    for _ in range(5):
        random.seed(0)
        torch.manual_seed(0)
        seeds.add(run_node(seed_source.SeedSource, mode="random").args[0][0])
    assert len(seeds) == 5
    assert seed_source.SeedSource.fingerprint_inputs(mode="random") != seed_source.SeedSource.fingerprint_inputs(
        mode="random"
    )  # NaN: re-run every queue
    assert seed_source.SeedSource.fingerprint_inputs(seed_number=3, mode="fixed") == "fixed"


def test_validate_inputs_refuses_unknown_combo_values(seed_source: ModuleType) -> None:
    validate = seed_source.SeedSource.validate_inputs
    assert validate(mode="random", batch_seeds="per image") is True
    assert "mode" in validate(mode="Random")
    assert "batch_seeds" in validate(batch_seeds="each")
    assert validate(mode=None) is True  # a linked value is not known yet
    with pytest.raises(ValueError, match="mode: None is not one of"):
        run_node(seed_source.SeedSource, seed_number=1, mode=None)
    with pytest.raises(ValueError, match="batch_seeds: 'each' is not one of"):
        run_node(seed_source.SeedSource, seed_number=1, mode="fixed", batch_seeds="each")


@pytest.mark.parametrize("shape", [(4, 4, 64, 64), (4, 4, 65, 65)])
def test_shared_noise_equals_comfyui_prepare_noise_bitwise(
    comfy: ModuleType, seed_source: ModuleType, shape: tuple[int, ...]
) -> None:
    noise = run_node(seed_source.SeedSource, seed_number=406220, mode="fixed", batch_seeds="shared").args[1][0]
    latent = {"samples": torch.zeros(shape)}
    assert torch.equal(noise.generate_noise(latent), comfy.prepare_noise(latent["samples"], 406220))
    latent["batch_index"] = [2, 0, 3, 3]
    assert torch.equal(noise.generate_noise(latent), comfy.prepare_noise(latent["samples"], 406220, [2, 0, 3, 3]))


@pytest.mark.parametrize("shape", [(4, 4, 64, 64), (4, 4, 65, 65)])
def test_per_image_noise_k_equals_batch_one_with_seed_plus_k(
    comfy: ModuleType, seed_source: ModuleType, shape: tuple[int, ...]
) -> None:
    noise = run_node(seed_source.SeedSource, seed_number=1000, mode="fixed", batch_seeds="per image").args[1][0]
    batch = noise.generate_noise({"samples": torch.zeros(shape)})
    for k in range(shape[0]):
        alone = comfy.prepare_noise(torch.zeros((1, *shape[1:])), 1000 + k)
        assert torch.equal(batch[k : k + 1], alone)


def test_variation_outputs_noise_and_receipt(seed_source: ModuleType) -> None:
    out = run_node(
        seed_source.SeedSource,
        seed_number=10,
        mode="fixed",
        noise_source="a1111 gpu",
        variation_seed=77,
        variation_strength="0.25",  # a client can send text; execute coerces it as ComfyUI does
    )
    [noise] = out.args[1]
    assert (noise.seed, noise.source, noise.variation_seed, noise.variation_strength) == (10, "a1111 gpu", 77, 0.25)
    receipt = out.ui["seed_number_receipt"][0]
    assert (receipt["noise_source"], receipt["variation_seed"], receipt["variation_strength"]) == (
        "a1111 gpu",
        77,
        0.25,
    )


def test_variation_without_a_seed_draws_one_at_run_time_and_reports_it(seed_source: ModuleType) -> None:
    out = run_node(seed_source.SeedSource, seed_number=10, mode="fixed", variation_strength=0.5)
    [noise] = out.args[1]
    assert isinstance(noise.variation_seed, int) and 0 <= noise.variation_seed <= MAX_SEED
    assert out.ui["seed_number_receipt"][0]["variation_seed"] == noise.variation_seed


@pytest.mark.parametrize(
    ("inputs", "name"),
    [
        ({"noise_source": "banana"}, "noise_source"),
        ({"variation_strength": float("nan")}, "variation_strength"),
        ({"variation_strength": 1.5}, "variation_strength"),
        ({"variation_strength": "abc"}, "variation_strength"),
    ],
)
def test_bad_noise_settings_are_refused_by_name(seed_source: ModuleType, inputs: dict, name: str) -> None:
    assert seed_source.SeedSource.validate_inputs(**inputs).startswith(f"{name}: ")
    with pytest.raises(ValueError, match=f"Seed Source: {name}: "):
        run_node(seed_source.SeedSource, seed_number=1, mode="fixed", **inputs)
