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
