"""ComfyUI's own tests/execution suite passes with the pack installed beside its testing nodes.

The suite runs in a throwaway symlink copy of the checkout (``tools/comfyui_suite.py``); about three
minutes on two CPU cores. Should anything fail, the suite runs again without the pack: only the
failures ComfyUI has without us are allowed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.comfyui_suite import SuiteResult, new_failures, run_suite


@pytest.mark.timeout(2 * 25 * 60 + 60)
def test_comfyui_execution_suite_passes_with_the_pack(comfyui_path: Path, tmp_path: Path) -> None:
    ours = run_suite(with_pack=True, comfyui=comfyui_path, log_dir=tmp_path, timeout=25 * 60)
    assert not ours.timed_out and ours.outcomes, ours.summary()
    assert ours.pack_ok, ours.summary()  # imported, without IMPORT FAILED, in every server the suite started
    baseline: SuiteResult | None = None
    if not ours.ok:
        baseline = run_suite(with_pack=False, comfyui=comfyui_path, log_dir=tmp_path, timeout=25 * 60)
        assert baseline.pack_ok, baseline.summary()
    assert not new_failures(ours, baseline), f"{ours.summary()}\nbaseline: {baseline and baseline.summary()}"
