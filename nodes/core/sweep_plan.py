"""Prompt Variant Sweep's planning, pure Python (no torch, no ComfyUI): what the node will do.

- Input checks that name the input at fault (:func:`expand_inputs`, :class:`SweepError`).
- Wiring checks: which outputs the graph reads against the inputs given (:class:`Wiring`,
  :func:`check_wiring`).
- The chunk planner: how many variants go into each sampler pass for ``list``, ``batched`` and
  ``auto`` (:func:`plan_chunks`, with the calibrated :data:`DEFAULT_POLICY`), and each chunk's
  prompts and labels (:class:`Chunks`) with the run-time record Seed Details reads (:func:`run_record`).

The torch side (conditioning, latents and noise for a chunk) is :mod:`.sweep_batch`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .variants import MAX_TEMPLATE_LENGTH, MODES, Template, Variant, VariantError, parse, too_many_variants

EXECUTIONS = ("list", "batched", "auto")
DEFAULT_EXECUTION = "auto"
MAX_VARIANTS_LIMIT = 1024
"""Largest ``max_variants`` accepted (every variant is one CLIP encoding and one image)."""
MAX_GROUP = 1023
"""Largest ``group`` index accepted."""
CPU = "cpu"
ACCELERATOR = "accelerator"


class SweepError(ValueError):
    """A problem with one input of the node; ``input`` names it and the message starts with it."""

    def __init__(self, input_name: str, message: str) -> None:
        self.input = input_name
        self.reason = message
        super().__init__(f"{input_name}: {message}")


# -- input checks ------------------------------------------------------------------------------


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_settings(mode: Any = None, group: Any = None, max_variants: Any = None, execution: Any = None) -> None:
    """Raise SweepError for a combo value outside its choices or a number outside its range.

    None means "not known yet" (a linked input at validation time) and passes.
    """
    if mode is not None and mode not in MODES:
        raise SweepError("mode", f"{mode!r} is not one of {', '.join(MODES)}")
    if execution is not None and execution not in EXECUTIONS:
        raise SweepError("execution", f"{execution!r} is not one of {', '.join(EXECUTIONS)}")
    if group is not None and not (_whole(group) and 0 <= group <= MAX_GROUP):
        raise SweepError("group", f"{group!r} is not a whole number from 0 to {MAX_GROUP}")
    if max_variants is not None and not (_whole(max_variants) and 1 <= max_variants <= MAX_VARIANTS_LIMIT):
        raise SweepError("max_variants", f"{max_variants!r} is not a whole number from 1 to {MAX_VARIANTS_LIMIT}")


def check_negative(negative: Any) -> None:
    """Raise SweepError naming ``negative`` when it is not text or longer than a template may be.

    It is encoded for every chunk; a megabyte of text would tie up CLIP and the sampler for minutes.
    """
    if negative is None:
        return
    if not isinstance(negative, str):
        raise SweepError("negative", f"must be text, got {type(negative).__name__}")
    if len(negative) > MAX_TEMPLATE_LENGTH:
        raise SweepError("negative", f"{len(negative):,} characters long, over the limit of {MAX_TEMPLATE_LENGTH:,}")


def check_template(template: Any, mode: str, group: int, max_variants: int) -> Template:
    """The parsed template, checked by arithmetic only (parse + count, nothing enumerated).

    Grammar problems name ``template`` (with the position), an out-of-range group names ``group``
    and a template with more variants than allowed names ``max_variants``. Cheap enough for
    validation, which runs on the server's event loop: expansion waits for ``execute``.
    """
    check_settings(mode=mode, group=group, max_variants=max_variants)
    if not isinstance(template, str):
        raise SweepError("template", f"must be text, got {type(template).__name__}")
    try:
        parsed = parse(template)
    except VariantError as exc:
        raise SweepError("template", str(exc)) from None
    try:
        total = parsed.count(mode, group)
    except VariantError as exc:
        # Unequal zip lengths point into the template; a bad group index has no position.
        raise SweepError("template" if exc.position is not None else "group", str(exc)) from None
    if total > max_variants:
        raise SweepError("max_variants", too_many_variants(total, mode, max_variants))
    return parsed


def expand_inputs(template: Any, mode: str, group: int, max_variants: int) -> list[Variant]:
    """The variants of ``template``; every problem is a SweepError naming the input at fault."""
    return check_template(template, mode, group, max_variants).expand(mode, group, max_variants)


# -- planning ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AutoPolicy:
    """When ``auto`` batches. Areas are a latent's height × width (64 for an 8×8 latent = 64² px SD1.5).

    CPU figures for 4 variants at 4 steps on the demo checkpoint (sampling and VAE decode timed in
    process, best of 5): one batch of 4 is 1.56× as fast as 4 passes at 64² px and 1.16× at 96²;
    at 128²–160² it is about even and chunks of two are 1.07× as fast; from 192² on batching loses
    (0.94× at 192²; benchmarks/bench_variant_sweep.py: 0.85× at 256², 0.56× at 512²). So: one batch
    up to ``cpu_batch_max_area``, chunks of ``cpu_chunk`` up to ``cpu_chunk_max_area``, one variant
    per pass above. Real SD1.5 UNets have other proportions; the thresholds are a starting point.

    On an accelerator (not calibrated here: no GPU was available) everything is batched, in balanced
    chunks of at most ``accelerator_max_batch`` items and ``accelerator_max_pixels`` latent pixels
    per pass, to stay within memory.
    """

    cpu_batch_max_area: int = 12 * 12
    cpu_chunk_max_area: int = 20 * 20
    cpu_chunk: int = 2
    accelerator_max_batch: int = 16
    accelerator_max_pixels: int = 16 * 64 * 64


DEFAULT_POLICY = AutoPolicy()


def device_kind(device_type: str) -> str:
    """``cpu`` for a torch device type of ``cpu``, else ``accelerator`` (cuda, mps, xpu, …)."""
    return CPU if device_type == "cpu" else ACCELERATOR


def split_balanced(count: int, max_size: int) -> list[int]:
    """``count`` items in the fewest chunks of at most ``max_size``, sizes differing by at most one."""
    if count < 1:
        return []
    max_size = max(1, max_size)
    chunks = math.ceil(count / max_size)
    base, extra = divmod(count, chunks)
    return [base + 1 if i < extra else base for i in range(chunks)]


def auto_chunk_size(count: int, device: str, latent_area: int, policy: AutoPolicy = DEFAULT_POLICY) -> int:
    """The largest chunk ``auto`` uses for ``count`` variants on ``device`` at ``latent_area``."""
    if device == CPU:
        if latent_area <= policy.cpu_batch_max_area:
            return count
        if latent_area <= policy.cpu_chunk_max_area:
            return min(count, policy.cpu_chunk)
        return 1
    by_memory = max(1, policy.accelerator_max_pixels // max(1, latent_area))
    return min(count, policy.accelerator_max_batch, by_memory)


def plan_chunks(
    count: int,
    execution: str,
    device: str = CPU,
    latent_area: int | None = None,
    can_batch: bool = True,
    policy: AutoPolicy = DEFAULT_POLICY,
) -> list[int]:
    """Chunk sizes (variants per sampler pass, in order) summing to ``count``.

    ``list``: one variant per pass. ``batched``: all in one pass. ``auto``: one variant per pass when
    the graph cannot render a batch with the sweep's noise (``can_batch`` False or no latent), else
    what :func:`auto_chunk_size` allows, split into balanced chunks.
    """
    if execution not in EXECUTIONS:
        raise SweepError("execution", f"{execution!r} is not one of {', '.join(EXECUTIONS)}")
    if count < 1:
        return []
    if execution == "list":
        return [1] * count
    if execution == "batched":
        return [count]
    if not can_batch or latent_area is None:
        return [1] * count
    return split_balanced(count, auto_chunk_size(count, device, latent_area, policy))


def chunk_ranges(sizes: Sequence[int]) -> list[range]:
    """The variant indices of each chunk: ``[2, 1]`` gives ``[range(0, 2), range(2, 3)]``."""
    ranges, start = [], 0
    for size in sizes:
        ranges.append(range(start, start + size))
        start += size
    return ranges


# -- wiring ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Wiring:
    """What the graph connects: the output ids something reads (None: not known, taken as all),
    and which of the optional inputs are given."""

    outputs: frozenset[str] | None
    clip: bool
    seed: bool
    latent: bool

    def reads(self, *outputs: str) -> bool:
        """True when any of ``outputs`` is read (or the wiring is not known)."""
        return self.outputs is None or any(o in self.outputs for o in outputs)

    def can_batch(self) -> bool:
        """A chunk of several variants renders with the sweep's noise: latent and noise read, both given."""
        known_read = self.outputs is None or {"latent_out", "noise"} <= self.outputs
        return self.latent and self.seed and known_read


def check_wiring(wiring: Wiring, execution: str) -> None:
    """SweepError naming the input an output read by the graph needs (or ``batched`` needs)."""
    if not wiring.latent and wiring.reads("latent_out"):
        raise SweepError("latent", "the latent output is wired but the latent input is not")
    if not wiring.seed and wiring.reads("noise"):
        raise SweepError("seed", "the noise output is wired but the seed input is not (wire Seed Source)")
    if not wiring.clip and wiring.reads("conditioning", "negative_conditioning"):
        raise SweepError("clip", "the conditioning outputs are wired but the clip input is not")
    if execution == "batched" and not wiring.latent:
        raise SweepError(
            "latent",
            "execution 'batched' needs the latent input (a batch-1 latent), so the latent batch matches the prompts",
        )


def sampler_noise_differs(wiring: Wiring, execution: str, count: int) -> bool:
    """True when a ``batched`` chunk is known to be sampled without the sweep's noise (the sampler's
    own noise then differs per batch item): worth a warning, not an error."""
    return execution == "batched" and wiring.outputs is not None and "noise" not in wiring.outputs and count > 1


# -- outputs and the ui record -----------------------------------------------------------------


def join_chunk(values: Iterable[str]) -> str:
    """A chunk's prompts or labels as one STRING: one per line."""
    return "\n".join(values)


def variant_records(variants: Sequence[Variant], sizes: Sequence[int]) -> list[dict[str, Any]]:
    """One record per variant: ``index``, ``prompt``, ``label``, ``chunk`` and ``item`` (its place in the chunk)."""
    records = []
    for chunk, indices in enumerate(chunk_ranges(sizes)):
        for item, index in enumerate(indices):
            v = variants[index]
            records.append({"index": index, "prompt": v.text, "label": v.label, "chunk": chunk, "item": item})
    return records


# -- chunks and the run-time record ------------------------------------------------------------


@dataclass(frozen=True)
class Chunks:
    """The variants cut into chunks (one sampler pass each): per chunk its prompts and labels."""

    sizes: list[int]
    texts: list[list[str]]
    labels: list[list[str]]

    def prompts(self) -> list[str]:
        """The ``prompt`` output: each chunk's prompts, one per line."""
        return [join_chunk(t) for t in self.texts]

    def chunk_labels(self) -> list[str]:
        """The ``label`` output: each chunk's labels, one per line."""
        return [join_chunk(t) for t in self.labels]


def build_chunks(variants: Sequence[Variant], sizes: Sequence[int]) -> Chunks:
    """The chunks of ``variants`` for the planned ``sizes``."""
    ranges = chunk_ranges(sizes)
    return Chunks(
        list(sizes),
        [[variants[i].text for i in r] for r in ranges],
        [[variants[i].label for i in r] for r in ranges],
    )


def run_record(chunks: Chunks, negative: str, seed: int | None) -> dict[str, dict[str, list[Any]]]:
    """What the node records by output id for Seed Details (``run_values``): each image's prompt
    text, negative, label and seed, per chunk and batch item."""
    return {
        "text": {"conditioning": chunks.texts, "negative_conditioning": [[negative] * n for n in chunks.sizes]},
        "label": {"*": chunks.labels},
        "value": {"noise": [seed] * len(chunks.sizes), "prompt": chunks.texts, "label": chunks.labels},
    }
