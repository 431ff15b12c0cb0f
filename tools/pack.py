"""Import the repository as the package ``seed_number``, the way ComfyUI imports a node pack."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

from tools.comfy_server import PACK_ROOT


def load_pack(name: str = "seed_number") -> ModuleType:
    """The pack as package ``name`` (importing it does not import ComfyUI)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(
        name, PACK_ROOT / "__init__.py", submodule_search_locations=[str(PACK_ROOT)]
    )
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load the pack from {PACK_ROOT}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
