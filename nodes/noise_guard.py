"""Warn once when another pack has replaced ``comfy.sample.prepare_noise`` (ComfyUI's initial noise).

Seed Source's ``noise`` output draws ComfyUI's noise itself (``nodes.core.noise``) and is not
affected; a KSampler fed by Seed Source's ``seed`` output goes through the replacement. The check
is lazy: packs loaded after this one patch at their import, so the first Seed Source run is the
first safe point; it runs on every Seed Source execute (a few attribute reads) until it warned once.
Nothing here imports ComfyUI: the function is looked up in ``sys.modules`` or passed in.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger("seed_number")

CORE_MODULE = "comfy.sample"
CORE_NAME = "prepare_noise"
CORE_FILE_SUFFIX = "comfy/sample.py"

WARNING = (
    "Seed Number: comfy.sample.prepare_noise has been replaced by %s (module %s, file %s), "
    "probably by another custom node pack. Seed Source's `noise` output does not use it: it draws "
    "ComfyUI's own initial noise from a private generator, so SamplerCustomAdvanced fed by it makes the same "
    "image as unpatched ComfyUI. KSampler's seed input (wired to Seed Source's `seed` output or not) goes "
    "through the replacement, so those images may differ from unpatched ComfyUI's for the same seed."
)
"""The warning, logged once per process on the ``seed_number`` logger (%-args: name, module, file)."""


@dataclass(frozen=True)
class Patch:
    """Who replaced ``prepare_noise``: the callable's name, its defining module and source file."""

    name: str
    module: str
    file: str


def _code(fn: Any) -> Any:
    code = getattr(fn, "__code__", None)
    if code is None:  # a callable object: the code of its class's __call__
        call = next((vars(k)["__call__"] for k in type(fn).__mro__ if "__call__" in vars(k)), None)
        code = getattr(call, "__code__", None)
    return code


def _code_file(fn: Any) -> str:
    return str(getattr(_code(fn), "co_filename", "") or "")


def is_core_prepare_noise(fn: Any) -> bool:
    """True when ``fn`` is ComfyUI's own ``comfy/sample.py: prepare_noise`` (not a wrapper of it).

    All three must hold: module ``comfy.sample``, name ``prepare_noise`` and code from
    ``comfy/sample.py`` -- a ``functools.wraps`` wrapper copies the first two but not its code.
    """
    filename = _code_file(fn).replace("\\", "/")
    return (
        getattr(fn, "__module__", None) == CORE_MODULE
        and getattr(fn, "__name__", None) == CORE_NAME
        and filename.endswith(CORE_FILE_SUFFIX)
    )


def _module_of_file(filename: str, modules: dict[str, Any]) -> str | None:
    if not filename:
        return None
    for name, module in list(modules.items()):
        if getattr(module, "__file__", None) == filename:
            return name
    return None


def describe_patch(fn: Any, modules: dict[str, Any] | None = None) -> Patch | None:
    """None for ComfyUI's own function, else who replaced it (name and module found from its code)."""
    if is_core_prepare_noise(fn):
        return None
    filename = _code_file(fn)
    declared = getattr(fn, "__module__", None) or type(fn).__module__
    module = _module_of_file(filename, sys.modules if modules is None else modules) or declared
    code = _code(fn)  # its names survive functools.wraps, which copies the original's __name__/__qualname__
    name = getattr(code, "co_qualname", None) or getattr(code, "co_name", None) or getattr(fn, "__qualname__", None)
    name = name or repr(fn)
    return Patch(name=str(name), module=str(module), file=filename or "(unknown)")


_lock = threading.Lock()
_warned: Patch | None = None


def check_prepare_noise(current: Callable[..., Any] | None = None) -> Patch | None:
    """Log the warning the first time ``prepare_noise`` is found replaced; the patch found, else None.

    ``current`` defaults to ``comfy.sample.prepare_noise`` when ComfyUI has imported it. Later calls
    after a warning return the first patch found without logging again. Never raises.
    """
    global _warned
    if _warned is not None:
        return _warned
    try:
        if current is None:
            sample = sys.modules.get(CORE_MODULE)
            current = getattr(sample, CORE_NAME, None) if sample is not None else None
            if current is None:
                return None
        patch = describe_patch(current)
    except Exception:  # a guard must never fail a run
        logger.debug("Seed Number: could not check comfy.sample.prepare_noise", exc_info=True)
        return None
    if patch is None:
        return None
    with _lock:
        if _warned is None:
            _warned = patch
            logger.warning(WARNING, patch.name, patch.module, patch.file)
    return _warned


def reset() -> None:
    """Forget an earlier warning (tests)."""
    global _warned
    with _lock:
        _warned = None
