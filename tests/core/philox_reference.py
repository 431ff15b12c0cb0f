"""An independent scalar reference for Philox4x32-10 and the cuRAND-style Box–Muller normal.

Written from the published algorithm (Salmon et al. 2011; Random123's ``philox.h``), in a different
shape from ``nodes/core/philox.py``: plain Python integers, one counter at a time, with the key bumped
*before* each round after the first (Random123's order). The normal uses Python's ``math`` (the C
library's double ``log``/``sin``/``sqrt``) and rounds to float32 once, as A1111's "NV" generator
does. ``test_philox.py`` checks it against published known answers; ``test_a1111_noise.py`` uses it
as the ``a1111 gpu`` reference.
"""

from __future__ import annotations

import functools
import math
import struct

import torch

MASK = 0xFFFFFFFF


def reference_philox(counter: list[int], key: list[int], rounds: int = 10) -> list[int]:
    """Philox4x32-R of one counter, from the paper: S-box by two 32×32→64 products, Weyl key schedule."""
    x0, x1, x2, x3 = counter
    k0, k1 = key
    for r in range(rounds):
        if r:
            k0 = (k0 + 0x9E3779B9) & MASK
            k1 = (k1 + 0xBB67AE85) & MASK
        a = 0xD2511F53 * x0
        b = 0xCD9E8D57 * x2
        x0, x1, x2, x3 = (b >> 32) ^ x1 ^ k0, b & MASK, (a >> 32) ^ x3 ^ k1, a & MASK
    return [x0, x1, x2, x3]


def to_float32(value: float) -> float:
    return struct.unpack("<f", struct.pack("<f", value))[0]


# cuRAND: CURAND_2POW32_INV = 2.3283064e-10f (that float32 is exactly 2**-32), and
# CURAND_2POW32_INV_2PI = 2.3283064e-10f * 6.2831855f (float32 2π, scaled by 2**-32: exact).
INV = to_float32(2.3283064e-10)
INV_2PI = INV * to_float32(6.2831855)


def reference_normal(seed: int, index: int, offset: int = 0) -> float:
    """Element ``index`` of the ``offset``-th CUDA randn draw of ``seed``: sine branch, double, then float32."""
    w = reference_philox([offset, 0, index, 0], [seed & MASK, seed >> 32])
    u = w[0] * INV + INV / 2
    v = w[1] * INV_2PI + INV_2PI / 2
    return to_float32(math.sqrt(-2.0 * math.log(u)) * math.sin(v))


@functools.cache
def reference_randn(seed: int, shape: tuple[int, ...], offset: int = 0) -> torch.Tensor:
    values = [reference_normal(seed, i, offset) for i in range(math.prod(shape))]
    return torch.tensor(values, dtype=torch.float32).reshape(shape)


def reference_box_muller(w0: int, w1: int) -> float:
    """The Box–Muller sine branch of one pair of words, with Python's ``math`` (double), then float32."""
    return to_float32(math.sqrt(-2.0 * math.log(w0 * INV + INV / 2)) * math.sin(w1 * INV_2PI + INV_2PI / 2))
