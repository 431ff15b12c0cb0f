"""Contact sheets: images in a labeled grid, like the seed document's cards (numpy + Pillow only).

Captions are drawn with Pillow's built-in scalable font (no font file needed), sized from the
cell width so they stay readable from 64 px thumbnails to 2048 px renders.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

MAX_CELLS = 256
MAX_SHEET_PIXELS = 64_000_000
BACKGROUND = (24, 24, 27)
TEXT = (240, 240, 240)
GAP_FRACTION = 0.02


def caption(seed: int | None, label: str | None) -> str:
    """ "Seed 406220 · Turbo", "Seed 406220", "purple" or "" from what is known."""
    parts = []
    if seed is not None:
        parts.append(f"Seed {seed}")
    if label:
        parts.append(" ".join(str(label).split()))
    return " · ".join(parts)


def per_cell(values: Sequence, cells: int, groups: Sequence[int]) -> list:
    """Spread ``values`` over ``cells``: one each when the counts match, else one per group.

    ``groups`` are the batch sizes of the input list's elements; a shorter list repeats its last
    value (ComfyUI's own list rule). Empty ``values`` give None for every cell.
    """
    if not values:
        return [None] * cells
    if len(values) == cells:
        return list(values)
    out = []
    for g, size in enumerate(groups):
        out.extend([values[min(g, len(values) - 1)]] * size)
    return out


def grid_shape(cells: int, columns: int = 0) -> tuple[int, int]:
    """(columns, rows); ``columns`` 0 picks a near-square grid that favours width."""
    if cells < 1:
        raise ValueError("a contact sheet needs at least one image")
    cols = columns if columns > 0 else math.ceil(math.sqrt(cells))
    cols = min(cols, cells)
    return cols, math.ceil(cells / cols)


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, ValueError, OSError):  # Pillow without FreeType: the small bitmap font
        return ImageFont.load_default()


def _fit(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.ImageFont, width: int) -> str:
    """``text``, or its longest prefix that fits ``width`` px with "…" appended.

    Bounded for any length (a 1 MB label): no more than ``width`` characters are measured (no visible
    glyph is narrower than a pixel), and the cut is found by bisection, not one character at a time.
    """
    limit = max(width, 1)
    if len(text) <= limit and draw.textlength(text, font=font) <= width:
        return text
    text = text[:limit]
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if draw.textlength(text[:mid] + "…", font=font) <= width:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo] + "…"


def to_uint8(image: np.ndarray) -> np.ndarray:
    """A float image in 0…1 (H, W, C) as 8-bit RGB, the way ComfyUI saves images."""
    arr = np.clip(255.0 * np.asarray(image, dtype=np.float32), 0, 255).astype(np.uint8)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.shape[2] == 1:
        arr = np.repeat(arr, 3, axis=2)
    return arr[:, :, :3]


def render(images: Sequence[np.ndarray], captions: Sequence[str], columns: int = 0) -> np.ndarray:
    """One grid image (uint8 H×W×3) of ``images`` (uint8 H×W×3 each) with a caption under each.

    Cells take the largest image size; smaller images are centred. Raises ValueError for no
    images, more than ``MAX_CELLS`` or a sheet over ``MAX_SHEET_PIXELS``.
    """
    count = len(images)
    if count > MAX_CELLS:
        raise ValueError(f"{count} images is more than a contact sheet holds ({MAX_CELLS})")
    cols, rows = grid_shape(count, columns)
    cell_w = max(int(im.shape[1]) for im in images)
    cell_h = max(int(im.shape[0]) for im in images)
    font_px = max(11, min(48, cell_w // 14))
    caption_h = int(font_px * 1.6) if any(captions) else 0
    gap = max(2, int(cell_w * GAP_FRACTION))
    width = cols * cell_w + (cols + 1) * gap
    height = rows * (cell_h + caption_h) + (rows + 1) * gap
    if width * height > MAX_SHEET_PIXELS:
        raise ValueError(f"a {width}x{height} contact sheet is too large (max {MAX_SHEET_PIXELS:,} pixels)")
    sheet = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    font = _font(font_px)
    for i, (image, text) in enumerate(zip(images, captions, strict=True)):
        col, row = i % cols, i // cols
        x = gap + col * (cell_w + gap)
        y = gap + row * (cell_h + caption_h + gap)
        h, w = image.shape[:2]
        sheet.paste(Image.fromarray(image), (x + (cell_w - w) // 2, y + (cell_h - h) // 2))
        if text:
            fitted = _fit(draw, text, font, cell_w - 4)
            tw = draw.textlength(fitted, font=font)
            draw.text((x + (cell_w - tw) / 2, y + cell_h + caption_h * 0.15), fitted, fill=TEXT, font=font)
    return np.asarray(sheet)
