"""The generation details of one image: the known fields, their checks, and validation.

Pure Python (stdlib only). The details of one image are a flat dict (``seed``, ``steps``, ``cfg``,
``sampler``, ``positive``, … see ``FIELDS``); any field may be missing or None. Every reader of stored
details (``details_json``, ``prompt_details``, ``a1111_infotext``) ends in ``validate_details``: wrong-typed
or out-of-range fields are dropped and described in a ``problems`` list, never raised.

Owns ``DetailsError``, the one error the details modules raise (for input that cannot be read at all),
the field checks the writers share (``as_int``, ``as_float``, ``REJECTED``, ``preview``) and the bounds
every reader shares (``MAX_SHORT_TEXT``, ``MAX_DEFAULT_TEXT``).
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Callable, Mapping
from typing import Any

__all__ = [
    "FIELDS",
    "MAX_DEFAULT_TEXT",
    "MAX_SEED_ANY",
    "MAX_SHORT_TEXT",
    "REJECTED",
    "DetailsError",
    "as_float",
    "as_int",
    "check_field",
    "preview",
    "validate_details",
]

MAX_SEED_ANY = 2**64 - 1
"""Largest seed any ComfyUI sampler takes (KSampler's range); Seed Source's own seeds stay below 2**53."""
MAX_SHORT_TEXT = 4096
"""Longest value of a short text field (names, versions, labels); prompts are bounded by max_text."""
MAX_DEFAULT_TEXT = 4 * 1024 * 1024
"""Default ``max_text``: the longest text (a PNG text chunk, a JSON text) any reader reads."""


class DetailsError(ValueError):
    """Details could not be read or written at all (unreadable file, not JSON, wrong argument type)."""


REJECTED = object()
"""What a field check (and ``as_int``/``as_float``) returns for a value it rejects."""


def as_int(value: Any, lo: int, hi: int) -> Any:
    """``value`` as an int in ``[lo, hi]`` (integral floats too, never a bool), else ``REJECTED``."""
    if isinstance(value, bool):
        return REJECTED
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if isinstance(value, numbers.Integral) and lo <= int(value) <= hi:
        return int(value)
    return REJECTED


def as_float(value: Any, lo: float, hi: float) -> Any:
    """``value`` as a finite float in ``[lo, hi]`` (never a bool), else ``REJECTED``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return REJECTED
    try:
        number = float(value)
    except (OverflowError, ValueError):
        return REJECTED
    return number if math.isfinite(number) and lo <= number <= hi else REJECTED


def _int_field(lo: int, hi: int) -> Callable[[Any], Any]:
    return lambda value: as_int(value, lo, hi)


def _float_field(lo: float, hi: float) -> Callable[[Any], Any]:
    return lambda value: as_float(value, lo, hi)


def _str_field(limit: int | None) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if isinstance(value, str) and (limit is None or len(value) <= limit):
            return value
        return REJECTED

    return check


def _seed_list(value: Any) -> Any:
    if not isinstance(value, list) or len(value) > 65536:
        return REJECTED
    seeds = [as_int(v, 0, MAX_SEED_ANY) for v in value]
    return REJECTED if any(s is REJECTED for s in seeds) else seeds


def _reproducible(value: Any) -> Any:
    if not isinstance(value, dict):
        return REJECTED
    verdict, reasons = value.get("verdict"), value.get("reasons", [])
    if not isinstance(verdict, str) or len(verdict) > 64:
        return REJECTED
    if not isinstance(reasons, list) or len(reasons) > 32:
        return REJECTED
    if not all(isinstance(r, str) and len(r) <= 1024 for r in reasons):
        return REJECTED
    return {"verdict": verdict, "reasons": list(reasons)}


_SHORT_STR = _str_field(MAX_SHORT_TEXT)
FIELDS: dict[str, Callable[[Any], Any]] = {
    "seed": _int_field(0, MAX_SEED_ANY),
    "seeds": _seed_list,
    "mode": _SHORT_STR,
    "positive": _str_field(None),
    "negative": _str_field(None),
    "label": _SHORT_STR,
    "speed": _SHORT_STR,
    "steps": _int_field(1, 10_000),
    "cfg": _float_field(0.0, 100.0),
    "sampler": _SHORT_STR,
    "scheduler": _SHORT_STR,
    "denoise": _float_field(0.0, 1.0),
    "width": _int_field(1, 2**31 - 1),
    "height": _int_field(1, 2**31 - 1),
    "batch_index": _int_field(0, 65535),
    "batch_size": _int_field(1, 65536),
    "model": _SHORT_STR,
    "model_hash": _SHORT_STR,
    "vae": _SHORT_STR,
    "pack_version": _SHORT_STR,
    "comfyui_version": _SHORT_STR,
    "torch_version": _SHORT_STR,
    "device": _SHORT_STR,
    "noise_device": _SHORT_STR,
    "noise_source": _SHORT_STR,
    "batch_seeds": _SHORT_STR,
    "variation_seed": _int_field(0, MAX_SEED_ANY),
    "variation_strength": _float_field(0.0, 1.0),
    "ensd": _int_field(-(2**63), 2**63 - 1),
    "seed_resize_from": _SHORT_STR,
    "reproducible": _reproducible,
    "family": _SHORT_STR,
    "shift": _float_field(0.0, 1000.0),
    "guidance": _float_field(0.0, 1000.0),
}
"""Known fields and their checks (each returns the normalised value, or rejects it). None is allowed."""


def preview(value: Any) -> str:
    """A short, safe description of a rejected value (no repr of containers: they may be deep)."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int):
        return str(value) if abs(value) < 10**30 else f"an integer of {value.bit_length()} bits"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return repr(value[:40] + ("…" if len(value) > 40 else ""))
    return f"a {type(value).__name__}"


def _is_scalar(value: Any) -> bool:
    if value is None or isinstance(value, bool | int):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, str) and len(value) <= MAX_SHORT_TEXT


def validate_details(data: Mapping[str, Any], problems: list[str] | None = None) -> dict[str, Any]:
    """``data`` with every known field checked: wrong types and out-of-range values dropped and reported.

    Unknown fields (a newer Seed Number's) are kept when they are plain scalars and dropped otherwise.
    """
    problems = [] if problems is None else problems
    out: dict[str, Any] = {}
    dropped_unknown: list[str] = []
    for key, value in data.items():
        if not isinstance(key, str):
            continue
        check = FIELDS.get(key)
        if check is None:
            if _is_scalar(value):
                out[key] = value
            else:
                dropped_unknown.append(key)
            continue
        if value is None:
            out[key] = None
            continue
        checked = check(value)
        if checked is REJECTED:
            problems.append(f"field {key!r}: {preview(value)} is not a valid value; ignored")
        else:
            out[key] = checked
    if dropped_unknown:
        names = ", ".join(repr(k[:40]) for k in sorted(dropped_unknown)[:10])
        more = f" and {len(dropped_unknown) - 10} more" if len(dropped_unknown) > 10 else ""
        problems.append(f"unknown fields ignored (not text, a finite number or a boolean): {names}{more}")
    return out


def check_field(key: str, value: Any) -> None:
    """ValueError saying why :func:`validate_details` would drop ``value`` from field ``key``."""
    check = FIELDS.get(key)
    if value is not None and check is not None and check(value) is REJECTED:
        raise ValueError(f"{preview(value)} is not a valid {key}")
