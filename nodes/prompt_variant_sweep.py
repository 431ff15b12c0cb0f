"""Prompt Variant Sweep (``PromptVariantSweep|SeedNumber``): one seed, one prompt detail swept.

``"dark {blue|purple|red} gradient"`` becomes three prompts (grammar: ``core/variants.py``), each
rendered from the *same* initial noise, so the composition stays while the detail changes.

Every output is a list of *chunks* (``is_output_list``); a chunk is what one sampler pass renders:

- ``execution`` ``list``: one chunk per variant (works with a stock KSampler: the KSampler runs once
  per variant with the same seed);
- ``batched``: one chunk holding every variant (one SamplerCustomAdvanced pass over a latent batch
  whose items all start from the same noise);
- ``auto``: chunks planned by ``core/sweep.py`` for the device and latent size (batching is a win
  for small latents on a CPU and nearly always on a GPU). Auto batches only when both the
  ``latent`` and ``noise`` outputs are wired, i.e. when the graph can render a batch from one noise;
  otherwise it is ``list``.

Per chunk: ``conditioning`` (the chunk's prompts' encodings along the batch), ``negative_conditioning``
(the negative text encoded once, repeated to the chunk's size), ``latent`` (the ``latent`` input
repeated to the chunk's size; None without a ``latent`` input, an error naming ``latent`` when the
output is wired anyway), ``noise`` (same noise for every item, from the ``seed`` input; an error
naming ``seed`` when the output is wired without one), ``prompt`` and ``label`` (one line per variant
of the chunk). ``labels`` is flat, one per variant whatever the chunking: use it for per-image
captions (Seed Contact Sheet).

The ``ui`` output ``seed_number_variants`` lists every variant in image order:
``{"index", "prompt", "label", "chunk", "item"}`` (``item`` is the batch position inside chunk
``chunk``); ``seed_number_sweep`` has one summary record (execution asked, chunk sizes, device).
"""

from __future__ import annotations

import logging
from typing import Any

import comfy.model_management

from .core.details_fields import MAX_SEED_ANY
from .core.sockets import check_clip, check_latent, check_linked
from .core.sweep_batch import SweepNoise, concat_conditioning, latent_area, repeat_latent
from .core.sweep_plan import (
    DEFAULT_EXECUTION,
    EXECUTIONS,
    MAX_GROUP,
    MAX_VARIANTS_LIMIT,
    Chunks,
    SweepError,
    Wiring,
    build_chunks,
    check_negative,
    check_settings,
    check_template,
    check_wiring,
    device_kind,
    expand_inputs,
    plan_chunks,
    run_record,
    sampler_noise_differs,
    variant_records,
)
from .core.variants import DEFAULT_MAX_VARIANTS, DEFAULT_MODE, MODES, NODE_ID, Variant
from .state import run_values
from .v3 import io, output_ids, wired_outputs

logger = logging.getLogger("seed_number")

VARIANTS_KEY = "seed_number_variants"
"""Key of the per-variant records in the node's ``ui`` output (``/history`` and the ``executed`` event)."""
SWEEP_KEY = "seed_number_sweep"
"""Key of the sweep summary in the node's ``ui`` output."""
DEFAULT_TEMPLATE = "a lighthouse on a cliff at dusk, dark {blue|purple|red} gradient sky"

_NAME = "Prompt Variant Sweep"


def _encoder(clip: Any) -> Any:
    """``encode(text)`` with one CLIP encoding per distinct text (a repeated text is encoded once)."""
    cache: dict[str, Any] = {}

    def encode(text: str) -> Any:
        if text not in cache:
            cache[text] = clip.encode_from_tokens_scheduled(clip.tokenize(text))
        return cache[text]

    return encode


def _device() -> str:
    return device_kind(comfy.model_management.get_torch_device().type)


def _frozen(outputs: set[str] | None) -> frozenset[str] | None:
    return frozenset(outputs) if outputs is not None else None


def _encoded(clip: Any, chunks: Chunks, negative: str) -> tuple[list[Any], list[Any]]:
    """Each chunk's prompts and negative encoded (one item per variant); Nones without a clip."""
    if clip is None:
        return [None] * len(chunks.sizes), [None] * len(chunks.sizes)
    encode = _encoder(clip)
    negative_one = encode(negative)
    try:
        conditioning = [concat_conditioning([encode(text) for text in texts]) for texts in chunks.texts]
    except ValueError as exc:
        raise ValueError(f"{_NAME}: template: the chunk's prompts cannot share one batch: {exc}") from None
    return conditioning, [concat_conditioning([negative_one] * n) for n in chunks.sizes]


def _latents(latent: dict[str, Any] | None, sizes: list[int]) -> list[Any]:
    """The latent repeated to each chunk's size; Nones without a latent."""
    try:
        return [repeat_latent(latent, size) if latent is not None else None for size in sizes]
    except ValueError as exc:
        raise ValueError(f"{_NAME}: latent: {exc}") from None


class PromptVariantSweep(io.ComfyNode):
    """Ideogram's "same Seed Number, one detail changed": a template's variants from one seed and noise."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=NODE_ID,
            display_name="Prompt Variant Sweep",
            category="Seed Number",
            description=(
                "Keep the seed, change one detail: 'dark {blue|purple|red} gradient' renders three images "
                "from the same noise, so the composition stays while the detail changes. Outputs are lists "
                "(one sampler pass per element): list runs one variant per pass (stock KSampler), batched "
                "all in one pass (SamplerCustomAdvanced with this node's latent and noise), auto picks the "
                "faster for the device and size."
            ),
            inputs=[
                io.String.Input(
                    "template",
                    multiline=True,
                    dynamic_prompts=False,
                    default=DEFAULT_TEMPLATE,
                    tooltip="The prompt with {a|b|c} groups to sweep. Groups nest; \\{ \\} \\| give literal "
                    "characters; // and /* */ are comments.",
                ),
                io.Combo.Input(
                    "mode",
                    options=list(MODES),
                    default=DEFAULT_MODE,
                    tooltip="all: every combination of the groups. one group: sweep only group number "
                    "'group', the others keep their first option. zip: the groups advance together.",
                ),
                io.Int.Input(
                    "group",
                    default=0,
                    min=0,
                    max=MAX_GROUP,
                    tooltip="For mode 'one group': which top-level group to sweep (0 = the first).",
                ),
                io.Int.Input(
                    "max_variants",
                    default=DEFAULT_MAX_VARIANTS,
                    min=1,
                    max=MAX_VARIANTS_LIMIT,
                    tooltip="Refuse templates that give more variants than this (nothing is cut off silently).",
                ),
                io.Combo.Input(
                    "execution",
                    options=list(EXECUTIONS),
                    default=DEFAULT_EXECUTION,
                    tooltip="list: one variant per sampler pass (works with a stock KSampler). batched: all "
                    "variants in one pass (wire latent and noise into SamplerCustomAdvanced). auto: the "
                    "faster for this device and latent size; list unless latent and noise are wired.",
                ),
                io.Clip.Input(
                    "clip",
                    optional=True,
                    tooltip="Encodes the prompts and the negative text; needed for the conditioning outputs.",
                ),
                io.String.Input(
                    "negative",
                    multiline=True,
                    dynamic_prompts=False,
                    default="",
                    optional=True,
                    tooltip="Negative prompt, encoded once for negative_conditioning (same for every variant).",
                ),
                io.Int.Input(
                    "seed",
                    min=0,
                    max=MAX_SEED_ANY,
                    optional=True,
                    force_input=True,
                    tooltip="The seed of the noise output (wire Seed Source's seed). Every variant starts "
                    "from the noise a KSampler draws for this seed at batch size 1.",
                ),
                io.Latent.Input(
                    "latent",
                    optional=True,
                    tooltip="A batch-1 latent (e.g. Empty Latent Image); repeated to each chunk's size for "
                    "the latent output. auto uses its size to choose the chunks.",
                ),
            ],
            outputs=[
                io.Conditioning.Output(
                    "conditioning",
                    display_name="conditioning",
                    is_output_list=True,
                    tooltip="Per chunk: the chunk's prompts encoded, one per batch item.",
                ),
                io.Conditioning.Output(
                    "negative_conditioning",
                    display_name="negative_conditioning",
                    is_output_list=True,
                    tooltip="Per chunk: the negative text encoded once, repeated to the chunk's size.",
                ),
                io.Latent.Output(
                    "latent_out",
                    display_name="latent",
                    is_output_list=True,
                    tooltip="Per chunk: the latent input repeated to the chunk's size.",
                ),
                io.Noise.Output(
                    "noise",
                    display_name="noise",
                    is_output_list=True,
                    tooltip="Per chunk: NOISE for SamplerCustomAdvanced, the same seed noise for every item.",
                ),
                io.String.Output(
                    "prompt",
                    display_name="prompt",
                    is_output_list=True,
                    tooltip="Per chunk: the resolved prompts, one per line (one prompt in list execution).",
                ),
                io.String.Output(
                    "label",
                    display_name="label",
                    is_output_list=True,
                    tooltip="Per chunk: what differs, e.g. 'purple', one per line (one label in list execution).",
                ),
                io.String.Output(
                    "labels",
                    display_name="labels",
                    is_output_list=True,
                    tooltip="One label per variant, whatever the chunking: captions for Seed Contact Sheet.",
                ),
            ],
            hidden=[io.Hidden.unique_id, io.Hidden.prompt],
        )

    @classmethod
    def validate_inputs(
        cls,
        template: Any = None,
        mode: Any = None,
        group: Any = None,
        max_variants: Any = None,
        execution: Any = None,
        negative: Any = None,
        clip: Any = None,
        latent: Any = None,
    ) -> bool | str:
        # Naming group and max_variants here switches off ComfyUI's own min/max checks for them, and V3
        # combo values are never checked by ComfyUI: check_settings does both. A linked input is None,
        # so a clip or latent that is not None is a constant ComfyUI would pass on unchecked.
        try:
            check_linked("clip", clip, "CLIP")
            check_linked("latent", latent, "LATENT")
            check_settings(mode=mode, group=group, max_variants=max_variants, execution=execution)
            check_negative(negative)
            if template is not None and None not in (mode, group, max_variants):
                check_template(template, mode, group, max_variants)  # arithmetic only: this is the event loop
        except ValueError as exc:
            return str(exc)
        return True

    @classmethod
    def execute(
        cls,
        template: str,
        mode: str,
        group: int,
        max_variants: int,
        execution: str,
        clip: Any = None,
        negative: str = "",
        seed: int | None = None,
        latent: dict[str, Any] | None = None,
    ) -> io.NodeOutput:
        variants = cls._variants(template, mode, group, max_variants, execution, negative, clip, latent)
        wiring = Wiring(
            _frozen(wired_outputs(cls, cls.hidden.prompt, cls.hidden.unique_id)),
            clip=clip is not None,
            seed=seed is not None,
            latent=latent is not None,
        )
        try:
            check_wiring(wiring, execution)
        except SweepError as exc:
            raise ValueError(f"{_NAME}: {exc}") from None
        if sampler_noise_differs(wiring, execution, len(variants)):
            logger.warning(
                "%s %s: batched without the noise output: the sampler's own noise differs per batch item",
                _NAME,
                cls.hidden.unique_id,
            )
        device = _device()
        area = latent_area(latent["samples"]) if latent is not None else None
        chunks = build_chunks(variants, plan_chunks(len(variants), execution, device, area, wiring.can_batch()))
        conditioning, negative_conditioning = _encoded(clip, chunks, negative or "")
        latents = _latents(latent, chunks.sizes)
        noises = [SweepNoise(seed) if seed is not None else None for _ in chunks.sizes]
        run_values.record(  # so Seed Details knows each image's variant (core/run_values)
            cls.hidden.prompt, cls.hidden.unique_id, output_ids(cls), run_record(chunks, negative or "", seed)
        )
        summary = {
            "execution": execution,
            "chunks": chunks.sizes,
            "device": device,
            "latent_area": area,
            "seed": seed,
            "count": len(variants),
            "node": str(cls.hidden.unique_id),
        }
        logger.debug(
            "%s %s: %d variants in chunks %s (%s)", _NAME, cls.hidden.unique_id, len(variants), chunks.sizes, device
        )
        return io.NodeOutput(
            conditioning,
            negative_conditioning,
            latents,
            noises,
            chunks.prompts(),
            chunks.chunk_labels(),
            [v.label for v in variants],
            ui={VARIANTS_KEY: variant_records(variants, chunks.sizes), SWEEP_KEY: [summary]},
        )

    @classmethod
    def _variants(
        cls,
        template: str,
        mode: str,
        group: int,
        max_variants: int,
        execution: str,
        negative: str,
        clip: Any,
        latent: Any,
    ) -> list[Variant]:
        """The template's variants, every input checked first (ValueError naming the input)."""
        try:
            check_settings(mode=mode, group=group, max_variants=max_variants, execution=execution)
            for name, value in (("mode", mode), ("execution", execution), ("group", group)):
                if value is None:
                    raise SweepError(name, "no value")
            check_negative(negative)
            variants = expand_inputs(template, mode, group, max_variants)
            if clip is not None:
                check_clip("clip", clip)
            if latent is not None:
                check_latent("latent", latent)
        except ValueError as exc:
            raise ValueError(f"{_NAME}: {exc}") from None
        return variants
