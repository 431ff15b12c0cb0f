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
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from .details_fields import preview

NODE_ID = "SeedSource|SeedNumber"
SEED_OUTPUT, NOISE_OUTPUT = 0, 1
"""Seed Source's output slots, as a prompt's links name them (public API: saved workflows link by
slot; a comfy-tier test holds them to the node's schema)."""
MAX_SEED = 2**53 - 1
"""Largest seed Seed Source gives: the largest integer a browser holds exactly. (Seeds recorded
from other nodes, e.g. KSampler's own, go up to ``details_fields.MAX_SEED_ANY`` = 2**64 - 1.)"""
IDEOGRAM_MAX_SEED = 2_147_483_647
"""Ideogram's seed range is 0 … 2,147,483,647."""

MODES = ("fixed", "random", "increment", "decrement")
DEFAULT_MODE = "random"
BATCH_SEEDS = ("shared", "per image")
DEFAULT_BATCH_SEEDS = "shared"
MAX_COUNT = 64
"""Most seeds one Seed Source sweeps in one queue (its ``count`` input)."""
NOISE_SOURCES = ("comfy", "a1111 gpu", "a1111 cpu")
"""Seed Source's ``noise_source`` options: ComfyUI's noise, A1111/Forge's GPU ("NV") and CPU noise."""
DEFAULT_NOISE_SOURCE = "comfy"

_STEP = {"increment": 1, "decrement": -1}

Queued = Callable[[str], bool]
"""Tells whether the prompt with this id reached ComfyUI's queue (queued, running or done)."""


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


def step_seed(seed: int, delta: int) -> int:
    """``seed + delta`` wrapped into 0 … MAX_SEED."""
    return (seed + delta) % (MAX_SEED + 1)


def sweep_seeds(base: int, count: int) -> list[int]:
    """The ``count`` consecutive seeds of a seed sweep from ``base`` (wrapping past MAX_SEED)."""
    return [step_seed(base, k) for k in range(count)]


@dataclass
class _Count:
    """One counter: the last seed known to be used, and the seed of a queueing not yet confirmed."""

    last: int | None = None
    pending: int | None = None
    ticket: str | None = None


class SeedCounter:
    """Remembers the last seed each (client, node, base seed) used, for increment/decrement.

    The first queueing of a base seed uses the base itself (as ComfyUI's own
    "control after generate" does); each later one steps from the last used seed. A changed base
    seed starts over.

    A step counts only for a prompt that was queued: the prompt hook runs before validation, so
    it records its seed as *pending* with a ticket (the prompt id), and the next queueing asks
    ``queued(ticket)`` whether that prompt reached the queue; a prompt that failed validation
    consumes nothing. Without a ticket (no server: scripts and tests) a step counts at once.

    Bounded per client: one client's prompts can only ever evict that client's own counters
    (``max_keys`` each), and a client is forgotten only after ``max_clients`` others were active
    since it was last seen.
    """

    def __init__(self, max_keys: int = 2048, max_clients: int = 256) -> None:
        self._clients: OrderedDict[str, OrderedDict[Hashable, _Count]] = OrderedDict()
        self._max_keys = max_keys
        self._max_clients = max_clients
        self._lock = threading.Lock()

    def peek(
        self, client: str, key: Hashable, base: int, mode: str, stride: int = 1, queued: Queued | None = None
    ) -> int:
        """The seed the next queueing of ``key`` would use; changes nothing (see :meth:`commit`)."""
        with self._lock:
            counts = self._clients.get(client)
            count = None if counts is None else counts.get(key)
        last = None if count is None else _settled(count, queued)
        return base if last is None else step_seed(last, _STEP[mode] * stride)

    def commit(
        self, client: str, key: Hashable, seed: int, ticket: str | None = None, queued: Queued | None = None
    ) -> None:
        """Record that ``seed`` was handed out for ``key`` (pending until ``ticket`` is queued)."""
        with self._lock:
            counts = self._clients.pop(client, None)
            if counts is None:
                counts = OrderedDict()
            self._clients[client] = counts  # most recently active last
            count = counts.pop(key, None) or _Count()
            count.last = _settled(count, queued)
            if ticket is None:
                count.last, count.pending, count.ticket = seed, None, None
            else:
                count.pending, count.ticket = seed, ticket
            counts[key] = count
            while len(counts) > self._max_keys:
                counts.popitem(last=False)
            while len(self._clients) > self._max_clients:
                self._clients.popitem(last=False)

    def next(self, key: Hashable, base: int, mode: str, stride: int = 1, client: str = "") -> int:
        """Peek and commit at once: the seed for a queueing that is certain to run."""
        seed = self.peek(client, key, base, mode, stride)
        self.commit(client, key, seed)
        return seed

    def clear(self) -> None:
        with self._lock:
            self._clients.clear()

    def __len__(self) -> int:
        return sum(len(counts) for counts in self._clients.values())


def _settled(count: _Count, queued: Queued | None) -> int | None:
    """The last used seed, counting the pending one when its prompt was queued."""
    if count.pending is not None and (count.ticket is None or queued is None or queued(count.ticket)):
        return count.pending
    return count.last


def check_choices(mode: Any, batch_seeds: Any, allow_none: bool, noise_source: Any = DEFAULT_NOISE_SOURCE) -> None:
    """ValueError naming the input whose value is not one of its options."""
    for name, value, options in (
        ("mode", mode, MODES),
        ("batch_seeds", batch_seeds, BATCH_SEEDS),
        ("noise_source", noise_source, NOISE_SOURCES),
    ):
        if value is None and allow_none:
            continue
        if not isinstance(value, str) or value not in options:
            raise ValueError(f"{name}: {value!r} is not one of {', '.join(options)}")


def coerce_strength(value: Any) -> float | None:
    """``variation_strength`` as ComfyUI's FLOAT validation reads it (``float(value)``), when it is
    a finite number in 0 … 1; None otherwise (NaN, infinities, text, out of range)."""
    if isinstance(value, bool) or value is None or isinstance(value, list | dict | tuple):
        return None
    try:
        strength = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return strength if math.isfinite(strength) and 0.0 <= strength <= 1.0 else None


def check_strength(value: Any) -> None:
    """ValueError naming ``variation_strength`` when it is not a number from 0 to 1."""
    if coerce_strength(value) is None:
        raise ValueError(f"variation_strength: {preview(value)} is not a number from 0 to 1")


PerImage = int | dict[str, int]
"""A seed as recorded for each image of a batch: an int (every image), or ``{"per_image_base": b}`` (b + i)."""


def image_seed_rule(
    seed: int, per_image: bool, noise_source: str, variation_seed: int | None, strength: float
) -> tuple[PerImage, PerImage | None]:
    """The seed and variation seed of each image of a batch of Seed Source's noise, as recorded.

    A1111's assignment: without variation image *i* gets ``seed + i``; with a variation strength
    other than 0 every image keeps ``seed`` and gets ``variation_seed + i``. It holds in the a1111
    sources and under ``per image``; ``shared`` ComfyUI noise gives every image both seeds as they are.
    """
    varied = strength != 0.0 and variation_seed is not None
    by_image = per_image or noise_source != DEFAULT_NOISE_SOURCE
    if not varied:
        return ({"per_image_base": seed} if by_image else seed), None
    assert variation_seed is not None
    return seed, ({"per_image_base": variation_seed} if by_image else variation_seed)


def check_count(count: Any) -> None:
    """ValueError naming ``count`` when it is not a whole number from 1 to MAX_COUNT."""
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_COUNT:
        raise ValueError(f"count: {count!r} is not a whole number from 1 to {MAX_COUNT}")


def resolve_at_run_time(
    counter: SeedCounter, seed_number: int | None, mode: str, ideogram_range: bool, node_id: str, count: int = 1
) -> int:
    """The (base) seed for a run the prompt hook did not resolve (a linked seed, or no hook at all);
    increment / decrement count on ``counter`` (the process's run-time counter)."""
    if mode == "random" or seed_number is None:
        return draw_random_seed(ideogram_range)
    if mode in ("increment", "decrement"):
        return counter.next(("", node_id, seed_number), seed_number, mode, stride=count)
    return seed_number
