"""A1111 / Forge initial noise: per-image seeds, both sources, variation slerp, seed resize.

The ``a1111 gpu`` references come from the scalar Philox + Box–Muller of ``philox_reference.py`` (written
from the published algorithms); the variation references from a float64 slerp written here.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from seed_number.nodes.core.a1111_noise import (
    PARALLEL_THRESHOLD,
    a1111_noise,
    cpu_randn,
    image_noise,
    image_seeds,
    latent_shape,
    paste_centred,
    slerp,
)
from seed_number.nodes.core.philox import nv_randn
from tests.core.philox_reference import reference_randn
from tests.paths import ROOT

SEEDS = [0, 1234, 2**32 - 1, 2**32 + 1234, 2**53 - 1]
SHAPES = [(4, 8, 8), (4, 8, 12), (16, 8, 8), (16, 8, 12)]  # 64×64 and 96 wide × 64 high, 4 and 16 channels


def reference_gpu(seed: int, shape: tuple[int, int, int]) -> torch.Tensor:
    return reference_randn(seed, shape)


def reference_slerp(t: float, low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
    """Slerp in float64 of each (channel, column) vector along the rows, per the textbook formula."""
    a, b = low.double().numpy(), high.double().numpy()
    out = np.empty_like(a)
    for c in range(a.shape[0]):
        for w in range(a.shape[2]):
            x, y = a[c, :, w], b[c, :, w]
            omega = np.arccos(np.dot(x / np.linalg.norm(x), y / np.linalg.norm(y)))
            out[c, :, w] = (np.sin((1 - t) * omega) * x + np.sin(t * omega) * y) / np.sin(omega)
    return torch.from_numpy(out)


def test_latent_shape() -> None:
    assert latent_shape(512, 512) == (4, 64, 64)
    assert latent_shape(96, 64) == (4, 8, 12)
    assert latent_shape(1024, 1024, channels=16) == (16, 128, 128)
    assert latent_shape(100, 70) == (4, 8, 12)  # floor division, as A1111


def test_image_seeds_as_a1111_assigns_them() -> None:
    assert image_seeds(10, 3) == [(10, None), (11, None), (12, None)]
    assert image_seeds(10, 3, variation_seed=50, variation_strength=0.0) == [(10, None), (11, None), (12, None)]
    assert image_seeds(10, 3, variation_seed=50, variation_strength=0.3) == [(10, 50), (10, 51), (10, 52)]
    assert image_seeds(10, 2, indices=[4, 5]) == [(14, None), (15, None)]  # a second batch of 4
    assert image_seeds(10, 2, 50, 1.0, indices=[4, 5]) == [(10, 54), (10, 55)]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("batch", [1, 3])
def test_gpu_noise_equals_reference_per_image(seed: int, shape: tuple[int, int, int], batch: int) -> None:
    noise = a1111_noise(seed, shape, batch=batch, source="a1111 gpu")
    assert noise.shape == (batch, *shape) and noise.dtype == torch.float32 and noise.device.type == "cpu"
    for i in range(batch):
        assert torch.equal(noise[i], reference_gpu(seed + i, shape)), f"image {i} (seed {seed + i})"


@pytest.mark.parametrize("seed", [0, 1234, 2**53 - 1])
@pytest.mark.parametrize("shape", [(4, 8, 12), (16, 8, 8)])
def test_cpu_batch_is_three_single_draws(seed: int, shape: tuple[int, int, int]) -> None:
    batch = a1111_noise(seed, shape, batch=3, source="a1111 cpu")
    for i in range(3):
        alone = a1111_noise(seed + i, shape, batch=1, source="a1111 cpu")[0]
        assert torch.equal(batch[i], alone)
        fresh = torch.randn(shape, generator=torch.Generator().manual_seed(seed + i))
        assert torch.equal(batch[i], fresh)


def test_cpu_generator_keeps_only_the_low_32_bits() -> None:
    """The fact the docs state: torch's CPU generator ignores seed bits above 2**32; NV does not."""
    assert torch.equal(cpu_randn(2**32 + 5, (4, 8, 8)), cpu_randn(5, (4, 8, 8)))
    assert torch.equal(cpu_randn(2**53 - 1, (4, 8, 8)), cpu_randn(2**32 - 1, (4, 8, 8)))
    assert torch.Generator().manual_seed(2**32 + 5).initial_seed() == 2**32 + 5  # reported, yet unused
    assert not torch.equal(nv_randn(2**32 + 5, (4, 8, 8)), nv_randn(5, (4, 8, 8)))


@pytest.mark.parametrize("source", ["a1111 gpu", "a1111 cpu"])
def test_variation_strength_0_is_no_variation(source: str) -> None:
    plain = a1111_noise(77, (4, 8, 12), batch=3, source=source)
    varied = a1111_noise(77, (4, 8, 12), batch=3, source=source, variation_seed=500, variation_strength=0.0)
    assert torch.equal(plain, varied)


@pytest.mark.parametrize("source", ["a1111 gpu", "a1111 cpu"])
def test_variation_strength_1_is_the_variation_seeds_noise(source: str) -> None:
    varied = a1111_noise(77, (4, 8, 12), batch=3, source=source, variation_seed=500, variation_strength=1.0)
    for i in range(3):
        assert torch.equal(varied[i], a1111_noise(500 + i, (4, 8, 12), source=source)[0])


@pytest.mark.parametrize(("source", "shape"), [("a1111 gpu", (4, 8, 12)), ("a1111 cpu", (16, 8, 8))])
def test_variation_strength_03_is_a1111_slerp(source: str, shape: tuple[int, int, int]) -> None:
    varied = a1111_noise(2**32 + 1234, shape, batch=3, source=source, variation_seed=99, variation_strength=0.3)
    base = a1111_noise(2**32 + 1234, shape, source=source)[0]  # every image keeps the main seed
    for i in range(3):
        expected = reference_slerp(0.3, base, a1111_noise(99 + i, shape, source=source)[0])
        # float32 operations against a float64 reference: a few float32 ulps of values up to ~4
        assert torch.allclose(varied[i].double(), expected, rtol=0, atol=2e-6)
        assert not torch.equal(varied[i], base)


def test_slerp_axis_is_the_rows() -> None:
    """Norms along dimension 1: scaling one (channel, column) vector of ``high`` changes nothing."""
    low, high = nv_randn(1, (4, 8, 12)), nv_randn(2, (4, 8, 12))
    scaled = high.clone()
    scaled[2, :, 5] *= 2.0
    a, b = slerp(0.3, low, high), slerp(0.3, low, scaled)
    same = torch.ones_like(a, dtype=torch.bool)
    same[2, :, 5] = False
    assert torch.equal(a[same], b[same])  # a norm over the whole tensor would have moved them all
    assert not torch.equal(a[2, :, 5], b[2, :, 5])


def test_near_parallel_falls_back_to_a1111s_linear_mix() -> None:
    low = nv_randn(3, (4, 8, 12))
    high = low + 1e-3 * nv_randn(4, (4, 8, 12))  # cosine ≈ 1 - 5e-7 per column
    direction = (low / low.norm(dim=1, keepdim=True) * high / high.norm(dim=1, keepdim=True)).sum(1)
    assert direction.mean() > PARALLEL_THRESHOLD
    assert torch.equal(slerp(0.3, low, high), low * 0.3 + high * 0.7)  # A1111's weights, reversed
    assert not torch.equal(slerp(0.3, low, high), low * 0.7 + high * 0.3)


def test_same_seed_as_variation_seed_takes_the_linear_branch() -> None:
    noise = a1111_noise(5, (4, 8, 8), variation_seed=5, variation_strength=0.3)[0]
    base = nv_randn(5, (4, 8, 8))
    assert torch.equal(noise, base * 0.3 + base * 0.7)
    assert torch.allclose(noise, base, rtol=0, atol=1e-6)


def test_seed_resize_from_the_same_size_changes_nothing() -> None:
    plain = a1111_noise(8, (4, 8, 12), batch=2)
    assert torch.equal(a1111_noise(8, (4, 8, 12), batch=2, seed_resize_from=(96, 64)), plain)
    assert torch.equal(a1111_noise(8, (4, 8, 12), batch=2, seed_resize_from=(0, 64)), plain)
    assert torch.equal(a1111_noise(8, (4, 8, 12), batch=2, seed_resize_from=(96, -1)), plain)


def test_seed_resize_from_smaller_pastes_centred() -> None:
    noise = a1111_noise(8, (4, 8, 12), seed_resize_from=(64, 32))[0]  # drawn at (4, 4, 8)
    small, full = nv_randn(8, (4, 4, 8)), nv_randn(8, (4, 8, 12))
    assert torch.equal(noise[:, 2:6, 2:10], small)
    outside = torch.ones(4, 8, 12, dtype=torch.bool)
    outside[:, 2:6, 2:10] = False
    assert torch.equal(noise[outside], full[outside])


def test_seed_resize_from_larger_crops_centred() -> None:
    noise = a1111_noise(8, (4, 8, 12), source="a1111 cpu", seed_resize_from=(128, 80))[0]  # drawn (4, 10, 16)
    assert torch.equal(noise, cpu_randn(8, (4, 10, 16))[:, 1:9, 2:14])
    # one more row and column than fits: the paste loses two, the last row/column stay the seed's own
    odd = a1111_noise(8, (4, 8, 12), seed_resize_from=(104, 72))[0]  # drawn (4, 9, 13)
    big, full = nv_randn(8, (4, 9, 13)), nv_randn(8, (4, 8, 12))
    assert torch.equal(odd[:, :7, :11], big[:, 1:8, 1:12])
    assert torch.equal(odd[:, 7, :], full[:, 7, :]) and torch.equal(odd[:, :, 11], full[:, :, 11])


def test_seed_resize_with_variation_mixes_at_the_old_size() -> None:
    noise = a1111_noise(8, (4, 8, 12), batch=2, variation_seed=20, variation_strength=0.5, seed_resize_from=(64, 32))
    for i in range(2):
        mixed = slerp(0.5, nv_randn(8, (4, 4, 8)), nv_randn(20 + i, (4, 4, 8)))
        assert torch.equal(noise[i], paste_centred(mixed, nv_randn(8, (4, 8, 12))))


def test_image_noise_matches_the_batch() -> None:
    batch = a1111_noise(40, (4, 8, 8), batch=2, variation_seed=7, variation_strength=0.25)
    assert torch.equal(batch[1], image_noise("a1111 gpu", 40, (4, 8, 8), 8, 0.25))


def test_indices_continue_the_count() -> None:
    whole = a1111_noise(40, (4, 8, 8), batch=4)
    assert torch.equal(a1111_noise(40, (4, 8, 8), batch=2, indices=[2, 3]), whole[2:])


def test_does_not_touch_global_rng() -> None:
    torch.manual_seed(0)
    before = torch.random.get_rng_state()
    a1111_noise(5, (4, 8, 8), batch=2, source="a1111 cpu", variation_seed=3, variation_strength=0.5)
    a1111_noise(5, (4, 8, 8), batch=2, source="a1111 gpu", variation_seed=3, variation_strength=0.5)
    assert torch.equal(before, torch.random.get_rng_state())


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"source": "banana"}, "banana"),
        ({"variation_strength": 7}, "strength"),
        ({"variation_strength": float("nan"), "variation_seed": 1}, "strength"),
        ({"variation_strength": 0.5}, "variation seed"),
        ({"variation_strength": 0.5, "variation_seed": -1}, "variation seed"),
        ({"seed": -1}, "seed"),
        ({"seed": 2**64}, "seed"),
        ({"seed": 2**64 - 1, "batch": 2}, "seed"),
        ({"batch": 0}, "batch"),
        ({"shape": (4, 8)}, "shape"),
        ({"indices": [0]}, "indices"),
    ],
)
def test_bad_input_is_a_clear_error(kwargs: dict, match: str) -> None:
    args = {"seed": 1, "shape": (4, 8, 8), "batch": 2} | kwargs
    with pytest.raises(ValueError, match=match):
        a1111_noise(**args)


def test_core_modules_import_no_comfyui() -> None:
    import ast

    core = ROOT / "nodes" / "core"
    for name in ("a1111_noise.py", "philox.py"):
        tree = ast.parse((core / name).read_text(encoding="utf-8"))
        imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not any(m.split(".")[0] in ("comfy", "comfy_api", "nodes", "folder_paths") for m in imported), name
