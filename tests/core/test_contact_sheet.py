"""Contact sheets: grid shape, captions per cell, readable text, and the prefix check."""

from __future__ import annotations

import numpy as np
import pytest

from seed_number.nodes.core import contact_sheet
from seed_number.nodes.core.contact_sheet import BACKGROUND, caption, grid_shape, per_cell, render, to_uint8
from seed_number.nodes.core.paths import check_prefix


def test_caption_joins_what_is_known() -> None:
    assert caption(406220, "Turbo") == "Seed 406220 · Turbo"
    assert caption(406220, None) == "Seed 406220"
    assert caption(None, " dark\n purple ") == "dark purple"
    assert caption(None, None) == ""


@pytest.mark.parametrize(
    ("cells", "columns", "shape"), [(1, 0, (1, 1)), (3, 0, (2, 2)), (8, 0, (3, 3)), (8, 4, (4, 2)), (3, 9, (3, 1))]
)
def test_grid_shape(cells: int, columns: int, shape: tuple[int, int]) -> None:
    assert grid_shape(cells, columns) == shape


def test_per_cell_matches_counts_or_spreads_over_batches() -> None:
    assert per_cell([1, 2, 3], 3, [1, 1, 1]) == [1, 2, 3]
    assert per_cell([7], 3, [1, 1, 1]) == [7, 7, 7]  # a shorter list repeats its last value
    assert per_cell(["a", "b"], 5, [2, 3]) == ["a", "a", "b", "b", "b"]
    assert per_cell([], 2, [2]) == [None, None]


def test_render_places_every_image_and_draws_captions() -> None:
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
    images = [np.full((64, 64, 3), c, dtype=np.uint8) for c in colours]
    sheet = render(images, ["Seed 1 · Turbo", "Seed 1 · Default", "Seed 1 · Quality"], columns=3)
    assert sheet.dtype == np.uint8 and sheet.shape[1] > 3 * 64 and sheet.shape[0] > 64
    for colour in colours:  # each cell's colour is present as a full 64x64 block
        assert (np.all(sheet == colour, axis=2)).sum() == 64 * 64
    caption_band = sheet[64 + 2 :, :, :]
    assert (caption_band > 200).all(axis=2).sum() > 50  # light text drawn below the cells
    plain = render(images, ["", "", ""], columns=3)
    assert plain.shape[0] < sheet.shape[0]  # no caption band when nothing to say
    assert tuple(plain[0, 0]) == BACKGROUND


def test_render_refuses_too_many_or_too_large() -> None:
    with pytest.raises(ValueError, match="more than a contact sheet holds"):
        render([np.zeros((2, 2, 3), np.uint8)] * 257, [""] * 257)
    with pytest.raises(ValueError, match="too large"):
        render([np.zeros((8000, 8000, 3), np.uint8)] * 2, ["", ""], columns=2)


def test_to_uint8_like_comfyui_saves() -> None:
    image = np.array([[[0.0, 0.5, 1.2]]], dtype=np.float32)
    assert to_uint8(image).tolist() == [[[0, 127, 255]]]
    assert to_uint8(np.zeros((2, 2, 1), np.float32)).shape == (2, 2, 3)


@pytest.mark.parametrize("bad", ["../x", "a/../../x", "/etc/x", "C:\\x", "..\\x", "", "  ", "a\x00b", "x" * 201])
def test_prefix_outside_output_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="filename_prefix"):
        check_prefix(bad)


def test_prefix_inside_output_is_kept() -> None:
    assert check_prefix("SeedNumber/contact_sheet") == "SeedNumber/contact_sheet"
    assert check_prefix("a..b/c") == "a..b/c"


def test_help_page_files_are_windows_safe_names_of_known_nodes() -> None:
    from seed_number.nodes.core.paths import help_page_file

    ids = ("SeedSource|SeedNumber", "SeedDetails|SeedNumber")
    assert help_page_file("SeedSource|SeedNumber.md", ids) == "SeedSource.md"
    assert help_page_file("SeedDetails|SeedNumber.md", ids) == "SeedDetails.md"
    for bad in ("Other|SeedNumber.md", "SeedSource|SeedNumber", "../SeedSource|SeedNumber.md", "SeedSource.md"):
        assert help_page_file(bad, ids) is None


# --- readable captions (issue 18): never cut, two lines when one does not fit -----------------------


def _measure():
    from PIL import Image, ImageDraw

    return ImageDraw.Draw(Image.new("RGB", (1, 1)))


def _lines(captions: list[str], cell_w: int) -> tuple[int, list[list[str]]]:
    """The font size and the lines ``render`` draws for ``captions`` in cells ``cell_w`` px wide."""
    draw = _measure()
    size = contact_sheet.caption_font_px(draw, captions, cell_w)
    font = contact_sheet._font(size)
    return size, [contact_sheet.caption_lines(draw, c, font, cell_w - 2 * contact_sheet.CAPTION_PAD) for c in captions]


@pytest.mark.parametrize("label", ["Turbo", "Default", "Quality", "purple", "a red circle on a blue background"])
@pytest.mark.parametrize("cell_w", [64, 128])
def test_seed_and_label_in_full_on_small_cells(label: str, cell_w: int) -> None:
    text = caption(406220, label)
    size, [lines] = _lines([text], cell_w)
    draw, font = _measure(), contact_sheet._font(size)
    assert "…" not in "".join(lines)
    assert " ".join(lines) == text or (lines[0] == "Seed 406220" and " ".join(lines[1:]) == " ".join(label.split()))
    assert all(draw.textlength(line, font=font) <= cell_w - 2 * contact_sheet.CAPTION_PAD for line in lines)
    assert size >= contact_sheet.MIN_FONT_PX


def test_a_caption_that_fits_stays_on_one_line() -> None:
    _, [lines] = _lines([caption(406220, "Turbo")], 512)
    assert lines == ["Seed 406220 · Turbo"]


def test_the_seed_is_line_one_and_the_label_line_two_when_one_line_does_not_fit() -> None:
    _, [lines] = _lines([caption(406220, "Quality")], 64)
    assert lines == ["Seed 406220", "Quality"]


def test_a_label_wider_than_the_cell_wraps_at_spaces() -> None:
    label = "Turbo (per-step noise: same machine only)"
    _, [lines] = _lines([caption(7, label)], 128)
    assert lines[0] == "Seed 7" and " ".join(lines[1:]) == label and len(lines) > 2


def test_a_huge_label_is_bounded_and_ends_in_an_ellipsis() -> None:
    import time

    label = "x" * 1_000_000
    start = time.perf_counter()
    _, [lines] = _lines([caption(1, label)], 256)
    sheet = render([np.zeros((256, 256, 3), np.uint8)], [caption(1, label + " y" * 500_000)])
    assert time.perf_counter() - start < 2.0  # ~0.05 s here: guards against a hang or a blowup, not speed
    assert len(lines) == contact_sheet.MAX_CAPTION_LINES and lines[0] == "Seed 1" and lines[-1].endswith("…")
    assert sheet.shape[0] < 256 + 256  # the caption band holds at most MAX_CAPTION_LINES lines


def test_two_line_captions_are_drawn_on_a_taller_band() -> None:
    images = [np.full((64, 64, 3), 90, dtype=np.uint8)] * 3
    one = render(images, ["Seed 1", "Seed 2", "Seed 3"], columns=3)
    two = render(images, [caption(406220, s) for s in ("Turbo", "Default", "Quality")], columns=3)
    assert two.shape[0] > one.shape[0]
    band = two[64 + 2 :, :, :]
    rows_with_text = np.flatnonzero((band > 200).all(axis=2).any(axis=1))
    assert rows_with_text.size and rows_with_text.max() - rows_with_text.min() > 12  # ink on two lines


def test_a_seed_too_long_for_any_size_wraps_at_the_cell_widths_size() -> None:
    size, [lines] = _lines([caption(9007199254740991, "Turbo")], 64)
    assert size == 11 and "".join(lines[:-1]).replace(" ", "") == "Seed9007199254740991" and lines[-1] == "Turbo"


def test_a_seed_alone_stays_on_one_line_in_a_small_cell() -> None:
    size, lines = _lines([caption(406220, None), caption(406221, None)], 64)
    assert lines == [["Seed 406220"], ["Seed 406221"]] and size < 11


def test_variation_labels_join_the_caption() -> None:
    from seed_number.nodes.core.contact_sheet import join_labels, variation_label

    assert variation_label(17, 0.2) == "var 17 @ 0.2"
    assert (
        variation_label(17, 0.0) is None and variation_label(None, 0.2) is None and variation_label(True, 0.2) is None
    )
    assert caption(406220, join_labels("Turbo", variation_label(17, 0.25))) == "Seed 406220 · Turbo · var 17 @ 0.25"
    assert join_labels(None, "") is None
