"""The layout the README describes holds: core is pure, one module imports comfy_api, nodes stand alone."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.paths import ROOT

NODES = ROOT / "nodes"
COMFYUI_MODULES = {"comfy", "comfy_api", "comfy_extras", "comfy_execution", "folder_paths", "server", "nodes"}
NODE_MODULES = {
    "seed_source",
    "render_speed_preset",
    "prompt_variant_sweep",
    "seed_details",
    "load_seed_details",
    "contact_sheet",
}
"""One module per node (``extension.py`` lists them; nothing else may import one)."""


def _imports(path: Path) -> list[tuple[int, str]]:
    """``(level, module)`` of every import in ``path`` (level 0: absolute; ``from . import x`` gives ``x``)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(0, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.module:
                found.append((node.level, node.module))
            else:
                found += [(node.level, alias.name) for alias in node.names]
    return found


@pytest.mark.parametrize("path", sorted((NODES / "core").glob("*.py")), ids=lambda p: p.name)
def test_core_imports_no_comfyui_and_nothing_outside_core(path: Path) -> None:
    for level, module in _imports(path):
        assert level > 0 or module.split(".")[0] not in COMFYUI_MODULES, f"{path.name} imports {module}"
        assert level <= 1, f"{path.name} imports from outside nodes/core ({'.' * level}{module})"


def test_only_v3_imports_comfy_api() -> None:
    importers = sorted(
        p.name for p in NODES.rglob("*.py") if any(m.split(".")[0] == "comfy_api" for lvl, m in _imports(p) if not lvl)
    )
    assert importers == ["v3.py"]


@pytest.mark.parametrize("name", sorted(NODE_MODULES))
def test_node_modules_do_not_import_each_other(name: str) -> None:
    imported = {m.split(".")[0] for level, m in _imports(NODES / f"{name}.py") if level == 1}
    assert not imported & NODE_MODULES, f"{name}.py imports {sorted(imported & NODE_MODULES)}"


def test_core_holds_no_process_wide_instances() -> None:
    """The run-values store and the seed counters are made once, in nodes/state.py."""
    for path in sorted((NODES / "core").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                made = ast.unparse(node.value.func)
                assert made not in {"RunValues", "SeedCounter", "HashCache"}, f"{path.name} makes a {made}"
