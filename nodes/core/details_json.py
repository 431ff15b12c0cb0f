"""Our own JSON of the details (the ``seed_number_details`` PNG text): exact, versioned, validated.

Pure Python (stdlib only). ``details_json`` writes compact, sorted, pure-ASCII JSON with
``"version": DETAILS_VERSION``; ``parse_details_json`` reads it back, each known field checked by
``details_fields.validate_details``. ``load_json`` is the bounded JSON parse every JSON reader shares
(ComfyUI's ``prompt`` chunk too): length-checked, and nesting bounded by Python's recursion limit.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Mapping
from typing import Any

from .details_fields import MAX_DEFAULT_TEXT, DetailsError, preview, validate_details

__all__ = ["DETAILS_VERSION", "details_json", "load_json", "parse_details_json"]

DETAILS_VERSION = 1
"""Version of our JSON; a reader reports a newer one and reads the fields it knows."""


def _jsonable(value: Any, depth: int) -> Any:
    if depth > 16:
        raise DetailsError("details nest deeper than 16 levels")
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v, depth + 1) for v in value]
    raise DetailsError(f"cannot store a {type(value).__name__} in the details JSON")


def details_json(details: Mapping[str, Any]) -> str:
    """Our JSON for ``png_text.DETAILS_CHUNK``: compact, sorted keys, pure ASCII, ``"version": DETAILS_VERSION``.

    NaN and ±inf become null (the JSON stays standard); tuples become lists, numpy-like numbers plain
    numbers. Values are not type-checked here (the reader does that); a value JSON cannot hold raises
    ``DetailsError``. ASCII keeps the chunk a plain ``tEXt`` that ComfyUI's browser reader decodes right.
    """
    if not isinstance(details, Mapping):
        raise DetailsError(f"details must be a mapping, not {type(details).__name__}")
    data = {str(k): _jsonable(v, 1) for k, v in details.items() if k != "version"}
    data["version"] = DETAILS_VERSION
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def load_json(text: str | bytes, what: str, max_text: int) -> Any:
    """``text`` (str, or UTF-8 bytes) parsed as JSON; ``DetailsError`` naming ``what`` when it cannot be."""
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as error:
            raise DetailsError(f"{what} is not UTF-8 text") from error
    if not isinstance(text, str):
        raise DetailsError(f"{what} must be text, not {type(text).__name__}")
    if len(text) > max_text:
        raise DetailsError(f"{what} is {len(text)} characters, more than max_text {max_text}")
    try:
        return json.loads(text)
    except RecursionError:
        raise DetailsError(f"{what} JSON is nested too deeply") from None
    except ValueError as error:  # JSONDecodeError, and ints past Python's digit limit
        raise DetailsError(f"{what} is not valid JSON: {str(error)[:120]}") from None


def parse_details_json(
    text: str | bytes, problems: list[str] | None = None, *, max_text: int = MAX_DEFAULT_TEXT
) -> dict[str, Any]:
    """The details in our JSON, each known field type-checked (see ``validate_details``).

    Wrong-typed fields (``"seed": "12"``, NaN, ``2**80``, ``steps: "x"``…) are dropped and described in
    ``problems``; a missing or newer ``version`` is reported there too. The ``version`` key itself is not
    part of the result. Raises ``DetailsError`` only when the text is not a JSON object at all (invalid,
    nested too deeply, longer than ``max_text``). ``parse_details_json(details_json(d)) == d`` for valid d.
    """
    problems = [] if problems is None else problems
    data = load_json(text, "details", max_text)
    if not isinstance(data, dict):
        raise DetailsError(f"details JSON is {preview(data)}, not an object")
    version = data.pop("version", None)
    if isinstance(version, bool) or not isinstance(version, int):
        problems.append(f"details JSON has no valid version ({preview(version)})")
    elif version > DETAILS_VERSION:
        problems.append(f"details JSON version {version} is newer than {DETAILS_VERSION}: reading the fields known")
    return validate_details(data, problems)
