"""Seed Contact Sheet (``SeedContactSheet|SeedNumber``): a list or batch of images as one labeled grid."""

from __future__ import annotations

import logging
import secrets
from typing import Any

import numpy as np
import torch

from .core.contact_sheet import MAX_CELLS, caption, join_labels, per_cell, render, to_uint8, variation_label
from .core.details_fields import MAX_SEED_ANY
from .core.paths import check_prefix, check_prefixes
from .core.prompt_details import image_details
from .core.sockets import check_images, check_linked
from .state import run_values
from .v3 import io, ui

logger = logging.getLogger("seed_number")

NODE_ID = "SeedContactSheet|SeedNumber"
DEFAULT_PREFIX = "SeedNumber/contact_sheet"


def cell_variations(prompt: Any, node_id: Any, groups: list[int]) -> list[str | None]:
    """Each cell's variation ("var 17 @ 0.2"), from what the Seed Source behind its sampler recorded
    when it ran (``core/run_values``): the variation seed of that very image. None where there is none."""
    if not isinstance(prompt, dict):
        return [None] * sum(groups)
    found: list[str | None] = []
    for element, size in enumerate(groups):
        _, items = image_details(prompt, str(node_id), element, size, run_values.tapper(prompt))
        found += [variation_label(d.get("variation_seed"), d.get("variation_strength")) for d in items]
    return found


def _first(values: list[Any] | None, default: Any) -> Any:
    return values[0] if values else default


class SeedContactSheet(io.ComfyNode):
    """All images of a ladder, seed sweep or prompt sweep in one grid, each captioned with its seed and label."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=NODE_ID,
            display_name="Seed Contact Sheet",
            category="Seed Number",
            description=(
                "Puts a list or batch of images into one grid with a caption per cell "
                "(e.g. 'Seed 406220 · Turbo') and saves or previews it like Save Image."
            ),
            is_input_list=True,
            is_output_node=True,
            inputs=[
                io.Image.Input("images", tooltip="The images: a list (one per seed, speed or variant) or a batch."),
                io.Int.Input(
                    "seed",
                    min=0,
                    max=MAX_SEED_ANY,
                    optional=True,
                    force_input=True,
                    tooltip="The seed of each image (e.g. Seed Source's seed output) for the captions.",
                ),
                io.String.Input(
                    "label",
                    optional=True,
                    force_input=True,
                    tooltip="A label per image (e.g. Render Speed Preset's speed or a variant label).",
                ),
                io.Int.Input(
                    "columns",
                    default=0,
                    min=0,
                    max=MAX_CELLS,
                    tooltip="Cells per row; 0 picks a near-square grid.",
                ),
                io.String.Input(
                    "filename_prefix",
                    default=DEFAULT_PREFIX,
                    tooltip="Prefix of the saved file, inside ComfyUI's output folder (like Save Image).",
                ),
                io.Boolean.Input(
                    "save",
                    default=True,
                    tooltip="Save into the output folder; off shows a preview only (temp folder).",
                ),
            ],
            outputs=[io.Image.Output("sheet", display_name="sheet", tooltip="The contact sheet as one image.")],
            hidden=[io.Hidden.prompt, io.Hidden.extra_pnginfo, io.Hidden.unique_id],
        )

    @classmethod
    def validate_inputs(cls, filename_prefix: Any = None, images: Any = None) -> bool | str:
        # an input-list node gets its inputs as lists here too; a linked input is None
        try:
            check_linked("images", images, "IMAGE")
            check_prefixes(filename_prefix)
        except ValueError as exc:
            return str(exc)
        return True

    @classmethod
    def execute(
        cls,
        images: list[torch.Tensor],
        columns: list[int],
        filename_prefix: list[str],
        save: list[bool],
        seed: list[int] | None = None,
        label: list[str] | None = None,
    ) -> io.NodeOutput:
        try:
            check_images("images", images)
        except ValueError as exc:
            raise ValueError(f"Seed Contact Sheet: {exc}") from None
        groups = [int(batch.shape[0]) for batch in images]
        cells = [to_uint8(img.cpu().numpy()) for batch in images for img in batch]
        if not cells:
            raise ValueError("Seed Contact Sheet: images: no images to put on the sheet")
        if len(cells) > MAX_CELLS:
            raise ValueError(f"Seed Contact Sheet: images: {len(cells)} images, more than a sheet holds ({MAX_CELLS})")
        seeds = per_cell(seed or [], len(cells), groups)
        labels = per_cell(label or [], len(cells), groups)
        variations = cell_variations(cls.hidden.prompt, cls.hidden.unique_id, groups)
        captions = [caption(s, join_labels(lab, v)) for s, lab, v in zip(seeds, labels, variations, strict=True)]
        try:
            sheet = render(cells, captions, int(_first(columns, 0)))
        except ValueError as exc:
            raise ValueError(f"Seed Contact Sheet: {exc}") from None
        tensor = torch.from_numpy(sheet.astype(np.float32) / 255.0).unsqueeze(0)
        if _first(save, True):
            try:
                prefix = check_prefix(_first(filename_prefix, DEFAULT_PREFIX))
            except ValueError as exc:
                raise ValueError(f"Seed Contact Sheet: {exc}") from None
            folder = io.FolderType.output
        else:
            folder, prefix = io.FolderType.temp, f"SeedNumber_preview_{secrets.token_hex(4)}"
        results = ui.ImageSaveHelper.save_images(tensor, prefix, folder, cls, compress_level=4)
        logger.debug("Seed Contact Sheet: %d cells -> %s", len(cells), results)
        return io.NodeOutput(tensor, ui={"images": results, "seed_number_captions": captions})
