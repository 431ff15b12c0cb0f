"""Test tiers and shared fixtures: core (pure), comfy (in-process), server (headless), browser.

The tier of a test is its folder under ``tests/``; the marker is applied here. When ComfyUI or
Chromium is missing, the tiers that need them are skipped with one loud reason, and the summary
prints how many tests of each tier ran.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path

import pytest

# The repository on sys.path, appended so ComfyUI's own `nodes` module wins: `tests.*` and `tools`
# import from there. This is the one place the root is worked out before `tests.paths.ROOT` imports.
_REPOSITORY = str(Path(__file__).resolve().parents[1])
if _REPOSITORY not in sys.path:
    sys.path.append(_REPOSITORY)

from tests.environment import CHROMIUM, COMFYUI, NO_CHROMIUM, NO_COMFYUI  # noqa: E402
from tests.paths import ROOT  # noqa: E402
from tools.comfy_server import ComfyServer  # noqa: E402
from tools.pack import load_pack  # noqa: E402

TIERS = ("core", "comfy", "server", "browser")

load_pack()  # the repository as the package `seed_number`


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        parts = Path(str(item.path)).relative_to(ROOT / "tests").parts
        tier = parts[0] if parts and parts[0] in TIERS else "core"
        item.add_marker(getattr(pytest.mark, tier))
        if tier in ("comfy", "server", "browser") and COMFYUI is None:
            item.add_marker(pytest.mark.skip(reason=NO_COMFYUI))
        elif tier == "browser" and CHROMIUM is None:
            item.add_marker(pytest.mark.skip(reason=NO_CHROMIUM))


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
