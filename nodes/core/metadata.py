"""Generation details of one image: writing them into PNG text and reading them back.

Pure Python (stdlib only: no ComfyUI, no torch, no pixel decoding). The details of one image are a
flat dict (``seed``, ``steps``, ``cfg``, ``sampler``, ``positive``, … see ``FIELDS``); any field may be
missing or None. They are written twice:

- ``DETAILS_CHUNK`` (``seed_number_details``): our own JSON, exact (``details_json``);
- ``parameters``: the A1111 text every image site and tool reads (``a1111_parameters``).

``read_png_details`` walks a PNG's chunks without decoding pixels and reads the details back from,
in this order, our JSON, ComfyUI's ``prompt`` chunk (the API graph, ``details_from_comfy_prompt``) or
A1111 ``parameters`` (``parse_a1111_parameters``): the first source that yields anything wins.

Error policy: readers never raise on bad *content*. Wrong-typed or out-of-range fields are dropped
and described in a ``problems`` list; a file that is not a PNG reads as source ``"none"`` with the
problem ``"not a PNG file (…)"``. Only ``DetailsError`` is raised: for a path that cannot be read
(missing, a directory, a FIFO), an argument of the wrong type, or — from the JSON parsers called
directly — text that is not a JSON object at all. Every read is bounded: ``max_bytes`` of file,
``max_text`` per text (zlib output is capped, so decompression bombs stop there), ``MAX_CHUNKS``
chunks, JSON nesting by Python's recursion limit, graph walks by ``MAX_LINK_DEPTH`` and visited sets.
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
import os
import re
import stat
import struct
import threading
import zlib
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from .resolve import REQUESTED_KEY
from .sampler_names import (
    a1111_sampler_name,
    a1111_schedule_type,
    comfy_sampler_from_a1111,
    comfy_scheduler_from_a1111,
    per_step_noise,
)
from .seeds import DEFAULT_MODE, MODES, NODE_ID, is_link

__all__ = [
    "DETAILS_CHUNK",
    "DETAILS_VERSION",
    "FIELDS",
    "MAX_CHUNKS",
    "PARAMETERS_CHUNK",
    "PROMPT_CHUNK",
    "SOURCES",
    "VERDICTS",
    "DetailsError",
    "ReadResult",
    "a1111_parameters",
    "autov2_hash",
    "comfy_sampler_from_a1111",
    "details_from_comfy_prompt",
    "details_json",
    "file_sha256",
    "model_stem",
    "parse_a1111_parameters",
    "parse_details_json",
    "png_text_chunks",
    "read_png_details",
    "read_png_text",
    "reproducibility",
    "validate_details",
]

DETAILS_CHUNK = "seed_number_details"
"""PNG text key of our JSON (namespaced: ComfyUI's own ``seed_number`` chunk holds the resolved seeds)."""
DETAILS_VERSION = 1
"""Version of the JSON in ``DETAILS_CHUNK``; a reader reports a newer one and reads the fields it knows."""
PARAMETERS_CHUNK = "parameters"
PROMPT_CHUNK = "prompt"

SOURCE_SEED_NUMBER = "seed_number"
SOURCE_COMFY_PROMPT = "comfyui prompt"
SOURCE_A1111 = "a1111 parameters"
SOURCE_NONE = "none"
SOURCES = (SOURCE_SEED_NUMBER, SOURCE_COMFY_PROMPT, SOURCE_A1111, SOURCE_NONE)
"""``ReadResult.source`` values, in the order ``read_png_details`` tries them."""

MAX_SEED_ANY = 2**64 - 1
"""Largest seed any ComfyUI sampler takes (KSampler's range); Seed Source's own seeds stay below 2**53."""
MAX_CHUNKS = 10_000
"""Chunks walked per PNG before giving up (text chunks after that are not read)."""
MAX_LINK_DEPTH = 64
"""Links followed from one input of a ComfyUI graph before giving up."""
MAX_DEFAULT_BYTES = 64 * 1024 * 1024
MAX_DEFAULT_TEXT = 4 * 1024 * 1024

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_TEXT_CHUNKS = (b"tEXt", b"zTXt", b"iTXt")


class DetailsError(ValueError):
    """Details could not be read or written at all (unreadable file, not JSON, wrong argument type)."""


# -- field schema ----------------------------------------------------------------------------

_BAD = object()
_SHORT = 4096
"""Longest value of a short text field (names, versions, labels); prompts are bounded by max_text."""
MAX_SHORT_TEXT = _SHORT


def _as_int(value: Any, lo: int, hi: int) -> Any:
    if isinstance(value, bool):
        return _BAD
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if isinstance(value, numbers.Integral) and lo <= int(value) <= hi:
        return int(value)
    return _BAD


def _as_float(value: Any, lo: float, hi: float) -> Any:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return _BAD
    try:
        number = float(value)
    except (OverflowError, ValueError):
        return _BAD
    return number if math.isfinite(number) and lo <= number <= hi else _BAD


def _int_field(lo: int, hi: int) -> Callable[[Any], Any]:
    return lambda value: _as_int(value, lo, hi)


def _float_field(lo: float, hi: float) -> Callable[[Any], Any]:
    return lambda value: _as_float(value, lo, hi)


def _str_field(limit: int | None) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if isinstance(value, str) and (limit is None or len(value) <= limit):
            return value
        return _BAD

    return check


def _seed_list(value: Any) -> Any:
    if not isinstance(value, list) or len(value) > 65536:
        return _BAD
    seeds = [_as_int(v, 0, MAX_SEED_ANY) for v in value]
    return _BAD if any(s is _BAD for s in seeds) else seeds


def _reproducible(value: Any) -> Any:
    if not isinstance(value, dict):
        return _BAD
    verdict, reasons = value.get("verdict"), value.get("reasons", [])
    if not isinstance(verdict, str) or len(verdict) > 64:
        return _BAD
    if not isinstance(reasons, list) or len(reasons) > 32:
        return _BAD
    if not all(isinstance(r, str) and len(r) <= 1024 for r in reasons):
        return _BAD
    return {"verdict": verdict, "reasons": list(reasons)}


_SHORT_STR = _str_field(_SHORT)
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
    "reproducible": _reproducible,
}
"""Known fields and their checks (each returns the normalised value, or rejects it). None is allowed."""


def _preview(value: Any) -> str:
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
    return isinstance(value, str) and len(value) <= _SHORT


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
        if checked is _BAD:
            problems.append(f"field {key!r}: {_preview(value)} is not a valid value; ignored")
        else:
            out[key] = checked
    if dropped_unknown:
        names = ", ".join(repr(k[:40]) for k in sorted(dropped_unknown)[:10])
        more = f" and {len(dropped_unknown) - 10} more" if len(dropped_unknown) > 10 else ""
        problems.append(f"unknown fields ignored (not text, a finite number or a boolean): {names}{more}")
    return out


def field_problem(key: str, value: Any) -> str | None:
    """Why :func:`validate_details` would drop ``value`` from field ``key``; None when it keeps it."""
    check = FIELDS.get(key)
    if value is None or check is None or check(value) is not _BAD:
        return None
    return f"{_preview(value)} is not a valid {key}"


# -- A1111 "parameters" --------------------------------------------------------------------

_NEEDS_QUOTE = re.compile(r"[,:\x00-\x1f]")
_KEY_RE = re.compile(r"\s*(\w[\w \-/]+):\s*")
_JSON_STRING = json.JSONDecoder()
MAX_PARAM_PAIRS = 1000
"""``Key: value`` segments read from one A1111 parameter line (A1111 writes a few dozen)."""
_SIZE_RE = re.compile(r"(\d{1,10})\s*x\s*(\d{1,10})")
_INT_RE = re.compile(r"[-+]?\d{1,25}")
_FLOAT_RE = re.compile(r"[-+]?(?:\d{1,25}(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d{1,3})?")
_NEGATIVE = "Negative prompt:"
_A1111_KEYS = {
    "steps": "steps",
    "sampler": "sampler",
    "schedule type": "scheduler",
    "cfg scale": "cfg",
    "seed": "seed",
    "size": "size",
    "model hash": "model_hash",
    "model": "model",
    "denoising strength": "denoise",
    "seed number speed": "speed",
    "variant": "label",
    "version": "version",
}
_COMFY_VERSION_PREFIX = "ComfyUI "


def _quote(value: str) -> str:
    """A1111's ``quote()``, stricter: also quotes a leading quote, control characters and edge spaces."""
    if value and value == value.strip() and not value.startswith('"') and not _NEEDS_QUOTE.search(value):
        return value
    return json.dumps(value, ensure_ascii=False)


def _format_number(value: Any) -> str | None:
    """A1111 style: 7.0 → "7", 7.5 → "7.5"; None for non-numbers and non-finite values."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    if isinstance(value, numbers.Integral):
        return str(int(value))
    number = float(value)
    if not math.isfinite(number):
        return None
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return repr(number)


def model_stem(name: str) -> str:
    """A checkpoint name as A1111 writes it: no folders, no extension ("SD1.5/sd15.safetensors" → "sd15")."""
    base = re.split(r"[\\/]", name)[-1]
    stem, dot, ext = base.rpartition(".")
    return stem if dot and stem and 0 < len(ext) <= 12 and " " not in ext else base


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _a1111_pairs(details: Mapping[str, Any]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []

    def add(key: str, value: str | None, quote: bool = True) -> None:
        if value:
            pairs.append((key, _quote(value) if quote else value))

    def short(name: str) -> str | None:
        value = details.get(name)
        return value if isinstance(value, str) and value else None

    steps = _as_int(details.get("steps"), 1, 10**9)
    add("Steps", None if steps is _BAD else str(steps), quote=False)
    sampler, scheduler = short("sampler"), short("scheduler")
    if sampler:
        add("Sampler", a1111_sampler_name(sampler, scheduler))
    if scheduler:
        add("Schedule type", a1111_schedule_type(scheduler))
    add("CFG scale", _format_number(details.get("cfg")), quote=False)
    seed = _as_int(details.get("seed"), 0, MAX_SEED_ANY)
    add("Seed", None if seed is _BAD else str(seed), quote=False)
    width, height = _as_int(details.get("width"), 1, 2**31), _as_int(details.get("height"), 1, 2**31)
    if width is not _BAD and height is not _BAD:
        add("Size", f"{width}x{height}", quote=False)
    add("Model hash", short("model_hash"))
    model = short("model")
    add("Model", model_stem(model) if model else None)
    denoise = details.get("denoise")
    if _as_float(denoise, 0.0, 1.0) is not _BAD and float(denoise) < 1.0:
        add("Denoising strength", _format_number(denoise), quote=False)
    add("Seed Number speed", short("speed"))
    add("Variant", short("label"))
    version = short("comfyui_version")
    add("Version", _COMFY_VERSION_PREFIX + version if version else None)
    return pairs


def a1111_parameters(details: Mapping[str, Any]) -> str:
    """The A1111 ``parameters`` text of ``details``.

    The positive prompt (as is, any number of lines), then always a ``Negative prompt: …`` line (ComfyUI's
    own A1111 import needs it, and it keeps the positive prompt's end unambiguous), then one line of
    ``Key: value`` pairs starting with ``Steps:`` (ComfyUI's import looks for ``"\\nSteps:"``). Values that
    contain ``,`` ``:`` a newline or another control character, start with ``"`` or have edge whitespace
    are JSON-quoted like A1111's ``quote()``. Missing fields are left out; the line is left out when empty.
    """
    if not isinstance(details, Mapping):
        raise DetailsError(f"details must be a mapping, not {type(details).__name__}")
    text = f"{_text(details.get('positive'))}\n{_NEGATIVE} {_text(details.get('negative'))}"
    pairs = _a1111_pairs(details)
    if pairs:
        text += "\n" + ", ".join(f"{key}: {value}" for key, value in pairs)
    return text


def _quoted_value(line: str, start: int) -> tuple[str, int] | None:
    """The JSON string at ``line[start]`` and the index of the comma (or end) after it, else None."""
    try:
        value, end = _JSON_STRING.raw_decode(line, start)  # C scanner: linear, no regex backtracking
    except ValueError:
        return None
    while end < len(line) and line[end] in " \t":
        end += 1
    return (value, end) if isinstance(value, str) and (end == len(line) or line[end] == ",") else None


def _split_params(line: str) -> tuple[list[tuple[str, str]], int, bool]:
    """An A1111 parameter line as ``(pairs, junk segments, complete)``; values unquoted and stripped.

    Like A1111's ``re_param`` (a value is a JSON string followed by a comma, or anything up to the next
    comma), but linear in the line's length and stopping after ``MAX_PARAM_PAIRS`` segments.
    """
    pairs: list[tuple[str, str]] = []
    junk = 0
    i, n = 0, len(line)
    while i < n:
        if len(pairs) + junk >= MAX_PARAM_PAIRS:
            return pairs, junk, False
        key_match = _KEY_RE.match(line, i)
        comma = line.find(",", i)
        if key_match is None or (comma != -1 and key_match.end(1) > comma):
            junk += bool(line[i : comma if comma != -1 else n].strip())
            if comma == -1:
                break
            i = comma + 1
            continue
        j = key_match.end()
        quoted = _quoted_value(line, j) if line.startswith('"', j) else None
        if quoted is not None:
            value, end = quoted
        else:
            comma = line.find(",", j)
            end = n if comma == -1 else comma
            value = line[j:end].strip()
        pairs.append((key_match.group(1).strip(), value))
        i = end + 1
    return pairs, junk, True


def _is_param_line(pairs: list[tuple[str, str]], junk: int) -> bool:
    if len(pairs) >= 3:
        return True
    return bool(pairs) and junk == 0 and any(k.casefold() in _A1111_KEYS for k, _ in pairs)


def _a1111_value(name: str, value: str, details: dict[str, Any], problems: list[str]) -> None:
    bad = False
    if name in ("steps", "seed"):
        bad = not _INT_RE.fullmatch(value.strip())
        if not bad:
            details[name] = int(value)
    elif name in ("cfg", "denoise"):
        bad = not _FLOAT_RE.fullmatch(value.strip())
        if not bad:
            details[name] = float(value)
    elif name == "size":
        size = _SIZE_RE.fullmatch(value.strip())
        bad = size is None
        if size is not None:
            details["width"], details["height"] = int(size.group(1)), int(size.group(2))
    elif name == "sampler":
        sampler, scheduler = comfy_sampler_from_a1111(value)
        details["sampler"] = sampler
        if scheduler is not None:
            details.setdefault("scheduler", scheduler)
    elif name == "scheduler":
        scheduler = comfy_scheduler_from_a1111(value)
        if scheduler is not None:
            details["scheduler"] = scheduler
        else:
            details.pop("scheduler", None)
    elif name == "version":
        if value.startswith(_COMFY_VERSION_PREFIX):
            details["comfyui_version"] = value[len(_COMFY_VERSION_PREFIX) :].strip()
    else:
        details[name] = value
    if bad:
        problems.append(f"parameters: {name} {_preview(value)} is not a number; ignored")


def parse_a1111_parameters(text: str, problems: list[str] | None = None) -> dict[str, Any]:
    """Our details fields from an A1111 ``parameters`` text (``a1111_parameters``' inverse, and A1111's own).

    The last line is the parameter line when it holds three ``Key: value`` pairs (A1111's rule) or only
    pairs with known keys. The first line starting with ``Negative prompt:`` (one space after the colon is
    dropped) starts the negative prompt; without it the negative prompt is "" (A1111 leaves the line out
    when it is empty). Prompts are returned exactly, without stripping. Quoted values are JSON-decoded.
    Returns ``positive``, ``negative`` and whichever of ``seed``, ``steps``, ``cfg``, ``sampler``,
    ``scheduler`` (ComfyUI names: "DPM++ 2M Karras" → ``dpmpp_2m``/``karras``), ``width``, ``height``,
    ``model``, ``model_hash``, ``denoise``, ``speed``, ``label``, ``comfyui_version`` are present and
    valid; invalid values are dropped and reported in ``problems``.

    Known ambiguity: a positive prompt with a line starting ``Negative prompt:`` cannot be told apart
    from the negative prompt (A1111 has the same limit).
    """
    if not isinstance(text, str):
        raise DetailsError(f"parameters must be text, not {type(text).__name__}")
    problems = [] if problems is None else problems
    lines = text.split("\n")
    while len(lines) > 1 and not lines[-1].strip():
        lines.pop()
    details: dict[str, Any] = {}
    if lines:
        pairs, junk, complete = _split_params(lines[-1].rstrip("\r"))
        if _is_param_line(pairs, junk):
            lines.pop()
            if not complete:
                problems.append(f"parameters: more than {MAX_PARAM_PAIRS} values; the rest ignored")
            for key, value in pairs:
                name = _A1111_KEYS.get(key.casefold())
                if name is not None:
                    _a1111_value(name, value, details, problems)
    negative_at = next((i for i, line in enumerate(lines) if line.startswith(_NEGATIVE)), None)
    if negative_at is None:
        details["positive"], details["negative"] = "\n".join(lines), ""
    else:
        first = lines[negative_at][len(_NEGATIVE) :]
        details["positive"] = "\n".join(lines[:negative_at])
        details["negative"] = "\n".join([first.removeprefix(" "), *lines[negative_at + 1 :]])
    return validate_details(details, problems)


# -- our JSON ------------------------------------------------------------------------------


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
    """Our JSON for ``DETAILS_CHUNK``: compact, sorted keys, pure ASCII, ``"version": DETAILS_VERSION``.

    NaN and ±inf become null (the JSON stays standard); tuples become lists, numpy-like numbers plain
    numbers. Values are not type-checked here (the reader does that); a value JSON cannot hold raises
    ``DetailsError``. ASCII keeps the chunk a plain ``tEXt`` that ComfyUI's browser reader decodes right.
    """
    if not isinstance(details, Mapping):
        raise DetailsError(f"details must be a mapping, not {type(details).__name__}")
    data = {str(k): _jsonable(v, 1) for k, v in details.items() if k != "version"}
    data["version"] = DETAILS_VERSION
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def _load_json(text: str | bytes, what: str, max_text: int) -> Any:
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
    data = _load_json(text, "details", max_text)
    if not isinstance(data, dict):
        raise DetailsError(f"details JSON is {_preview(data)}, not an object")
    version = data.pop("version", None)
    if isinstance(version, bool) or not isinstance(version, int):
        problems.append(f"details JSON has no valid version ({_preview(version)})")
    elif version > DETAILS_VERSION:
        problems.append(f"details JSON version {version} is newer than {DETAILS_VERSION}: reading the fields known")
    return validate_details(data, problems)


# -- ComfyUI's prompt chunk ----------------------------------------------------------------

NO_VALUE = object()
"""What a :data:`Tap` returns for an output it does not know."""
Tap = Callable[[str, str, int, str], Any]
"""``tap(node_id, class_type, output_index, want)``: a run-time value of a node's output, or NO_VALUE.

``want`` is ``"value"`` (a number or text the output stands for), ``"text"`` (the prompt text a
CONDITIONING output was encoded from) or ``"label"`` (a speed or variant label). Seed Details
supplies one built from what the pack's nodes recorded when they ran; prompts read back from a PNG
have none, and the graph's literal inputs are used.
"""

SAMPLER_CLASSES = frozenset({"KSampler", "KSamplerAdvanced", "SamplerCustom", "SamplerCustomAdvanced"})
DETAILS_NODE_ID = "SeedDetails|SeedNumber"
_OUTPUT_CLASSES = frozenset(
    {"SaveImage", "PreviewImage", "SaveAnimatedWEBP", "SaveAnimatedPNG", "SaveImageWebsocket", "SaveWEBM"}
)
_SEED_INPUTS = ("seed_number", "noise_seed", "seed", "value", "int", "number")
_NUMBER_INPUTS = ("value", "float", "int", "number")
_STRING_INPUTS = ("value", "text", "string", "prompt")
_TEXT_INPUTS = ("text", "text_g", "t5xxl", "clip_l", "prompt")
_CONDITIONING_INPUTS = ("conditioning", "conditioning_to", "conditioning_1", "cond", "cond1", "positive")
_LATENT_INPUTS = ("samples", "latent", "latent_image", "samples_to", "samples1", "destination")
_SAMPLER_NODE_NAMES = {
    "SamplerEulerAncestral": "euler_ancestral",
    "SamplerEulerAncestralCFGPP": "euler_ancestral_cfg_pp",
    "SamplerDPMPP_2S_Ancestral": "dpmpp_2s_ancestral",
    "SamplerLMS": "lms",
    "SamplerDPMAdaptative": "dpm_adaptive",
    "SamplerER_SDE": "er_sde",
    "SamplerSASolver": "sa_solver",
    "SamplerDPMPP_SDE": "dpmpp_sde",
    "SamplerDPMPP_2M_SDE": "dpmpp_2m_sde",
    "SamplerDPMPP_3M_SDE": "dpmpp_3m_sde",
}
_SCHEDULER_NODE_NAMES = {
    "KarrasScheduler": "karras",
    "ExponentialScheduler": "exponential",
    "BetaSamplingScheduler": "beta",
}


def _link_id(link: list[Any]) -> str | None:
    node_id = link[0]
    if isinstance(node_id, str):
        return node_id
    return str(node_id) if isinstance(node_id, int) and not isinstance(node_id, bool) else None


class _Graph:
    """An API-format prompt ``{node_id: {"class_type", "inputs"}}`` with bounded link following."""

    def __init__(self, graph: dict[Any, Any], problems: list[str], tap: Tap | None = None) -> None:
        self.nodes: dict[str, tuple[str, dict[str, Any]]] = {}
        self.problems = problems
        self.tap = tap
        self.tapped: set[str] = set()
        """Nodes whose run-time output values the tap supplied (see :data:`Tap`)."""
        malformed = 0
        for node_id, node in graph.items():
            inputs = node.get("inputs", {}) if isinstance(node, dict) else None
            if isinstance(node, dict) and isinstance(node.get("class_type"), str) and isinstance(inputs, dict):
                self.nodes[str(node_id)] = (node["class_type"], inputs)
            else:
                malformed += 1
        if malformed:
            problems.append(f"prompt: {malformed} malformed node(s) ignored")
        self._reported: set[str] = set()

    def _note(self, message: str) -> None:
        if message not in self._reported and len(self._reported) < 20:
            self._reported.add(message)
            self.problems.append(message)

    def target(self, value: Any) -> tuple[str, int, str, dict[str, Any]] | None:
        """The node a link points at, or None (not a link, or dangling: reported)."""
        if not is_link(value):
            return None
        node_id = _link_id(value)
        if node_id is None:
            self._note("prompt: a link has an invalid node id")
            return None
        node = self.nodes.get(node_id)
        if node is None:
            self._note(f"prompt: a link points at missing node {node_id!r}")
            return None
        return node_id, value[1], node[0], node[1]

    def links_of(self, node_id: str) -> list[str]:
        _, inputs = self.nodes[node_id]
        out = []
        for value in inputs.values():
            source = _link_id(value) if is_link(value) else None
            if source is not None and source in self.nodes:
                out.append(source)
        return out

    def upstream(self, starts: list[str]) -> set[str]:
        """Every node reachable backwards along links from ``starts`` (one BFS, cycles safe)."""
        seen: set[str] = set()
        queue = deque(starts)
        while queue:
            for source in self.links_of(queue.popleft()):
                if source not in seen:
                    seen.add(source)
                    queue.append(source)
        return seen

    def follow(self, value: Any, names: tuple[str, ...]) -> tuple[Any, str | None]:
        """Follow links through the first input of ``names`` each node has; ``(literal, last node id)``."""
        seen: set[str] = set()
        last: str | None = None
        for _ in range(MAX_LINK_DEPTH):
            if not is_link(value):
                return value, last
            hop = self.target(value)
            if hop is None:
                return None, last
            node_id, index, class_type, inputs = hop
            if node_id in seen:
                self._note(f"prompt: links loop through node {node_id!r}")
                return None, last
            seen.add(node_id)
            last = node_id
            tapped = self._tapped(node_id, class_type, index, "value")
            if tapped is not NO_VALUE:
                return tapped, node_id
            name = next((n for n in names if n in inputs), None)
            if name is None:
                return None, last
            value = inputs[name]
        self._note(f"prompt: more than {MAX_LINK_DEPTH} links in a row; gave up")
        return None, last

    def _tapped(self, node_id: str, class_type: str, index: int, want: str) -> Any:
        if self.tap is None:
            return NO_VALUE
        value = self.tap(node_id, class_type, index, want)
        if value is not NO_VALUE:
            self.tapped.add(node_id)
        return value

    def walk(
        self, value: Any, step: Callable[[int, str, dict[str, Any]], tuple[Any, Any]], want: str | None = None
    ) -> Any:
        """Follow a link chain: ``step(output_index, class_type, inputs)`` gives ``(result, next_value)``.

        With ``want``, a node whose run-time value the tap knows ends the chain with that value.
        """
        seen: set[str] = set()
        for _ in range(MAX_LINK_DEPTH):
            hop = self.target(value)
            if hop is None:
                return None
            node_id, index, class_type, inputs = hop
            if node_id in seen:
                self._note(f"prompt: links loop through node {node_id!r}")
                return None
            seen.add(node_id)
            if want is not None:
                tapped = self._tapped(node_id, class_type, index, want)
                if tapped is not NO_VALUE:
                    return tapped
            result, value = step(index, class_type, inputs)
            if result is not None:
                return result
        self._note(f"prompt: more than {MAX_LINK_DEPTH} links in a row; gave up")
        return None

    # -- field readers --

    def text(self, value: Any) -> str | None:
        def step(index: int, _class_type: str, inputs: dict[str, Any]) -> tuple[Any, Any]:
            name = next((n for n in _TEXT_INPUTS if n in inputs), None)
            if name is not None:
                text, _ = self.follow(inputs[name], _STRING_INPUTS)
                return (text if isinstance(text, str) else None), None
            if "positive" in inputs and "negative" in inputs:  # ControlNetApplyAdvanced: outputs 0 and 1
                return None, inputs["negative" if index == 1 else "positive"]
            name = next((n for n in _CONDITIONING_INPUTS if n in inputs), None)
            return None, inputs.get(name) if name else None

        if not is_link(value):
            return None
        return self.walk(value, step, want="text")

    def latent_size(self, value: Any) -> tuple[int, int, Any] | None:
        def step(_index: int, _class_type: str, inputs: dict[str, Any]) -> tuple[Any, Any]:
            width, _ = self.follow(inputs.get("width"), _NUMBER_INPUTS)
            height, _ = self.follow(inputs.get("height"), _NUMBER_INPUTS)
            if isinstance(width, int) and isinstance(height, int):
                batch, _ = self.follow(inputs.get("batch_size"), _NUMBER_INPUTS)
                return (width, height, batch), None
            name = next((n for n in _LATENT_INPUTS if is_link(inputs.get(n))), None)
            return None, inputs.get(name) if name else None

        return self.walk(value, step)

    def model(self, value: Any) -> str | None:
        def step(_index: int, _class_type: str, inputs: dict[str, Any]) -> tuple[Any, Any]:
            for name in ("ckpt_name", "unet_name", "model_name"):
                found, _ = self.follow(inputs.get(name), _STRING_INPUTS)
                if isinstance(found, str):
                    return found, None
            return None, inputs.get("model")

        return self.walk(value, step)


def _put(details: dict[str, Any], name: str, value: Any) -> None:
    if value is not None and name not in details:
        details[name] = value


def _node_order(node_id: str) -> tuple[int, str]:
    return (int(node_id) if node_id.isdigit() and len(node_id) < 19 else -1, node_id)


def _pick_sampler(graph: _Graph, samplers: list[str]) -> str:
    fed = graph.upstream(samplers)
    last = [s for s in samplers if s not in fed] or samplers
    details_nodes = [n for n, (c, _) in graph.nodes.items() if c == DETAILS_NODE_ID]
    outputs = [n for n, (c, _) in graph.nodes.items() if c in _OUTPUT_CLASSES]
    to_details = graph.upstream(details_nodes) if details_nodes else set()
    to_output = graph.upstream(outputs) if outputs else set()
    return max(last, key=lambda s: (s in to_details, s in to_output, _node_order(s)))


def _read_sampler(graph: _Graph, node_id: str, details: dict[str, Any]) -> None:
    class_type, inputs = graph.nodes[node_id]
    number = graph.follow
    seed_input = {"KSampler": "seed", "SamplerCustomAdvanced": "noise"}.get(class_type, "noise_seed")
    seed, seed_node = number(inputs.get(seed_input), _SEED_INPUTS)  # RandomNoise, Seed Source, primitives
    if seed_node is not None and graph.nodes[seed_node][0] == NODE_ID:
        source_inputs = graph.nodes[seed_node][1]
        mode = source_inputs.get("mode", DEFAULT_MODE)
        requested = source_inputs.get(REQUESTED_KEY, mode)
        _put(details, "mode", requested if requested in MODES else None)
        if mode != "fixed" and seed_node not in graph.tapped:  # not resolved by the prompt hook, not run
            graph.problems.append(
                f"prompt: Seed Source {seed_node!r} is in {_preview(mode)} mode, not resolved: the seed used is unknown"
            )
            seed = None
    _put(details, "seed", seed)
    if seed_node is not None and graph.nodes[seed_node][0] == NODE_ID:
        _put(details, "seed_node", seed_node)  # the Seed Source that made it (the panel's "Use this seed")
    for name in ("steps", "cfg", "denoise"):
        _put(details, name, number(inputs.get(name), _NUMBER_INPUTS)[0])
    for name, key in (("sampler_name", "sampler"), ("scheduler", "scheduler")):
        _put(details, key, number(inputs.get(name), _STRING_INPUTS)[0])

    positive, negative = inputs.get("positive"), inputs.get("negative")
    guider = graph.target(inputs.get("guider"))
    if guider is not None:
        g_inputs = guider[3]
        _put(details, "cfg", number(g_inputs.get("cfg"), _NUMBER_INPUTS)[0])
        positive = g_inputs.get("positive", g_inputs.get("conditioning", g_inputs.get("cond1")))
        negative = g_inputs.get("negative")
        model_link = g_inputs.get("model")
    else:
        model_link = inputs.get("model")
    _put(details, "positive", graph.text(positive))
    _put(details, "negative", graph.text(negative))

    sampler_node = graph.target(inputs.get("sampler"))
    if sampler_node is not None:
        s_class, s_inputs = sampler_node[2], sampler_node[3]
        name = graph._tapped(sampler_node[0], s_class, sampler_node[1], "value")
        if name is NO_VALUE:
            name = number(s_inputs.get("sampler_name"), _STRING_INPUTS)[0]
        if name is None and s_class in _SAMPLER_NODE_NAMES:
            name = _SAMPLER_NODE_NAMES[s_class]
            if s_inputs.get("noise_device") == "gpu":
                name += "_gpu"
        _put(details, "sampler", name)

    def sigmas_step(_index: int, s_class: str, s_inputs: dict[str, Any]) -> tuple[Any, Any]:
        if "steps" in s_inputs:
            _put(details, "steps", number(s_inputs.get("steps"), _NUMBER_INPUTS)[0])
            _put(details, "denoise", number(s_inputs.get("denoise"), _NUMBER_INPUTS)[0])
            scheduler = number(s_inputs.get("scheduler"), _STRING_INPUTS)[0]
            _put(details, "scheduler", scheduler if scheduler is not None else _SCHEDULER_NODE_NAMES.get(s_class))
            return True, None
        return None, s_inputs.get("sigmas")

    if inputs.get("sigmas") is not None:
        tapped = graph.walk(inputs.get("sigmas"), sigmas_step, want="sigmas")
        if isinstance(tapped, dict):  # a Render Speed Preset's sigmas: the steps/scheduler they were built from
            for key in ("steps", "scheduler", "denoise"):
                _put(details, key, tapped.get(key))

    size = graph.latent_size(inputs.get("latent_image"))
    if size is not None:
        _put(details, "width", size[0])
        _put(details, "height", size[1])
        _put(details, "batch_size", size[2])
    model = graph.model(model_link)
    _put(details, "model", model)
    if graph.tap is None:
        return
    for name in ("steps", "cfg", "sampler_name", "scheduler", "denoise", "sampler", "sigmas"):
        hop = graph.target(inputs.get(name)) if is_link(inputs.get(name)) else None
        if hop is not None:
            speed = graph._tapped(hop[0], hop[2], hop[1], "speed")
            if speed is not NO_VALUE:
                _put(details, "speed", speed)
                break

    def label_step(_index: int, _class_type: str, c_inputs: dict[str, Any]) -> tuple[Any, Any]:
        name = next((n for n in _CONDITIONING_INPUTS if n in c_inputs), None)
        return None, c_inputs.get(name) if name else None

    if is_link(positive):
        _put(details, "label", graph.walk(positive, label_step, want="label"))


_IMAGE_CHAIN_INPUTS = ("samples", "images", "image", "pixels", "latent", "latent_image")


def producing_sampler(prompt: Mapping[str, Any], images: Any, problems: list[str] | None = None) -> str | None:
    """The sampler whose output became ``images`` (a link), walking back through decoders and
    image/latent nodes; None when no sampler is upstream. With two samplers in one graph, each
    image finds its own."""
    graph = _Graph(dict(prompt), [] if problems is None else problems)

    seen: set[str] = set()
    value = images
    for _ in range(MAX_LINK_DEPTH):
        hop = graph.target(value)
        if hop is None or hop[0] in seen:
            return None
        node_id, _, class_type, inputs = hop
        if class_type in SAMPLER_CLASSES:
            return node_id
        seen.add(node_id)
        value = next((inputs[n] for n in _IMAGE_CHAIN_INPUTS if is_link(inputs.get(n))), None)
    return None


def details_for_sampler(
    prompt: Mapping[str, Any], sampler_id: str, tap: Tap | None = None, problems: list[str] | None = None
) -> dict[str, Any]:
    """The details one sampler of an API-format ``prompt`` used, with run-time values from ``tap``.

    Like :func:`details_from_comfy_prompt` for a chosen sampler; with a tap, also ``speed`` (from a
    Render Speed Preset feeding the sampler) and ``label`` (from a Prompt Variant Sweep feeding its
    positive conditioning). Not validated: the caller adds its own fields first.
    """
    graph = _Graph(dict(prompt), [] if problems is None else problems, tap)
    details: dict[str, Any] = {}
    if sampler_id in graph.nodes:
        _read_sampler(graph, sampler_id, details)
    return details


def details_from_comfy_prompt(
    prompt_json_text: str | bytes, problems: list[str] | None = None, *, max_text: int = MAX_DEFAULT_TEXT
) -> dict[str, Any]:
    """The details of a ComfyUI ``prompt`` chunk (API-format graph JSON), or {} when it has no sampler.

    Reads KSampler, KSamplerAdvanced, SamplerCustom and SamplerCustomAdvanced (through RandomNoise or Seed
    Source noise, CFGGuider/BasicGuider, KSamplerSelect or the Sampler* nodes, BasicScheduler/Karras…).
    Links ``[node_id, output_index]`` are followed: the seed to a literal, Seed Source's ``seed_number``
    (its ``_requested_mode`` gives ``mode``) or a primitive's ``value``; prompts through conditioning
    nodes to CLIPTextEncode ``text``; the size up the latent chain to the first node with width/height;
    the model up ``model`` links to ``ckpt_name``/``unet_name``.

    With several samplers, the one read is the last: no other sampler is fed by it (so a hires-fix second
    pass beats its first pass); ties go to a sampler feeding Seed Details, then one feeding an image
    output, then the highest node id. Each link chain stops after ``MAX_LINK_DEPTH`` hops and at a node
    seen before, so cycles and dangling links just leave fields out (and are noted in ``problems``).
    Raises ``DetailsError`` only when the text is not a JSON object (or is longer than ``max_text``).
    """
    problems = [] if problems is None else problems
    data = _load_json(prompt_json_text, "prompt", max_text)
    if not isinstance(data, dict):
        raise DetailsError(f"prompt JSON is {_preview(data)}, not an object")
    graph = _Graph(data, problems)
    samplers = [n for n, (c, _) in graph.nodes.items() if c in SAMPLER_CLASSES]
    if not samplers:
        problems.append("prompt: no sampler node (KSampler, SamplerCustom…) found")
        return {}
    chosen = _pick_sampler(graph, samplers) if len(samplers) > 1 else samplers[0]
    if len(samplers) > 1:
        problems.append(f"prompt: {len(samplers)} samplers; read node {chosen!r} ({graph.nodes[chosen][0]}), the last")
    details: dict[str, Any] = {}
    _read_sampler(graph, chosen, details)
    return validate_details(details, problems)


# -- PNG chunks ----------------------------------------------------------------------------


class _Source:
    """Random access to the bytes of a file or a buffer, clipped to ``limit`` bytes."""

    def __init__(self, data: memoryview | None, handle: BinaryIO | None, size: int, limit: int) -> None:
        self._data = data
        self._handle = handle
        self.size = min(size, limit)
        self.clipped = size > limit
        """True when the file is longer than ``max_bytes``: only its first ``max_bytes`` are read."""

    def read(self, offset: int, count: int) -> bytes:
        if offset >= self.size or count <= 0:
            return b""
        count = min(count, self.size - offset)
        if self._data is not None:
            return bytes(self._data[offset : offset + count])
        assert self._handle is not None
        self._handle.seek(offset)
        return self._handle.read(count)


def _guess_format(head: bytes) -> str:
    if not head:
        return "empty file"
    if PNG_SIGNATURE.startswith(head) or head.startswith(PNG_SIGNATURE[:4]):
        return "truncated or damaged PNG signature"
    for magic, name in ((b"\xff\xd8\xff", "JPEG"), (b"GIF87a", "GIF"), (b"GIF89a", "GIF"), (b"BM", "BMP")):
        if head.startswith(magic):
            return name
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP"
    return "unknown format"


def _inflate(data: bytes, max_text: int, where: str, problems: list[str]) -> bytes | None:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, max_text + 1)
    except zlib.error as error:
        problems.append(f"{where}: compressed text is damaged ({error}); skipped")
        return None
    if len(out) > max_text:
        problems.append(f"{where}: decompresses to more than max_text ({max_text} bytes); skipped")
        return None
    if not inflater.eof:
        problems.append(f"{where}: compressed text is truncated; skipped")
        return None
    return out


def _decode_text(raw: bytes, utf8_only: bool, where: str, problems: list[str]) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        if utf8_only:
            problems.append(f"{where}: text is not valid UTF-8; undecodable bytes replaced")
            return raw.decode("utf-8", errors="replace")
        return raw.decode("latin-1")


def _text_chunk(ctype: bytes, data: bytes, keyword: str, max_text: int, problems: list[str]) -> str | None:
    where = f"{ctype.decode()} chunk {keyword!r}"
    body = data[len(keyword.encode("latin-1")) + 1 :]
    if ctype == b"tEXt":
        return _decode_text(body, False, where, problems)
    if ctype == b"zTXt":
        if not body or body[0] != 0:
            problems.append(f"{where}: unknown compression method; skipped")
            return None
        raw = _inflate(body[1:], max_text, where, problems)
        return None if raw is None else _decode_text(raw, False, where, problems)
    if len(body) < 2:
        problems.append(f"{where}: too short; skipped")
        return None
    compressed, method, rest = body[0], body[1], body[2:]
    language_end = rest.find(b"\0")
    translated_end = rest.find(b"\0", language_end + 1) if language_end != -1 else -1
    if translated_end == -1:
        problems.append(f"{where}: malformed iTXt header; skipped")
        return None
    raw = rest[translated_end + 1 :]
    if compressed:
        if method != 0:
            problems.append(f"{where}: unknown compression method; skipped")
            return None
        raw = _inflate(raw, max_text, where, problems)
        if raw is None:
            return None
    return _decode_text(raw, True, where, problems)


def _walk_png(source: _Source, wanted: frozenset[str], max_text: int, problems: list[str]) -> dict[str, str] | None:
    """Text of the ``wanted`` keys (first occurrence each), or None when this is not a PNG at all."""
    head = source.read(0, 16)
    if not head.startswith(PNG_SIGNATURE):
        problems.append(f"not a PNG file ({_guess_format(head)})")
        return None
    texts: dict[str, str] = {}
    duplicates: set[str] = set()
    offset, chunks = len(PNG_SIGNATURE), 0
    while True:
        header = source.read(offset, 8)
        if len(header) < 8:
            if source.clipped:
                problems.append(f"stopped after max_bytes ({source.size} bytes)")
            else:
                problems.append(f"truncated PNG: no IEND chunk (the file ends at offset {source.size})")
            break
        if chunks >= MAX_CHUNKS:
            problems.append(f"more than {MAX_CHUNKS} chunks: stopped reading at offset {offset}")
            break
        chunks += 1
        length, ctype = struct.unpack(">I4s", header)
        if length > 0x7FFFFFFF or not ctype.isalpha():
            problems.append(f"damaged chunk header at offset {offset}: stopped reading")
            break
        end = offset + 12 + length
        if end > source.size:
            if source.clipped:
                problems.append(f"stopped after max_bytes ({source.size} bytes)")
            else:
                problems.append(f"truncated PNG: {ctype!r} chunk at offset {offset} runs past the end of the file")
            break
        if ctype == b"IEND":
            break
        if ctype in _TEXT_CHUNKS:
            _read_text_chunk(source, offset, length, ctype, wanted, texts, duplicates, max_text, problems)
        offset = end
    return texts


def _read_text_chunk(
    source: _Source,
    offset: int,
    length: int,
    ctype: bytes,
    wanted: frozenset[str],
    texts: dict[str, str],
    duplicates: set[str],
    max_text: int,
    problems: list[str],
) -> None:
    start = source.read(offset + 8, min(length, 80))
    nul = start.find(b"\0")
    if nul < 1:
        return
    keyword = start[:nul].decode("latin-1")
    if keyword not in wanted:
        return
    where = f"{ctype.decode()} chunk {keyword!r} at offset {offset}"
    if keyword in texts:
        if keyword not in duplicates:
            duplicates.add(keyword)
            problems.append(f"{where}: another {keyword!r} chunk; only the first is read")
        return
    if length > max_text + 256:
        problems.append(f"{where}: {length} bytes, more than max_text ({max_text}); skipped")
        return
    data = source.read(offset + 8, length + 4)
    if len(data) != length + 4:
        problems.append(f"{where}: the file changed while reading; skipped")
        return
    crc = struct.unpack(">I", data[length:])[0]
    data = data[:length]
    if zlib.crc32(data, zlib.crc32(ctype)) != crc:
        problems.append(f"{where}: bad CRC; skipped")
        return
    text = _text_chunk(ctype, data, keyword, max_text, problems)
    if text is not None:
        if len(text) > max_text:
            problems.append(f"{where}: more than max_text ({max_text}) characters; skipped")
        else:
            texts[keyword] = text


def _open_source(path_or_bytes: Any, max_bytes: int) -> tuple[_Source, BinaryIO | None]:
    if isinstance(path_or_bytes, bytes | bytearray | memoryview):
        try:
            data = memoryview(path_or_bytes).cast("B")
        except TypeError:  # not C-contiguous: copy it
            data = memoryview(memoryview(path_or_bytes).tobytes())
        return _Source(data, None, len(data), max_bytes), None
    if not isinstance(path_or_bytes, str | os.PathLike):
        raise DetailsError(f"expected a path or bytes, not {type(path_or_bytes).__name__}")
    path = os.fspath(path_or_bytes)
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise DetailsError(f"{path!r} is not a regular file")
        handle = open(path, "rb")  # noqa: SIM115 (closed by the caller)
    except (OSError, ValueError) as error:  # ValueError: a NUL in the path
        raise DetailsError(f"cannot read {path!r}: {getattr(error, 'strerror', None) or error}") from error
    return _Source(None, handle, os.fstat(handle.fileno()).st_size, max_bytes), handle


def read_png_text(
    path_or_bytes: str | os.PathLike[str] | bytes | bytearray | memoryview,
    keys: frozenset[str] | set[str] = frozenset({DETAILS_CHUNK, PROMPT_CHUNK, PARAMETERS_CHUNK}),
    *,
    max_bytes: int = MAX_DEFAULT_BYTES,
    max_text: int = MAX_DEFAULT_TEXT,
) -> tuple[dict[str, str] | None, list[str]]:
    """``(texts, problems)``: the tEXt/zTXt/iTXt texts of ``keys`` in a PNG (None when not a PNG).

    Walks chunks with ``struct`` only (pixels are never decoded or even read): checks the signature and
    each chunk length against the file, the CRC of each chunk it reads (bad ones are skipped), stops at
    IEND, after ``MAX_CHUNKS`` chunks or past ``max_bytes``. Texts over ``max_text`` are skipped, zlib
    output is capped at ``max_text`` (bombs stop there). The first chunk of each key wins. tEXt/zTXt are
    read as UTF-8 when valid (what ComfyUI's browser reader assumes), else Latin-1 (the PNG standard).
    Raises ``DetailsError`` for an unreadable path or a wrong argument type.
    """
    problems: list[str] = []
    source, handle = _open_source(path_or_bytes, max_bytes)
    try:
        texts = _walk_png(source, frozenset(keys), max_text, problems)
    except OSError as error:
        raise DetailsError(f"cannot read the file: {error}") from error
    finally:
        if handle is not None:
            handle.close()
    return texts, problems


@dataclass
class ReadResult:
    """What ``read_png_details`` found: the details, where they came from, and what was wrong."""

    details: dict[str, Any]
    source: str
    """One of ``SOURCES``: "seed_number", "comfyui prompt", "a1111 parameters" or "none"."""
    problems: list[str] = field(default_factory=list)


def read_png_details(
    path_or_bytes: str | os.PathLike[str] | bytes | bytearray | memoryview,
    *,
    max_bytes: int = MAX_DEFAULT_BYTES,
    max_text: int = MAX_DEFAULT_TEXT,
) -> ReadResult:
    """The generation details stored in a PNG, from the best source it has.

    Sources, first that yields any field wins: our ``seed_number_details`` JSON, ComfyUI's ``prompt``
    graph, A1111 ``parameters``. A source that is present but unreadable is noted in ``problems`` and the
    next is tried. Non-PNG input (JPEG, WebP, GIF, garbage, empty) gives source "none" and the problem
    "not a PNG file (…)". Never raises on content; raises ``DetailsError`` only for an unreadable path or
    a wrong argument type. Bounded in time and memory: see ``read_png_text``.
    """
    texts, problems = read_png_text(path_or_bytes, max_bytes=max_bytes, max_text=max_text)
    if texts is None:
        return ReadResult({}, SOURCE_NONE, problems)
    readers: tuple[tuple[str, str, Callable[..., dict[str, Any]], dict[str, int]], ...] = (
        (DETAILS_CHUNK, SOURCE_SEED_NUMBER, parse_details_json, {"max_text": max_text}),
        (PROMPT_CHUNK, SOURCE_COMFY_PROMPT, details_from_comfy_prompt, {"max_text": max_text}),
        (PARAMETERS_CHUNK, SOURCE_A1111, parse_a1111_parameters, {}),
    )
    for key, source, reader, options in readers:
        text = texts.get(key)
        if text is None:
            continue
        try:
            details = reader(text, problems, **options)
        except DetailsError as error:
            problems.append(f"{key}: {error}")
            continue
        except RecursionError:
            problems.append(f"{key}: nested too deeply")
            continue
        if details:
            return ReadResult(details, source, problems)
        problems.append(f"{key}: no generation details in it")
    if not texts:
        problems.append("no generation details: no seed_number_details, prompt or parameters text")
    return ReadResult({}, SOURCE_NONE, problems)


def png_text_chunks(details: Mapping[str, Any]) -> dict[str, str]:
    """The text chunks a saver adds for ``details``: ``parameters`` (A1111) and ``DETAILS_CHUNK`` (our JSON).

    With Pillow: ``for k, v in png_text_chunks(d).items(): pnginfo.add_text(k, v)``; Pillow writes an iTXt
    chunk for a value that is not Latin-1 (as A1111 does) and tEXt otherwise; our JSON is ASCII.
    """
    return {PARAMETERS_CHUNK: a1111_parameters(details), DETAILS_CHUNK: details_json(details)}


# -- model hash ----------------------------------------------------------------------------

_HASH_CACHE: OrderedDict[tuple[str, int, int], str] = OrderedDict()
_HASH_CACHE_MAX = 256
_HASH_LOCK = threading.Lock()
_HASH_BLOCK = 1 << 20


def _sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(_HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def file_sha256(path: str | os.PathLike[str], cache: dict[Any, str] | None = None) -> str:
    """The sha256 hex digest of a whole file, read in 1 MiB blocks, cached by (realpath, size, mtime_ns).

    ``cache`` defaults to a module-level, thread-safe cache of the last 256 files, so a checkpoint is
    hashed once per change. Raises ``OSError`` when the file cannot be read.
    """
    real = os.path.realpath(os.fspath(path))
    info = os.stat(real)
    key = (real, info.st_size, info.st_mtime_ns)
    if cache is not None:
        hit = cache.get(key)
        if hit is None:
            hit = cache[key] = _sha256_file(real)
        return hit
    with _HASH_LOCK:
        hit = _HASH_CACHE.get(key)
        if hit is not None:
            _HASH_CACHE.move_to_end(key)
            return hit
    digest = _sha256_file(real)
    with _HASH_LOCK:
        _HASH_CACHE[key] = digest
        while len(_HASH_CACHE) > _HASH_CACHE_MAX:
            _HASH_CACHE.popitem(last=False)
    return digest


def autov2_hash(path: str | os.PathLike[str], cache: dict[Any, str] | None = None) -> str:
    """A1111's AutoV2 model hash: the first 10 hex characters of the file's sha256 (see ``file_sha256``)."""
    return file_sha256(path, cache)[:10]


# -- reproducibility -----------------------------------------------------------------------

VERDICT_SAME_MACHINE = "same machine"
VERDICT_SAME_DEVICE = "same machine and device"
VERDICT_NOT_EXPECTED = "not expected"
VERDICT_UNKNOWN = "unknown"
VERDICTS = (VERDICT_SAME_MACHINE, VERDICT_SAME_DEVICE, VERDICT_NOT_EXPECTED, VERDICT_UNKNOWN)
_ENV_KEYS = (("comfyui_version", "ComfyUI"), ("torch_version", "torch"), ("device", "device"))


def _is_cpu(device: str) -> bool:
    return device.strip().lower().startswith("cpu")


def reproducibility(
    sampler: str | None,
    device: str,
    noise_device: str,
    saved_env: Mapping[str, Any] | None = None,
    current_env: Mapping[str, Any] | None = None,
    *,
    batch_size: int | None = None,
) -> dict[str, Any]:
    """Where a re-run gives the same bits: ``{"verdict": one of VERDICTS, "reasons": [short facts]}``.

    ``device`` is where the model ran ("cpu", "cuda:0", "mps"…), ``noise_device`` where the initial
    noise was drawn (ComfyUI and Seed Source: "cpu"). Verdicts:

    - "same machine": all noise comes from CPU generators (initial noise, and per-step noise if any:
      none, or a CPU Brownian tree) so it is the same everywhere; the bits are the same on the same
      machine with the same ComfyUI/torch, and other machines differ only by float rounding.
    - "same machine and device": some noise is drawn on a GPU (initial noise not on the CPU, or a sampler
      that draws per-step noise on the model's device: ancestral, ddpm, lcm, er_sde, seeds_*, sa_solver,
      the ``*_gpu`` SDEs; see ``sampler_names``); another device draws different noise, a different image.
    - "not expected": ``saved_env`` and ``current_env`` (keys ``comfyui_version``, ``torch_version``,
      ``device``) differ; the reasons list each difference as "torch 2.4.1, now 2.5.0".
    - "unknown": the sampler or a device is unknown.

    ``batch_size`` > 1 with per-step noise adds a reason: that noise spans the batch, so an image is
    re-made only at the same batch size. The result is what the details store as ``reproducible``.
    """
    reasons: list[str] = []
    differences = []
    if saved_env and current_env:
        for key, label in _ENV_KEYS:
            before, now = saved_env.get(key), current_env.get(key)
            if before is not None and now is not None and before != now:
                differences.append(f"{label} {before}, now {now}")
    noise = per_step_noise(sampler)
    devices_known = all(isinstance(d, str) and d.strip() for d in (device, noise_device))
    if noise is None:
        reasons.append(f"sampler {sampler!r} is not a ComfyUI sampler known here: its per-step noise is unknown")
    if not devices_known:
        reasons.append("the device or noise device is unknown")
        device = device if isinstance(device, str) and device.strip() else "an unknown device"
    device_noise = False
    if devices_known and not _is_cpu(noise_device):
        reasons.append(f"initial noise drawn on {noise_device}")
        device_noise = True
    if noise == "device":
        reasons.append(f"per-step noise drawn on {device}")
        device_noise = device_noise or not (devices_known and _is_cpu(device))
    elif noise == "cpu":
        reasons.append("per-step noise from a CPU Brownian tree: reproducible on same ComfyUI/torch")
    if noise in ("device", "cpu") and isinstance(batch_size, int) and batch_size > 1:
        reasons.append(f"per-step noise spans the batch: re-make at batch size {batch_size}")
    if devices_known and not device_noise and noise is not None:
        if _is_cpu(device):
            reasons.append("all noise from CPU generators; model on cpu")
        else:
            reasons.append(f"all noise from CPU generators; model on {device}: other GPUs round differently")
    if differences:
        return {"verdict": VERDICT_NOT_EXPECTED, "reasons": differences + reasons}
    if noise is None or not devices_known:
        return {"verdict": VERDICT_UNKNOWN, "reasons": reasons}
    return {"verdict": VERDICT_SAME_DEVICE if device_noise else VERDICT_SAME_MACHINE, "reasons": reasons}
