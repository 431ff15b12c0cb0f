"""What this machine offers the test tiers: a ComfyUI checkout (comfy, server, browser) and Chromium (browser).

``tests/conftest.py`` skips a tier whose requirement is missing, with the reasons below.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tools.comfy_server import find_comfyui

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
NO_CHROMIUM = "CHROMIUM NOT FOUND: apt-get install chromium (scripts/test does it as root) -- browser tests did NOT run"
