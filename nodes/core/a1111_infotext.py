"""The A1111 ``parameters`` text ("infotext"): writing it from the details and reading it back.

Pure Python (stdlib only). ``a1111_parameters`` writes the text every image site and tool reads (the
prompt, a ``Negative prompt:`` line, one line of ``Key: value`` pairs); ``parse_a1111_parameters`` reads
ours and A1111's own back into details fields (see ``details_fields``), linear in the text's length.
Sampler and scheduler names are translated both ways by ``sampler_names``.
"""

from __future__ import annotations

import json
import math
import numbers
import re
from collections.abc import Mapping
from typing import Any

from .details_fields import MAX_SEED_ANY, REJECTED, DetailsError, as_float, as_int, preview, validate_details
from .sampler_names import (
    a1111_sampler_name,
    a1111_schedule_type,
    comfy_sampler_from_a1111,
    comfy_scheduler_from_a1111,
)

__all__ = ["MAX_PARAM_PAIRS", "a1111_parameters", "model_stem", "parse_a1111_parameters"]

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
    "variation seed": "variation_seed",
    "variation seed strength": "variation_strength",
    "seed resize from": "seed_resize_from",
    "ensd": "ensd",
    "rng": "rng",
    "distilled cfg scale": "guidance",
    "shift": "shift",
}
_INT_FIELDS = ("steps", "seed", "variation_seed", "ensd")
_FLOAT_FIELDS = ("cfg", "denoise", "variation_strength", "guidance", "shift")
_RNG_WRITTEN = {"a1111 gpu": "NV", "a1111 cpu": "CPU"}
"""The ``RNG`` value A1111 reads for each noise source (A1111 writes none for its default, GPU)."""
_RNG_READ = {"nv": "a1111 gpu", "gpu": "a1111 gpu", "cpu": "a1111 cpu"}
_DEFAULT_NOISE_SOURCE = "comfy"
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

    steps = as_int(details.get("steps"), 1, 10**9)
    add("Steps", None if steps is REJECTED else str(steps), quote=False)
    sampler, scheduler = short("sampler"), short("scheduler")
    if sampler:
        add("Sampler", a1111_sampler_name(sampler, scheduler))
    if scheduler:
        add("Schedule type", a1111_schedule_type(scheduler))
    add("CFG scale", _format_number(details.get("cfg")), quote=False)
    add("Distilled CFG Scale", _format_number(details.get("guidance")), quote=False)  # Forge's name (Flux)
    seed = as_int(details.get("seed"), 0, MAX_SEED_ANY)
    add("Seed", None if seed is REJECTED else str(seed), quote=False)
    width, height = as_int(details.get("width"), 1, 2**31), as_int(details.get("height"), 1, 2**31)
    if width is not REJECTED and height is not REJECTED:
        add("Size", f"{width}x{height}", quote=False)
    add("Model hash", short("model_hash"))
    model = short("model")
    add("Model", model_stem(model) if model else None)
    strength = as_float(details.get("variation_strength"), 0.0, 1.0)
    variation = as_int(details.get("variation_seed"), 0, MAX_SEED_ANY)
    if strength is not REJECTED and strength > 0.0 and variation is not REJECTED:
        add("Variation seed", str(variation), quote=False)
        add("Variation seed strength", _format_number(strength), quote=False)
    denoise = details.get("denoise")
    denoise_value = as_float(denoise, 0.0, 1.0)
    if denoise_value is not REJECTED and denoise_value < 1.0:
        add("Denoising strength", _format_number(denoise), quote=False)
    add("Shift", _format_number(details.get("shift")), quote=False)  # as Forge writes it for flow models
    add("RNG", a1111_rng(details))
    add("Seed Number speed", short("speed"))
    add("Variant", short("label"))
    version = short("comfyui_version")
    add("Version", _COMFY_VERSION_PREFIX + version if version else None)
    return pairs


def a1111_rng(details: Mapping[str, Any]) -> str | None:
    """The ``RNG`` value that makes A1111 draw this image's initial noise, or None when no A1111 RNG does.

    ``NV`` for ``a1111 gpu`` (A1111 then draws it on any hardware), ``CPU`` for ``a1111 cpu`` and for
    ComfyUI's noise where that equals A1111's CPU noise: a batch of one, or ``per image`` seeds.
    """
    source = details.get("noise_source")
    if source in _RNG_WRITTEN:
        return _RNG_WRITTEN[source]
    if source == _DEFAULT_NOISE_SOURCE and (
        details.get("batch_size") in (None, 1) or details.get("batch_seeds") == "per image"
    ):
        return "CPU"
    return None


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
    if name in _INT_FIELDS:
        bad = not _INT_RE.fullmatch(value.strip())
        if not bad:
            details[name] = int(value)
    elif name in _FLOAT_FIELDS:
        bad = not _FLOAT_RE.fullmatch(value.strip())
        if not bad:
            details[name] = float(value)
    elif name in ("size", "seed_resize_from"):
        size = _SIZE_RE.fullmatch(value.strip())
        bad = size is None
        if size is not None and name == "size":
            details["width"], details["height"] = int(size.group(1)), int(size.group(2))
        elif size is not None:
            details[name] = f"{int(size.group(1))}x{int(size.group(2))}"
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
        problems.append(f"parameters: {name} {preview(value)} is not a number; ignored")


def _noise_source(rng: str | None, comfyui_made: bool, problems: list[str]) -> str:
    """The noise source an ``RNG`` value stands for: no value means A1111's default (GPU, as ``NV``),
    and a ComfyUI-made image without ``RNG: NV`` used ComfyUI's noise. An unknown value falls back
    to the default, with a problem noted."""
    key = rng.strip().casefold() if isinstance(rng, str) else None
    if comfyui_made and key != "nv":
        return _DEFAULT_NOISE_SOURCE
    if key is None:
        return "a1111 gpu"
    if key not in _RNG_READ:
        problems.append(f"parameters: RNG {preview(rng)} is not GPU, NV or CPU; a1111 gpu assumed")
        return "a1111 gpu"
    return _RNG_READ[key]


def parse_a1111_parameters(text: str, problems: list[str] | None = None) -> dict[str, Any]:
    """Our details fields from an A1111 ``parameters`` text (``a1111_parameters``' inverse, and A1111's own).

    The last line is the parameter line when it holds three ``Key: value`` pairs (A1111's rule) or only
    pairs with known keys. The first line starting with ``Negative prompt:`` (one space after the colon is
    dropped) starts the negative prompt; without it the negative prompt is "" (A1111 leaves the line out
    when it is empty). Prompts are returned exactly, without stripping. Quoted values are JSON-decoded.
    Returns ``positive``, ``negative`` and whichever of ``seed``, ``steps``, ``cfg``, ``sampler``,
    ``scheduler`` (ComfyUI names: "DPM++ 2M Karras" → ``dpmpp_2m``/``karras``), ``width``, ``height``,
    ``model``, ``model_hash``, ``denoise``, ``speed``, ``label``, ``comfyui_version``, ``variation_seed``,
    ``variation_strength``, ``ensd`` and ``seed_resize_from`` are present and valid; invalid values are
    dropped and reported in ``problems``. With a parameter line, ``noise_source`` says which noise made
    the image: ``RNG: CPU`` is ``a1111 cpu``; ``NV``, ``GPU`` or no ``RNG`` is ``a1111 gpu`` (A1111's
    default); a ComfyUI-made image (``Version: ComfyUI …``) is ``comfy`` unless it says ``RNG: NV``.

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
            details["noise_source"] = _noise_source(details.pop("rng", None), "comfyui_version" in details, problems)
    negative_at = next((i for i, line in enumerate(lines) if line.startswith(_NEGATIVE)), None)
    if negative_at is None:
        details["positive"], details["negative"] = "\n".join(lines), ""
    else:
        first = lines[negative_at][len(_NEGATIVE) :]
        details["positive"] = "\n".join(lines[:negative_at])
        details["negative"] = "\n".join([first.removeprefix(" "), *lines[negative_at + 1 :]])
    return validate_details(details, problems)
