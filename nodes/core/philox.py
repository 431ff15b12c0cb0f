"""Philox4x32-10 and cuRAND's Box–Muller: CUDA's ``torch.randn`` computed on any device (numpy + torch).

What CUDA computes (and AUTOMATIC1111/Forge's "NV" RNG reproduces on the CPU), for the ``k``-th draw
(``offset = k``, 0 for a fresh generator) of ``n`` numbers from a generator seeded with the 64-bit
``seed``: element ``i`` of the flattened (C-order) tensor is

1. ``w = Philox4x32-10(counter=(offset, 0, i, 0), key=(seed mod 2**32, seed >> 32))`` — cuRAND's
   ``curand_init(seed, subsequence=i, offset=4 * offset)``: the element index is the subsequence
   (the counter's upper 64 bits), the draw number the offset (its lower 64 bits, in blocks of four);
2. Box–Muller on the first two words only: ``u = w[0] * 2**-32 + 2**-33``,
   ``v = w[1] * K + K / 2`` with ``K = float32(2**-32 * 2*pi)`` (cuRAND's ``CURAND_2POW32_INV`` and
   ``CURAND_2POW32_INV_2PI``), ``x = sqrt(-2 ln u) * sin v`` (the sine branch; ``w[2]``, ``w[3]`` and
   the cosine are unused);
3. ``u``, ``v`` and ``x`` are computed in float64 and ``x`` is rounded to float32 once, as A1111's
   "NV" generator does (CUDA itself evaluates the Box–Muller in float32 with its own ``logf``/
   ``sinf``, so real CUDA output can differ from this in the last bits of some elements).

This is CUDA's layout whenever PyTorch's ``normal_`` kernel launches a thread per element (its
``calc_execution_policy``: 256-thread blocks, at most ``multiprocessors × maxThreadsPerMultiProcessor``
threads, ``curand_init(seed, thread, offset)`` and the first value of ``curand_normal4``), i.e.
for tensors up to that many elements: 270,336 on an H100 (132 × 2048), 196,608 on an RTX 4090
(128 × 1536), but only 43,008 on an RTX 3060 (28 × 1536), fewer than a 1024² SDXL latent's 65,536.
Past that a CUDA thread also fills elements ``i + T``, ``i + 2T``, ``i + 3T`` (T threads) from the
other three normals of its call, so real CUDA noise depends on the card; A1111's "NV" — and this
module — always use the one-element-per-subsequence layout.

Sources (algorithms and constants, implemented here from their descriptions):

- J. K. Salmon, M. A. Moraes, R. O. Dror, D. E. Shaw, "Parallel random numbers: as easy as 1, 2, 3",
  SC '11 (doi:10.1145/2063384.2063405): the Philox4x32 round (multipliers ``0xD2511F53`` and
  ``0xCD9E8D57``) and its Weyl key schedule (``0x9E3779B9``, ``0xBB67AE85``), 10 rounds; Random123
  (``philox.h``, ``tests/kat_vectors``) for the known-answer vectors the tests use.
- NVIDIA cuRAND (``curand_init`` semantics, ``curand_normal``'s Box–Muller and its constants).
- The behaviour above was learned by reading AUTOMATIC1111's ``modules/rng_philox.py`` /
  ``modules/rng.py`` (AGPL); none of their code is copied or translated here.
"""

from __future__ import annotations

import math
import os
import sys
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
from numpy.typing import ArrayLike

PHILOX_M0 = 0xD2511F53
PHILOX_M1 = 0xCD9E8D57
PHILOX_W0 = 0x9E3779B9
"""Weyl increment of key word 0 (golden ratio)."""
PHILOX_W1 = 0xBB67AE85
"""Weyl increment of key word 1 (sqrt(3) - 1)."""
ROUNDS = 10
MASK32 = 0xFFFFFFFF
MAX_ELEMENTS = 2**32
"""The element index is one 32-bit counter word, as in A1111's "NV" generator."""

TWO_POW32_INV = 2.0**-32
"""cuRAND's ``CURAND_2POW32_INV`` (the float32 literal ``2.3283064e-10f`` is exactly 2**-32)."""
TWO_POW32_INV_2PI = float(np.float32(2.0**-32 * np.float32(2 * math.pi)))
"""cuRAND's ``CURAND_2POW32_INV_2PI`` = float32(2**-32 · float32(2π)) = 0x1.921fb6p-30."""

CHUNK = 32768
"""Elements per block in :func:`nv_randn` (sizes its reused buffers; results do not depend on it)."""
SINE_BLOCK = 1024
"""Elements per ``torch.sin`` call: torch runs a float64 sine of 2,048 elements or more on its own
thread pool, whose threads then spin and compete with :func:`nv_randn`'s (and stall when the CPUs
are busy); 1,024 stays on the calling thread."""
MAX_THREADS = 2
"""Threads :func:`nv_randn` spreads its blocks over (the caller's included), at most."""
ROUNDING_MARGIN = 2.0**-40
"""Relative distance from a float32 rounding boundary under which the fast sine is not trusted.

The fast path's float64 result may differ from the reference (``np.sin``) path's by a few float64
ulps (≤ 2**-50 relative); an element whose float32 rounding could change within ±2**-40 of its
value is recomputed the reference way (about 1 element in 60,000)."""

_LO, _HI = (0, 1) if sys.byteorder == "little" else (1, 0)
_M0 = np.uint64(PHILOX_M0)
_M1 = np.uint64(PHILOX_M1)
_MULTIPLIERS = np.array([[PHILOX_M0], [PHILOX_M1]], dtype=np.uint64)
"""The multipliers of words 0 and 2, as a column to broadcast over the stacked words ``[c0; c2]``."""

Word = np.ndarray | np.uint32
"""A counter word: a uint32 array, or one uint32 shared by every element."""


def _mul_halves(word: Word, multiplier: np.uint64) -> tuple[Word, Word]:
    """The low and high 32-bit halves of ``word * multiplier`` (32×32 → 64 bits)."""
    product = np.multiply(word, multiplier, dtype=np.uint64)
    return _halves(product) if np.ndim(product) else (np.uint32(product & MASK32), np.uint32(product >> 32))


def _halves(products: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The low and high 32-bit halves of uint64 ``products`` as uint32 views (strided, no copy)."""
    pairs = products.view(np.uint32).reshape(*products.shape, 2)
    return pairs[..., _LO], pairs[..., _HI]


def _round_keys(k0: int, k1: int, rounds: int) -> list[tuple[int, int]]:
    """The key of each round: the Weyl schedule ``key + r·W`` (mod 2**32), bumped between rounds."""
    return [((k0 + r * PHILOX_W0) & MASK32, (k1 + r * PHILOX_W1) & MASK32) for r in range(rounds)]


def _rounds(c0: Word, c1: Word, c2: Word, c3: Word, keys: list[tuple[int, int]]) -> tuple[Word, Word, Word, Word]:
    """The Philox4x32 rounds on uint32 words (broadcasting): two 32×32→64 products and key mixes per round.

    The plain form, for :func:`philox4x32`; :func:`_nv_words` is the same rounds, unrolled for
    ``nv_randn``'s counters.
    """
    for k0, k1 in keys:
        lo0, hi0 = _mul_halves(c0, _M0)
        lo2, hi2 = _mul_halves(c2, _M1)
        c0, c1, c2, c3 = hi2 ^ c1 ^ np.uint32(k0), lo2, hi0 ^ c3 ^ np.uint32(k1), lo0
    return c0, c1, c2, c3


class _Workspace:
    """Buffers for :func:`nv_randn`'s blocks, reused across calls (one set per thread).

    ``words`` holds Philox words 0 and 2 stacked (so one numpy call multiplies both), ``products``
    two pairs of their 64-bit products (a round reads the previous round's low halves; the pair
    the last round does not write holds the Box–Muller's float64 ``u`` and ``v``), ``check`` and
    ``differs`` the second float32 rounding of :func:`_box_muller_fast`. Fresh multi-megabyte arrays
    on every call cost page faults; reused ones do not.
    """

    _local = threading.local()

    def __init__(self, size: int) -> None:
        self.size = size
        self.words = np.empty((2, size), np.uint32)
        self.products = (np.empty((2, size), np.uint64), np.empty((2, size), np.uint64))
        self.index = np.arange(size, dtype=np.uint32)
        self.check = np.empty(size, np.float32)
        self.differs = np.empty(size, np.bool_)
        self.sine_block = SINE_BLOCK
        self.sine_parts = tuple(_sine_parts(pair[1].view(np.float64)) for pair in self.products)

    @classmethod
    def get(cls) -> _Workspace:
        """This thread's workspace for blocks of up to :data:`CHUNK` elements (about 1.4 MB at 32,768)."""
        cached = getattr(cls._local, "workspace", None)
        if cached is None or (cached.size, cached.sine_block) != (CHUNK, SINE_BLOCK):
            cached = cls._local.workspace = cls(CHUNK)
        return cached

    def trimmed(self, size: int) -> _Workspace:
        """The same buffers cut to the first ``size`` elements (for a last, shorter block)."""
        view = object.__new__(_Workspace)
        view.size, view.sine_block = size, self.sine_block
        view.words, view.index = self.words[:, :size], self.index[:size]
        view.products = (self.products[0][:, :size], self.products[1][:, :size])
        view.check, view.differs = self.check[:size], self.differs[:size]
        view.sine_parts = tuple(_sine_parts(pair[1].view(np.float64)) for pair in view.products)
        return view


def _sine_parts(angles: np.ndarray) -> list[torch.Tensor]:
    """``angles`` as torch views of at most :data:`SINE_BLOCK` elements each (made once per workspace)."""
    return list(torch.from_numpy(angles).split(SINE_BLOCK))


def _nv_words(
    space: _Workspace, start: int, draw: int, keys: list[tuple[int, int]]
) -> tuple[np.ndarray, np.ndarray, int]:
    """Words 0 and 1 of Philox4x32-10 of the counters ``(draw, 0, start + j, 0)``, ``j < space.size``.

    The rounds of :func:`_rounds`, unrolled for these counters: in rounds 1–2 some words are
    the same for every element (plain ints here), from round 3 words 0 and 2 are multiplied in one
    numpy call (stacked in ``space.words``), round 9 skips the word 0 that round 10 does not read,
    and round 10 computes only words 0 and 1. Returns ``(w0, w1, free)``: ``w0`` contiguous, ``w1``
    a strided view into one of ``space.products``, ``free`` the index of the other (unused now).
    """
    words, buffers = space.words, space.products  # words: [c0; c2]
    cur = 1
    # Round 1, counter (d, 0, i, 0): word 2 is the index, the others the same for all elements.
    (k0, k1), draw_product = keys[0], draw * PHILOX_M0
    np.add(space.index, np.uint32(start), out=words[0])
    np.multiply(words[0], _M1, out=buffers[cur][1], dtype=np.uint64)
    lo2, hi2 = _halves(buffers[cur][1])
    np.bitwise_xor(hi2, np.uint32(k0), out=words[0])  # c0 = hi(i·M1) ^ k0
    c1 = lo2  # array
    c2 = (draw_product >> 32) ^ k1  # int
    c3 = draw_product & MASK32  # int
    # Round 2: c0 and c1 arrays, c2 and c3 ints.
    (k0, k1), cur = keys[1], cur ^ 1
    np.multiply(words[0], _M0, out=buffers[cur][0], dtype=np.uint64)
    lo0, hi0 = _halves(buffers[cur][0])
    c2_product = c2 * PHILOX_M1
    np.bitwise_xor(c1, np.uint32((c2_product >> 32) ^ k0), out=words[0])  # c0 = hi(c2·M1) ^ c1 ^ k0
    np.bitwise_xor(hi0, np.uint32(c3 ^ k1), out=words[1])  # c2 = hi(c0·M0) ^ c3 ^ k1
    c1 = c2_product & MASK32  # int
    c3 = lo0  # array
    # Round 3: c0, c2 and c3 arrays, c1 an int (folded into the key).
    (k0, k1), cur = keys[2], cur ^ 1
    np.multiply(words, _MULTIPLIERS, out=buffers[cur], dtype=np.uint64)
    lows, highs = _halves(buffers[cur])
    np.bitwise_xor(highs[::-1], np.array([[c1 ^ k0], [k1]], np.uint32), out=words)
    words[1] ^= c3
    # Rounds 4–8: [c0; c2] = [hi(c2·M1); hi(c0·M0)] ^ [c1; c3] ^ key, [c1; c3] = [lo(c2·M1); lo(c0·M0)].
    for k0, k1 in keys[3 : ROUNDS - 2]:
        odd, cur = lows[::-1], cur ^ 1  # odd: this round's [c1; c3]
        np.multiply(words, _MULTIPLIERS, out=buffers[cur], dtype=np.uint64)
        lows, highs = _halves(buffers[cur])
        np.bitwise_xor(highs[::-1], odd, out=words)
        words ^= np.array([[k0], [k1]], np.uint32)
    # Round 9: round 10 reads only its c1 and c2.
    (k0, k1), c3, cur = keys[ROUNDS - 2], lows[0], cur ^ 1
    np.multiply(words, _MULTIPLIERS, out=buffers[cur], dtype=np.uint64)
    lows, highs = _halves(buffers[cur])
    np.bitwise_xor(highs[0], c3, out=words[1])
    words[1] ^= np.uint32(k1)
    c1 = lows[1]
    # Round 10: w0 = hi(c2·M1) ^ c1 ^ k0, w1 = lo(c2·M1); round 9's buffer is free after it.
    (k0, _), free, cur = keys[ROUNDS - 1], cur, cur ^ 1
    np.multiply(words[1], _M1, out=buffers[cur][1], dtype=np.uint64)
    lo2, hi2 = _halves(buffers[cur][1])
    np.bitwise_xor(hi2, c1, out=words[0])
    words[0] ^= np.uint32(k0)
    return words[0], lo2, free


def _check_word(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or not 0 <= int(value) <= MASK32:
        raise ValueError(f"{what} must be an integer in 0 … 2**32 - 1, got {value!r}")
    return int(value)


def philox4x32(
    counter: Sequence[ArrayLike], key: tuple[int, int], rounds: int = ROUNDS
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Philox4x32-R (R = 10 by default) of many counters under one key, vectorised.

    ``counter`` is four 32-bit words, each an int or an array of uint32-representable values; they
    broadcast against each other (a word that is the same for every element costs nothing in the
    first rounds). ``key`` is two 32-bit words. Returns the four output words as uint32 arrays of the
    broadcast shape (read-only; some are views into a wider buffer).
    """
    if len(counter) != 4 or len(key) != 2:
        raise ValueError("Philox4x32 takes four counter words and two key words")
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1:
        raise ValueError(f"rounds must be a positive integer, got {rounds!r}")
    k0, k1 = (_check_word(k, "a key word") for k in key)
    words = []
    for word in counter:
        array = np.asarray(word)
        if array.dtype != np.uint32:
            if array.dtype.kind not in "iu" or (array.size and (array.min() < 0 or array.max() > MASK32)):
                raise ValueError("counter words must be integers in 0 … 2**32 - 1")
            array = array.astype(np.uint32)
        words.append(array)
    out = _rounds(*words, _round_keys(k0, k1, rounds))
    shape = np.broadcast_shapes(*(np.shape(w) for w in out))
    return tuple(np.broadcast_to(w, shape) for w in out)  # type: ignore[return-value]


def seed_key(seed: int) -> tuple[int, int]:
    """The Philox key of a 64-bit seed, as ``curand_init`` sets it: (low 32 bits, high 32 bits)."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or not 0 <= int(seed) < 2**64:
        raise ValueError(f"seed must be an integer in 0 … 2**64 - 1, got {seed!r}")
    seed = int(seed)
    return seed & MASK32, seed >> 32


def box_muller_sine(
    w0: np.ndarray, w1: np.ndarray, out: np.ndarray | None = None, scratch: tuple[np.ndarray, np.ndarray] | None = None
) -> np.ndarray:
    """cuRAND's Box–Muller sine branch of two uint32 word arrays: float64 maths, rounded to float32 once.

    The reference form (numpy's ``log``, ``sqrt`` and ``sin``). Writes into ``out`` (float32, the
    words' shape) when given, using the two float64 arrays of ``scratch`` (the words' shape) for
    ``u`` and ``v`` when given; returns the float32 array.
    """
    u, v = scratch if scratch is not None else (None, None)
    u = _uniform(w0, u)
    v = _angle(w1, v)
    _radius(u)
    np.sin(v, out=v)
    if out is None:
        out = np.empty(u.shape, dtype=np.float32)
    return np.multiply(u, v, out=out, casting="same_kind")  # the float64 product, rounded to float32


def _uniform(w0: np.ndarray, out: np.ndarray | None) -> np.ndarray:
    """``u = w0 · 2**-32 + 2**-33`` in float64 (exact: a 32-bit integer times 2**-32, plus 2**-33)."""
    u = np.multiply(w0, TWO_POW32_INV, out=out, dtype=np.float64)
    u += TWO_POW32_INV / 2
    return u


def _angle(w1: np.ndarray, out: np.ndarray | None) -> np.ndarray:
    """``v = w1 · K + K / 2`` in float64, each operation rounded as cuRAND's formula has it."""
    v = np.multiply(w1, TWO_POW32_INV_2PI, out=out, dtype=np.float64)
    v += TWO_POW32_INV_2PI / 2
    return v


def _radius(u: np.ndarray) -> np.ndarray:
    """``sqrt(-2 ln u)`` in place, in float64 (numpy's ``log``; ``sqrt`` is correctly rounded everywhere)."""
    np.log(u, out=u)
    u *= -2.0
    return np.sqrt(u, out=u)


def _box_muller_fast(w0: np.ndarray, w1: np.ndarray, out: np.ndarray, space: _Workspace, free: int) -> int:
    """:func:`box_muller_sine` into ``out``, bit for bit, with torch's vectorised sine; returns the redone count.

    ``torch.sin`` (SLEEF, ≤ 1 ulp) is several times faster than numpy's (the C library's, ≤ 1 ulp),
    but the two can differ in the last bit of float64 (0.14% of all 2**32 angles, never by more than
    1 ulp on the machine measured). Each float64 product ``x`` is rounded to float32 twice, from
    ``x·(1 + m)`` and ``x·(1 − m)`` (m = :data:`ROUNDING_MARGIN`): rounding is monotonic, so where
    both agree the reference's ``x`` (within ``m`` of this one) rounds to the same float32. The few
    elements where they disagree are redone with :func:`box_muller_sine`. ``u`` and ``v`` live in
    ``space.products[free]``; the sine runs on blocks of :data:`SINE_BLOCK` (see there).
    """
    pair = space.products[free]
    u = _uniform(w0, pair[0].view(np.float64))
    v = _angle(w1, pair[1].view(np.float64))
    _radius(u)
    for part in space.sine_parts[free]:
        part.sin_()
    np.multiply(u, v, out=u)
    np.multiply(u, 1.0 + ROUNDING_MARGIN, out=out, casting="same_kind")
    np.multiply(u, 1.0 - ROUNDING_MARGIN, out=space.check, casting="same_kind")
    differs = np.not_equal(out, space.check, out=space.differs)
    if not differs.any():
        return 0
    redo = np.flatnonzero(differs)
    out[redo] = box_muller_sine(w0[redo], w1[redo])
    return int(redo.size)


def _fill_blocks(out: np.ndarray, blocks: Iterator[int], draw: int, keys: list[tuple[int, int]]) -> None:
    """Fill ``out`` block by block, taking block starts from the shared ``blocks`` until it runs out."""
    workspace = _Workspace.get()
    count = out.shape[0]
    for start in blocks:
        stop = min(count, start + workspace.size)
        space = workspace if stop - start == workspace.size else workspace.trimmed(stop - start)
        w0, w1, free = _nv_words(space, start, draw, keys)
        _box_muller_fast(w0, w1, out[start:stop], space, free)


class _SharedBlocks:
    """Block starts handed out one at a time to several threads (a lock around an iterator)."""

    def __init__(self, starts: range) -> None:
        self._starts = iter(starts)
        self._lock = threading.Lock()

    def __iter__(self) -> Iterator[int]:
        return self

    def __next__(self) -> int:
        with self._lock:
            return next(self._starts)


_pool_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None


def _helpers() -> ThreadPoolExecutor:
    """The helper threads (``MAX_THREADS - 1``), started on first use and idle between calls."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max(1, MAX_THREADS - 1), thread_name_prefix="seed-number-philox")
        return _pool


def _thread_count(blocks: int) -> int:
    """Threads worth using for ``blocks`` blocks: never more than CPUs this process may use, nor
    torch's own thread setting (a caller who limited torch to one thread gets one)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(MAX_THREADS, blocks, cpus, torch.get_num_threads()))


def nv_randn(seed: int, shape: Sequence[int], offset: int = 0) -> torch.Tensor:
    """CUDA's ``torch.randn(shape)`` from a generator seeded with ``seed`` (A1111's "NV"), on the CPU.

    ``offset`` is the number of earlier draws from that generator (0 for the first). The full 64-bit
    seed is used. Returns a float32 CPU tensor of ``shape``.
    """
    k0, k1 = seed_key(seed)
    dims = tuple(int(d) for d in shape)
    if any(d < 0 for d in dims):
        raise ValueError(f"shape must not have negative sizes, got {tuple(shape)!r}")
    count = math.prod(dims)
    if count > MAX_ELEMENTS:
        raise ValueError(f"at most 2**32 elements per draw, got {count}")
    draw = _check_word(offset, "offset")
    keys = _round_keys(k0, k1, ROUNDS)
    out = np.empty(count, dtype=np.float32)
    starts = range(0, count, CHUNK)
    threads = _thread_count(len(starts))
    if threads == 1:
        _fill_blocks(out, iter(starts), draw, keys)
    else:
        blocks = _SharedBlocks(starts)
        helpers = [_helpers().submit(_fill_blocks, out, blocks, draw, keys) for _ in range(threads - 1)]
        try:
            _fill_blocks(out, blocks, draw, keys)
        finally:
            for helper in helpers:
                if not helper.cancel():  # a helper that has not started has nothing left to do
                    helper.result()
    return torch.from_numpy(out).reshape(dims)
