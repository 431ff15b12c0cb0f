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

Speed (numpy + torch only: nothing to compile, no extra package). :func:`nv_randn` works in blocks of
at most :data:`CHUNK` elements, each in reused per-thread buffers (:class:`_Workspace`); a draw shared
with the helper thread is cut into equal blocks. What was chosen, and why (CPU time in multiples of
torch's CPU ``randn`` of the same size, one thread, measured on the machine below):

- **Philox, numpy** (3.8×, 60%): words 0 and 2 stacked, so one call multiplies both (uint32 ×
  uint64 → uint64, halves read as uint32 views); rounds 1–2, where three words are the same for
  every element, folded into per-draw constants (:class:`_Schedule`), round 1 a single add to a
  table of ``j·M1``; rounds 9–10 compute only what the output reads. Measured and rejected: torch
  int64 products (slower per element, and run on torch's thread pool above 32,768 elements),
  words kept in uint64 (no casting multiply, but strided writes cost more), contiguous low halves
  from a separate uint32 product or the high halves by a shift (any strided operand costs the
  same), the high half through float64 (more passes), blocks below 32,768 elements (numpy's
  per-call cost; 16,384 was 10% slower).
- **Box–Muller** (2.5×): ``u``, ``v``, ``sqrt`` and the products in numpy float64, exactly as the
  reference; ``log`` and ``sin`` by torch (MKL's vector maths in x86 builds, SLEEF elsewhere), 1.4×
  and 3.5× faster than numpy's C-library ones. Both differ from the C library's by at most 1 ulp
  (compared over all 2**32 possible inputs: 0.11% of the logs and 0.14% of the sines differ, none
  by more), so ``x`` is within 2**-50 of the reference's; each ``x`` is rounded to float32 from
  ``x·(1 ± 2**-40)`` (:data:`ROUNDING_MARGIN`) and the ~1 element in 45,000 where the two disagree
  is recomputed by the reference path (:func:`box_muller_sine`). The output is bit for bit the
  reference's (also compared with the previous, all-numpy implementation on 200 million elements of
  random seeds, offsets and shapes). Rejected: torch's ``sqrt`` (slower), a complex ``exp`` for the
  sine (7× slower).
- **torch's thread pool is avoided**: torch runs a float64 ``log`` or ``sin`` of ~2,000 elements or
  more on its OpenMP threads, which then spin, taking the CPU from everything else, and stall for
  milliseconds when the CPUs are busy; :data:`TORCH_BLOCK` (1,024) keeps them on the calling thread,
  with one ``_foreach`` call (one GIL release) per block.
- **One helper thread** (:data:`MAX_THREADS`): the caller and the helper take blocks in turn (numpy
  and torch release the GIL); a helper that has not started by the time the caller runs out of
  blocks is cancelled, and a running one is polled for (:func:`_join`). Not used for small draws
  (:data:`MIN_SHARED`), with one CPU (``os.sched_getaffinity``) or when torch is limited to one
  thread. Rejected: pinning the helper off the caller's CPU (Linux often wakes it on the caller's
  CPU, but forcing the other one hurt whenever that one was busy).

Measured with ``benchmarks/bench_a1111_noise.py`` (median of 200 calls interleaved with torch's CPU
``randn`` of the same shape from a fresh generator) on a shared 2-core AMD EPYC VM, nothing else
running: before (all numpy, one thread) 11.4–11.7× for 4×128×128 and 16×128×128; now 5.5× and
4.5× (wall time; the caller's own CPU time 4.9× and 4.2×, one thread alone 7.5× and 8×). The
helper's share depends on the machine: on this VM a woken thread takes ~0.1 ms to run, and the
two threads wait for each other's GIL ~10% of the time; with both CPUs busy the helper gains little.
"""

from __future__ import annotations

import math
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

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

CHUNK = 65536
"""Most elements per block in :func:`nv_randn` (sizes its reused buffers; results do not depend on it).

Large blocks mean fewer numpy calls, each releasing the GIL once; a draw shared between threads is
cut into equal blocks, as many as the threads or a multiple."""
JOIN_SPIN = 0.002
"""Seconds :func:`nv_randn` polls for a helper's last block before blocking (see :func:`_join`)."""
MIN_SHARED = 16384
"""Elements per thread below which a draw is not shared (a helper's start-up would cost more)."""
TORCH_BLOCK = 1024
"""Elements per torch ``log``/``sin`` (one ``_foreach`` call covers a whole block): torch runs a
float64 sine or log of ~2,000 elements or more on its own thread pool, whose threads then spin and
compete with :func:`nv_randn`'s (and stall when the CPUs are busy); 1,024 stays on the calling
thread."""
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
    ``differs`` the second float32 rounding of :func:`_box_muller_fast`; the views of them the
    rounds use are made once here. Fresh multi-megabyte arrays on every call cost page faults;
    reused ones do not.
    """

    _local = threading.local()

    def __init__(self, size: int, parent: _Workspace | None = None) -> None:
        self.size, self.torch_block = size, TORCH_BLOCK
        self._cuts: dict[int, _Workspace] = {}
        if parent is None:
            self.words = np.empty((2, size), np.uint32)
            self.products = (np.empty((2, size), np.uint64), np.empty((2, size), np.uint64))
            self.index_products = np.multiply(np.arange(size, dtype=np.uint64), _M1)  # j·M1 < 2**64
            self.check = np.empty(size, np.float32)
            self.differs = np.empty(size, np.bool_)
        else:
            self.words = parent.words[:, :size]
            self.products = (parent.products[0][:, :size], parent.products[1][:, :size])
            self.index_products = parent.index_products[:size]
            self.check, self.differs = parent.check[:size], parent.differs[:size]
        halves = [_halves(pair) for pair in self.products]
        self.lows = tuple(lows for lows, _ in halves)  # per buffer: [lo(c0·M0); lo(c2·M1)]
        self.highs = tuple(highs for _, highs in halves)
        self.lows_swapped = tuple(lows[::-1] for lows in self.lows)  # [lo(c2·M1); lo(c0·M0)]
        self.highs_swapped = tuple(highs[::-1] for highs in self.highs)
        self.floats = tuple((pair[0].view(np.float64), pair[1].view(np.float64)) for pair in self.products)
        self.log_parts = tuple(_torch_parts(uniforms) for uniforms, _ in self.floats)
        self.sine_parts = tuple(_torch_parts(angles) for _, angles in self.floats)

    @classmethod
    def get(cls) -> _Workspace:
        """This thread's workspace for blocks of up to :data:`CHUNK` elements (about 3.5 MB at 65,536)."""
        cached = getattr(cls._local, "workspace", None)
        if cached is None or (cached.size, cached.torch_block) != (CHUNK, TORCH_BLOCK):
            cached = cls._local.workspace = cls(CHUNK)
        return cached

    def sized(self, size: int) -> _Workspace:
        """This workspace for blocks of ``size`` elements: itself, or its buffers cut (kept for reuse)."""
        if size == self.size:
            return self
        cut = self._cuts.get(size)
        if cut is None:
            if len(self._cuts) > 8:
                self._cuts.clear()
            cut = self._cuts[size] = _Workspace(size, parent=self)
        return cut


def _torch_parts(values: np.ndarray) -> list[torch.Tensor]:
    """``values`` as torch views of at most :data:`TORCH_BLOCK` elements each (made once per workspace)."""
    return list(torch.from_numpy(values).split(TORCH_BLOCK))


class _Schedule:
    """What :func:`_nv_words` needs of one draw's key and counter, computed once per call.

    For the counters ``(d, 0, i, 0)`` words 1–3 are the same for every element until round 2, so
    everything they contribute folds into per-round constants here.
    """

    def __init__(self, draw: int, keys: list[tuple[int, int]]) -> None:
        (k0, k1), draw_product = keys[0], draw * PHILOX_M0
        self.round1_k0 = np.uint32(k0)  # round 1: c0 = hi(i·M1) ^ k0, c1 = lo(i·M1)
        c2, c3 = (draw_product >> 32) ^ k1, draw_product & MASK32
        (k0, k1), c2_product = keys[1], c2 * PHILOX_M1
        self.round2_c0 = np.uint32((c2_product >> 32) ^ k0)  # round 2: c0 = c1 ^ this
        self.round2_c2 = np.uint32(c3 ^ k1)  # c2 = hi(c0·M0) ^ this
        k0, k1 = keys[2]
        self.round3 = np.array([[(c2_product & MASK32) ^ k0], [k1]], np.uint32)  # round 3: c1 is an int
        self.middle = [np.array([[k0], [k1]], np.uint32) for k0, k1 in keys[3 : ROUNDS - 2]]
        self.round9_k1 = np.uint32(keys[ROUNDS - 2][1])
        self.round10_k0 = np.uint32(keys[ROUNDS - 1][0])


def _nv_words(space: _Workspace, start: int, plan: _Schedule) -> tuple[np.ndarray, np.ndarray, int]:
    """Words 0 and 1 of Philox4x32-10 of the counters ``(draw, 0, start + j, 0)``, ``j < space.size``.

    The rounds of :func:`_rounds`, unrolled for these counters: in rounds 1–2 some words are the
    same for every element (folded into ``plan``), from round 3 words 0 and 2 are multiplied in
    one numpy call (stacked in ``space.words``), round 9 skips the word 0 that round 10 does not
    read, and round 10 computes only words 0 and 1. Returns ``(w0, w1, free)``: ``w0``
    contiguous, ``w1`` a strided view into one of ``space.products``, ``free`` the index of the
    other (unused now).
    """
    words, buffers = space.words, space.products  # words: [c0; c2]
    # (``dtype=np.uint64`` everywhere: numpy 1's value-based casting would multiply a uint32 array
    # by a small uint64 scalar in uint32.)
    # Round 1: (j + start)·M1 = j·M1 + start·M1, exactly (the index is < 2**32).
    cur = 1
    np.add(space.index_products, np.uint64(start * PHILOX_M1), out=buffers[cur][1])
    np.bitwise_xor(space.highs[cur][1], plan.round1_k0, out=words[0])
    # Round 2: c0 and c1 arrays, c2 and c3 the same for all elements.
    c1, cur = space.lows[cur][1], cur ^ 1
    np.multiply(words[0], _M0, out=buffers[cur][0], dtype=np.uint64)
    np.bitwise_xor(c1, plan.round2_c0, out=words[0])
    np.bitwise_xor(space.highs[cur][0], plan.round2_c2, out=words[1])
    # Round 3: c1 the same for all elements (folded into the key), c3 = lo(c0·M0) of round 2.
    c3, cur = space.lows[cur][0], cur ^ 1
    np.multiply(words, _MULTIPLIERS, out=buffers[cur], dtype=np.uint64)
    np.bitwise_xor(space.highs_swapped[cur], plan.round3, out=words)
    words[1] ^= c3
    # Rounds 4–8: [c0; c2] = [hi(c2·M1); hi(c0·M0)] ^ [c1; c3] ^ key, [c1; c3] = [lo(c2·M1); lo(c0·M0)].
    for key in plan.middle:
        odd, cur = space.lows_swapped[cur], cur ^ 1
        np.multiply(words, _MULTIPLIERS, out=buffers[cur], dtype=np.uint64)
        np.bitwise_xor(space.highs_swapped[cur], odd, out=words)
        words ^= key
    # Round 9: round 10 reads only its c1 and c2.
    c3, cur = space.lows[cur][0], cur ^ 1
    np.multiply(words, _MULTIPLIERS, out=buffers[cur], dtype=np.uint64)
    np.bitwise_xor(space.highs[cur][0], c3, out=words[1])
    words[1] ^= plan.round9_k1
    # Round 10: w0 = hi(c2·M1) ^ c1 ^ k0, w1 = lo(c2·M1); round 9's buffer is free after it.
    c1, free, cur = space.lows[cur][1], cur, cur ^ 1
    np.multiply(words[1], _M1, out=buffers[cur][1], dtype=np.uint64)
    np.bitwise_xor(space.highs[cur][1], c1, out=words[0])
    words[0] ^= plan.round10_k0
    return words[0], space.lows[cur][1], free


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
    c0, c1, c2, c3 = words
    out = _rounds(c0, c1, c2, c3, _round_keys(k0, k1, rounds))
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
    ``space.products[free]``; the sine runs on blocks of :data:`TORCH_BLOCK` (see there).
    """
    u, v = space.floats[free]
    _uniform(w0, u)
    _angle(w1, v)
    _in_place(_FOREACH_LOG, "log_", space.log_parts[free])
    u *= -2.0
    np.sqrt(u, out=u)
    _in_place(_FOREACH_SIN, "sin_", space.sine_parts[free])
    np.multiply(u, v, out=u)
    np.multiply(u, 1.0 + ROUNDING_MARGIN, out=out, casting="same_kind")
    np.multiply(u, 1.0 - ROUNDING_MARGIN, out=space.check, casting="same_kind")
    differs = np.not_equal(out, space.check, out=space.differs)
    if not differs.any():
        return 0
    redo = np.flatnonzero(differs)
    out[redo] = box_muller_sine(w0[redo], w1[redo])
    return int(redo.size)


_FOREACH_LOG = getattr(torch, "_foreach_log_", None)
_FOREACH_SIN = getattr(torch, "_foreach_sin_", None)


def _in_place(foreach: Callable[[list[torch.Tensor]], object] | None, method: str, parts: list[torch.Tensor]) -> None:
    """A torch function in place on each of ``parts``: one call into torch (one GIL release) with
    its ``_foreach`` form (a loop over the tensors in C++) where torch has it, else the tensor
    ``method`` in a Python loop."""
    if foreach is not None:
        foreach(parts)
        return
    for part in parts:
        getattr(part, method)()


def _fill_blocks(out: np.ndarray, blocks: Iterator[tuple[int, int]], plan: _Schedule) -> None:
    """Fill ``out`` block by block, taking ``(start, stop)`` bounds from the shared ``blocks`` until it runs out."""
    workspace = _Workspace.get()
    for start, stop in blocks:
        space = workspace.sized(stop - start)
        w0, w1, free = _nv_words(space, start, plan)
        _box_muller_fast(w0, w1, out[start:stop], space, free)


class _SharedBlocks:
    """Block bounds handed out one at a time to several threads (a lock around an iterator)."""

    def __init__(self, bounds: list[tuple[int, int]]) -> None:
        self._bounds = iter(bounds)
        self._lock = threading.Lock()

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return self

    def __next__(self) -> tuple[int, int]:
        with self._lock:
            return next(self._bounds)


def _block_bounds(count: int, threads: int) -> list[tuple[int, int]]:
    """``(start, stop)`` of each block: as few as :data:`CHUNK` allows, a multiple of ``threads``, equal sizes."""
    if count == 0:
        return []
    blocks = -(-count // CHUNK)
    blocks = min(count, -(-blocks // threads) * threads)
    size = -(-count // blocks)
    return [(start, min(count, start + size)) for start in range(0, count, size)]


class _Helpers:
    """The helper threads (:data:`MAX_THREADS` − 1): a thread pool, started on first use, idle between calls."""

    _lock = threading.Lock()
    _pool: ThreadPoolExecutor | None = None

    @classmethod
    def start(cls, count: int, fill: Callable[..., None], *args: object) -> list[Future[None]]:
        """``fill(*args)`` on ``count`` helper threads."""
        with cls._lock:
            if cls._pool is None:
                cls._pool = ThreadPoolExecutor(max(1, MAX_THREADS - 1), thread_name_prefix="seed-number-philox")
            pool = cls._pool
        return [pool.submit(fill, *args) for _ in range(count)]


def _join(helper: Future[None], spin: float = JOIN_SPIN) -> None:
    """Wait for ``helper``: cancelled if it has not started (its blocks are done), else polled for up to
    ``spin`` seconds (releasing the GIL), then waited for. Waking a blocked thread took ~0.1 ms on
    the machine measured, 7% of a 4×128×128 draw; the helper's last block ends within one block."""
    if helper.cancel():
        return
    deadline = time.perf_counter() + spin
    while not helper.done() and time.perf_counter() < deadline:
        time.sleep(0)
    helper.result()


def _usable_cpus() -> frozenset[int] | None:
    """The CPUs the calling thread may run on, or None where the platform does not say."""
    return frozenset(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None


def _thread_count(count: int, cpus: frozenset[int] | None = None) -> int:
    """Threads worth using for ``count`` elements: one per :data:`MIN_SHARED` elements, never more
    than the CPUs this thread may use (``cpus``; all of the machine's when None), nor torch's own
    thread setting (a caller who limited torch to one thread gets one)."""
    available = len(cpus) if cpus is not None else (os.cpu_count() or 1)
    return max(1, min(MAX_THREADS, count // MIN_SHARED, available, torch.get_num_threads()))


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
    plan = _Schedule(draw, _round_keys(k0, k1, ROUNDS))
    out = np.empty(count, dtype=np.float32)
    cpus = _usable_cpus()
    threads = _thread_count(count, cpus)
    bounds = _block_bounds(count, threads)
    if threads == 1:
        _fill_blocks(out, iter(bounds), plan)
    else:
        blocks = _SharedBlocks(bounds)
        helpers = _Helpers.start(threads - 1, _fill_blocks, out, blocks, plan)
        try:
            _fill_blocks(out, blocks, plan)
        finally:
            for helper in helpers:
                _join(helper)
    return torch.from_numpy(out).reshape(dims)
