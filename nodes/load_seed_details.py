"""Load Seed Details (``LoadSeedDetails|SeedNumber``): read how an image was made, to make it again.

Reads our JSON chunk, else ComfyUI's ``prompt`` chunk, else an A1111 ``parameters`` chunk, from an
image in ComfyUI's input folder (upload widget like Load Image), without decoding its pixels and
within bounded memory and time (``core/png_details.read_png_details``). Wire ``seed`` into a Seed Source
(fixed) and the rest into a KSampler to re-make the image.
"""

from __future__ import annotations

import hashlib
import logging
import os
from typing import Any

import comfy.samplers
import folder_paths

from .core.details_fields import DetailsError
from .core.paths import unencodable
from .core.png_details import read_png_details
from .core.reproducibility import reproducibility
from .core.seeds import DEFAULT_NOISE_SOURCE, NOISE_SOURCES
from .environment import environment
from .v3 import io

logger = logging.getLogger("seed_number")

NODE_ID = "LoadSeedDetails|SeedNumber"
COMBO = io.Custom("COMBO")
"""The type of a V3 combo input: ComfyUI links an output into one only when the output has this type."""
UI_KEY = "seed_number_loaded"
DEFAULTS = {
    "seed": 0,
    "positive": "",
    "negative": "",
    "speed": "",
    "steps": 20,
    "cfg": 8.0,
    "sampler": "euler",
    "scheduler": "normal",
    "width": 512,
    "height": 512,
    "noise_source": DEFAULT_NOISE_SOURCE,
    "variation_seed": 0,
    "variation_strength": 0.0,
}
"""KSampler's and EmptyLatentImage's defaults, for a field an image does not record."""
OPTIONAL = ("speed", "variation_seed", "variation_strength")
"""Fields an image need not have: their absence is not reported as missing."""


def _input_files() -> list[str]:
    directory = folder_paths.get_input_directory()
    try:
        names = [f for f in os.listdir(directory) if os.path.isfile(os.path.join(directory, f))]
    except OSError:
        return []
    return sorted(folder_paths.filter_files_content_types(names, ["image"]))


def input_path(name: Any) -> str:
    """The real path of ``name`` inside ComfyUI's input folder; ValueError naming ``image`` otherwise."""
    if not isinstance(name, str) or not name or "\x00" in name or unencodable(name):
        raise ValueError("image: give the name of a file in ComfyUI's input folder")
    if os.path.isabs(name) or ".." in name.replace("\\", "/").split("/"):
        raise ValueError(f"image: {name!r} must be a file name inside ComfyUI's input folder")
    root = os.path.realpath(folder_paths.get_input_directory())
    path = os.path.realpath(os.path.join(root, name))
    if os.path.commonpath([root, path]) != root:
        raise ValueError(f"image: {name!r} points outside ComfyUI's input folder")
    if not os.path.isfile(path):
        raise ValueError(f"image: {name!r} is not a file in ComfyUI's input folder")
    return path


class LoadSeedDetails(io.ComfyNode):
    """Seed, prompts, speed and sampler settings read back from an image's metadata."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=NODE_ID,
            display_name="Load Seed Details",
            category="Seed Number",
            description=(
                "Reads the seed and generation settings saved in an image (Seed Details, ComfyUI or "
                "A1111 metadata). Wire seed into a Seed Source (fixed) and the rest into a KSampler."
            ),
            inputs=[
                io.Combo.Input(
                    "image",
                    options=_input_files(),
                    upload=io.UploadType.image,
                    tooltip="An image in ComfyUI's input folder (upload one with the button).",
                ),
            ],
            outputs=[
                io.Int.Output("seed", display_name="seed", tooltip="The seed used."),
                io.String.Output("positive", display_name="positive", tooltip="The positive prompt."),
                io.String.Output("negative", display_name="negative", tooltip="The negative prompt."),
                io.String.Output("speed", display_name="speed", tooltip="The render speed label, if recorded."),
                io.Int.Output("steps", display_name="steps", tooltip="Sampler steps."),
                io.Float.Output("cfg", display_name="cfg", tooltip="Sampler cfg."),
                io.Combo.Output(
                    "sampler_name",
                    display_name="sampler_name",
                    options=comfy.samplers.KSampler.SAMPLERS,
                    tooltip="KSampler sampler_name.",
                ),
                io.Combo.Output(
                    "scheduler",
                    display_name="scheduler",
                    options=comfy.samplers.KSampler.SCHEDULERS,
                    tooltip="KSampler scheduler.",
                ),
                io.Int.Output("width", display_name="width", tooltip="Image width."),
                io.Int.Output("height", display_name="height", tooltip="Image height."),
                io.String.Output(
                    "source",
                    display_name="source",
                    tooltip="Where the details came from (seed_number, comfyui prompt, a1111 parameters) "
                    "and which fields were missing.",
                ),
                COMBO.Output(  # typed COMBO (not its options) so it links into Seed Source's V3 combo
                    "noise_source",
                    display_name="noise_source",
                    tooltip="Which noise made the image, for Seed Source's noise_source: an A1111/Forge "
                    "image's RNG (none or NV: a1111 gpu; CPU: a1111 cpu), comfy for a ComfyUI-made one.",
                ),
                io.Int.Output(
                    "variation_seed",
                    display_name="variation_seed",
                    tooltip="The variation seed (A1111's 'Variation seed'); 0 when the image has none.",
                ),
                io.Float.Output(
                    "variation_strength",
                    display_name="variation_strength",
                    tooltip="The variation strength (A1111's 'Variation seed strength'); 0 when none.",
                ),
            ],
        )

    @classmethod
    def validate_inputs(cls, image: Any = None) -> bool | str:
        # a default: without one, a prompt lacking image crashes here instead of ComfyUI naming the input
        try:
            input_path(image)
        except ValueError as exc:
            return str(exc)
        return True

    @classmethod
    def fingerprint_inputs(cls, image: Any) -> Any:
        try:
            stat = os.stat(input_path(image))
        except (ValueError, OSError):
            return float("nan")
        return hashlib.sha256(f"{image}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()

    @classmethod
    def execute(cls, image: str) -> io.NodeOutput:
        path = input_path(image)
        try:
            result = read_png_details(path)
        except DetailsError as exc:
            raise ValueError(f"Load Seed Details: image: {exc}") from None
        details = result.details
        if result.source == "none" or details.get("seed") is None:
            why = "; ".join(result.problems[:3]) or "no generation details in it"
            raise ValueError(f"Load Seed Details: image: no seed found in {image!r} ({why})")
        missing = [k for k in DEFAULTS if details.get(k) is None and k not in OPTIONAL]
        values: dict[str, Any] = {k: details.get(k) if details.get(k) is not None else v for k, v in DEFAULTS.items()}
        if values["sampler"] not in comfy.samplers.KSampler.SAMPLERS:
            missing.append(f"sampler {values['sampler']!r} (unknown to this ComfyUI)")
            values["sampler"] = DEFAULTS["sampler"]
        if values["noise_source"] not in NOISE_SOURCES:
            missing.append(f"noise_source {values['noise_source']!r} (unknown)")
            values["noise_source"] = DEFAULTS["noise_source"]
        if not details.get("variation_strength"):  # no variation: both 0, as Seed Source's defaults
            values["variation_seed"], values["variation_strength"] = 0, 0.0
        if values["scheduler"] not in comfy.samplers.KSampler.SCHEDULERS:
            missing.append(f"scheduler {values['scheduler']!r} (unknown to this ComfyUI)")
            values["scheduler"] = DEFAULTS["scheduler"]
        source = result.source + (f"; defaults for {', '.join(missing)}" if missing else "")
        # would re-running here give the same bits? (versions and device of the file vs this ComfyUI)
        now = environment()
        again = reproducibility(
            values["sampler"],
            now["device"],
            now["noise_device"],
            saved_env={k: details.get(k) for k in ("comfyui_version", "torch_version", "device")},
            current_env=now,
        )
        logger.debug("Load Seed Details %s: %s", image, source)
        return io.NodeOutput(
            int(values["seed"]),
            str(values["positive"]),
            str(values["negative"]),
            str(values["speed"]),
            int(values["steps"]),
            float(values["cfg"]),
            values["sampler"],
            values["scheduler"],
            int(values["width"]),
            int(values["height"]),
            source,
            values["noise_source"],
            int(values["variation_seed"]),
            float(values["variation_strength"]),
            ui={
                UI_KEY: [
                    {
                        **{k: details.get(k) for k in DEFAULTS},
                        **{k: details.get(k) for k in ("ensd", "seed_resize_from")},
                        "source": source,
                        "problems": result.problems,
                        "reproducible_here": again,
                    }
                ]
            },
        )
