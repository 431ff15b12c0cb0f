"""The seed-stability benchmark's analysis (``benchmarks/bench_seed_stability.py``) on drawn images."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch", reason="torch is not installed; the demo model needs it")

from benchmarks import bench_seed_stability as bench  # noqa: E402  (after the importorskip guard)
from tools.demo_model import data  # noqa: E402

pytestmark = pytest.mark.core


def _drawn(fg: str, shape: str, bg: str, x: float, y: float, r: float = 10.0) -> data.Analysis:
    """A drawn image saved as 8 bits (as ComfyUI's PNGs are), analysed."""
    batch = data.Batch(
        torch.tensor([[x, y, r]]),
        torch.tensor([data.SHAPES.index(shape)]),
        torch.tensor([data.COLOUR_NAMES.index(fg)]),
        torch.tensor([data.COLOUR_NAMES.index(bg)]),
    )
    images, _ = data.render(batch)
    return data.analyse((images[0] * 255).round() / 255)


def test_the_shape_classifier_on_drawn_shapes_saved_as_8_bit() -> None:
    g = torch.Generator().manual_seed(29)
    labels = data.sample_labels(g, 150)
    images, _ = data.render(labels)
    found = [data.analyse((images[i] * 255).round() / 255) for i in range(len(images))]
    for a, text in zip(found, labels.prompts(), strict=True):
        words = text.split()
        assert (a.shape_colour, a.shape, a.background) == (words[1], words[2], words[5]), text


def test_mask_iou() -> None:
    a = _drawn("red", "circle", "blue", 20, 20)
    assert data.mask_iou(a, a) == 1.0
    assert data.mask_iou(a, _drawn("red", "circle", "blue", 45, 45)) == 0.0
    assert 0.3 < data.mask_iou(a, _drawn("red", "circle", "blue", 26, 20)) < 0.8
    empty = data.analyse(torch.zeros(3, 64, 64))
    assert data.mask_iou(a, empty) is None and data.centroid_distance(a, empty) is None


def test_measure_and_summary_against_the_goals() -> None:
    fg, shape, bg = "red", "circle", "blue"
    text, colour_text, shape_text = (
        data.prompt(*w) for w in ((fg, shape, bg), ("green", shape, bg), (fg, "square", bg))
    )
    edits = {text: (colour_text, shape_text),
             ("words", text): ((colour_text, ("green", shape, bg)), (shape_text, (fg, "square", bg)))}  # fmt: skip
    spots = [(16, 16), (48, 16), (16, 48), (48, 48)]  # four seeds, four layouts
    images = {
        (text, speed): [_drawn(fg, shape, bg, x + (0.5 if speed == "Quality" else 0), y) for x, y in spots]
        for speed in bench.SPEEDS
    }
    images[(colour_text, "Default")] = [_drawn("green", shape, bg, x + 1, y) for x, y in spots]
    images[(shape_text, "Default")] = [_drawn(fg, "square", bg, x, y + 2) for x, y in spots]
    figures = bench.measure(images, [(fg, shape, bg)], edits, bench.Figures())
    s = bench.summary(figures)
    assert s["colours"] == 1.0 and s["shapes"] == 1.0
    assert s["speed_px"] == pytest.approx(0.5, abs=0.2) and s["speed_iou"] > 0.8
    assert s["colour_edit_px"] == pytest.approx(1.0, abs=0.2) and s["shape_edit_px"] == pytest.approx(2.0, abs=0.5)
    assert s["other_seed_px"] == pytest.approx(32.0, abs=1.0)  # pairs: 32 px (x4) and 45 px (x2)
    assert s["speed_ratio"] == pytest.approx(s["speed_px"] / s["other_seed_px"])
    assert all(bench.verdicts(s).values())
    assert math.isnan(bench.median([]))
