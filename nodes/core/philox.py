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
import sys
import threading
from collections.abc import Sequence

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
"""Elements per block in :func:`nv_randn` (sizes its reused buffers; results do not depend on it)."""

_LO, _HI = (0, 1) if sys.byteorder == "little" else (1, 0)
_M0 = np.uint64(PHILOX_M0)
_M1 = np.uint64(PHILOX_M1)

Word = np.ndarray | np.uint32
"""A counter word: a uint32 array, or one uint32 shared by every element."""


def _mul_halves(word: Word, multiplier: np.uint64, out: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The low and high 32-bit halves of ``word * multiplier`` (32×32 → 64 bits), as uint32 views.

    The product goes into ``out`` (uint64, the word's size) when the word is an array.
    """
    if out is not None and np.ndim(word):
        product = np.multiply(word, multiplier, out=out, dtype=np.uint64)
    else:
        product = np.multiply(word, multiplier, dtype=np.uint64)
    pairs = product.reshape(*np.shape(product), 1).view(np.uint32)  # (..., 2): the two halves of each
    return pairs[..., _LO], pairs[..., _HI]


def _mix(high: Word, low: Word, key: np.uint32, out: np.ndarray | None = None) -> Word:
    """``high ^ low ^ key`` (into ``out`` when either operand is an array)."""
    if out is None or not (np.ndim(high) or np.ndim(low)):
        mixed = np.bitwise_xor(high, low)
        return np.bitwise_xor(mixed, key)
    np.bitwise_xor(high, low, out=out)
    out ^= key
    return out


def _round_keys(k0: int, k1: int, rounds: int) -> list[tuple[np.uint32, np.uint32]]:
    """The key of each round: the Weyl schedule ``key + r·W`` (mod 2**32), bumped between rounds."""
    return [(np.uint32((k0 + r * PHILOX_W0) & MASK32), np.uint32((k1 + r * PHILOX_W1) & MASK32)) for r in range(rounds)]


def _rounds(
    c0: Word,
    c1: Word,
    c2: Word,
    c3: Word,
    keys: list[tuple[np.uint32, np.uint32]],
    workspace: _Workspace | None = None,
) -> tuple[Word, Word, Word, Word]:
    """The Philox4x32 rounds on uint32 words (broadcasting): two 32×32→64 products and key mixes per round.

    With a ``workspace`` (sized like the array words) nothing is allocated: products alternate
    between its two pairs of buffers, the mixed words overwrite its two word buffers.
    """
    for r, (round_k0, round_k1) in enumerate(keys):
        products = workspace.products[r % 2] if workspace else (None, None)
        lo0, hi0 = _mul_halves(c0, _M0, products[0])
        lo2, hi2 = _mul_halves(c2, _M1, products[1])
        new0 = _mix(hi2, c1, round_k0, workspace.word0 if workspace else None)
        new2 = _mix(hi0, c3, round_k1, workspace.word2 if workspace else None)
        c0, c1, c2, c3 = new0, lo2, new2, lo0
    return c0, c1, c2, c3


class _Workspace:
    """Buffers for :func:`nv_randn`'s blocks, reused across calls (one set per thread).

    Fresh multi-megabyte arrays on every call cost page faults (about 700 per 4×128×128 draw);
    reused ones do not.
    """

    _local = threading.local()

    def __init__(self, size: int) -> None:
        self.products = [(np.empty(size, np.uint64), np.empty(size, np.uint64)) for _ in range(2)]
        self.word0 = np.empty(size, np.uint32)
        self.word2 = np.empty(size, np.uint32)
        self.index = np.arange(size, dtype=np.uint32)

    @classmethod
    def get(cls) -> _Workspace:
        """This thread's workspace for blocks of up to :data:`CHUNK` elements (about 2.8 MB)."""
        cached = getattr(cls._local, "workspace", None)
        if cached is None or cached.word0.shape[0] != CHUNK:
            cached = cls._local.workspace = cls(CHUNK)
        return cached

    def trimmed(self, size: int) -> _Workspace:
        """The same buffers cut to the first ``size`` elements (for a last, shorter block)."""
        view = object.__new__(_Workspace)
        view.products = [(a[:size], b[:size]) for a, b in self.products]
        view.word0, view.word2, view.index = self.word0[:size], self.word2[:size], self.index[:size]
        return view


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
    shape = np.broadcast_shapes(*(w.shape for w in out))
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

    Writes into ``out`` (float32, the words' shape) when given, using the two float64 arrays of
    ``scratch`` (the words' shape) for ``u`` and ``v`` when given; returns the float32 array.
    numpy's single-threaded kernels: torch's multi-threaded ones stall when the CPU is oversubscribed.
    """
    u, v = scratch if scratch is not None else (None, None)
    u = np.multiply(w0, TWO_POW32_INV, out=u, dtype=np.float64)  # exact: a 32-bit integer times 2**-32
    u += TWO_POW32_INV / 2
    v = np.multiply(w1, TWO_POW32_INV_2PI, out=v, dtype=np.float64)
    v += TWO_POW32_INV_2PI / 2
    np.log(u, out=u)
    u *= -2.0
    np.sqrt(u, out=u)
    np.sin(v, out=v)
    if out is None:
        out = np.empty(u.shape, dtype=np.float32)
    return np.multiply(u, v, out=out, casting="same_kind")  # the float64 product, rounded to float32


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
    draw = np.uint32(_check_word(offset, "offset"))
    keys = _round_keys(k0, k1, ROUNDS)
    zero = np.uint32(0)
    out = np.empty(count, dtype=np.float32)
    workspace = _Workspace.get()
    for start in range(0, count, CHUNK):
        stop = min(count, start + CHUNK)
        space = workspace if stop - start == CHUNK else workspace.trimmed(stop - start)
        index = np.add(space.index, np.uint32(start), out=space.word2)  # the element numbers of this block
        w0, w1, _, _ = _rounds(draw, zero, index, zero, keys, space)
        free = space.products[ROUNDS % 2]  # the pair the last round did not write
        scratch = (free[0].view(np.float64), free[1].view(np.float64))
        box_muller_sine(w0, w1, out=out[start:stop], scratch=scratch)  # type: ignore[arg-type]
    return torch.from_numpy(out).reshape(dims)
