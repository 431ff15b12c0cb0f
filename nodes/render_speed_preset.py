"""Render Speed Preset (``RenderSpeedPreset|SeedNumber``): Ideogram's Turbo / Default / Quality.

The numbers are data (``core/render_speed_presets.json`` plus the user override); this module
only connects them to ComfyUI: the sampler and scheduler lists, model-family detection, the
family's shift on a clone of the model, its guidance on the conditioning, and sigmas.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import comfy.samplers
import folder_paths

from .core.model_settings import model_file_names, with_guidance
from .core.presets import (
    AUTO,
    LADDER,
    NODE_ID,
    OVERRIDE_PARTS,
    SPEED_CHOICES,
    Detection,
    Preset,
    PresetError,
    PresetTable,
    TableCache,
    speeds_for,
)
from .core.sockets import check_linked, check_model
from .model_sampling_patch import is_flow_model, shifted_model
from .state import run_values
from .v3 import io, output_ids, wired_outputs

logger = logging.getLogger("seed_number")

UI_KEY = "seed_number_speed"
NEEDS_INPUT = {"sigmas": "model", "model_out": "model", "positive_out": "positive"}
"""Outputs (by id) that can only be computed from an input: wiring one without it is an error.

``model_out`` and ``positive_out`` were appended after the original eight outputs, so saved links
keep their slots."""

_cache = TableCache()
_shipped = TableCache()
"""The shipped presets alone: the family list while the user's file is broken."""


def override_path() -> Path:
    """The user's presets file: ``<ComfyUI user dir>/default/seed_number/render_speed_presets.json``."""
    return Path(folder_paths.get_user_directory(), *OVERRIDE_PARTS)


def preset_table() -> PresetTable:
    """Shipped presets merged with the user's file; raises PresetError naming a bad file and entry."""
    return _cache.get(comfy.samplers.KSampler.SAMPLERS, comfy.samplers.KSampler.SCHEDULERS, override_path())


def _family_choices() -> list[str]:
    """``auto`` and every family; with a broken user file, the shipped families (the node stays listed)."""
    try:
        return [AUTO, *preset_table().families]
    except PresetError as exc:  # shown again, naming the entry, when a prompt uses the node
        logger.error("Seed Number render speed presets: %s", exc)
    try:
        return [
            AUTO,
            *_shipped.get(comfy.samplers.KSampler.SAMPLERS, comfy.samplers.KSampler.SCHEDULERS, None).families,
        ]
    except PresetError:  # the shipped file itself is broken: a packaging error, said once above
        return [AUTO]


def detect_family(table: PresetTable, model: Any, file_names: list[str]) -> Detection:
    """The preset family of a loaded MODEL: its ComfyUI model config class, refined by file names."""
    config = getattr(getattr(model, "model", None), "model_config", None)
    if config is None:
        raise ValueError("Render Speed Preset: model_family auto needs a MODEL on the model input")
    names = [cls.__name__ for cls in type(config).__mro__]
    found = table.detect_from(names, file_names)
    if found is None:
        raise ValueError(
            f"Render Speed Preset: model_family auto does not know the model type {names[0]}; "
            f"choose one of {', '.join(table.families)} (or add it to {override_path()})"
        )
    return found


def configured_model(model: Any, preset: Preset) -> Any:
    """The model with the preset's shift applied on a clone; untouched when the preset has no shift."""
    if model is None or preset.shift is None or preset.shift_node is None:
        return model
    if not is_flow_model(model):
        raise ValueError(
            f"Render Speed Preset: model_family {preset.family} applies a shift ({preset.shift_node}), "
            f"but the model on the model input has no shift (not a flow model): choose its own family"
        )
    return shifted_model(model, preset.shift_node, preset.shift)


def configured_positive(positive: Any, preset: Preset) -> Any:
    """The conditioning with the preset's guidance, as FluxGuidance sets it; untouched without guidance."""
    if positive is None or preset.guidance is None:
        return positive
    return with_guidance(positive, preset.guidance)


def build_sigmas(model: Any, preset: Preset) -> Any:
    """The sigmas BasicScheduler would give for the preset's scheduler, steps and denoise."""
    total = preset.steps if preset.denoise >= 1.0 else int(preset.steps / preset.denoise)
    sigmas = comfy.samplers.calculate_sigmas(model.get_model_object("model_sampling"), preset.scheduler, total).cpu()
    return sigmas[-(preset.steps + 1) :]


class RenderSpeedPreset(io.ComfyNode):
    """Steps, cfg, sampler and scheduler for Turbo / Default / Quality, or all three (Ladder)."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        samplers = comfy.samplers.KSampler.SAMPLERS
        schedulers = comfy.samplers.KSampler.SCHEDULERS
        return io.Schema(
            node_id=NODE_ID,
            display_name="Render Speed Preset",
            category="Seed Number",
            description=(
                "Ideogram's render speeds for local models: the same seed at Turbo, Default or Quality "
                "gives a similar image. Ladder outputs all three as lists, so one queue renders each "
                "speed from the same seed and noise."
            ),
            inputs=[
                io.Combo.Input(
                    "speed",
                    options=list(SPEED_CHOICES),
                    default="Default",
                    tooltip="Turbo: fewest steps. Default: the usual. Quality: most steps. "
                    "Ladder: all three as lists (one image per speed, same seed).",
                ),
                io.Combo.Input(
                    "model_family",
                    options=_family_choices(),
                    default=AUTO,
                    tooltip="Which presets to use. auto detects the family from the model input.",
                ),
                io.Model.Input(
                    "model",
                    optional=True,
                    tooltip="The loaded model: lets auto detect the family; needed for the sigmas and model "
                    "outputs. The model output is this model with the family's shift applied.",
                ),
                io.Conditioning.Input(
                    "positive",
                    optional=True,
                    tooltip="The positive conditioning: the positive output is it with the family's guidance "
                    "set (as FluxGuidance does) for guidance-distilled families such as Flux-dev; "
                    "otherwise passed through.",
                ),
            ],
            outputs=[
                io.Int.Output("steps", display_name="steps", is_output_list=True, tooltip="KSampler steps."),
                io.Float.Output("cfg", display_name="cfg", is_output_list=True, tooltip="KSampler cfg."),
                io.Combo.Output(
                    "sampler_name",
                    display_name="sampler_name",
                    options=samplers,
                    is_output_list=True,
                    tooltip="KSampler sampler_name.",
                ),
                io.Combo.Output(
                    "scheduler",
                    display_name="scheduler",
                    options=schedulers,
                    is_output_list=True,
                    tooltip="KSampler scheduler.",
                ),
                # ComfyUI's `io.Sampler` shadows a TYPE_CHECKING import of comfy.samplers.Sampler, so
                # mypy sees that class (without .Output); at run time it is the io type.
                io.Sampler.Output(  # type: ignore[attr-defined]
                    "sampler", display_name="sampler", is_output_list=True, tooltip="SAMPLER for SamplerCustom*."
                ),
                io.Sigmas.Output(
                    "sigmas",
                    display_name="sigmas",
                    is_output_list=True,
                    tooltip="SIGMAS for SamplerCustom* (needs the model input).",
                ),
                io.String.Output(
                    "speed_label",
                    display_name="speed",
                    is_output_list=True,
                    tooltip="The speed name (with a reproducibility note when the sampler draws per-step noise).",
                ),
                io.Float.Output(
                    "denoise_out", display_name="denoise", is_output_list=True, tooltip="KSampler denoise."
                ),
                io.Model.Output(
                    "model_out",
                    display_name="model",
                    is_output_list=True,
                    tooltip="The model with the family's shift applied (as ModelSamplingSD3 / AuraFlow / Flux "
                    "would); the input model itself when the family has no shift.",
                ),
                io.Conditioning.Output(
                    "positive_out",
                    display_name="positive",
                    is_output_list=True,
                    tooltip="The positive conditioning with the family's guidance (as FluxGuidance sets it); "
                    "passed through when the family takes no guidance.",
                ),
            ],
            hidden=[io.Hidden.unique_id, io.Hidden.prompt],
        )

    @classmethod
    def validate_inputs(
        cls, speed: Any = None, model_family: Any = None, model: Any = None, positive: Any = None
    ) -> bool | str:
        try:
            check_linked("model", model, "MODEL")  # a linked input is None here
            check_linked("positive", positive, "CONDITIONING")
        except ValueError as exc:
            return str(exc)
        if speed is not None and (not isinstance(speed, str) or speed not in SPEED_CHOICES):
            return f"speed: {speed!r} is not one of {', '.join(SPEED_CHOICES)}"
        try:
            table = preset_table()
        except PresetError as exc:
            return f"model_family: the render speed presets cannot be used: {exc}"
        families = [AUTO, *table.families]
        if model_family is not None and (not isinstance(model_family, str) or model_family not in families):
            return f"model_family: {model_family!r} is not one of {', '.join(families)}"
        return True

    @classmethod
    def fingerprint_inputs(cls, **kwargs: Any) -> Any:
        # Editing the user's presets file must re-run the node.
        try:
            stat = override_path().stat()
        except OSError:
            return "shipped presets"
        return f"override {stat.st_mtime_ns} {stat.st_size}"

    @classmethod
    def execute(cls, speed: str, model_family: str, model: Any = None, positive: Any = None) -> io.NodeOutput:
        cls._check_inputs(speed, model_family, model, positive)
        table = preset_table()
        detection = cls._family(table, model_family, model)
        presets = [table.get(detection.family, s) for s in speeds_for(speed)]
        models = cls._models(model, presets)
        positives = [configured_positive(positive, p) for p in presets]
        sigmas = [build_sigmas(m, p) if m is not None else None for m, p in zip(models, presets, strict=True)]
        for p in presets:
            if p.reproducibility:
                logger.warning("Render Speed Preset %s %s: %s", p.family, p.speed, p.reproducibility)
        values = cls._record(presets)
        ui = {
            UI_KEY: [
                {
                    **p.as_dict(),
                    "ladder": speed == LADDER,
                    "node": str(cls.hidden.unique_id),
                    "detected_by": detection.rule,
                    "shift_applied": m is not model,
                    "guidance_applied": c is not positive,
                }
                for p, m, c in zip(presets, models, positives, strict=True)
            ]
        }
        samplers = [comfy.samplers.sampler_object(p.sampler) for p in presets]
        return io.NodeOutput(
            values["steps"],
            values["cfg"],
            values["sampler_name"],
            values["scheduler"],
            samplers,
            sigmas,
            values["speed_label"],
            values["denoise_out"],
            models,
            positives,
            ui=ui,
        )

    @classmethod
    def _check_inputs(cls, speed: Any, model_family: Any, model: Any, positive: Any) -> None:
        """ValueError naming the input: bad values, nulls, non-MODEL models, outputs wired without inputs."""
        problem = cls.validate_inputs(speed=speed, model_family=model_family)
        for name, value in (("speed", speed), ("model_family", model_family)):
            if problem is True and value is None:  # an explicit null passes validation as "linked"
                problem = f"{name}: no value"
        if problem is not True:
            raise ValueError(f"Render Speed Preset: {problem}")
        if model is not None:
            try:
                check_model("model", model)
            except ValueError as exc:
                raise ValueError(f"Render Speed Preset: {exc}") from None
        if positive is not None and not isinstance(positive, list):
            raise ValueError(f"Render Speed Preset: positive: expected a CONDITIONING, got {type(positive).__name__}")
        given = {"model": model, "positive": positive}
        for output in wired_outputs(cls, cls.hidden.prompt, cls.hidden.unique_id) or ():
            input_name = NEEDS_INPUT.get(output)
            if input_name is not None and given[input_name] is None:
                shown = output.removesuffix("_out")
                raise ValueError(f"Render Speed Preset: the {shown} output needs the {input_name} input")

    @classmethod
    def _family(cls, table: PresetTable, model_family: str, model: Any) -> Detection:
        """The chosen family, or for ``auto`` the detected one with the rule that decided."""
        if model_family != AUTO:
            return Detection(model_family, "", "model_family chosen")
        names = model_file_names(cls.hidden.prompt, cls.hidden.unique_id)
        return detect_family(table, model, names)

    @classmethod
    def _models(cls, model: Any, presets: list[Preset]) -> list[Any]:
        """One configured model per preset; speeds with the same shift share one clone."""
        by_shift: dict[Any, Any] = {}
        for p in presets:
            key = (p.shift_node, p.shift)
            if key not in by_shift:
                by_shift[key] = configured_model(model, p)
        return [by_shift[(p.shift_node, p.shift)] for p in presets]

    @classmethod
    def _record(cls, presets: list[Preset]) -> dict[str, list[Any]]:
        """The plain outputs by id, recorded for Seed Details (it reads each list element back)."""
        values: dict[str, list[Any]] = {
            "steps": [p.steps for p in presets],
            "cfg": [p.cfg for p in presets],
            "sampler_name": [p.sampler for p in presets],
            "scheduler": [p.scheduler for p in presets],
            "speed_label": [p.label() for p in presets],
            "denoise_out": [p.denoise for p in presets],
        }
        run_values.record(
            cls.hidden.prompt,
            cls.hidden.unique_id,
            output_ids(cls),
            {
                "value": {**values, "sampler": values["sampler_name"]},
                "sigmas": {
                    "sigmas": [{"steps": p.steps, "scheduler": p.scheduler, "denoise": p.denoise} for p in presets]
                },
                "speed": {"*": [p.speed for p in presets]},
                "model_settings": {
                    "*": [{"family": p.family, "shift": p.shift, "guidance": p.guidance} for p in presets]
                },
            },
        )
        return values
