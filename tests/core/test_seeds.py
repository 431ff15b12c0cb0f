"""Seeds: coercion like ComfyUI's validation, private random draws, the increment counter."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seed_number.nodes.core import seeds
from seed_number.nodes.core.seeds import IDEOGRAM_MAX_SEED, MAX_SEED, SeedCounter, coerce_seed, step_seed


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, 0),
        (MAX_SEED, MAX_SEED),
        ("12", 12),
        (1.5, 1),
        (True, 1),
        (" 7 ", 7),
        (-1, None),
        (MAX_SEED + 1, None),
        ("abc", None),
        ("1.5", None),
        (None, None),
        ([1, 0], None),
        ({"a": 1}, None),
        (float("nan"), None),
        (float("inf"), None),
        ("", None),
    ],
)
def test_coerce_seed_matches_comfyui_int_coercion(value: object, expected: int | None) -> None:
    assert coerce_seed(value) == expected


@given(st.integers(min_value=0, max_value=MAX_SEED), st.integers(min_value=-5, max_value=5))
def test_step_seed_stays_in_range_and_inverts(seed: int, delta: int) -> None:
    stepped = step_seed(seed, delta)
    assert 0 <= stepped <= MAX_SEED
    assert step_seed(stepped, -delta) == seed


def test_random_draws_ignore_global_rng_state() -> None:
    draws = []
    for _ in range(20):
        random.seed(0)
        draws.append(seeds.draw_random_seed())
    assert len(set(draws)) == 20


def test_ideogram_range_bounds_draws() -> None:
    draws = [seeds.draw_random_seed(ideogram_range=True) for _ in range(200)]
    assert all(0 <= d <= IDEOGRAM_MAX_SEED for d in draws)
    assert max(draws) > 2**20  # really spread over the range


def test_counter_starts_at_base_then_steps_and_restarts_on_new_base() -> None:
    counter = SeedCounter()
    assert [counter.next("k", 10, "increment") for _ in range(3)] == [10, 11, 12]
    assert [counter.next("k2", 10, "decrement") for _ in range(3)] == [10, 9, 8]
    assert counter.next("k3", 0, "decrement") == 0
    assert counter.next("k3", 0, "decrement") == MAX_SEED


def test_counter_is_bounded() -> None:
    counter = SeedCounter(max_keys=10)
    for i in range(100):
        counter.next(i, i, "increment")
    assert len(counter) == 10
