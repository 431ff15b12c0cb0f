"""The procedural data set of the demo model, and the image analysis that checks generated images.

Every image is 64x64: one shape (circle, square, triangle) in one plain saturated colour on a plain
background of another colour. The prompt names the two colours and the shape, never the position or
the size, which are drawn at random. Pure torch; no ComfyUI.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

SIZE = 64
#: Plain saturated colours (RGB in [0, 1]); the names are the words of the prompts.
COLOURS: dict[str, tuple[float, float, float]] = {
    "red": (0.90, 0.08, 0.08),
    "green": (0.08, 0.70, 0.15),
    "blue": (0.10, 0.22, 0.92),
    "yellow": (0.98, 0.88, 0.08),
    "white": (1.00, 1.00, 1.00),
    "black": (0.03, 0.03, 0.03),
    "purple": (0.55, 0.12, 0.75),
    "orange": (1.00, 0.52, 0.02),
}
COLOUR_NAMES = tuple(COLOURS)
SHAPES = ("circle", "square", "triangle")
PALETTE = torch.tensor([COLOURS[c] for c in COLOUR_NAMES])

#: Half-size of a shape in pixels (circle radius; the square and triangle have the circle's area or so).
MIN_RADIUS, MAX_RADIUS = 7.0, 14.0
_TRIANGLE_R = 1.25  # circumradius of the triangle / radius
_SQUARE_H = math.sqrt(math.pi) / 2  # half side of a square with the circle's area
_SUPERSAMPLE = 4

#: Pair kinds of the training batches: what differs between the two images of a pair.
PAIR_SHAPE_COLOUR, PAIR_SHAPE, PAIR_BACKGROUND = 0, 1, 2


def prompt(shape_colour: str, shape: str, background: str) -> str:
    """The prompt of an image, exactly ``a {colour} {shape} on a {colour} background``."""
    return f"a {shape_colour} {shape} on a {background} background"


def all_prompts() -> list[tuple[str, str, str]]:
    """Every (shape colour, shape, background) the data set draws, in a fixed order (8 * 7 * 3)."""
    return [(fg, shape, bg) for bg in COLOUR_NAMES for fg in COLOUR_NAMES if fg != bg for shape in SHAPES]


@dataclass
class Batch:
    """Labels of a batch of drawn images (index tensors into COLOUR_NAMES / SHAPES)."""

    layout: torch.Tensor  # [n, 3]: centre x, centre y, radius (pixels)
    shape: torch.Tensor  # [n]
    fg: torch.Tensor  # [n]
    bg: torch.Tensor  # [n]

    def prompts(self) -> list[str]:
        return [
            prompt(COLOUR_NAMES[int(f)], SHAPES[int(s)], COLOUR_NAMES[int(b)])
            for f, s, b in zip(self.fg, self.shape, self.bg, strict=True)
        ]

    def prompt_index(self) -> torch.Tensor:
        """Each image's index into :func:`all_prompts`."""
        lookup = {p: i for i, p in enumerate(all_prompts())}
        return torch.tensor([lookup[(COLOUR_NAMES[int(f)], SHAPES[int(s)], COLOUR_NAMES[int(b)])]
                             for f, s, b in zip(self.fg, self.shape, self.bg, strict=True)])  # fmt: skip


def sample_layouts(g: torch.Generator, n: int) -> torch.Tensor:
    """``n`` random layouts (centre x, centre y, radius); every shape fits inside the image."""
    u = torch.rand(n, 3, generator=g, dtype=torch.float64)
    r = MIN_RADIUS + (MAX_RADIUS - MIN_RADIUS) * u[:, 2]
    margin = _TRIANGLE_R * r + 1.0
    cx = margin + (SIZE - 2 * margin) * u[:, 0]
    cy = margin + (SIZE - 2 * margin) * u[:, 1]
    return torch.stack([cx, cy, r], dim=1).float()


def _other(g: torch.Generator, n: int, k: int, exclude: list[torch.Tensor]) -> torch.Tensor:
    """``n`` random indices in ``range(k)``, each different from the same row of every ``exclude``."""
    out = torch.empty(n, dtype=torch.long)
    for i in range(n):
        banned = {int(e[i]) for e in exclude}
        choices = [c for c in range(k) if c not in banned]
        out[i] = choices[int(torch.randint(len(choices), (1,), generator=g))]
    return out


def sample_labels(g: torch.Generator, n: int) -> Batch:
    """``n`` random images' labels: layout, shape, shape colour and a different background colour."""
    layout = sample_layouts(g, n)
    shape = torch.randint(len(SHAPES), (n,), generator=g)
    bg = torch.randint(len(COLOUR_NAMES), (n,), generator=g)
    fg = _other(g, n, len(COLOUR_NAMES), [bg])
    return Batch(layout, shape, fg, bg)


def sample_pairs(g: torch.Generator, n_pairs: int) -> tuple[Batch, torch.Tensor]:
    """``2 * n_pairs`` images: image ``i`` and ``i + n_pairs`` share the layout and differ in one word.

    Returns the labels and the pair kinds (``PAIR_SHAPE_COLOUR`` half the time, else ``PAIR_SHAPE`` or
    ``PAIR_BACKGROUND``).
    """
    a = sample_labels(g, n_pairs)
    kind = torch.multinomial(torch.tensor([0.5, 0.25, 0.25]), n_pairs, replacement=True, generator=g)
    fg, shape, bg = a.fg.clone(), a.shape.clone(), a.bg.clone()
    new_fg = _other(g, n_pairs, len(COLOUR_NAMES), [a.fg, a.bg])
    new_shape = _other(g, n_pairs, len(SHAPES), [a.shape])
    new_bg = _other(g, n_pairs, len(COLOUR_NAMES), [a.fg, a.bg])
    fg = torch.where(kind == PAIR_SHAPE_COLOUR, new_fg, fg)
    shape = torch.where(kind == PAIR_SHAPE, new_shape, shape)
    bg = torch.where(kind == PAIR_BACKGROUND, new_bg, bg)
    both = Batch(
        torch.cat([a.layout, a.layout]),
        torch.cat([a.shape, shape]),
        torch.cat([a.fg, fg]),
        torch.cat([a.bg, bg]),
    )
    return both, kind


def render_masks(layout: torch.Tensor, shape: torch.Tensor) -> torch.Tensor:
    """Anti-aliased shape masks ``[n, 1, 64, 64]`` in [0, 1] (4x4 supersampling)."""
    n = layout.shape[0]
    s = SIZE * _SUPERSAMPLE
    coords = (torch.arange(s, dtype=torch.float32) + 0.5) / _SUPERSAMPLE
    y = coords.view(1, s, 1)
    x = coords.view(1, 1, s)
    cx, cy, r = (layout[:, i].view(n, 1, 1) for i in range(3))
    dx, dy = x - cx, y - cy
    circle = dx * dx + dy * dy <= r * r
    h = _SQUARE_H * r
    square = (dx.abs() <= h) & (dy.abs() <= h)
    big = _TRIANGLE_R * r  # upward equilateral triangle with its centroid at the centre
    triangle = (dy <= big / 2) & (dx.abs() <= (dy + big) / math.sqrt(3))
    sel = shape.view(n, 1, 1)
    mask = torch.where(sel == 0, circle, torch.where(sel == 1, square, triangle)).float()
    return torch.nn.functional.avg_pool2d(mask.unsqueeze(1), _SUPERSAMPLE)


def render(batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
    """Images ``[n, 3, 64, 64]`` in [0, 1] and their masks ``[n, 1, 64, 64]``."""
    mask = render_masks(batch.layout, batch.shape)
    fg = PALETTE[batch.fg].view(-1, 3, 1, 1)
    bg = PALETTE[batch.bg].view(-1, 3, 1, 1)
    return bg * (1 - mask) + fg * mask, mask


# --- analysis of an image (generated or drawn) ------------------------------------------------------


@dataclass
class Analysis:
    """What an image shows: colour names, shape name (None when there is no shape), centroid, mask."""

    background: str
    shape_colour: str | None
    shape: str | None
    centroid: tuple[float, float] | None
    area: int
    mask: torch.Tensor  # [64, 64] bool


def nearest_colour(rgb: torch.Tensor) -> str:
    """The palette colour nearest to ``rgb`` (3 values in [0, 1])."""
    return COLOUR_NAMES[int(((PALETTE - rgb.view(1, 3)) ** 2).sum(1).argmin())]


#: A pixel belongs to the shape when it is at least this far (RGB distance) from the background colour.
MASK_THRESHOLD = 0.3
MIN_AREA = 12


def classify_shape(mask: torch.Tensor) -> str:
    """circle, square or triangle from how much of its bounding box the mask fills (pi/4, 1, 1/2)."""
    ys, xs = torch.nonzero(mask, as_tuple=True)
    box = (int(ys.max()) - int(ys.min()) + 1) * (int(xs.max()) - int(xs.min()) + 1)
    fill = float(mask.sum()) / box
    if fill >= 0.88:
        return "square"
    if fill >= 0.64:
        return "circle"
    return "triangle"


def analyse(image: torch.Tensor) -> Analysis:
    """Analyse one image ``[3, H, W]`` or ``[H, W, 3]`` with values in [0, 1]."""
    if image.shape[-1] == 3 and image.shape[0] != 3:
        image = image.permute(2, 0, 1)
    image = image.float()
    border = torch.cat([image[:, :2].reshape(3, -1), image[:, -2:].reshape(3, -1),
                        image[:, :, :2].reshape(3, -1), image[:, :, -2:].reshape(3, -1)], dim=1)  # fmt: skip
    bg_rgb = border.median(dim=1).values
    dist = ((image - bg_rgb.view(3, 1, 1)) ** 2).sum(0).sqrt()
    mask = dist > MASK_THRESHOLD
    area = int(mask.sum())
    background = nearest_colour(bg_rgb)
    if area < MIN_AREA:
        return Analysis(background, None, None, None, area, mask)
    ys, xs = torch.nonzero(mask, as_tuple=True)
    fg_rgb = image[:, mask].median(dim=1).values
    centroid = (float(xs.float().mean()) + 0.5, float(ys.float().mean()) + 0.5)
    return Analysis(background, nearest_colour(fg_rgb), classify_shape(mask), centroid, area, mask)


def centroid_distance(a: Analysis, b: Analysis) -> float | None:
    """Distance in pixels between two images' shape centroids (None if either has no shape)."""
    if a.centroid is None or b.centroid is None:
        return None
    return math.dist(a.centroid, b.centroid)


def mask_iou(a: Analysis, b: Analysis) -> float | None:
    """Intersection over union of two images' shape masks (None if either has no shape)."""
    if a.centroid is None or b.centroid is None:
        return None
    union = int((a.mask | b.mask).sum())
    return int((a.mask & b.mask).sum()) / union if union else None
