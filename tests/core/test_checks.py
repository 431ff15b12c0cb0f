"""The pack's one input-check convention: ``check_*`` raises ValueError whose message starts with the input."""

from __future__ import annotations

from typing import Any

import pytest

from seed_number.nodes.core.details_fields import check_field
from seed_number.nodes.core.paths import check_prefixes
from seed_number.nodes.core.seeds import check_choices, check_count, check_strength
from seed_number.nodes.core.sockets import check_linked


@pytest.mark.parametrize(
    ("check", "starts"),
    [
        (lambda: check_linked("images", [None, "x"], "IMAGE"), "images: must be linked to a IMAGE output"),
        (lambda: check_prefixes(["ok", "../out"]), "filename_prefix:"),
        (lambda: check_choices("fixed", "diagonal", allow_none=False), "batch_seeds:"),
        (lambda: check_choices("fixed", "shared", allow_none=False, noise_source="banana"), "noise_source:"),
        (lambda: check_count(0), "count:"),
        (lambda: check_strength(float("nan")), "variation_strength:"),
        (lambda: check_field("seed", -1), "-1 is not a valid seed"),
    ],
)
def test_a_failing_check_raises_naming_the_input(check: Any, starts: str) -> None:
    with pytest.raises(ValueError) as refused:
        check()
    assert str(refused.value).startswith(starts)


def test_passing_checks_return_nothing() -> None:
    assert check_linked("images", [None, None], "IMAGE") is None
    assert check_prefixes(["SeedNumber/x", 7]) is None  # not text: left to ComfyUI's type check
    assert check_choices(None, None, allow_none=True) is None
    assert check_count(3) is None and check_strength("0.5") is None and check_field("seed", 5) is None
