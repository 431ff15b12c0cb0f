"""Seed Details (``SeedDetails|SeedNumber``): every image shows and carries how it was made.

Finds each image's generation details in the executed graph with no extra wiring: it walks back
from its ``images`` input to the sampler that produced them (so with two samplers each image gets
its own), reads that sampler's inputs, and takes run-time values (seed sweeps, speed ladders,
prompt variants: which list element made which image) from what the pack's nodes recorded when
they ran (``core/run_values``). Saves like Save Image, plus an A1111 ``parameters`` chunk, our
JSON chunk and the image's re-make prompt (``core/remake``: the API prompt that makes this image
alone); the same details and prompt go into the ``ui`` output for ``/history`` and the browser.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from typing import Any

import folder_paths
import numpy as np
import torch
from comfy.cli_args import args
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from .core.details_fields import MAX_SEED_ANY, MAX_SHORT_TEXT, check_field, validate_details
from .core.details_json import DETAILS_VERSION
from .core.paths import check_prefix, check_prefixes
from .core.png_details import png_text_chunks
from .core.prompt_details import DETAILS_NODE_ID, decoder_vae_name, image_details
from .core.prompt_graph import node_inputs
from .core.remake import REMAKE_KEY, remake_json, remake_prompt
from .core.reproducibility import reproducibility
from .core.sockets import check_images, check_linked
from .environment import environment, model_hash
from .state import run_values
from .v3 import io

logger = logging.getLogger("seed_number")

NODE_ID = DETAILS_NODE_ID
UI_KEY = "seed_number_details"
DEFAULT_PREFIX = "SeedNumber/details"
OVERRIDES = ("seed", "positive", "negative", "label", "speed")
_OVERRIDE_RULES = {
    "seed": f"a whole number from 0 to {MAX_SEED_ANY}",
    "positive": "text",
    "negative": "text",
    "label": f"text of at most {MAX_SHORT_TEXT:,} characters",
    "speed": f"text of at most {MAX_SHORT_TEXT:,} characters",
}


def check_override(name: str, values: Any) -> None:
    """ValueError naming override ``name`` when a value could not be recorded (it would be dropped)."""
    for value in values if isinstance(values, list | tuple) else [values]:
        try:
            check_field(name, value)
        except ValueError as exc:
            raise ValueError(f"{name}: {exc} ({_OVERRIDE_RULES[name]})") from None


def _pick(values: list[Any] | None, k: int) -> Any:
    """ComfyUI's list rule: element ``k``, or the last one of a shorter list."""
    return values[min(k, len(values) - 1)] if values else None


def batch_details(
    prompt: dict[str, Any] | None,
    node_id: str,
    element: int,
    batch_size: int,
    size: tuple[int, int],
    env: dict[str, Any],
) -> list[dict[str, Any]]:
    """The details of each batch item of list element ``element`` of this node's ``images``.

    The graph is walked once per item (not once per item *and* per seed of its batch).
    """
    problems: list[str] = []
    items: list[dict[str, Any]] = [{} for _ in range(batch_size)]
    vae = None
    if isinstance(prompt, dict):
        sampler, found = image_details(prompt, node_id, element, batch_size, run_values.tapper(prompt), problems)
        if sampler is not None:
            items = found
            seeds = [d.get("seed") for d in items]
            for d in items:
                d.update(seeds=seeds, sampler_node=sampler)
        vae = decoder_vae_name(prompt, node_inputs(prompt.get(str(node_id))).get("images"))
    for item, details in enumerate(items):
        details.update(vae=vae, width=size[0], height=size[1], batch_index=item, batch_size=batch_size)
        details["model_hash"] = model_hash(details.get("model"))
        details.update(env)
        details["reproducible"] = reproducibility(
            details.get("sampler"),
            env["device"],
            env["noise_device"],
            batch_size=batch_size,
            seed=details.get("seed"),
            noise_source=details.get("noise_source"),
        )
    if problems:
        logger.debug("Seed Details %s: %s", node_id, "; ".join(problems))
    return items


class SeedDetails(io.ComfyNode):
    """Saves images with their seed and generation details, and shows them (ui, /history)."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=NODE_ID,
            display_name="Seed Details",
            category="Seed Number",
            description=(
                "Saves images like Save Image, with their seed, prompt, speed, sampler, model and "
                "reproducibility in the PNG (ComfyUI's prompt/workflow, A1111 'parameters', and "
                "Seed Number's own JSON), and shows the same details. No wiring needed beyond images."
            ),
            is_input_list=True,
            is_output_node=True,
            inputs=[
                io.Image.Input("images", tooltip="The images; their details are found from the graph that made them."),
                io.String.Input(
                    "filename_prefix",
                    default=DEFAULT_PREFIX,
                    tooltip="Prefix of the saved files, inside ComfyUI's output folder (like Save Image).",
                ),
                io.Boolean.Input(
                    "save",
                    default=True,
                    tooltip="Save into the output folder; off shows a preview only (temp folder), details included.",
                ),
                io.Int.Input(
                    "seed",
                    optional=True,
                    force_input=True,
                    tooltip="Override: the seed to record (else the one found in the graph).",
                ),
                io.String.Input(
                    "positive", optional=True, force_input=True, tooltip="Override: the positive prompt to record."
                ),
                io.String.Input(
                    "negative", optional=True, force_input=True, tooltip="Override: the negative prompt to record."
                ),
                io.String.Input("label", optional=True, force_input=True, tooltip="Override: a variant label."),
                io.String.Input("speed", optional=True, force_input=True, tooltip="Override: a render speed label."),
            ],
            outputs=[],
            hidden=[io.Hidden.prompt, io.Hidden.extra_pnginfo, io.Hidden.unique_id],
        )

    @classmethod
    def validate_inputs(
        cls, filename_prefix: Any = None, images: Any = None, seed: Any = None, label: Any = None, speed: Any = None
    ) -> bool | str:
        # An input-list node gets its inputs as lists here too; a linked input is None (checked in execute).
        # Naming seed switches off ComfyUI's range check for it: check_override checks the range.
        try:
            check_linked("images", images, "IMAGE")
            for name, value in (("seed", seed), ("label", label), ("speed", speed)):
                check_override(name, value)
            check_prefixes(filename_prefix)
        except ValueError as exc:
            return str(exc)
        return True

    @classmethod
    def execute(
        cls, images: list[torch.Tensor], filename_prefix: list[str], save: list[bool], **overrides: list[Any]
    ) -> io.NodeOutput:
        if not images:
            raise ValueError("Seed Details: images: nothing to save")
        try:
            check_images("images", images)
            for key in OVERRIDES:
                check_override(key, overrides.get(key))
        except ValueError as exc:
            raise ValueError(f"Seed Details: {exc}") from None
        if _pick(save, 0) is False:
            folder, prefix = folder_paths.get_temp_directory(), f"SeedNumber_preview_{secrets.token_hex(4)}"
            kind = "temp"
        else:
            try:
                prefix = check_prefix(_pick(filename_prefix, 0) or DEFAULT_PREFIX)
            except ValueError as exc:
                raise ValueError(f"Seed Details: {exc}") from None
            folder, kind = folder_paths.get_output_directory(), "output"
        first = images[0]
        out_dir, name, counter, subfolder, _ = folder_paths.get_save_image_path(
            prefix, folder, int(first.shape[2]), int(first.shape[1])
        )
        prompt = cls.hidden.prompt if isinstance(cls.hidden.prompt, dict) else None
        env = environment()
        results, all_details = [], []
        for element, batch in enumerate(images):
            batch_size = int(batch.shape[0])
            size = (int(batch.shape[2]), int(batch.shape[1]))
            found = batch_details(prompt, str(cls.hidden.unique_id), element, batch_size, size, env)
            for item, details in enumerate(found):
                image = batch[item]
                remake = _remake(prompt, details, str(cls.hidden.unique_id))  # from the graph's values, not overrides
                for key in OVERRIDES:
                    value = _pick(overrides.get(key), element)
                    if value is not None:
                        details[key] = value
                details = validate_details(details)
                details["version"] = DETAILS_VERSION
                filename = f"{name.replace('%batch_num%', str(item))}_{counter:05}_.png"
                path = os.path.join(out_dir, filename)
                _save_png(image, path, cls.hidden.prompt, cls.hidden.extra_pnginfo, details, remake)
                saved = {"filename": filename, "subfolder": subfolder, "type": kind}
                results.append(saved)
                all_details.append({**details, "image": saved, "node": str(cls.hidden.unique_id), REMAKE_KEY: remake})
                counter += 1
        logger.debug("Seed Details %s saved %d image(s)", cls.hidden.unique_id, len(results))
        return io.NodeOutput(ui={"images": results, UI_KEY: all_details})


def _remake(prompt: dict[str, Any] | None, details: dict[str, Any], node_id: str) -> dict[str, Any] | None:
    """The API prompt that makes only this image (``core/remake``), or None (why: in the debug log)."""
    if prompt is None:
        return None
    problems: list[str] = []
    try:
        remake = remake_prompt(details, prompt, node_id, problems)
    except Exception:  # a re-make prompt is not a reason to lose an image
        logger.warning("Seed Details %s: no re-make prompt", node_id, exc_info=True)
        return None
    if remake is not None and remake_json(remake) is None:
        problems.append("remake: the prompt is too long to store")
        remake = None
    if problems:
        logger.debug("Seed Details %s: %s", node_id, "; ".join(problems))
    return remake


def _save_png(
    image: torch.Tensor,
    path: str,
    prompt: Any,
    extra_pnginfo: Any,
    details: dict[str, Any],
    remake: dict[str, Any] | None = None,
) -> None:
    """Write one image as SaveImage does, plus the details chunks and the re-make prompt (none with
    --disable-metadata)."""
    pixels = np.clip(255.0 * image.cpu().numpy(), 0, 255).astype(np.uint8)
    metadata = None
    if not args.disable_metadata:
        metadata = PngInfo()
        if prompt is not None:
            metadata.add_text("prompt", json.dumps(prompt))
        if isinstance(extra_pnginfo, dict):
            for key, value in extra_pnginfo.items():
                metadata.add_text(key, json.dumps(value))
        for key, value in png_text_chunks(details, remake).items():
            metadata.add_text(key, value)
    Image.fromarray(pixels).save(path, pnginfo=metadata, compress_level=4)
