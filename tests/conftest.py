"""Test tiers and shared fixtures: core (pure), comfy (in-process), server (headless), browser.

The tier of a test is its folder under ``tests/``; the marker is applied here. When ComfyUI or
Chromium is missing, the tiers that need them are skipped with one loud reason, and the summary
prints how many tests of each tier ran.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))  # for `tools`; appended so ComfyUI's own `nodes` module wins

from tools.comfy_server import ComfyServer, find_comfyui  # noqa: E402
from tools.pack import load_pack  # noqa: E402

TIERS = ("core", "comfy", "server", "browser")
COMFYUI = find_comfyui()
NO_COMFYUI = (
    "ComfyUI NOT FOUND: set COMFYUI_PATH to a ComfyUI checkout, or lay one out at "
    "~/comfy/ComfyUI (README, 'Tests') -- these tests did NOT run"
)


def chromium_path() -> str | None:
    for candidate in (
        os.environ.get("SEED_NUMBER_CHROMIUM"),
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
        shutil.which("google-chrome"),
    ):
        if candidate and Path(candidate).exists():
            return candidate
    return None


CHROMIUM = chromium_path()


load_pack()  # the repository as the package `seed_number`


def hostile_pngs() -> ModuleType:
    """``tests/core/hostile_pngs.py`` (the generator of hostile files), loaded once by path."""
    name = "seed_number_tests_hostile_pngs"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "tests" / "core" / "hostile_pngs.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        parts = Path(str(item.path)).relative_to(ROOT / "tests").parts
        tier = parts[0] if parts and parts[0] in TIERS else "core"
        item.add_marker(getattr(pytest.mark, tier))
        if tier in ("comfy", "server", "browser") and COMFYUI is None:
            item.add_marker(pytest.mark.skip(reason=NO_COMFYUI))
        elif tier == "browser" and CHROMIUM is None:
            item.add_marker(
                pytest.mark.skip(
                    reason="CHROMIUM NOT FOUND: apt-get install chromium "
                    "(scripts/test does it as root) -- browser tests did NOT run"
                )
            )


def _tier(report: pytest.TestReport) -> str:
    return next((t for t in TIERS if t in report.keywords), "core")


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    counts: dict[str, Counter] = {t: Counter() for t in TIERS}
    for outcome in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            if getattr(report, "when", "call") in ("call", "setup") and hasattr(report, "keywords"):
                if outcome == "passed" and report.when != "call":
                    continue
                counts[_tier(report)][outcome] += 1
    terminalreporter.section("Seed Number tiers")
    for tier in TIERS:
        c = counts[tier]
        terminalreporter.write_line(
            f"tier {tier:8s}: {c['passed']} passed, {c['failed'] + c['error']} failed, {c['skipped']} skipped"
        )
    if COMFYUI is None:
        terminalreporter.write_line("!!! " + NO_COMFYUI, red=True, bold=True)
    if CHROMIUM is None:
        terminalreporter.write_line("!!! Chromium not found: the browser tier did NOT run", red=True, bold=True)


# -- fixtures shared by the tiers ----------------------------------------------------------


@pytest.fixture(scope="session")
def cache_dir() -> Path:
    path = Path(os.environ.get("SEED_NUMBER_CACHE", Path.home() / ".cache" / "seed-number"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def demo_checkpoint(cache_dir: Path) -> Path:
    from tools.demo_checkpoint import ensure_checkpoint

    return ensure_checkpoint(cache_dir / "models")


@pytest.fixture(scope="session")
def comfyui_path() -> Path:
    if COMFYUI is None:
        pytest.skip(NO_COMFYUI)
    return COMFYUI


@pytest.fixture(scope="session")
def comfy_server(comfyui_path: Path, demo_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory):
    """One real headless ComfyUI for the whole session (pack + demo checkpoint, in-memory DB)."""
    server = ComfyServer(
        comfyui_path,
        checkpoints=[demo_checkpoint],
        base_dir=tmp_path_factory.mktemp("comfy-base"),
        multi_user=True,
        extra_custom_nodes=[ROOT / "tests" / "fixtures" / "rng_reseed_pack"],
    )
    server.start()
    yield server
    server.cleanup()
