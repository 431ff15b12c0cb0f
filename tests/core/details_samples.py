"""Shared samples for the details tests: example details, a PNG writer and the demo prompt.

Not a test module: the ``test_*`` modules of the details modules import it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PIL import Image
from PIL.PngImagePlugin import PngInfo

from tests.core.hostile_pngs import GOOD_DETAILS
from tests.paths import WORKFLOWS

DETAILS: dict[str, Any] = {k: v for k, v in GOOD_DETAILS.items() if k != "version"}


def save_png(path: Path, texts: dict[str, str], *, zip_: bool = False, itxt: bool = False) -> Path:
    """An 8×8 PNG with ``texts`` written by Pillow (tEXt, or zTXt with ``zip_``, or iTXt with ``itxt``)."""
    info = PngInfo()
    for key, value in texts.items():
        if itxt:
            info.add_itxt(key, value, zip=zip_)
        else:
            info.add_text(key, value, zip=zip_)
    Image.new("RGB", (8, 8), (10, 20, 30)).save(path, pnginfo=info)
    return path


def demo_prompt(**seed_source: Any) -> dict[str, Any]:
    prompt = json.loads((WORKFLOWS / "api" / "seed_source_txt2img.json").read_text())
    prompt["5"]["inputs"].update(seed_source)
    return prompt
