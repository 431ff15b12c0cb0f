"""Prompt Variant Sweep's pure helpers: input checks, the chunk planner, batching and noise."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from seed_number.nodes.core.noise import shared_noise
from seed_number.nodes.core.prompt_graph import linked_outputs
from seed_number.nodes.core.sweep_batch import (
    SweepNoise,
    concat_conditioning,
    latent_area,
    repeat_latent,
    same_noise,
    tile_cross_attention,
)
from seed_number.nodes.core.sweep_plan import (
    ACCELERATOR,
    CPU,
    DEFAULT_POLICY,
    EXECUTIONS,
    MAX_GROUP,
    MAX_VARIANTS_LIMIT,
    AutoPolicy,
    SweepError,
    Wiring,
    build_chunks,
    check_settings,
    check_template,
    check_wiring,
    chunk_ranges,
    device_kind,
    expand_inputs,
    join_chunk,
    plan_chunks,
    run_record,
    sampler_noise_differs,
    split_balanced,
    variant_records,
)

# -- input checks ------------------------------------------------------------------------------


def test_expand_inputs_gives_the_variants() -> None:
    variants = expand_inputs("dark {blue|purple|red} gradient", "all", 0, 64)
    assert [v.text for v in variants] == ["dark blue gradient", "dark purple gradient", "dark red gradient"]
    assert [v.label for v in variants] == ["blue", "purple", "red"]


@pytest.mark.parametrize(
    ("template", "mode", "group", "max_variants", "input_name", "fragment"),
    [
        ("dark {blue|purple gradient", "all", 0, 64, "template", "at position 5"),
        ("dark blue} gradient", "all", 0, 64, "template", "at position 9"),
        ("a {b|c} and {d|e|f}", "zip", 0, 64, "template", "at position 12"),
        ("a {b|c} d", "one group", 3, 64, "group", "group 3 is out of range"),
        ("{a|b|c}{d|e|f}{g|h|i}", "all", 0, 8, "max_variants", "27 variants"),
        ("a {b|c}", "sometimes", 0, 64, "mode", "'sometimes' is not one of"),
        ("a {b|c}", "all", -1, 64, "group", "from 0 to"),
        ("a {b|c}", "all", 0, 0, "max_variants", "from 1 to"),
        ("a {b|c}", "all", 0, MAX_VARIANTS_LIMIT + 1, "max_variants", "from 1 to"),
        (None, "all", 0, 64, "template", "must be text"),
    ],
)
def test_expand_inputs_names_the_input_at_fault(
    template: object, mode: str, group: int, max_variants: int, input_name: str, fragment: str
) -> None:
    with pytest.raises(SweepError) as caught:
        expand_inputs(template, mode, group, max_variants)
    assert caught.value.input == input_name
    assert str(caught.value).startswith(f"{input_name}: ")
    assert fragment in str(caught.value)


def test_check_settings_passes_unknown_values_and_refuses_bad_ones() -> None:
    check_settings()  # linked inputs are None at validation time
    check_settings(mode="zip", group=MAX_GROUP, max_variants=1, execution="auto")
    with pytest.raises(SweepError, match=r"^execution: 'fast' is not one of list, batched, auto$"):
        check_settings(execution="fast")
    with pytest.raises(SweepError, match=r"^group: True"):
        check_settings(group=True)
    with pytest.raises(SweepError, match=r"^group:"):
        check_settings(group=MAX_GROUP + 1)


# -- planning ----------------------------------------------------------------------------------


@given(st.integers(1, 200), st.integers(1, 40))
def test_split_balanced_is_fewest_near_equal_chunks(count: int, max_size: int) -> None:
    sizes = split_balanced(count, max_size)
    assert sum(sizes) == count
    assert max(sizes) <= max_size and max(sizes) - min(sizes) <= 1
    assert len(sizes) == math.ceil(count / max_size)


def test_list_and_batched_ignore_device_and_size() -> None:
    for device in (CPU, ACCELERATOR):
        for area in (None, 64, 10_000):
            assert plan_chunks(5, "list", device, area) == [1, 1, 1, 1, 1]
            assert plan_chunks(5, "batched", device, area) == [5]
    assert plan_chunks(0, "auto") == []


def test_auto_on_cpu_batches_small_latents_only() -> None:
    policy = AutoPolicy(cpu_batch_max_area=100, cpu_chunk_max_area=600, cpu_chunk=2)
    assert plan_chunks(4, "auto", CPU, 8 * 8, policy=policy) == [4]
    assert plan_chunks(4, "auto", CPU, 100, policy=policy) == [4]
    assert plan_chunks(5, "auto", CPU, 16 * 16, policy=policy) == [2, 2, 1]
    assert plan_chunks(4, "auto", CPU, 32 * 32, policy=policy) == [1, 1, 1, 1]


def test_auto_default_policy_follows_the_measured_cpu_figures() -> None:
    # Measured on the demo checkpoint (benchmarks/bench_variant_sweep.py --calibrate, see AutoPolicy):
    # one batch wins up to 96² px, chunks of two at 128²–160², single passes from 192² px on.
    assert plan_chunks(4, "auto", CPU, 8 * 8) == [4]
    assert plan_chunks(4, "auto", CPU, 12 * 12) == [4]
    assert plan_chunks(4, "auto", CPU, 16 * 16) == [2, 2]
    assert plan_chunks(3, "auto", CPU, 20 * 20) == [2, 1]
    assert plan_chunks(4, "auto", CPU, 24 * 24) == [1, 1, 1, 1]
    assert plan_chunks(4, "auto", CPU, 64 * 64) == [1, 1, 1, 1]


def test_auto_on_an_accelerator_batches_within_count_and_memory_caps() -> None:
    policy = DEFAULT_POLICY
    assert plan_chunks(4, "auto", ACCELERATOR, 64 * 64) == [4]
    assert plan_chunks(40, "auto", ACCELERATOR, 8 * 8) == [14, 13, 13]  # at most 16 per pass, balanced
    big = 128 * 128  # 1024² px SD1.5: at most accelerator_max_pixels per pass
    sizes = plan_chunks(10, "auto", ACCELERATOR, big)
    assert sum(sizes) == 10 and max(sizes) * big <= policy.accelerator_max_pixels
    assert plan_chunks(3, "auto", ACCELERATOR, 1024 * 1024) == [1, 1, 1]


def test_auto_is_list_when_the_graph_cannot_render_a_batch() -> None:
    assert plan_chunks(4, "auto", ACCELERATOR, None) == [1, 1, 1, 1]  # no latent
    assert plan_chunks(4, "auto", CPU, 64, can_batch=False) == [1, 1, 1, 1]


def test_plan_refuses_unknown_execution_naming_it() -> None:
    with pytest.raises(SweepError, match=r"^execution:"):
        plan_chunks(3, "parallel")
    assert EXECUTIONS == ("list", "batched", "auto")


def test_device_kind() -> None:
    assert device_kind("cpu") == CPU
    assert {device_kind(t) for t in ("cuda", "mps", "xpu")} == {ACCELERATOR}


def test_chunk_ranges_and_records_place_every_variant() -> None:
    assert chunk_ranges([2, 1, 3]) == [range(0, 2), range(2, 3), range(3, 6)]
    variants = expand_inputs("x {a|b|c}", "all", 0, 64)
    records = variant_records(variants, [2, 1])
    assert records == [
        {"index": 0, "prompt": "x a", "label": "a", "chunk": 0, "item": 0},
        {"index": 1, "prompt": "x b", "label": "b", "chunk": 0, "item": 1},
        {"index": 2, "prompt": "x c", "label": "c", "chunk": 1, "item": 0},
    ]
    assert join_chunk(["x a", "x b"]) == "x a\nx b"


def test_linked_outputs_reads_the_api_prompt() -> None:
    prompt = {
        "20": {"class_type": "PromptVariantSweep|SeedNumber", "inputs": {"template": "a"}},
        "11": {"class_type": "CFGGuider", "inputs": {"positive": ["20", 0], "negative": ["20", 1], "cfg": 7}},
        "14": {"class_type": "SamplerCustomAdvanced", "inputs": {"noise": ["20", 3], "latent_image": ["4", 0]}},
        "9": {"class_type": "X", "inputs": {"pair": [20, 5], "text": ["not", "a link"]}},
    }
    assert linked_outputs(prompt, "20") == {0, 1, 3, 5}
    assert linked_outputs(prompt, "4") == {0}
    assert linked_outputs(prompt, "99") == set()
    assert linked_outputs(None, "20") is None


# -- conditioning ------------------------------------------------------------------------------


def _cond(length: int, value: float, pooled: float) -> list:
    cond = torch.arange(length * 3, dtype=torch.float32).reshape(1, length, 3) + value
    return [[cond, {"pooled_output": torch.full((1, 5), pooled)}]]


def test_concat_conditioning_stacks_prompts_along_the_batch() -> None:
    a, b, c = _cond(77, 0, 1), _cond(77, 100, 2), _cond(77, 200, 3)
    [[cond, extras]] = concat_conditioning([a, b, c])
    assert cond.shape == (3, 77, 3)
    for k, one in enumerate((a, b, c)):
        assert torch.equal(cond[k : k + 1], one[0][0])
    assert torch.equal(extras["pooled_output"][:, 0], torch.tensor([1.0, 2.0, 3.0]))


def test_long_prompts_tile_to_the_lcm_like_comfyui() -> None:
    short, long = _cond(77, 0, 1), _cond(154, 1000, 2)
    [[cond, extras]] = concat_conditioning([short, long])
    assert cond.shape == (2, 154, 3)
    assert torch.equal(cond[0], torch.cat([short[0][0][0], short[0][0][0]]))  # repeated whole, as CONDCrossAttn
    assert torch.equal(cond[1], long[0][0][0])
    assert extras["pooled_output"].shape == (2, 5)
    three = tile_cross_attention([torch.zeros(1, 154, 3), torch.zeros(1, 231, 3), torch.zeros(1, 77, 3)])
    assert three.shape == (3, 462, 3)  # lcm(154, 231, 77)
    with pytest.raises(ValueError, match="use execution 'list'"):
        tile_cross_attention([torch.zeros(1, 13, 3), torch.zeros(1, 17, 3)])  # lcm 221 > 8 × 17
    with pytest.raises(ValueError, match="different widths"):
        tile_cross_attention([torch.zeros(1, 77, 3), torch.zeros(1, 77, 4)])


def test_concat_single_prompt_and_repeated_negative() -> None:
    neg = _cond(77, 5, 9)
    [[one, _]] = concat_conditioning([neg])
    assert torch.equal(one, neg[0][0])
    [[cond, extras]] = concat_conditioning([neg] * 4)
    assert torch.equal(cond, neg[0][0].repeat(4, 1, 1))
    assert torch.equal(extras["pooled_output"], neg[0][1]["pooled_output"].repeat(4, 1))


def test_concat_keeps_equal_extras_and_refuses_mismatches() -> None:
    a, b = _cond(77, 0, 1), _cond(77, 1, 2)
    a[0][1]["guidance"], b[0][1]["guidance"] = 3.5, 3.5
    assert concat_conditioning([a, b])[0][1]["guidance"] == 3.5
    b[0][1]["guidance"] = 4.0
    with pytest.raises(ValueError, match="'guidance' values differ"):
        concat_conditioning([a, b])
    with pytest.raises(ValueError, match="numbers of entries"):
        concat_conditioning([a, a + a])


# -- latent and noise --------------------------------------------------------------------------


def test_repeat_latent_repeats_samples_and_batch_index() -> None:
    samples = torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(1))
    out = repeat_latent({"samples": samples, "batch_index": [2]}, 3)
    assert out["samples"].shape == (3, 4, 8, 8)
    assert all(torch.equal(out["samples"][k], samples[0]) for k in range(3))
    assert out["batch_index"] == [2, 2, 2]
    assert latent_area(out["samples"]) == 64
    with pytest.raises(ValueError, match="batch-1 latent"):
        repeat_latent({"samples": torch.zeros(2, 4, 8, 8)}, 3)


def test_sweep_noise_is_the_batch_one_noise_for_every_item() -> None:
    state = torch.random.get_rng_state()
    latent = {"samples": torch.zeros(4, 4, 9, 9)}
    noise = SweepNoise(406220)
    drawn = noise.generate_noise(latent)
    one = shared_noise(torch.zeros(1, 4, 9, 9), 406220)
    assert drawn.shape == (4, 4, 9, 9)
    assert all(torch.equal(drawn[k : k + 1], one) for k in range(4))
    assert torch.equal(torch.random.get_rng_state(), state)  # the global RNG is untouched
    assert noise.seed == 406220
    assert not torch.equal(SweepNoise(406221).generate_noise(latent), drawn)


def test_same_noise_honours_the_latents_batch_index() -> None:
    samples = torch.zeros(2, 4, 8, 8)
    picked = same_noise(samples, 7, [3, 3])
    assert torch.equal(picked[0:1], shared_noise(torch.zeros(1, 4, 8, 8), 7, [3]))
    assert torch.equal(picked[0], picked[1])


def test_check_template_counts_by_arithmetic_and_never_expands() -> None:
    """Issue 11: validation runs on the event loop; 2^60 variants are refused without enumerating one."""
    huge = "{a|b} " * 60
    with pytest.raises(SweepError) as info:
        check_template(huge, "all", 0, 1024)
    assert info.value.input == "max_variants" and "1,152,921,504,606,846,976" in str(info.value)
    parsed = check_template("a {red|blue} {cat|dog}", "all", 0, 4)
    assert parsed.count("all") == 4
    assert [v.text for v in expand_inputs("a {red|blue} {cat|dog}", "all", 0, 4)][:2] == ["a red cat", "a red dog"]


# -- wiring and chunks -------------------------------------------------------------------------

ALL_GIVEN = {"clip": True, "seed": True, "latent": True}


@pytest.mark.parametrize(
    ("read", "given", "input_name"),
    [
        ({"latent_out"}, {"latent": False}, "latent"),
        ({"noise"}, {"seed": False}, "seed"),
        ({"conditioning"}, {"clip": False}, "clip"),
        ({"negative_conditioning"}, {"clip": False}, "clip"),
        (None, {"seed": False}, "seed"),  # wiring unknown: every output counts as read
    ],
)
def test_check_wiring_names_the_missing_input(read: set[str] | None, given: dict[str, bool], input_name: str) -> None:
    wiring = Wiring(frozenset(read) if read is not None else None, **{**ALL_GIVEN, **given})
    with pytest.raises(SweepError) as caught:
        check_wiring(wiring, "list")
    assert caught.value.input == input_name


def test_check_wiring_accepts_what_is_given_and_batched_needs_a_latent() -> None:
    check_wiring(Wiring(frozenset({"prompt", "labels"}), clip=False, seed=False, latent=False), "list")
    check_wiring(Wiring(None, **ALL_GIVEN), "batched")
    with pytest.raises(SweepError, match="batched") as caught:
        check_wiring(Wiring(frozenset({"prompt"}), clip=False, seed=False, latent=False), "batched")
    assert caught.value.input == "latent"


def test_can_batch_needs_latent_and_noise_read_and_given() -> None:
    assert Wiring(None, **ALL_GIVEN).can_batch()
    assert Wiring(frozenset({"latent_out", "noise", "conditioning"}), **ALL_GIVEN).can_batch()
    assert not Wiring(frozenset({"latent_out", "conditioning"}), **ALL_GIVEN).can_batch()
    assert not Wiring(None, clip=True, seed=False, latent=True).can_batch()
    assert sampler_noise_differs(Wiring(frozenset({"latent_out"}), **ALL_GIVEN), "batched", 3)
    assert not sampler_noise_differs(Wiring(frozenset({"latent_out"}), **ALL_GIVEN), "batched", 1)
    assert not sampler_noise_differs(Wiring(None, **ALL_GIVEN), "batched", 3)
    assert not sampler_noise_differs(Wiring(frozenset({"latent_out"}), **ALL_GIVEN), "list", 3)


def test_build_chunks_and_the_run_record() -> None:
    variants = expand_inputs("x {a|b|c}", "all", 0, 64)
    chunks = build_chunks(variants, [2, 1])
    assert chunks.texts == [["x a", "x b"], ["x c"]]
    assert chunks.prompts() == ["x a\nx b", "x c"]
    assert chunks.chunk_labels() == ["a\nb", "c"]
    record = run_record(chunks, "blur", 7)
    assert record["text"] == {"conditioning": chunks.texts, "negative_conditioning": [["blur", "blur"], ["blur"]]}
    assert record["label"] == {"*": [["a", "b"], ["c"]]}
    assert record["value"] == {"noise": [7, 7], "prompt": chunks.texts, "label": [["a", "b"], ["c"]]}
