"""In-process ComfyUI: its modules on sys.path, the pack's node modules importable (fixtures; the
helpers are in ``tests/comfy/helpers.py``)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

import pytest


@pytest.fixture(scope="session")
def comfy(comfyui_path: Path) -> ModuleType:
    """ComfyUI's packages importable in this process (CPU only); returns ``comfy.sample``."""
    if str(comfyui_path) not in sys.path:
        sys.path.insert(0, str(comfyui_path))
    import comfy.cli_args

    comfy.cli_args.args.cpu = True
    return importlib.import_module("comfy.sample")


@pytest.fixture(scope="session")
def seed_source(comfy: ModuleType) -> ModuleType:
    return importlib.import_module("seed_number.nodes.seed_source")
