"""ComfyUI's own ``tests/execution`` suite, run with this pack installed beside its testing nodes.

ComfyUI's suite starts ``python main.py --cpu --extra-model-paths-config tests/execution/...`` from
the ComfyUI root, so custom nodes come from ``<ComfyUI>/custom_nodes`` plus ``testing_nodes``. To
leave the real checkout untouched, the suite runs in a throwaway *symlink farm*: real directories,
every file a symlink to the checkout's, except

- ``main.py`` and ``folder_paths.py``, copied: they locate the base directory with
  ``realpath(__file__)``, which would lead back into the checkout;
- ``custom_nodes/``, ``output/``, ``temp/``, ``user/``, ``input/``: the farm's own; ``custom_nodes``
  links the checkout's own entries and, with the pack, ``seed-number`` -> this repository;
- ``.git`` and ``__pycache__``, left out (and ``PYTHONDONTWRITEBYTECODE`` is set, so nothing is
  written beside the checkout's or this repository's sources).

``python -m tools.comfyui_suite`` (``scripts/comfyui-suite``) runs the suite with the pack and, when
anything fails or ``--baseline`` is given, once more without it; it exits non-zero only for failures
the baseline does not have, or when the pack did not load in every server the suite started.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from tools.comfy_server import PACK_FOLDER_NAME, PACK_ROOT, find_comfyui, free_port

logger = logging.getLogger("seed_number")

COPIED = ("main.py", "folder_paths.py")
"""Files that find their base directory through ``realpath(__file__)``: copied, not linked."""
OWN_DIRS = ("custom_nodes", "output", "temp", "user", "input")
SKIPPED = {".git", "__pycache__", ".pytest_cache"}
PACK_IMPORT = re.compile(
    r"^\s*[\d.]+ seconds( \(IMPORT FAILED\))?: .*[/\\]custom_nodes[/\\]" + re.escape(PACK_FOLDER_NAME) + r"\s*$"
)
"""A line of ComfyUI's ``Import times for custom nodes`` list naming this pack."""
DEFAULT_TIMEOUT = 45 * 60.0


@dataclass
class SuiteResult:
    """One run of ComfyUI's execution suite."""

    with_pack: bool
    returncode: int
    duration_s: float
    outcomes: dict[str, str]
    """Test node id -> ``passed`` / ``failed`` / ``error`` / ``skipped`` (from pytest's JUnit XML)."""
    server_starts: int
    """How many times a ComfyUI server loaded its custom nodes (``Import times for custom nodes``)."""
    pack_loaded: int
    pack_failed: int
    log_path: Path
    timed_out: bool = False

    def count(self, outcome: str) -> int:
        return sum(1 for o in self.outcomes.values() if o == outcome)

    @property
    def failures(self) -> set[str]:
        return {t for t, o in self.outcomes.items() if o in ("failed", "error")}

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.failures and not self.timed_out and bool(self.outcomes)

    @property
    def pack_ok(self) -> bool:
        """With the pack: it loaded, without failing, in every server start; without: never present."""
        if not self.with_pack:
            return self.pack_loaded == 0 and self.pack_failed == 0
        return self.server_starts > 0 and self.pack_loaded == self.server_starts and self.pack_failed == 0

    def summary(self) -> str:
        label = "with Seed Number" if self.with_pack else "without Seed Number (baseline)"
        counts = ", ".join(f"{self.count(o)} {o}" for o in ("passed", "failed", "error", "skipped"))
        pack = f"pack imported in {self.pack_loaded}/{self.server_starts} server starts" + (
            f", IMPORT FAILED {self.pack_failed}x" if self.pack_failed else ""
        )
        return (
            f"{label}: {counts} in {self.duration_s:.0f}s (pytest exit {self.returncode}"
            f"{', TIMED OUT' if self.timed_out else ''}); {pack}; log {self.log_path}"
        )


def _link_tree(src: Path, dest: Path, skipped: Collection[str] = frozenset(SKIPPED)) -> None:
    """``cp -rs`` without the ``skipped`` names (.git, __pycache__): real directories, every file a symlink."""
    dest.mkdir(parents=True, exist_ok=True)
    for entry in src.iterdir():
        if entry.name in skipped:
            continue
        target = dest / entry.name
        if entry.is_dir() and not entry.is_symlink():
            _link_tree(entry, target)
        else:
            target.symlink_to(entry.resolve() if entry.is_symlink() else entry)


def make_farm(comfyui: Path, dest: Path, with_pack: bool) -> Path:
    """A throwaway ComfyUI at ``dest`` that shares the checkout's files and writes only under ``dest``."""
    comfyui = comfyui.resolve()
    _link_tree(comfyui, dest, {*SKIPPED, *OWN_DIRS, *COPIED})
    for name in COPIED:
        shutil.copy2(comfyui / name, dest / name)
    for name in OWN_DIRS:
        (dest / name).mkdir()
    custom = dest / "custom_nodes"
    own = comfyui / "custom_nodes"
    for entry in sorted(own.iterdir()) if own.is_dir() else []:
        if entry.name in SKIPPED or entry.name == PACK_FOLDER_NAME or entry.resolve() == PACK_ROOT:
            continue
        (custom / entry.name).symlink_to(entry.resolve(), target_is_directory=entry.is_dir())
    if with_pack:
        (custom / PACK_FOLDER_NAME).symlink_to(PACK_ROOT, target_is_directory=True)
    return dest


def _outcomes(junit: Path) -> dict[str, str]:
    if not junit.is_file():
        return {}
    outcomes: dict[str, str] = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        test_id = f"{case.get('classname', '')}::{case.get('name', '')}"
        kinds = {child.tag for child in case}
        outcome = next((k for k in ("error", "failure", "skipped") if k in kinds), "passed")
        outcome = {"failure": "failed"}.get(outcome, outcome)
        if outcomes.get(test_id) in ("failed", "error"):  # a teardown error after a pass keeps the failure
            continue
        outcomes[test_id] = outcome
    return outcomes


def _pack_lines(log: str) -> tuple[int, int, int]:
    starts = log.count("Import times for custom nodes:")
    loaded = failed = 0
    for line in log.splitlines():
        match = PACK_IMPORT.match(line)
        if match:
            if match.group(1):
                failed += 1
            else:
                loaded += 1
    return starts, loaded, failed


def child_env(python: str) -> dict[str, str]:
    """The suite's environment: ``python`` (what the suite's fixtures call) is ours; no PYTHONPATH."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", PYTHONUNBUFFERED="1")
    env.pop("PYTHONPATH", None)  # this repository's `nodes`/`tests` packages must not shadow ComfyUI's
    env["PATH"] = str(Path(python).parent) + os.pathsep + env.get("PATH", "")
    return env


def run_suite(
    with_pack: bool = True,
    comfyui: Path | None = None,
    python: str = sys.executable,
    log_dir: Path | None = None,
    pytest_args: Sequence[str] = (),
    timeout: float = DEFAULT_TIMEOUT,
    keep: bool = False,
) -> SuiteResult:
    """Run ComfyUI's ``tests/execution`` in a fresh farm; the outcome of every test and the pack's imports."""
    comfyui = comfyui or find_comfyui()
    if comfyui is None:
        raise FileNotFoundError("no ComfyUI checkout found (set COMFYUI_PATH)")
    tag = "with-pack" if with_pack else "baseline"
    farm = Path(tempfile.mkdtemp(prefix=f"seed-number-comfyui-suite-{tag}-"))
    log_dir = Path(log_dir or Path(tempfile.gettempdir()) / "seed-number-comfyui-suite")
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{tag}.log"
    junit = farm / "junit.xml"
    root = farm / "ComfyUI"
    try:
        make_farm(comfyui, root, with_pack)
        cmd = [
            python,
            "-m",
            "pytest",
            "tests/execution",
            "-q",
            "-p",
            "no:cacheprovider",
            "--skip-timing-checks",
            "--port",
            str(free_port()),
            "--output_dir",
            str(root / "output" / "tests"),
            f"--junitxml={junit}",
            *pytest_args,
        ]
        logger.info("ComfyUI suite (%s): %s (in %s)", tag, " ".join(cmd), root)
        start = time.monotonic()
        timed_out = False
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                cmd,
                cwd=root,
                env=child_env(python),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
            try:
                returncode = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
                _kill_group(proc.pid)
                returncode = proc.wait()
        duration = time.monotonic() - start
        _kill_group(proc.pid)  # the suite's fixtures kill() their servers; anything left in its group ends here
        starts, loaded, failed = _pack_lines(log_path.read_text(errors="replace"))
        return SuiteResult(
            with_pack=with_pack,
            returncode=returncode,
            duration_s=duration,
            outcomes=_outcomes(junit),
            server_starts=starts,
            pack_loaded=loaded,
            pack_failed=failed,
            log_path=log_path,
            timed_out=timed_out,
        )
    finally:
        if keep:
            logger.info("kept the throwaway ComfyUI at %s", root)
        else:
            shutil.rmtree(farm, ignore_errors=True)


def _kill_group(group: int) -> None:
    """End the process group the suite was started in (pytest and the servers its fixtures started)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, signal.SIGKILL)


def new_failures(ours: SuiteResult, baseline: SuiteResult | None) -> set[str]:
    """Failures with the pack that the run without it does not have (all of them without a baseline)."""
    return ours.failures - (baseline.failures if baseline is not None else set())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--comfyui", type=Path, help="ComfyUI checkout (default: COMFYUI_PATH or ~/comfy/ComfyUI)")
    parser.add_argument("--baseline", action="store_true", help="also run without the pack, even if all pass")
    parser.add_argument("--baseline-only", action="store_true", help="run only without the pack")
    parser.add_argument("--log-dir", type=Path, help="where the logs go (default: <tmp>/seed-number-comfyui-suite)")
    parser.add_argument("--keep", action="store_true", help="keep the throwaway ComfyUI copies")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per suite run")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[seed-number] %(message)s")
    common = {
        "comfyui": args.comfyui,
        "log_dir": args.log_dir,
        "pytest_args": args.pytest_args,
        "timeout": args.timeout,
        "keep": args.keep,
    }
    baseline: SuiteResult | None
    if args.baseline_only:
        baseline = run_suite(with_pack=False, **common)
        logger.info("%s", baseline.summary())
        _log_failures(baseline)
        return 0 if baseline.ok else 1
    ours = run_suite(with_pack=True, **common)
    logger.info("%s", ours.summary())
    _log_failures(ours)
    baseline = run_suite(with_pack=False, **common) if args.baseline or not ours.ok else None
    if baseline is not None:
        logger.info("%s", baseline.summary())
        _log_failures(baseline)
    extra = new_failures(ours, baseline)
    if not ours.pack_ok:
        logger.error("the pack did not load in every server the suite started: see %s", ours.log_path)
    if extra:
        logger.error("failures with the pack only: %s", ", ".join(sorted(extra)))
    if ours.timed_out or not ours.outcomes:
        logger.error("the suite with the pack did not finish or ran no tests: see %s", ours.log_path)
    good = ours.pack_ok and not extra and not ours.timed_out and bool(ours.outcomes)
    logger.info("RESULT: %s", "OK, nothing of core broken" if good else "FAILED")
    return 0 if good else 1


def _log_failures(result: SuiteResult) -> None:
    for test_id in sorted(result.failures):
        logger.info("  %s: %s", result.outcomes[test_id], test_id)


if __name__ == "__main__":
    sys.exit(main())
