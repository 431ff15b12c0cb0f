"""Seed Source's noise: shared equals one generator for the batch; per image re-makes alone."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from seed_number.nodes.core.noise import SeedNoise, image_seeds, per_image_noise, shared_noise  # noqa: E402


@pytest.mark.parametrize("shape", [(4, 4, 8, 8), (3, 4, 9, 9)])
def test_shared_noise_is_one_generator_for_the_whole_batch(shape: tuple[int, ...]) -> None:
    latent = torch.zeros(shape)
    expected = torch.randn(shape, generator=torch.Generator().manual_seed(1234))
    assert torch.equal(shared_noise(latent, 1234), expected)


def test_shared_noise_honours_batch_index_like_comfyui() -> None:
    latent = torch.zeros(2, 4, 8, 8)
    full = shared_noise(torch.zeros(4, 4, 8, 8), 77, batch_index=[0, 1, 2, 3])
    picked = shared_noise(latent, 77, batch_index=[3, 1])
    assert torch.equal(picked[0], full[3]) and torch.equal(picked[1], full[1])


@pytest.mark.parametrize("hw", [64, 65])
def test_per_image_noise_remakes_each_image_alone(hw: int) -> None:
    batch = per_image_noise(torch.zeros(4, 4, hw, hw), 500)
    for k in range(4):
        alone = shared_noise(torch.zeros(1, 4, hw, hw), 500 + k)
        assert torch.equal(batch[k : k + 1], alone)


def test_noise_does_not_touch_global_rng() -> None:
    torch.manual_seed(0)
    before = torch.random.get_rng_state()
    SeedNoise(5, per_image=True).generate_noise({"samples": torch.zeros(2, 4, 8, 8)})
    SeedNoise(5).generate_noise({"samples": torch.zeros(2, 4, 8, 8)})
    assert torch.equal(before, torch.random.get_rng_state())


def test_image_seeds() -> None:
    assert image_seeds(10, 3, per_image=True) == [10, 11, 12]
    assert image_seeds(10, 3, per_image=False) == [10, 10, 10]


# -- variation seeds and noise sources (issues 14 and 19) --------------------------------------------

from seed_number.nodes.core.a1111_noise import a1111_noise  # noqa: E402
from seed_number.nodes.core.seeds import image_seed_rule  # noqa: E402


def a1111_formula(t: float, low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
    """A1111's slerp as its published formula reads, written independently here, in float32 torch ops:
    each image's (C, H, W) tensor, norms along dim 1, a linear mix when the mean cosine > 0.9995."""
    low_norm = low / torch.norm(low, dim=1, keepdim=True)
    high_norm = high / torch.norm(high, dim=1, keepdim=True)
    dot = (low_norm * high_norm).sum(1)
    if dot.mean() > 0.9995:
        return low * t + high * (1 - t)
    omega = torch.acos(dot)
    so = torch.sin(omega)
    return (torch.sin((1.0 - t) * omega) / so).unsqueeze(1) * low + (torch.sin(t * omega) / so).unsqueeze(1) * high


def _batch_noise(shape: tuple[int, ...], seed: int) -> torch.Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed))


STRENGTHS = [0.0, 0.01, 0.5, 1.0]


@pytest.mark.parametrize("hw", [64, 65])  # latents of 64×64 and 65×65
@pytest.mark.parametrize("strength", STRENGTHS)
def test_comfy_shared_variation_is_a1111_formula_on_comfyui_batch_noise(hw: int, strength: float) -> None:
    shape = (3, 4, hw, hw)
    noise = SeedNoise(406220, False, "comfy", 17, strength).generate_noise({"samples": torch.zeros(shape)})
    if strength == 0.0:
        assert torch.equal(noise, _batch_noise(shape, 406220))
        return
    low, high = _batch_noise(shape, 406220), _batch_noise(shape, 17)
    expected = torch.stack([a1111_formula(strength, low[i], high[i]) for i in range(3)])
    assert torch.equal(noise, expected)
    if strength == 1.0:
        assert torch.equal(noise, high)


@pytest.mark.parametrize("hw", [64, 65])
@pytest.mark.parametrize("strength", STRENGTHS)
def test_comfy_per_image_variation_uses_a1111_seeds(hw: int, strength: float) -> None:
    # A1111's assignment: every image keeps the seed, image i gets variation seed + i
    shape = (3, 4, hw, hw)
    noise = SeedNoise(406220, True, "comfy", 17, strength).generate_noise({"samples": torch.zeros(shape)})
    one = (1, 4, hw, hw)
    for i in range(3):
        if strength == 0.0:
            assert torch.equal(noise[i], _batch_noise(one, 406220 + i)[0])
            continue
        low, high = _batch_noise(one, 406220)[0], _batch_noise(one, 17 + i)[0]
        assert torch.equal(noise[i], a1111_formula(strength, low, high))
        if strength == 1.0:
            assert torch.equal(noise[i], high)


def test_variation_near_parallel_case_is_a1111s_linear_mix() -> None:
    # the variation seed equal to the seed: cosine 1 > 0.9995, A1111's (reversed-weight) linear branch
    shape = (1, 4, 8, 8)
    noise = SeedNoise(5, False, "comfy", 5, 0.3).generate_noise({"samples": torch.zeros(shape)})
    base = _batch_noise(shape, 5)
    assert torch.equal(noise[0], base[0] * 0.3 + base[0] * (1 - 0.3))


def test_per_image_variation_remakes_each_image_alone() -> None:
    batch = SeedNoise(9, True, "comfy", 100, 0.25).generate_noise({"samples": torch.zeros(4, 4, 8, 8)})
    for i in range(4):
        alone = SeedNoise(9, True, "comfy", 100 + i, 0.25).generate_noise({"samples": torch.zeros(1, 4, 8, 8)})
        assert torch.equal(batch[i : i + 1], alone)


@pytest.mark.parametrize("source", ["a1111 gpu", "a1111 cpu"])
@pytest.mark.parametrize("channels", [4, 16])
def test_a1111_sources_give_a1111_noise_with_the_latents_channels(source: str, channels: int) -> None:
    latent = {"samples": torch.zeros(3, channels, 8, 12)}
    assert torch.equal(
        SeedNoise(1234, False, source).generate_noise(latent), a1111_noise(1234, (channels, 8, 12), 3, source)
    )
    assert torch.equal(
        SeedNoise(1234, False, source, 50, 0.3).generate_noise(latent),
        a1111_noise(1234, (channels, 8, 12), 3, source, variation_seed=50, variation_strength=0.3),
    )


def test_a1111_sources_honour_batch_index() -> None:
    latent = {"samples": torch.zeros(2, 4, 8, 8), "batch_index": [4, 5]}
    noise = SeedNoise(10, False, "a1111 gpu").generate_noise(latent)
    assert torch.equal(noise, a1111_noise(10, (4, 8, 8), 2, "a1111 gpu", indices=[4, 5]))
    assert torch.equal(noise[0], a1111_noise(14, (4, 8, 8))[0])


def test_a1111_cpu_equals_comfy_per_image() -> None:
    latent = {"samples": torch.zeros(3, 4, 8, 8)}
    assert torch.equal(
        SeedNoise(77, False, "a1111 cpu").generate_noise(latent), SeedNoise(77, True).generate_noise(latent)
    )


def test_a1111_sources_refuse_video_latents_clearly() -> None:
    with pytest.raises(ValueError, match="noise_source 'comfy'"):
        SeedNoise(1, False, "a1111 gpu").generate_noise({"samples": torch.zeros(1, 16, 3, 8, 8)})


def test_seed_noise_refuses_bad_settings() -> None:
    with pytest.raises(ValueError, match="noise_source"):
        SeedNoise(1, source="banana")
    with pytest.raises(ValueError, match="variation_seed"):
        SeedNoise(1, variation_strength=0.5)


def test_image_seed_rule() -> None:
    assert image_seed_rule(10, False, "comfy", None, 0.0) == (10, None)
    assert image_seed_rule(10, True, "comfy", None, 0.0) == ({"per_image_base": 10}, None)
    assert image_seed_rule(10, False, "a1111 gpu", None, 0.0) == ({"per_image_base": 10}, None)
    assert image_seed_rule(10, False, "comfy", 50, 0.2) == (10, 50)
    assert image_seed_rule(10, True, "comfy", 50, 0.2) == (10, {"per_image_base": 50})
    assert image_seed_rule(10, False, "a1111 cpu", 50, 0.2) == (10, {"per_image_base": 50})
    assert image_seed_rule(10, False, "a1111 cpu", 50, 0.0) == ({"per_image_base": 10}, None)
