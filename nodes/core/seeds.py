"""Seeds: ranges, coercion, private random draws and the increment/decrement counter.

Nothing here touches the global ``random`` or torch RNG state: random seeds come from the
operating system (``secrets``), so no other node's ``random.seed()`` or ``torch.manual_seed()``
can make them repeat.
"""

from __future__ import annotations

import math
import secrets
import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

NODE_ID = "SeedSource|SeedNumber"
MAX_SEED = 2**53 - 1
"""Largest seed: the largest integer a browser holds exactly."""
IDEOGRAM_MAX_SEED = 2_147_483_647
"""Ideogram's seed range is 0 … 2,147,483,647."""

MODES = ("fixed", "random", "increment", "decrement")
DEFAULT_MODE = "random"
BATCH_SEEDS = ("shared", "per image")
DEFAULT_BATCH_SEEDS = "shared"
MAX_COUNT = 64
"""Most seeds one Seed Source sweeps in one queue (its ``count`` input)."""

_STEP = {"increment": 1, "decrement": -1}


def draw_random_seed(ideogram_range: bool = False) -> int:
    """A fresh random seed from the OS entropy pool (never the global RNGs)."""
    upper = IDEOGRAM_MAX_SEED if ideogram_range else MAX_SEED
    return secrets.randbelow(upper + 1)


def coerce_seed(value: Any) -> int | None:
    """The seed ComfyUI's validation would accept for ``value``, or None when it would refuse it.

    ComfyUI converts INT inputs with ``int(value)`` before range checks, so ``"12"`` is 12 and
    ``1.5`` is 1; a value that does not convert, or lands outside 0 … MAX_SEED, is invalid.
    """
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, list | dict | tuple):
        return None
    try:
        seed = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return seed if 0 <= seed <= MAX_SEED else None


def is_link(value: Any) -> bool:
    """True for an API-format link ``[node_id, output_index]``."""
    return isinstance(value, list) and len(value) == 2 and isinstance(value[1], int)


def step_seed(seed: int, delta: int) -> int:
    """``seed + delta`` wrapped into 0 … MAX_SEED."""
    return (seed + delta) % (MAX_SEED + 1)


def sweep_seeds(base: int, count: int) -> list[int]:
    """The ``count`` consecutive seeds of a seed sweep from ``base`` (wrapping past MAX_SEED)."""
    return [step_seed(base, k) for k in range(count)]


class SeedCounter:
    """Remembers the last seed each (client, node, base seed) used, for increment/decrement.

    The first queueing of a base seed uses the base itself (as ComfyUI's own
    "control after generate" does); each later one steps from the last used seed. A changed base
    seed starts over. Bounded: the oldest keys are forgotten past ``max_keys``.
    """

    def __init__(self, max_keys: int = 4096) -> None:
        self._last: OrderedDict[Hashable, int] = OrderedDict()
        self._max_keys = max_keys
        self._lock = threading.Lock()

    def next(self, key: Hashable, base: int, mode: str, stride: int = 1) -> int:
        """The seed to use now for ``key`` in ``mode`` (``increment`` or ``decrement``).

        ``stride`` is the sweep size, so consecutive sweeps of N seeds do not overlap.
        """
        delta = _STEP[mode] * stride
        with self._lock:
            last = self._last.pop(key, None)
            seed = base if last is None else step_seed(last, delta)
            self._last[key] = seed
            while len(self._last) > self._max_keys:
                self._last.popitem(last=False)
            return seed

    def clear(self) -> None:
        with self._lock:
            self._last.clear()

    def __len__(self) -> int:
        return len(self._last)


runtime_counter = SeedCounter()
"""Counter for increment/decrement with a linked seed, resolved when the node runs."""


def check_choices(mode: Any, batch_seeds: Any, allow_none: bool) -> bool | str:
    """True, or a message naming the input whose value is not one of its options."""
    for name, value, options in (("mode", mode, MODES), ("batch_seeds", batch_seeds, BATCH_SEEDS)):
        if value is None and allow_none:
            continue
        if not isinstance(value, str) or value not in options:
            return f"{name}: {value!r} is not one of {', '.join(options)}"
    return True


def check_count(count: Any) -> bool | str:
    """True, or a message naming ``count`` when it is not a whole number from 1 to MAX_COUNT."""
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_COUNT:
        return f"count: {count!r} is not a whole number from 1 to {MAX_COUNT}"
    return True


def resolve_at_run_time(
    seed_number: int | None, mode: str, ideogram_range: bool, node_id: str, count: int = 1
) -> int:
    """The (base) seed for a run the prompt hook did not resolve (a linked seed, or no hook at all)."""
    if mode == "random" or seed_number is None:
        return draw_random_seed(ideogram_range)
    if mode in ("increment", "decrement"):
        return runtime_counter.next(("", node_id, seed_number), seed_number, mode, stride=count)
    return seed_number
