"""Render Speed presets: Turbo / Default / Quality per model family, as data (no comfy import).

The shipped table is ``render_speed_presets.json`` beside this module. Users override or add
families with a file of the same schema in ComfyUI's user directory
(``<user dir>/default/seed_number/render_speed_presets.json``, writable through ComfyUI's
``/userdata`` API). Schema::

    {"version": 1,
     "families": {
       "<family>": {
         "detect": ["<ComfyUI model config class name>", ...],   # optional, used by model_family=auto
         "file_names": ["<text>", ...],     # optional: a variant of its detect class, chosen by auto when
                                            # a model file name in the graph contains one of these
                                            # (compared lower-case, letters and digits only)
         "shift_node": "ModelSamplingSD3" | "ModelSamplingAuraFlow" | "ModelSamplingFlux",
                                            # optional: whose math applies the speeds' shift; without
                                            # it a speed may not give a shift
         "guidance_node": "FluxGuidance",   # optional: the speeds' guidance goes on the conditioning
         "note": "<where the numbers come from>",                   # optional
         "speeds": {
           "Turbo"|"Default"|"Quality": {
             "steps": int >= 1, "cfg": number >= 0, "sampler": <KSampler sampler name>,
             "scheduler": <KSampler scheduler name>, "denoise": 0 < number <= 1 (default 1),
             "shift": 0 < number <= 100 (optional, needs shift_node),
             "guidance": 0 <= number <= 100 (optional, needs guidance_node), "note": str (optional)}}}}}

An override entry of a shipped family may give only some speeds, and of a speed only some fields;
a new family must give all three speeds in full. A shipped family's ``shift_node`` and
``guidance_node`` follow ComfyUI's model class and cannot be overridden. Any problem is a
:class:`PresetError` naming the file and the entry: a bad override never falls back silently to
the shipped numbers.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .sampler_names import reproducibility_note

SPEEDS = ("Turbo", "Default", "Quality")
LADDER = "Ladder"
SPEED_CHOICES = (*SPEEDS, LADDER)
NODE_ID = "RenderSpeedPreset|SeedNumber"
"""Render Speed Preset's node id (public API: saved workflows name it)."""
AUTO = "auto"
SHIPPED_PATH = Path(__file__).with_name("render_speed_presets.json")
OVERRIDE_PARTS = ("default", "seed_number", "render_speed_presets.json")
"""Where the user override lives, relative to ComfyUI's user directory."""

MAX_STEPS = 10_000
"""Most sampler steps a preset may ask for; with ``denoise`` < 1 the schedule has steps / denoise."""
MIN_DENOISE = 0.01
"""Smallest ``denoise``: KSampler's own widget step (below it, steps / denoise explodes)."""
MAX_CFG = 100.0
MAX_FILE_BYTES = 1_000_000
MAX_SHIFT = 100.0
"""ComfyUI's ModelSampling* nodes' own maximum shift."""
MAX_GUIDANCE = 100.0
"""FluxGuidance's own maximum."""
SHIFT_NODES = ("ModelSamplingSD3", "ModelSamplingAuraFlow", "ModelSamplingFlux")
"""ComfyUI's shift nodes whose math the node applies (multiplier 1000, 1.0, and Flux's time shift)."""
SHIFT_MULTIPLIERS = {"ModelSamplingSD3": 1000.0, "ModelSamplingAuraFlow": 1.0}
"""The timestep multiplier each discrete-flow shift node sets (ModelSamplingFlux has none)."""
GUIDANCE_NODES = ("FluxGuidance",)
_FIELDS = {"steps", "cfg", "sampler", "scheduler", "denoise", "shift", "guidance", "note"}
_FAMILY_KEYS = ("detect", "file_names", "shift_node", "guidance_node", "note", "speeds")
_REQUIRED = ("steps", "cfg", "sampler", "scheduler")


class PresetError(ValueError):
    """A presets file or entry that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class Preset:
    """One family's settings for one render speed."""

    family: str
    speed: str
    steps: int
    cfg: float
    sampler: str
    scheduler: str
    denoise: float = 1.0
    shift: float | None = None
    guidance: float | None = None
    shift_node: str | None = None
    note: str = ""

    @property
    def reproducibility(self) -> str | None:
        return reproducibility_note(self.sampler)

    def label(self) -> str:
        """The ``speed`` label: the speed name, plus the reproducibility note when one applies."""
        note = self.reproducibility
        return f"{self.speed} ({note})" if note else self.speed

    def as_dict(self) -> dict[str, Any]:
        """Every field (all plain values: a shallow copy is a full one; ``asdict``'s deep copy cost 70 µs
        a ladder), plus the reproducibility note."""
        data = {f.name: getattr(self, f.name) for f in _PRESET_FIELDS}
        data["reproducibility"] = self.reproducibility
        return data


_PRESET_FIELDS = dataclasses.fields(Preset)


def speeds_for(speed: str) -> tuple[str, ...]:
    """The speeds one choice stands for: all three for Ladder, in Turbo, Default, Quality order."""
    return SPEEDS if speed == LADDER else (speed,)


def _shown(value: Any) -> str:
    """A value's repr for a message, cut short (a user's file may hold a 400-digit number)."""
    text = (
        repr(value) if not isinstance(value, int) or abs(value) < 10**40 else f"a {len(str(abs(value)))}-digit number"
    )
    return text if len(text) <= 60 else text[:57] + "..."


def _is_number(value: Any) -> bool:
    """A finite JSON number. Never raises: a 400-digit integer is simply not a usable number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False


def _check_speed(
    entry: Any, where: str, samplers: Sequence[str], schedulers: Sequence[str], complete: bool
) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise PresetError(f"{where}: must be an object of steps, cfg, sampler, scheduler, got {type(entry).__name__}")
    unknown = sorted(set(entry) - _FIELDS)
    if unknown:
        raise PresetError(f"{where}: unknown field {unknown[0]!r} (known: {', '.join(sorted(_FIELDS))})")
    if complete:
        missing = [f for f in _REQUIRED if f not in entry]
        if missing:
            raise PresetError(f"{where}: missing {', '.join(missing)}")
    checked: dict[str, Any] = {}
    for name, value in entry.items():
        at = f"{where}.{name}"
        if name == "steps":
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_STEPS:
                raise PresetError(f"{at}: {_shown(value)} is not a whole number from 1 to {MAX_STEPS}")
        elif name == "cfg":
            if not _is_number(value) or not 0 <= value <= MAX_CFG:
                raise PresetError(f"{at}: {_shown(value)} is not a number from 0 to {MAX_CFG:g}")
            value = float(value)
        elif name == "denoise":
            if not _is_number(value) or not MIN_DENOISE <= value <= 1:
                raise PresetError(f"{at}: {_shown(value)} is not a number from {MIN_DENOISE:g} to 1")
            value = float(value)
        elif name == "shift":
            if value is not None and (not _is_number(value) or not 0 < value <= MAX_SHIFT):
                raise PresetError(f"{at}: {_shown(value)} is not a positive number up to {MAX_SHIFT:g}")
            value = None if value is None else float(value)
        elif name == "guidance":
            if value is not None and (not _is_number(value) or not 0 <= value <= MAX_GUIDANCE):
                raise PresetError(f"{at}: {_shown(value)} is not a number from 0 to {MAX_GUIDANCE:g}")
            value = None if value is None else float(value)
        elif name == "sampler":
            if not isinstance(value, str) or value not in samplers:
                raise PresetError(f"{at}: unknown sampler {_shown(value)}; ComfyUI has {', '.join(samplers)}")
        elif name == "scheduler":
            if not isinstance(value, str) or value not in schedulers:
                raise PresetError(f"{at}: unknown scheduler {_shown(value)}; ComfyUI has {', '.join(schedulers)}")
        elif name == "note" and not isinstance(value, str):
            raise PresetError(f"{at}: must be text")
        checked[name] = value
    return checked


def parse_families(
    data: Any,
    source: str,
    samplers: Sequence[str],
    schedulers: Sequence[str],
    known: Iterable[str] = (),
) -> dict[str, dict[str, Any]]:
    """Check one presets document; families not in ``known`` must be complete.

    Returns ``{family: {"detect": [...], "note": str, "speeds": {speed: {field: value}}}}`` with
    only the fields the document gives. Raises :class:`PresetError` naming ``source`` and the entry.
    """
    known = set(known)
    if not isinstance(data, dict):
        raise PresetError(f"{source}: the top level must be an object with 'families', got {type(data).__name__}")
    unknown = sorted(set(data) - {"version", "about", "families"})
    if unknown:
        raise PresetError(f"{source}: unknown top-level key {unknown[0]!r} (expected version, families)")
    if data.get("version", 1) != 1:
        raise PresetError(f"{source}: version {data.get('version')!r} is not supported (expected 1)")
    families = data.get("families")
    if not isinstance(families, dict) or not families:
        raise PresetError(f"{source}: 'families' must be a non-empty object of family name -> presets")
    result: dict[str, dict[str, Any]] = {}
    for family, spec in families.items():
        where = f"{source}: families.{family}"
        if not family or family == AUTO or len(family) > 64:
            raise PresetError(f"{where}: {family!r} cannot be a family name")
        if not isinstance(spec, dict):
            raise PresetError(f"{where}: must be an object with 'speeds', got {type(spec).__name__}")
        extra = sorted(set(spec) - set(_FAMILY_KEYS))
        if extra:
            raise PresetError(f"{where}: unknown key {extra[0]!r} (expected {', '.join(_FAMILY_KEYS)})")
        detect = spec.get("detect", [])
        if not isinstance(detect, list) or not all(isinstance(d, str) and d for d in detect):
            raise PresetError(f"{where}.detect: must be a list of model class names")
        file_names = spec.get("file_names", [])
        if not isinstance(file_names, list) or not all(isinstance(f, str) and normalize_name(f) for f in file_names):
            raise PresetError(f"{where}.file_names: must be a list of texts with letters or digits")
        nodes = {}
        for key, allowed in (("shift_node", SHIFT_NODES), ("guidance_node", GUIDANCE_NODES)):
            value = spec.get(key)
            if value is not None and value not in allowed:
                raise PresetError(f"{where}.{key}: {_shown(value)} is not one of {', '.join(allowed)}")
            if key in spec and family in known:
                raise PresetError(f"{where}.{key}: a shipped family's {key} follows its ComfyUI model class")
            if key in spec:
                nodes[key] = value
        if not isinstance(spec.get("note", ""), str):
            raise PresetError(f"{where}.note: must be text")
        speeds = spec.get("speeds")
        if not isinstance(speeds, dict):
            raise PresetError(f"{where}.speeds: must be an object of {', '.join(SPEEDS)}")
        new = family not in known
        for speed in speeds:
            if speed not in SPEEDS:
                raise PresetError(f"{where}.speeds: unknown speed {speed!r} (expected {', '.join(SPEEDS)})")
        if new:
            missing = [s for s in SPEEDS if s not in speeds]
            if missing:
                needed = ", ".join(SPEEDS)
                raise PresetError(f"{where}.speeds: a new family needs all of {needed}; missing {missing[0]}")
        result[family] = {
            "detect": list(detect),
            "file_names": list(file_names),
            **nodes,
            "note": spec.get("note", ""),
            "speeds": {
                speed: _check_speed(entry, f"{where}.speeds.{speed}", samplers, schedulers, complete=new)
                for speed, entry in speeds.items()
            },
        }
    return result


def read_json(path: Path) -> Any:
    """The JSON document at ``path``; a :class:`PresetError` naming the file for any problem."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise PresetError(f"{path}: {size:,} bytes is too large for a presets file (max {MAX_FILE_BYTES:,})")
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise PresetError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise PresetError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise PresetError(f"{path}: broken JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise PresetError(f"{path}: JSON nested too deeply") from None


def normalize_name(text: str) -> str:
    """A file name or pattern compared for ``file_names``: lower-case letters and digits only."""
    return "".join(ch for ch in text.lower() if ch.isascii() and ch.isalnum())


@dataclass(frozen=True)
class Detection:
    """What ``model_family=auto`` chose, and the rule that decided (for the receipt)."""

    family: str
    model_class: str
    rule: str


class PresetTable:
    """The shipped presets merged with a user override: lookup and model-family detection."""

    def __init__(self, families: dict[str, dict[str, Any]], sources: Sequence[str]) -> None:
        self._presets: dict[str, dict[str, Preset]] = {}
        self._detect: dict[str, list[str]] = {}
        self._file_names: dict[str, list[str]] = {}
        self.notes: dict[str, str] = {}
        self.shift_nodes: dict[str, str | None] = {}
        self.guidance_nodes: dict[str, str | None] = {}
        self.sources = tuple(sources)
        for family, spec in families.items():
            shift_node = spec.get("shift_node")
            self._presets[family] = {
                speed: Preset(family=family, speed=speed, shift_node=shift_node, **spec["speeds"][speed])
                for speed in SPEEDS
            }
            self.notes[family] = spec.get("note", "")
            self.shift_nodes[family] = shift_node
            self.guidance_nodes[family] = spec.get("guidance_node")
            self._file_names[family] = [normalize_name(f) for f in spec.get("file_names", [])]
            for name in spec.get("detect", []):
                self._detect.setdefault(name, []).append(family)

    @property
    def families(self) -> list[str]:
        return list(self._presets)

    def get(self, family: str, speed: str) -> Preset:
        try:
            return self._presets[family][speed]
        except KeyError:
            raise PresetError(f"no preset for model_family {family!r} and speed {speed!r}") from None

    def _base(self, candidates: list[str]) -> str:
        """The family a class stands for without a file-name hint: the first without ``file_names``."""
        return next((f for f in candidates if not self._file_names[f]), candidates[0])

    def detect(self, class_names: Iterable[str]) -> str | None:
        """The base family of a model, from its config class and base classes (most specific first)."""
        found = self.detect_from(class_names)
        return found.family if found else None

    def detect_from(self, class_names: Iterable[str], file_names: Iterable[str] = ()) -> Detection | None:
        """The family of a model: its config class (most specific first), refined by a file name.

        A family listing the class in ``detect`` and a ``file_names`` text found in one of the model's
        file names (the loader's, a LoRA's) wins over the class's base family; the longest text wins.
        """
        names = [n for n in file_names if isinstance(n, str)]
        for cls in class_names:
            candidates = self._detect.get(cls)
            if not candidates:
                continue
            best: tuple[int, str, str, str] | None = None
            for family in candidates:
                for pattern in self._file_names[family]:
                    for name in names:
                        if pattern in normalize_name(name) and (best is None or len(pattern) > best[0]):
                            best = (len(pattern), family, pattern, name)
            if best is not None:
                _, family, pattern, name = best
                return Detection(family, cls, f"model class {cls} and file name {name!r} (contains {pattern!r})")
            return Detection(self._base(candidates), cls, f"model class {cls}")
        return None


def build_table(
    samplers: Sequence[str], schedulers: Sequence[str], override: Path | None = None, shipped: Path = SHIPPED_PATH
) -> PresetTable:
    """Shipped presets, with ``override`` (when the file exists) merged over them field by field."""
    families = parse_families(read_json(shipped), str(shipped), samplers, schedulers)
    sources = [str(shipped)]
    if override is not None and override.exists():
        extra = parse_families(read_json(override), str(override), samplers, schedulers, known=families)
        sources.append(str(override))
        for family, spec in extra.items():
            base = families.setdefault(family, {"detect": [], "file_names": [], "note": "", "speeds": {}})
            for key in ("detect", "file_names", "note"):
                if spec[key]:
                    base[key] = spec[key]
            for key in ("shift_node", "guidance_node"):
                base[key] = spec.get(key, base.get(key))
            for speed, fields in spec["speeds"].items():
                base["speeds"][speed] = {**base["speeds"].get(speed, {}), **fields}
    _check_schedule_lengths(families, sources[-1])
    _check_model_settings(families, sources[-1])
    return PresetTable(families, sources)


def _check_schedule_lengths(families: dict[str, dict[str, Any]], source: str) -> None:
    """PresetError unless every merged preset's schedule (steps / denoise) stays within MAX_STEPS."""
    for family, spec in families.items():
        for speed, fields in spec["speeds"].items():
            steps, denoise = fields.get("steps", 1), fields.get("denoise", 1.0)
            if steps / denoise > MAX_STEPS:
                raise PresetError(
                    f"{source}: families.{family}.speeds.{speed}: steps {steps} at denoise {denoise:g} "
                    f"needs a schedule of {steps / denoise:,.0f} steps, over {MAX_STEPS:,}"
                )


def _check_model_settings(families: dict[str, dict[str, Any]], source: str) -> None:
    """PresetError for a shift on a family without a shift node, or guidance without a guidance node."""
    for family, spec in families.items():
        for speed, fields in spec["speeds"].items():
            at = f"{source}: families.{family}.speeds.{speed}"
            if fields.get("shift") is not None and not spec.get("shift_node"):
                raise PresetError(
                    f"{at}.shift: {family}'s model class has no shift (no shift_node; shift applies to "
                    f"{', '.join(SHIFT_NODES)} families)"
                )
            if fields.get("guidance") is not None and not spec.get("guidance_node"):
                raise PresetError(f"{at}.guidance: {family} takes no guidance (no guidance_node)")


class TableCache:
    """Rebuilds the table only when the override file (or the sampler lists) change."""

    def __init__(self) -> None:
        self._key: Any = None
        self._value: PresetTable | PresetError | None = None
        self._lock = threading.Lock()

    def get(self, samplers: Sequence[str], schedulers: Sequence[str], override: Path | None) -> PresetTable:
        """The current table; raises the same :class:`PresetError` until a bad file is fixed."""
        stat = None
        if override is not None:
            try:
                st = os.stat(override)
                stat = (st.st_mtime_ns, st.st_size)
            except OSError:
                stat = None
        key = (tuple(samplers), tuple(schedulers), str(override), stat)
        with self._lock:
            if key != self._key:
                try:
                    self._value = build_table(samplers, schedulers, override)
                except PresetError as exc:
                    self._value = exc
                except Exception as exc:  # nothing a user writes may break the node: name the file
                    self._value = PresetError(f"{override}: cannot be used ({type(exc).__name__}: {exc})")
                self._key = key
            value = self._value
        if isinstance(value, PresetError):
            raise value
        assert value is not None
        return value
