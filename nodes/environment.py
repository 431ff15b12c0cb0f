"""What every image records about where it was made: versions, devices and the checkpoint's hash.

Shared by Seed Details (which writes it) and Load Seed Details (which compares a loaded image's
record with this machine's).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import folder_paths
import torch

from .core.model_hash import autov2_hash
from .state import model_hashes


def _pack_version() -> str | None:
    """``[project] version`` of the pack's pyproject.toml (no tomllib: Python 3.10 has none)."""
    try:
        text = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text(encoding="utf-8")
    except OSError:
        return None
    found = re.search(r'^version\s*=\s*"([^"]+)"', text, re.MULTILINE)
    return found.group(1) if found else None


def _comfyui_version() -> str | None:
    try:
        import comfyui_version

        return str(comfyui_version.__version__)
    except (ImportError, AttributeError):
        return None


def _device() -> str:
    try:
        import comfy.model_management

        return str(comfy.model_management.get_torch_device())
    except Exception:  # no device information is not a reason to lose an image
        return "unknown"


PACK_VERSION = _pack_version()


def environment() -> dict[str, Any]:
    """Versions and devices recorded with every image."""
    return {
        "pack_version": PACK_VERSION,
        "comfyui_version": _comfyui_version(),
        "torch_version": torch.__version__.split("+")[0],
        "device": _device(),
        "noise_device": "cpu",  # KSampler's prepare_noise and Seed Source's noise both draw on the CPU
    }


def model_hash(name: Any) -> str | None:
    """AutoV2 hash of a checkpoint by its ComfyUI name (hashed once, then cached)."""
    if not isinstance(name, str):
        return None
    path = folder_paths.get_full_path("checkpoints", name)
    if path is None:
        return None
    try:
        return autov2_hash(path, model_hashes)
    except OSError:
        return None
