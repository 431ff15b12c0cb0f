"""Seed Source (``SeedSource|SeedNumber``): the seed a generation starts from, shown as used."""

from __future__ import annotations

import logging
from typing import Any

from .core.noise import SeedNoise
from .core.resolve import requested_mode
from .core.seeds import (
    BATCH_SEEDS,
    DEFAULT_BATCH_SEEDS,
    DEFAULT_MODE,
    DEFAULT_NOISE_SOURCE,
    MAX_COUNT,
    MAX_SEED,
    MODES,
    NODE_ID,
    NOISE_SOURCES,
    check_choices,
    check_count,
    check_strength,
    coerce_strength,
    draw_random_seed,
    image_seed_rule,
    resolve_at_run_time,
    sweep_seeds,
)
from .noise_guard import check_prepare_noise
from .state import run_values, runtime_counter
from .v3 import io, output_ids

logger = logging.getLogger("seed_number")

RECEIPT_KEY = "seed_number_receipt"
"""Key of the receipt in the node's ``ui`` output (``/history`` and the ``executed`` event)."""


class SeedSource(io.ComfyNode):
    """Ideogram's Seed Number for ComfyUI: a seed for any seed input, and a NOISE for custom sampling."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=NODE_ID,
            display_name="Seed Source",
            category="Seed Number",
            description=(
                "The starting point of a generation. Random mode draws a new seed on every queue; "
                "the seed actually used is written into the queued prompt, the saved image and the "
                "receipt, so re-queueing them re-makes the image."
            ),
            inputs=[
                io.Int.Input(
                    "seed_number",
                    default=0,
                    min=0,
                    max=MAX_SEED,
                    optional=True,
                    tooltip="The seed to use in fixed mode, and the base for increment/decrement. "
                    "Ignored in random mode. Leave it out (API) for a random seed.",
                ),
                io.Combo.Input(
                    "mode",
                    options=list(MODES),
                    default=DEFAULT_MODE,
                    optional=True,
                    tooltip="fixed: use seed_number. random: a new random seed every queue. "
                    "increment/decrement: seed_number first, then one up/down per queue.",
                ),
                io.Boolean.Input(
                    "ideogram_range",
                    default=False,
                    optional=True,
                    tooltip="Draw random seeds within Ideogram's range 0 … 2,147,483,647 instead of 0 … 2^53−1.",
                ),
                io.Combo.Input(
                    "batch_seeds",
                    options=list(BATCH_SEEDS),
                    default=DEFAULT_BATCH_SEEDS,
                    optional=True,
                    tooltip="For the noise output. shared: exactly ComfyUI's KSampler noise for a batch. "
                    "per image: image i gets seed + i, so it can be re-made alone at batch size 1.",
                ),
                io.Int.Input(
                    "count",
                    default=1,
                    min=1,
                    max=MAX_COUNT,
                    optional=True,
                    tooltip="Seed sweep: with N > 1 the outputs are lists of N consecutive seeds from the "
                    "resolved seed, so a KSampler downstream renders one image per seed in one queue.",
                ),
                io.Combo.Input(
                    "noise_source",
                    options=list(NOISE_SOURCES),
                    default=DEFAULT_NOISE_SOURCE,
                    optional=True,
                    tooltip="For the noise output. comfy: ComfyUI's own noise. a1111 gpu: AUTOMATIC1111/Forge's "
                    "default (NVIDIA, 'NV') noise, computed exactly on any device. a1111 cpu: A1111's 'CPU' RNG. "
                    "In the a1111 modes each image gets A1111's own seed (seed + i).",
                ),
                io.Int.Input(
                    "variation_seed",
                    default=0,
                    min=0,
                    max=MAX_SEED,
                    optional=True,
                    tooltip="For the noise output: the seed of the noise mixed in at variation_strength "
                    "(A1111's 'Variation seed'). Leave it out (API) for a random one, pinned like the seed.",
                ),
                io.Float.Input(
                    "variation_strength",
                    default=0.0,
                    min=0.0,
                    max=1.0,
                    step=0.01,
                    optional=True,
                    tooltip="0: the seed's noise, exactly. Small values (0.05–0.3): near-duplicates of the seed's "
                    "composition. 1: the variation seed's noise. A1111's slerp, as its 'Variation strength'.",
                ),
            ],
            outputs=[
                io.Int.Output(
                    "seed",
                    display_name="seed",
                    is_output_list=True,
                    tooltip="The seed used (a list of count seeds); wire it into KSampler's seed or any seed input.",
                ),
                io.Noise.Output(
                    "noise",
                    display_name="noise",
                    is_output_list=True,
                    tooltip="Initial noise for SamplerCustomAdvanced, with the batch policy (one per seed).",
                ),
            ],
            hidden=[io.Hidden.unique_id, io.Hidden.prompt],
        )

    @classmethod
    def validate_inputs(
        cls, mode: Any = None, batch_seeds: Any = None, noise_source: Any = None, variation_strength: Any = None
    ) -> bool | str:
        # ComfyUI does not check V3 combo values itself. A linked value is not known yet and arrives
        # as None (so does an explicit null, which execute() then refuses, naming the input).
        # Naming variation_strength turns ComfyUI's own range check off for it (it lets NaN through).
        try:
            check_choices(mode, batch_seeds, allow_none=True, noise_source=noise_source)
            if variation_strength is not None:
                check_strength(variation_strength)
        except ValueError as exc:
            return str(exc)
        return True

    @classmethod
    def fingerprint_inputs(cls, seed_number: int | None = None, mode: str = DEFAULT_MODE, **kwargs: Any) -> Any:
        # The prompt hook turns every request into fixed mode; anything else is drawn at run time
        # and must run again on every queue (NaN never equals itself).
        return "fixed" if mode == "fixed" and seed_number is not None else float("nan")

    @classmethod
    def execute(
        cls,
        seed_number: int | None = None,
        mode: str = DEFAULT_MODE,
        ideogram_range: bool = False,
        batch_seeds: str = DEFAULT_BATCH_SEEDS,
        count: int = 1,
        noise_source: str = DEFAULT_NOISE_SOURCE,
        variation_seed: int | None = None,
        variation_strength: Any = 0.0,
    ) -> io.NodeOutput:
        check_prepare_noise()  # warns once if another pack replaced ComfyUI's initial noise
        try:
            check_choices(mode, batch_seeds, allow_none=False, noise_source=noise_source)
            check_count(count)
            check_strength(variation_strength)
        except ValueError as exc:
            raise ValueError(f"Seed Source: {exc}") from None
        strength = coerce_strength(variation_strength) or 0.0
        seed = resolve_at_run_time(runtime_counter, seed_number, mode, ideogram_range, str(cls.hidden.unique_id), count)
        seeds = sweep_seeds(seed, count)
        if strength and variation_seed is None:  # not pinned by the prompt hook (no server): drawn now
            variation_seed = draw_random_seed(ideogram_range)
        variation = variation_seed if strength else None
        requested = requested_mode(cls.hidden.prompt, cls.hidden.unique_id, mode)
        receipt = {
            "seed": seed,
            "seeds": seeds,
            "count": count,
            "mode": requested,
            "batch_seeds": batch_seeds,
            "noise_source": noise_source,
            "variation_seed": variation,
            "variation_strength": strength,
            "node": str(cls.hidden.unique_id),
        }
        logger.debug("Seed Source %s used seeds %s (%s)", cls.hidden.unique_id, seeds, requested)
        per_image = batch_seeds == "per image"
        noises = [SeedNoise(s, per_image, noise_source, variation, strength) for s in seeds]
        cls._record(seeds, per_image, noise_source, variation, strength)
        return io.NodeOutput(seeds, noises, ui={RECEIPT_KEY: [receipt]})

    @classmethod
    def _record(
        cls, seeds: list[int], per_image: bool, noise_source: str, variation: int | None, strength: float
    ) -> None:
        """What each image of each seed's noise used, for Seed Details (``core/run_values``)."""
        rules = [image_seed_rule(s, per_image, noise_source, variation, strength) for s in seeds]
        values: dict[str, dict[str, list[Any]]] = {
            "value": {"seed": seeds, "noise": [seed_rule for seed_rule, _ in rules]},
            "noise_source": {"noise": [noise_source]},
            "variation_strength": {"noise": [strength if variation is not None else 0.0]},
        }
        if variation is not None:
            values["variation_seed"] = {"noise": [variation_rule for _, variation_rule in rules]}
        run_values.record(cls.hidden.prompt, cls.hidden.unique_id, output_ids(cls), values)
