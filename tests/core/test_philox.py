"""Philox4x32-10 + Box–Muller: published known answers and an independent scalar reference.

The reference (``philox_reference.py``) is written from the published algorithm (Salmon et al.
2011; Random123's ``philox.h``), in a different shape from the module's: plain Python integers, one
counter at a time, with the key bumped *before* each round after the first (Random123's order). The
normal reference uses Python's ``math`` (the C library's double ``log``/``sin``/``sqrt``) and rounds
to float32 once, as A1111's "NV" generator does; the module must agree bit for bit.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from seed_number.nodes.core.philox import (
    TWO_POW32_INV,
    TWO_POW32_INV_2PI,
    nv_randn,
    philox4x32,
    seed_key,
)
from tests.core.philox_reference import (
    INV,
    INV_2PI,
    MASK,
    reference_box_muller,
    reference_philox,
    reference_randn,
)

# Random123 tests/kat_vectors (github.com/DEShawResearch/random123), the philox4x32 lines:
# rounds, counter (4 words), key (2 words), expected output (4 words).
KAT = [
    (7, "00000000 00000000 00000000 00000000", "00000000 00000000", "5f6fb709 0d893f64 4f121f81 4f730a48"),
    (7, "ffffffff ffffffff ffffffff ffffffff", "ffffffff ffffffff", "5207ddc2 45165e59 4d8ee751 8c52f662"),
    (7, "243f6a88 85a308d3 13198a2e 03707344", "a4093822 299f31d0", "4dfccaba 190a87f0 c47362ba b6b5242a"),
    (10, "00000000 00000000 00000000 00000000", "00000000 00000000", "6627e8d5 e169c58d bc57ac4c 9b00dbd8"),
    (10, "ffffffff ffffffff ffffffff ffffffff", "ffffffff ffffffff", "408f276d 41c83b0e a20bc7c6 6d5451fd"),
    (10, "243f6a88 85a308d3 13198a2e 03707344", "a4093822 299f31d0", "d16cfe09 94fdcceb 5001e420 24126ea1"),
]


def words(text: str) -> list[int]:
    return [int(w, 16) for w in text.split()]


@pytest.mark.parametrize(("rounds", "counter", "key", "expected"), KAT)
def test_known_answers(rounds: int, counter: str, key: str, expected: str) -> None:
    got = philox4x32(words(counter), tuple(words(key)), rounds=rounds)
    assert [int(w) for w in got] == words(expected)
    assert reference_philox(words(counter), words(key), rounds) == words(expected)


def test_vectorised_equals_scalar_reference_on_random_counters() -> None:
    rng = np.random.default_rng(19)
    counters = rng.integers(0, 2**32, size=(4, 500), dtype=np.uint64).astype(np.uint32)
    key = (0x12345678, 0x9ABCDEF0)
    got = np.stack(philox4x32(list(counters), key))
    for i in range(counters.shape[1]):
        assert got[:, i].tolist() == reference_philox([int(w) for w in counters[:, i]], list(key))


def test_broadcast_counter_words() -> None:
    index = np.arange(7, dtype=np.uint32)
    got = np.stack(philox4x32((3, 0, index, 0), (5, 6)))
    assert got.shape == (4, 7)
    for i in range(7):
        assert got[:, i].tolist() == reference_philox([3, 0, i, 0], [5, 6])


def test_curand_constants() -> None:
    assert TWO_POW32_INV == INV == 2.0**-32
    assert TWO_POW32_INV_2PI == INV_2PI
    assert INV_2PI.hex() == "0x1.921fb60000000p-30"


def test_seed_key_is_low_then_high_word() -> None:
    assert seed_key(0) == (0, 0)
    assert seed_key(2**32 + 1234) == (1234, 1)
    assert seed_key(2**64 - 1) == (MASK, MASK)


def test_published_output_for_seed_0() -> None:
    """The output A1111 publishes for its "NV" generator with seed 0 and shape (3, 4), to 8 decimals.

    Those printed values are within 2.7e-7 of ours, not equal: they are not the float32 values
    A1111's own float64 Box–Muller returns (which the scalar reference pins bitwise) but look
    like CUDA's (float32 ``logf``/``sinf``, a few float32 ulps away). Hence the tolerance.
    """
    published = torch.tensor(
        [
            [-0.92466259, -0.42534415, -2.6438457, 0.14518388],
            [-0.12086647, -0.57972564, -0.62285122, -0.32838709],
            [-1.07454231, -0.36314407, -1.67105067, 2.26550497],
        ]
    )
    got = nv_randn(0, (3, 4))
    assert got.dtype == torch.float32 and got.shape == (3, 4)
    assert torch.allclose(got, published, rtol=0, atol=3e-7)


@pytest.mark.parametrize("seed", [0, 1234, 2**32 - 1, 2**32 + 1234, 2**53 - 1])
@pytest.mark.parametrize("shape", [(4, 8, 8), (4, 8, 12), (16, 8, 8), (16, 8, 12)])
def test_nv_randn_equals_scalar_reference_bitwise(seed: int, shape: tuple[int, int, int]) -> None:
    assert torch.equal(nv_randn(seed, shape), reference_randn(seed, shape))


def test_offset_is_the_draw_number() -> None:
    assert torch.equal(nv_randn(42, (2, 3, 5), offset=1), reference_randn(42, (2, 3, 5), 1))
    assert not torch.equal(nv_randn(42, (2, 3, 5), offset=1), nv_randn(42, (2, 3, 5)))


def test_full_64_bit_seed() -> None:
    assert not torch.equal(nv_randn(2**32 + 1234, (4, 8, 8)), nv_randn(1234, (4, 8, 8)))
    assert not torch.equal(nv_randn(2**53 - 1, (4, 8, 8)), nv_randn(2**32 - 1, (4, 8, 8)))


def test_layout_is_c_order_of_the_flat_index() -> None:
    flat = nv_randn(7, (120,))
    assert torch.equal(nv_randn(7, (2, 3, 4, 5)).flatten(), flat)
    assert torch.equal(nv_randn(7, (0, 3)), torch.empty(0, 3))


def test_blocks_do_not_change_the_result(monkeypatch: pytest.MonkeyPatch) -> None:
    from seed_number.nodes.core import philox

    whole = nv_randn(11, (4, 8, 12))
    monkeypatch.setattr(philox, "CHUNK", 7)
    assert torch.equal(nv_randn(11, (4, 8, 12)), whole)


def test_threads_do_not_share_buffers() -> None:
    from concurrent.futures import ThreadPoolExecutor

    shapes = [(4, 64, 64), (16, 32, 48), (4, 8, 12), (3, 5)] * 6
    expected = [nv_randn(i, shape) for i, shape in enumerate(shapes)]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda a: nv_randn(a[0], a[1]), enumerate(shapes)))
    assert all(torch.equal(g, e) for g, e in zip(got, expected, strict=True))


def test_results_are_fresh_tensors() -> None:
    first = nv_randn(1, (4, 8, 8))
    kept = first.clone()
    nv_randn(2, (4, 8, 8))
    assert torch.equal(first, kept)


def test_statistics_of_a_big_draw() -> None:
    x = nv_randn(99, (16, 128, 128)).double()
    assert abs(x.mean().item()) < 0.01 and abs(x.std().item() - 1) < 0.01
    assert torch.isfinite(x).all()


def test_does_not_touch_global_rng() -> None:
    torch.manual_seed(0)
    before = torch.random.get_rng_state()
    np_before = np.random.get_state()[1].copy()
    nv_randn(5, (4, 8, 8))
    assert torch.equal(before, torch.random.get_rng_state())
    assert np.array_equal(np_before, np.random.get_state()[1])


@pytest.mark.parametrize("seed", [-1, 2**64, 1.5, True, "3"])
def test_bad_seed(seed: object) -> None:
    with pytest.raises(ValueError, match="seed"):
        nv_randn(seed, (4, 8, 8))  # type: ignore[arg-type]


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="2\\*\\*32 elements"):
        nv_randn(0, (2**16, 2**16 + 1))
    with pytest.raises(ValueError, match="negative"):
        nv_randn(0, (4, -1))
    with pytest.raises(ValueError, match="offset"):
        nv_randn(0, (4,), offset=-1)
    with pytest.raises(ValueError, match="key word"):
        philox4x32((0, 0, 0, 0), (2**32, 0))
    with pytest.raises(ValueError, match="counter words"):
        philox4x32((0, 0, -1, 0), (0, 0))
    with pytest.raises(ValueError, match="four counter words"):
        philox4x32((0, 0, 0), (0, 0))


def test_fast_box_muller_equals_reference_on_edge_and_random_words() -> None:
    """The torch-sine path (with its re-rounding check) against the reference form, bit for bit.

    The words cover the ends of both ranges, angles next to π (where the sine is smallest relative
    to its argument) and random pairs.
    """
    from seed_number.nodes.core import philox

    rng = np.random.default_rng(23)
    edges = np.array([0, 1, 2, 2**31 - 1, 2**31, 2**31 + 1, 2**32 - 2, 2**32 - 1], dtype=np.uint64)
    near_pi = np.arange(2**31 - 3000, 2**31 + 3000, dtype=np.uint64)
    w0 = np.concatenate([np.repeat(edges, edges.size), rng.integers(0, 2**32, near_pi.size, dtype=np.uint64)])
    w1 = np.concatenate([np.tile(edges, edges.size), near_pi])
    w0 = np.concatenate([w0, rng.integers(0, 2**32, 300_000, dtype=np.uint64)]).astype(np.uint32)
    w1 = np.concatenate([w1, rng.integers(0, 2**32, 300_000, dtype=np.uint64)]).astype(np.uint32)
    space = philox._Workspace(w0.size)
    fast = np.empty(w0.size, np.float32)
    philox._box_muller_fast(w0, w1, fast, space, 0)
    assert np.array_equal(fast.view(np.uint32), philox.box_muller_sine(w0, w1).view(np.uint32))
    for i in range(0, 64 + near_pi.size, 97):
        assert fast[i] == reference_box_muller(int(w0[i]), int(w1[i]))


def test_elements_near_a_rounding_boundary_are_redone(monkeypatch: pytest.MonkeyPatch) -> None:
    """A wide margin sends many elements down the reference path; the result must not change."""
    from seed_number.nodes.core import philox

    expected = reference_randn(3, (4, 8, 12))
    monkeypatch.setattr(philox, "ROUNDING_MARGIN", 2.0**-20)
    redone = []
    original = philox._box_muller_fast
    monkeypatch.setattr(philox, "_box_muller_fast", lambda *args: redone.append(original(*args)) or redone[-1])
    assert torch.equal(nv_randn(3, (4, 8, 12)), expected)
    assert sum(redone) > 10


@pytest.mark.parametrize(("chunk", "torch_block"), [(7, 3), (64, 7), (96, 96), (384, 1024)])
def test_block_and_torch_block_sizes_do_not_change_the_result(
    monkeypatch: pytest.MonkeyPatch, chunk: int, torch_block: int
) -> None:
    from seed_number.nodes.core import philox

    expected = reference_randn(11, (4, 8, 12))
    monkeypatch.setattr(philox, "CHUNK", chunk)
    monkeypatch.setattr(philox, "TORCH_BLOCK", torch_block)
    assert torch.equal(nv_randn(11, (4, 8, 12)), expected)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_helper_threads_do_not_change_the_result(monkeypatch: pytest.MonkeyPatch, threads: int) -> None:
    from seed_number.nodes.core import philox

    expected = reference_randn(1234, (16, 8, 12))
    monkeypatch.setattr(philox, "CHUNK", 40)
    monkeypatch.setattr(philox, "MAX_THREADS", threads)
    monkeypatch.setattr(philox, "_thread_count", lambda count, _cpus: min(threads, count))
    assert torch.equal(nv_randn(1234, (16, 8, 12)), expected)


def test_many_callers_share_the_helper_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from seed_number.nodes.core import philox

    monkeypatch.setattr(philox, "CHUNK", 100)
    monkeypatch.setattr(philox, "_thread_count", lambda count, _cpus: min(2, count))
    shapes = [(4, 16, 16), (16, 8, 12), (3, 5), (4, 8, 12)] * 4
    expected = [reference_randn(i, shape) for i, shape in enumerate(shapes)]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda a: nv_randn(a[0], a[1]), enumerate(shapes)))
    assert all(torch.equal(g, e) for g, e in zip(got, expected, strict=True))


def test_thread_count_respects_cpus_and_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    from seed_number.nodes.core import philox

    monkeypatch.setattr(philox, "MAX_THREADS", 2)
    monkeypatch.setattr(philox.torch, "get_num_threads", lambda: 8)
    big, four = 16 * 128 * 128, frozenset(range(4))
    assert philox._thread_count(philox.MIN_SHARED, four) == 1  # too small to share
    assert philox._thread_count(big, four) == 2
    assert philox._thread_count(big, frozenset({0})) == 1  # a single CPU: no helper thread
    monkeypatch.setattr(philox.torch, "get_num_threads", lambda: 1)
    assert philox._thread_count(big, four) == 1  # torch limited to one thread: so is the noise


def test_join_waits_for_a_running_helper_and_skips_a_pending_one() -> None:
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from seed_number.nodes.core import philox

    started, gate, done = threading.Event(), threading.Event(), []
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(lambda: (started.set(), gate.wait(), done.append(1)))
        pending = pool.submit(done.append, 2)
        started.wait()
        threading.Timer(0.01, gate.set).start()
        philox._join(pending)  # not started: cancelled, no wait
        philox._join(running, spin=0.0005)  # started: polled, then waited for
    assert done == [1] and pending.cancelled()


@pytest.mark.parametrize(
    ("count", "threads"), [(1, 1), (7, 2), (65536, 1), (65536, 2), (65537, 2), (262144, 2), (99, 4)]
)
def test_block_bounds_cover_the_draw_in_equal_blocks(count: int, threads: int) -> None:
    from seed_number.nodes.core import philox

    bounds = philox._block_bounds(count, threads)
    assert bounds[0][0] == 0 and bounds[-1][1] == count
    assert all(a[1] == b[0] for a, b in itertools.pairwise(bounds))
    sizes = [stop - start for start, stop in bounds]
    assert max(sizes) <= philox.CHUNK and len(set(sizes[:-1])) <= 1 and sizes[-1] <= sizes[0]
    assert len(bounds) >= min(threads, count)
    assert philox._block_bounds(0, threads) == []
