"""Fixtures of the server tier (its helpers are in ``tests/server/helpers.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.paths import ROOT
from tools.comfy_server import ComfyServer


@pytest.fixture(scope="session")
def probe_server(comfyui_path: Path, demo_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory):
    """A second headless ComfyUI that also loads the noise-recording test pack."""
    server = ComfyServer(
        comfyui_path,
        checkpoints=[demo_checkpoint],
        base_dir=tmp_path_factory.mktemp("comfy-probe"),
        extra_custom_nodes=[ROOT / "tests" / "fixtures" / "noise_probe_pack"],
    )
    server.start()
    yield server
    server.cleanup()
