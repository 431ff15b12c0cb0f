"""Contact sheets: images in a labeled grid, like the seed document's cards (numpy + Pillow only).

Captions are drawn with Pillow's built-in scalable font (no font file needed), sized from the
cell width so they stay readable from 64 px thumbnails to 2048 px renders. A caption is never cut
to fit: when "Seed 406220 · Turbo" is wider than the cell, the seed goes on the first line and the
label on the next, a label wider than the cell wraps (at most ``MAX_CAPTION_LINES`` lines in all),
and the font shrinks (to ``MIN_FONT_PX``) so that a seed fits on its line.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

MAX_CELLS = 256
MAX_SHEET_PIXELS = 64_000_000
BACKGROUND = (24, 24, 27)
TEXT = (240, 240, 240)
GAP_FRACTION = 0.02
#: Joins the seed and the label in a caption; a caption too wide for its cell breaks here first.
SEPARATOR = " · "
SEED_PREFIX = "Seed "
#: A caption never takes more lines than this (the seed, then the label wrapped); the rest ends in "…".
MAX_CAPTION_LINES = 4
#: Captions get smaller than the cell width suggests, down to this, so that the seed stays on one line.
MIN_FONT_PX = 8
#: Space kept free at each side of a caption line, in pixels.
CAPTION_PAD = 2


def variation_label(variation_seed: object, strength: object) -> str | None:
    """ "var 17 @ 0.2" for a variation seed and a strength other than 0, else None."""
    if isinstance(variation_seed, bool) or not isinstance(variation_seed, int):
        return None
    if isinstance(strength, bool) or not isinstance(strength, int | float) or not strength:
        return None
    return f"var {variation_seed} @ {strength:g}"


def join_labels(*labels: str | None) -> str | None:
    """The labels that are set, joined by the caption separator (None when none is)."""
    present = [label for label in labels if label]
    return SEPARATOR.join(present) if present else None


def caption(seed: int | None, label: str | None) -> str:
    """ "Seed 406220 · Turbo", "Seed 406220", "purple" or "" from what is known."""
    parts = []
    if seed is not None:
        parts.append(f"{SEED_PREFIX}{seed}")
    if label:
        parts.append(" ".join(str(label).split()))
    return SEPARATOR.join(parts)


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


Font = ImageFont.ImageFont | ImageFont.FreeTypeFont
"""A caption font: Pillow's default FreeType font, or its bitmap font when FreeType is missing."""


@functools.lru_cache(maxsize=64)
def _font(size: int) -> Font:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, ValueError, OSError):  # Pillow without FreeType: the small bitmap font
        return ImageFont.load_default()


def _fit(draw: ImageDraw.ImageDraw, text: str, font: Font, width: int) -> str:
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


def _longest_fitting(draw: ImageDraw.ImageDraw, text: str, font: Font, width: int) -> int:
    """How many leading characters of ``text`` fit ``width`` px (at least 1, so wrapping always advances)."""
    text = text[: max(width, 1) + 1]  # no visible glyph is narrower than a pixel
    lo, hi = 1, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if draw.textlength(text[:mid], font=font) <= width:
            lo = mid
        else:
            hi = mid - 1
    return lo


def wrap(draw: ImageDraw.ImageDraw, text: str, font: Font, width: int, max_lines: int) -> list[str]:
    """``text`` broken into at most ``max_lines`` lines of ``width`` px: at spaces, inside a word only
    when the word alone is wider; what does not fit in ``max_lines`` ends the last line with "…".

    Bounded for any length: each line measures at most ``width + 1`` characters, by bisection.
    """
    lines: list[str] = []
    rest = text.strip()
    while rest and len(lines) < max_lines - 1:
        if len(rest) <= width and draw.textlength(rest, font=font) <= width:
            break
        n = _longest_fitting(draw, rest, font, width)
        cut = rest.rfind(" ", 1, n + 1)  # a space right after the fitting part is a break too
        line, rest = (rest[:cut], rest[cut + 1 :]) if cut > 0 else (rest[:n], rest[n:])
        lines.append(line.rstrip())
        rest = rest.lstrip()
    if rest:
        lines.append(_fit(draw, rest, font, width))
    return lines


def caption_lines(draw: ImageDraw.ImageDraw, text: str, font: Font, width: int) -> list[str]:
    """The lines of one caption in a cell ``width`` px wide.

    One line when the whole caption fits. Otherwise the seed part (before the first " · ") on the
    first line(s) and the label on the next, the label wrapped when it is wider than the cell; at most
    ``MAX_CAPTION_LINES`` in all.
    """
    if not text:
        return []
    if len(text) <= width and draw.textlength(text, font=font) <= width:
        return [text]
    head, sep, tail = text.partition(SEPARATOR)
    if not sep:
        return wrap(draw, text, font, width, MAX_CAPTION_LINES)
    lines = wrap(draw, head, font, width, MAX_CAPTION_LINES - 1)
    return lines + wrap(draw, tail, font, width, MAX_CAPTION_LINES - len(lines))


def caption_font_px(draw: ImageDraw.ImageDraw, captions: Sequence[str], cell_w: int) -> int:
    """The sheet's caption size: from the cell width, smaller (down to ``MIN_FONT_PX``) until every
    seed part ("Seed 406220", up to the first " · ") fits on one line. When even ``MIN_FONT_PX`` is
    too wide (a 16-digit seed in a 64 px cell), the size from the cell width, and the seed wraps."""
    base = max(11, min(48, cell_w // 14))
    heads = [text.partition(SEPARATOR)[0][:64] for text in captions if text.startswith(SEED_PREFIX)]
    if not heads:
        return base
    width = cell_w - 2 * CAPTION_PAD
    widest = max(heads, key=lambda head: draw.textlength(head, font=_font(base)))
    for size in range(base, MIN_FONT_PX - 1, -1):
        if draw.textlength(widest, font=_font(size)) <= width:
            return size
    return base


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
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    font_px = caption_font_px(measure, captions, cell_w)
    font = _font(font_px)
    lines = [caption_lines(measure, text, font, cell_w - 2 * CAPTION_PAD) for text in captions]
    line_h = int(font_px * 1.25)
    n_lines = max((len(text_lines) for text_lines in lines), default=0)
    caption_h = n_lines * line_h + int(font_px * 0.35) if n_lines else 0
    gap = max(2, int(cell_w * GAP_FRACTION))
    width = cols * cell_w + (cols + 1) * gap
    height = rows * (cell_h + caption_h) + (rows + 1) * gap
    if width * height > MAX_SHEET_PIXELS:
        raise ValueError(f"a {width}x{height} contact sheet is too large (max {MAX_SHEET_PIXELS:,} pixels)")
    sheet = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    for i, (image, text_lines) in enumerate(zip(images, lines, strict=True)):
        col, row = i % cols, i // cols
        x = gap + col * (cell_w + gap)
        y = gap + row * (cell_h + caption_h + gap)
        h, w = image.shape[:2]
        sheet.paste(Image.fromarray(image), (x + (cell_w - w) // 2, y + (cell_h - h) // 2))
        for k, line in enumerate(text_lines):
            tw = draw.textlength(line, font=font)
            draw.text((x + (cell_w - tw) / 2, y + cell_h + font_px * 0.2 + k * line_h), line, fill=TEXT, font=font)
    return np.asarray(sheet)
