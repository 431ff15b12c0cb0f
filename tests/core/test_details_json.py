"""Our JSON chunk: compact, versioned, round-trips; wrong types dropped and reported; only DetailsError raised."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seed_number.nodes.core.details_fields import DetailsError
from seed_number.nodes.core.details_json import details_json, parse_details_json
from seed_number.nodes.core.reproducibility import VERDICTS
from seed_number.nodes.core.sampler_names import (
    COMFY_SAMPLERS,
)
from tests.core.details_samples import DETAILS


def test_details_json_is_compact_sorted_ascii_versioned() -> None:
    numpy = pytest.importorskip("numpy")
    text = details_json(
        {"seed": numpy.int64(1), "cfg": float("nan"), "denoise": numpy.float32(0.5), "positive": "café", "z": (1, 2)}
    )
    assert text == '{"cfg":null,"denoise":0.5,"positive":"caf\\u00e9","seed":1,"version":1,"z":[1,2]}'
    assert details_json({"version": 99, "steps": float("inf")}) == '{"steps":null,"version":1}'


def test_details_json_refuses_what_json_cannot_hold() -> None:
    with pytest.raises(DetailsError):
        details_json({"seed": object()})
    with pytest.raises(DetailsError):
        details_json("not a mapping")  # type: ignore[arg-type]


def test_details_json_round_trip_example() -> None:
    problems: list[str] = []
    assert parse_details_json(details_json(DETAILS), problems) == DETAILS
    assert problems == []


_FIELD_VALUES = {
    "seed": st.integers(0, 2**64 - 1),
    "seeds": st.lists(st.integers(0, 2**53 - 1), max_size=5),
    "positive": st.text(),
    "negative": st.text(),
    "label": st.text(max_size=50),
    "steps": st.integers(1, 10_000),
    "cfg": st.floats(0, 100),
    "denoise": st.floats(0, 1),
    "width": st.integers(1, 2**31 - 1),
    "sampler": st.sampled_from(COMFY_SAMPLERS),
    "vae": st.none(),
    "reproducible": st.fixed_dictionaries(
        {"verdict": st.sampled_from(VERDICTS), "reasons": st.lists(st.text(), max_size=5)}
    ),
}


@settings(max_examples=150, deadline=None)
@given(st.fixed_dictionaries({}, optional=_FIELD_VALUES))
def test_details_json_round_trips(details: dict[str, Any]) -> None:
    problems: list[str] = []
    assert parse_details_json(details_json(details), problems) == details
    assert problems == []


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ('"12"', "seed"),
        (str(2**80), "seed"),
        ("-1", "seed"),
        ("1.5", "seed"),
        ("true", "seed"),
        ("NaN", "seed"),
        ('"x"', "steps"),
        ("0", "steps"),
        ("NaN", "cfg"),
        ("Infinity", "cfg"),
        ("1e400", "denoise"),
        ("[]", "width"),
        ('[1, "2"]', "seeds"),
        ('{"verdict": 1}', "reproducible"),
        ('{"a": 1}', "model"),
        ("5", "positive"),
        (json.dumps("x" * 5000), "label"),
    ],
)
def test_parse_details_json_drops_wrong_types_and_says_so(raw: str, field: str) -> None:
    problems: list[str] = []
    text = details_json({**DETAILS, field: None}).replace(f'"{field}":null', f'"{field}":{raw}')
    details = parse_details_json(text, problems)
    assert field not in details
    assert details == {k: v for k, v in DETAILS.items() if k != field}
    assert len(problems) == 1 and repr(field) in problems[0]


def test_parse_details_json_accepts_integral_floats() -> None:
    assert parse_details_json('{"version": 1, "steps": 20.0, "seed": 5e3}') == {"steps": 20, "seed": 5000}


def test_parse_details_json_versions_and_unknown_fields() -> None:
    problems: list[str] = []
    details = parse_details_json('{"seed": 1, "future": "x", "nested": {"a": [1]}, "version": 2}', problems)
    assert details == {"seed": 1, "future": "x"}
    assert len(problems) == 2 and "newer" in problems[0] and "'nested'" in problems[1]
    problems.clear()
    assert parse_details_json('{"seed": 1}', problems) == {"seed": 1}
    assert problems == ["details JSON has no valid version (null)"]


@pytest.mark.parametrize(
    "text", ["", "{", "[1]", "null", '"x"', "[" * 100_000, '{"a":' * 100_000, '{"seed": ' + "9" * 5000 + "}"]
)
def test_parse_details_json_raises_only_details_error(text: str) -> None:
    with pytest.raises(DetailsError):
        parse_details_json(text)


def test_parse_details_json_length_limit() -> None:
    with pytest.raises(DetailsError, match="max_text"):
        parse_details_json('{"positive": "' + "a" * 100 + '"}', max_text=50)
