"""Prompt Variant Sweep inside a real (in-process) ComfyUI with the demo checkpoint's CLIP."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import torch

from tests.comfy.helpers import run_node

TEMPLATE = "dark {blue|purple|red} gradient"
SEED = 406220
NODE = "5"
"""The node's id in run_node's hidden inputs."""


@pytest.fixture(scope="session")
def sweep(comfy: ModuleType) -> ModuleType:
    return importlib.import_module("seed_number.nodes.prompt_variant_sweep")


@pytest.fixture(scope="session")
def clip(comfy: ModuleType, demo_checkpoint: Path) -> Any:
    import comfy.sd

    _model, clip, _vae, _ = comfy.sd.load_checkpoint_guess_config(
        str(demo_checkpoint), output_vae=False, output_clip=True
    )
    return clip


class CountingClip:
    """The real CLIP, counting the texts it is asked to encode."""

    def __init__(self, clip: Any) -> None:
        self.clip = clip
        self.texts: list[str] = []

    def tokenize(self, text: str) -> Any:
        self.texts.append(text)
        return self.clip.tokenize(text)

    def encode_from_tokens_scheduled(self, tokens: Any) -> Any:
        return self.clip.encode_from_tokens_scheduled(tokens)


def wired(*slots: int) -> dict[str, Any]:
    """Hidden PROMPT where a downstream node reads the given output slots of the sweep node."""
    return {
        "PROMPT": {
            NODE: {"class_type": "PromptVariantSweep|SeedNumber", "inputs": {}},
            "30": {"class_type": "Sink", "inputs": {f"in{s}": [NODE, s] for s in slots}},
        }
    }


ALL = (0, 1, 2, 3, 4, 5, 6)


def latent(size: int = 64) -> dict[str, torch.Tensor]:
    return {"samples": torch.zeros(1, 4, size // 8, size // 8)}


def run(sweep: ModuleType, hidden: dict | None = None, **inputs: Any) -> Any:
    args = {"template": TEMPLATE, "mode": "all", "group": 0, "max_variants": 64, "execution": "list"} | inputs
    return run_node(sweep.PromptVariantSweep, hidden, **args)


def test_schema_inputs_outputs_and_tooltips(sweep: ModuleType) -> None:
    info = sweep.PromptVariantSweep.GET_NODE_INFO_V1()
    assert info["name"] == "PromptVariantSweep|SeedNumber"
    assert info["display_name"] == "Prompt Variant Sweep" and info["category"] == "Seed Number"
    required, optional = info["input"]["required"], info["input"]["optional"]
    assert list(required) == ["template", "mode", "group", "max_variants", "execution"]
    assert list(optional) == ["clip", "negative", "seed", "latent"]
    for name in ("template", "negative"):
        spec = (required | optional)[name][1]
        assert spec["multiline"] is True and spec["dynamicPrompts"] is False  # the browser must not resolve {a|b}
    assert required["mode"][1]["options"] == ["all", "one group", "zip"]
    assert required["execution"][1]["options"] == ["list", "batched", "auto"]
    assert required["max_variants"][1]["default"] == 64
    assert optional["seed"][1]["forceInput"] is True  # a socket: no frontend seed control widget
    assert all("tooltip" in spec[1] for spec in (required | optional).values())
    assert info["output"] == ["CONDITIONING", "CONDITIONING", "LATENT", "NOISE", "STRING", "STRING", "STRING"]
    assert info["output_name"] == [
        "conditioning",
        "negative_conditioning",
        "latent",
        "noise",
        "prompt",
        "label",
        "labels",
    ]
    assert info["output_is_list"] == [True] * 7


def test_list_mode_one_chunk_per_variant_same_noise_as_ksampler(
    comfy: ModuleType, sweep: ModuleType, clip: Any
) -> None:
    out = run(sweep, wired(*ALL), clip=clip, negative="blurry", seed=SEED, latent=latent(), execution="list")
    cond, neg, latents, noises, prompts, labels, flat = out.args
    assert prompts == ["dark blue gradient", "dark purple gradient", "dark red gradient"]
    assert labels == flat == ["blue", "purple", "red"]
    assert [c[0][0].shape for c in cond] == [torch.Size([1, 77, 768])] * 3
    assert not torch.equal(cond[0][0][0], cond[1][0][0]) and not torch.equal(cond[1][0][0], cond[2][0][0])
    assert all(torch.equal(n[0][0], neg[0][0][0]) for n in neg)
    drawn = [noise.generate_noise(lat) for noise, lat in zip(noises, latents, strict=True)]
    reference = comfy.prepare_noise(latent()["samples"], SEED)  # a stock KSampler's batch-1 noise
    assert all(torch.equal(d, reference) for d in drawn)
    assert [n.seed for n in noises] == [SEED] * 3
    assert out.ui["seed_number_variants"] == [
        {"index": i, "prompt": p, "label": lab, "chunk": i, "item": 0}
        for i, (p, lab) in enumerate(zip(prompts, labels, strict=True))
    ]
    assert out.ui["seed_number_sweep"][0]["chunks"] == [1, 1, 1]


def test_batched_mode_is_one_chunk_whose_items_match_list_mode(comfy: ModuleType, sweep: ModuleType, clip: Any) -> None:
    listed = run(sweep, wired(*ALL), clip=clip, seed=SEED, latent=latent(), execution="list")
    out = run(sweep, wired(*ALL), clip=clip, seed=SEED, latent=latent(), execution="batched")
    [cond], [neg], [lat], [noise], [prompt], [label], flat = out.args
    assert cond[0][0].shape == (3, 77, 768) and cond[0][1]["pooled_output"].shape[0] == 3
    for k in range(3):
        assert torch.equal(cond[0][0][k : k + 1], listed.args[0][k][0][0])
    assert neg[0][0].shape == (3, 77, 768) and torch.equal(neg[0][0][0], neg[0][0][2])
    assert lat["samples"].shape == (3, 4, 8, 8)
    drawn = noise.generate_noise(lat)
    reference = comfy.prepare_noise(latent()["samples"], SEED)
    assert all(torch.equal(drawn[k : k + 1], reference) for k in range(3))
    assert prompt == "dark blue gradient\ndark purple gradient\ndark red gradient"
    assert label == "blue\npurple\nred" and flat == ["blue", "purple", "red"]
    assert [(r["chunk"], r["item"]) for r in out.ui["seed_number_variants"]] == [(0, 0), (0, 1), (0, 2)]
    assert out.ui["seed_number_sweep"][0]["chunks"] == [3]


def test_auto_batches_small_latents_on_cpu_only_when_latent_and_noise_are_wired(sweep: ModuleType, clip: Any) -> None:
    out = run(sweep, wired(*ALL), clip=clip, seed=SEED, latent=latent(64), execution="auto")
    assert out.ui["seed_number_sweep"][0] | {"node": None} == {
        "execution": "auto",
        "chunks": [3],
        "device": "cpu",
        "latent_area": 64,
        "seed": SEED,
        "count": 3,
        "node": None,
    }
    big = run(sweep, wired(*ALL), clip=clip, seed=SEED, latent=latent(512), execution="auto")
    assert big.ui["seed_number_sweep"][0]["chunks"] == [1, 1, 1]
    stock = run(sweep, wired(0, 1, 5), clip=clip, seed=SEED, latent=latent(64), execution="auto")
    assert stock.ui["seed_number_sweep"][0]["chunks"] == [1, 1, 1]  # a stock KSampler draws its own noise


def test_without_optional_inputs_outputs_are_none_unless_wired(sweep: ModuleType, clip: Any) -> None:
    out = run(sweep, wired(4, 5))
    cond, neg, latents, noises, _prompts, labels, _ = out.args
    assert cond == neg == latents == noises == [None] * 3
    assert labels == ["blue", "purple", "red"]
    with pytest.raises(ValueError, match=r"Prompt Variant Sweep: seed: .*noise output is wired"):
        run(sweep, wired(3), latent=latent())
    with pytest.raises(ValueError, match=r"Prompt Variant Sweep: latent: the latent output is wired"):
        run(sweep, wired(2), seed=SEED)
    with pytest.raises(ValueError, match=r"Prompt Variant Sweep: clip: the conditioning outputs are wired"):
        run(sweep, wired(0))
    with pytest.raises(ValueError, match=r"Prompt Variant Sweep: latent: execution 'batched' needs the latent"):
        run(sweep, wired(4), execution="batched")
    with pytest.raises(ValueError, match=r"Prompt Variant Sweep: latent: got a batch of 2"):
        run(sweep, wired(2), latent={"samples": torch.zeros(2, 4, 8, 8)})


def test_repeated_prompt_texts_are_encoded_once(sweep: ModuleType, clip: Any) -> None:
    counting = CountingClip(clip)
    out = run(sweep, wired(0, 1), template="{red|red|blue} cube", negative="red cube", clip=counting)
    assert sorted(counting.texts) == ["blue cube", "red cube"]
    assert torch.equal(out.args[0][0][0][0], out.args[0][1][0][0])
    assert torch.equal(out.args[1][0][0][0], out.args[0][0][0][0])  # the negative reused the encoding


def test_long_prompt_in_a_batch_is_tiled_like_comfyui(sweep: ModuleType, clip: Any) -> None:
    long = " ".join(["very"] * 90)
    out = run(sweep, wired(0, 2, 3), template="{short|" + long + "} gradient", clip=clip, seed=1, latent=latent())
    listed_lengths = [c[0][0].shape[1] for c in out.args[0]]
    assert listed_lengths == [77, 154]
    [cond] = run(
        sweep,
        wired(0, 2, 3),
        template="{short|" + long + "} gradient",
        clip=clip,
        seed=1,
        latent=latent(),
        execution="batched",
    ).args[0]
    assert cond[0][0].shape == (2, 154, 768)
    assert torch.equal(cond[0][0][0, :77], out.args[0][0][0][0][0]) and torch.equal(
        cond[0][0][0, 77:], cond[0][0][0, :77]
    )
    assert torch.equal(cond[0][0][1], out.args[0][1][0][0][0])


def test_validate_inputs_names_the_input_and_position(sweep: ModuleType) -> None:
    validate = sweep.PromptVariantSweep.validate_inputs
    assert validate(template=TEMPLATE, mode="all", group=0, max_variants=64, execution="auto") is True
    assert validate(template=None, mode="all", group=0, max_variants=64, execution="list") is True  # linked
    message = validate(template="dark {blue|purple gradient", mode="all", group=0, max_variants=64)
    assert message.startswith("template: unclosed '{'") and "at position 5" in message
    over = validate(template="{a|b}{c|d}{e|f}", mode="all", group=0, max_variants=4)
    assert over.startswith("max_variants: template expands to 8 variants")
    assert validate(template=TEMPLATE, mode="one group", group=2, max_variants=64).startswith("group: group 2")
    assert validate(mode="each").startswith("mode: 'each' is not one of")
    assert validate(execution="fast").startswith("execution: 'fast' is not one of")
    assert validate(group=-1).startswith("group:") and validate(max_variants=0).startswith("max_variants:")


def test_validation_counts_1024_variants_and_never_expands(sweep: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    """Validation runs on the server's event loop: ~19 KB of text with 1,024 variants (19 MB if
    expanded) is checked by arithmetic, nothing enumerated (the server tier bounds the time only)."""
    from seed_number.nodes.core import variants

    def enumerated(*args: object, **kwargs: object) -> None:
        raise AssertionError("validation enumerated the variants")

    one = "{" + "|".join(f"option {k}" for k in range(1024)) + "}"
    template = "a " * ((19_000 - len(one)) // 2) + one
    for cls, name in ((variants.Template, "expand"), (variants.Template, "_variant"), (variants.Group, "render")):
        monkeypatch.setattr(cls, name, enumerated)
    validate = sweep.PromptVariantSweep.validate_inputs
    assert validate(template=template, mode="all", group=0, max_variants=1024, execution="list") is True
    assert validate(template=template, mode="all", group=0, max_variants=1023).startswith("max_variants:")


def test_linked_bad_template_fails_in_execute_naming_the_input(sweep: ModuleType) -> None:
    with pytest.raises(ValueError, match=r"^Prompt Variant Sweep: template: stray '\|'.* at position 1"):
        run(sweep, wired(4), template="a|b")
    with pytest.raises(ValueError, match=r"^Prompt Variant Sweep: mode: 'sometimes' is not one of"):
        run(sweep, wired(4), mode="sometimes")
