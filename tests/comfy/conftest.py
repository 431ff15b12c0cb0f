"""In-process ComfyUI: its modules on sys.path, the pack's node modules importable."""

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


def run_node(node_cls: type, hidden: dict | None = None, **inputs: object):
    """Execute a V3 node as ComfyUI does: a class clone with its hidden inputs, then execute."""
    from comfy_api.latest import io

    clone = node_cls.PREPARE_CLASS_CLONE({io.Hidden.unique_id: "5", **(hidden or {})})
    return clone.EXECUTE_NORMALIZED(**inputs)
