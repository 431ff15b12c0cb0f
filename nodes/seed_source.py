"""Seed Source (``SeedSource|SeedNumber``): the seed a generation starts from, shown as used."""

from __future__ import annotations

import logging
from typing import Any

from .core.noise import SeedNoise
from .core.resolve import requested_mode
from .core.run_values import run_values
from .core.seeds import (
    BATCH_SEEDS,
    DEFAULT_BATCH_SEEDS,
    DEFAULT_MODE,
    MAX_COUNT,
    MAX_SEED,
    MODES,
    NODE_ID,
    check_choices,
    check_count,
    resolve_at_run_time,
    sweep_seeds,
)
from .noise_guard import check_prepare_noise
from .v3 import io

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
    def validate_inputs(cls, mode: Any = None, batch_seeds: Any = None) -> bool | str:
        # ComfyUI does not check V3 combo values itself. A linked value is not known yet and arrives
        # as None (so does an explicit null, which execute() then refuses, naming the input).
        return check_choices(mode, batch_seeds, allow_none=True)

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
    ) -> io.NodeOutput:
        check_prepare_noise()  # warns once if another pack replaced ComfyUI's initial noise
        problem = check_choices(mode, batch_seeds, allow_none=False)
        if problem is True:
            problem = check_count(count)
        if problem is not True:
            raise ValueError(f"Seed Source: {problem}")
        seed = resolve_at_run_time(seed_number, mode, ideogram_range, str(cls.hidden.unique_id), count)
        seeds = sweep_seeds(seed, count)
        requested = requested_mode(cls.hidden.prompt, cls.hidden.unique_id, mode)
        receipt = {
            "seed": seed,
            "seeds": seeds,
            "count": count,
            "mode": requested,
            "batch_seeds": batch_seeds,
            "node": str(cls.hidden.unique_id),
        }
        logger.debug("Seed Source %s used seeds %s (%s)", cls.hidden.unique_id, seeds, requested)
        per_image = batch_seeds == "per image"
        noises = [SeedNoise(s, per_image=per_image) for s in seeds]
        run_values.record(
            cls.hidden.prompt,
            cls.hidden.unique_id,
            {"value": {0: seeds, 1: [{"per_image_base": s} if per_image else s for s in seeds]}},
        )
        return io.NodeOutput(seeds, noises, ui={RECEIPT_KEY: [receipt]})
