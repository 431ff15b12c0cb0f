"""Prompt Variant Sweep's pure helpers (torch and the standard library only, no ComfyUI import).

- Input checks that name the input at fault (:func:`expand_inputs`, :class:`SweepError`).
- The chunk planner: how many variants go into each sampler pass for ``list``, ``batched`` and
  ``auto`` (:func:`plan_chunks`, with the calibrated :data:`DEFAULT_POLICY`).
- Batching helpers: conditioning concatenated along the batch the way ComfyUI's
  ``CONDCrossAttn.concat`` does it (shorter cross-attention sequences tiled to the least common
  multiple length), a latent repeated to a chunk's size, and :class:`SweepNoise`, a NOISE object
  whose every batch item is the noise a stock KSampler draws for a batch-1 latent with the seed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from .noise import shared_noise
from .variants import MAX_TEMPLATE_LENGTH, MODES, Template, Variant, VariantError, parse, too_many_variants

EXECUTIONS = ("list", "batched", "auto")
DEFAULT_EXECUTION = "auto"
MAX_VARIANTS_LIMIT = 1024
"""Largest ``max_variants`` accepted (every variant is one CLIP encoding and one image)."""
MAX_GROUP = 1023
"""Largest ``group`` index accepted."""
MAX_TILE_FACTOR = 8
"""Longest tiled cross-attention sequence, as a multiple of the longest one in a chunk."""

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


def latent_area(samples: torch.Tensor) -> int:
    """Height × width of a latent tensor (its last two dimensions)."""
    return int(samples.shape[-1]) * int(samples.shape[-2])


# -- conditioning ------------------------------------------------------------------------------


def tile_cross_attention(tensors: Sequence[torch.Tensor], max_factor: int = MAX_TILE_FACTOR) -> torch.Tensor:
    """``tensors`` ([1, L_i, C] each) concatenated along the batch, as ``CONDCrossAttn.concat`` does.

    Shorter sequences are repeated along dim 1 up to the least common multiple of the lengths (SD1.5
    prompts over 77 tokens are 154, 231, … long); repeating a whole sequence leaves attention
    unchanged. Raises ValueError when the tiled length would exceed ``max_factor`` × the longest.
    """
    if not tensors:
        raise ValueError("nothing to concatenate")
    first = tensors[0]
    lengths = [int(t.shape[1]) for t in tensors]
    for t in tensors:
        if t.dim() != first.dim() or t.shape[2:] != first.shape[2:]:
            raise ValueError(
                f"encodings of different widths cannot share a batch: {list(first.shape)} vs {list(t.shape)}"
            )
    target = math.lcm(*lengths)
    if target > max_factor * max(lengths):
        raise ValueError(
            f"prompt encodings of lengths {sorted(set(lengths))} would need tiling to {target} tokens; "
            "shorten the long prompts or use execution 'list'"
        )
    out = [t if t.shape[1] == target else t.repeat(1, target // t.shape[1], *([1] * (t.dim() - 2))) for t in tensors]
    return torch.cat(out, dim=0)


def _merge_extras(dicts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Per-prompt extras (``pooled_output`` …) merged: batch-1 tensors concatenated, equal values kept."""
    keys = list(dicts[0])
    if any(list(d) != keys for d in dicts[1:]):
        raise ValueError("the prompts' encodings carry different extras and cannot share a batch")
    merged: dict[str, Any] = {}
    for key in keys:
        values = [d[key] for d in dicts]
        if all(isinstance(v, torch.Tensor) for v in values):
            shapes = {tuple(v.shape) for v in values}
            if len(shapes) == 1 and values[0].dim() > 0 and values[0].shape[0] == 1:
                merged[key] = torch.cat(values, dim=0)
                continue
            if all(v is values[0] or torch.equal(v, values[0]) for v in values):
                merged[key] = values[0]
                continue
            raise ValueError(f"the prompts' {key!r} tensors have shapes {sorted(shapes)} and cannot share a batch")
        if all(v is values[0] or v == values[0] for v in values):
            merged[key] = values[0]
            continue
        raise ValueError(f"the prompts' {key!r} values differ and cannot share a batch")
    return merged


def concat_conditioning(conditionings: Sequence[list]) -> list:
    """One CONDITIONING whose batch item k is ``conditionings[k]`` (each a batch-1 CONDITIONING).

    A CONDITIONING is a list of ``[cond, extras]`` entries (usually one; several with scheduled
    hooks); entry i of the result merges entry i of every prompt.
    """
    if not conditionings:
        raise ValueError("nothing to concatenate")
    if len(conditionings) == 1:
        return [[c, dict(extras)] for c, extras in conditionings[0]]
    entries = len(conditionings[0])
    if any(len(c) != entries for c in conditionings):
        raise ValueError("the prompts' encodings have different numbers of entries and cannot share a batch")
    out = []
    for i in range(entries):
        conds = [c[i][0] for c in conditionings]
        for cond in conds:
            if cond.shape[0] != 1:
                raise ValueError(f"expected batch-1 encodings, got a batch of {cond.shape[0]}")
        out.append([tile_cross_attention(conds), _merge_extras([c[i][1] for c in conditionings])])
    return out


# -- latent and noise --------------------------------------------------------------------------


def repeat_latent(latent: Mapping[str, Any], size: int) -> dict[str, Any]:
    """A batch-1 LATENT repeated to ``size`` items (``batch_index`` repeated too; masks are broadcast by ComfyUI)."""
    samples = latent["samples"]
    if samples.shape[0] != 1:
        raise ValueError(
            f"got a batch of {samples.shape[0]}; give a batch-1 latent (e.g. Empty Latent Image with batch_size 1): "
            "the sweep makes the batch itself"
        )
    out = dict(latent)
    out["samples"] = samples.repeat(size, *([1] * (samples.dim() - 1)))
    if latent.get("batch_index") is not None:
        out["batch_index"] = list(latent["batch_index"]) * size
    return out


def same_noise(samples: torch.Tensor, seed: int, batch_index: Sequence[int] | None = None) -> torch.Tensor:
    """Noise for ``samples`` whose every batch item is the batch-1 KSampler noise of ``seed``.

    Item 0's ``batch_index`` (when given) picks the draw, as ``comfy.sample.prepare_noise`` does for a
    batch-1 latent. Drawn from a private CPU generator; the global RNG is untouched.
    """
    first = None if not batch_index else [int(batch_index[0])]
    one = shared_noise(samples[:1], seed, first)
    return one.repeat(samples.shape[0], *([1] * (samples.dim() - 1)))


class SweepNoise:
    """NOISE for SamplerCustomAdvanced: every item of the batch starts from the same noise."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def generate_noise(self, input_latent: dict[str, Any]) -> torch.Tensor:
        return same_noise(input_latent["samples"], self.seed, input_latent.get("batch_index"))

    def __repr__(self) -> str:
        return f"SweepNoise(seed={self.seed})"


# -- outputs and the ui record -----------------------------------------------------------------


def join_chunk(values: Iterable[str]) -> str:
    """A chunk's prompts or labels as one STRING: one per line."""
    return "\n".join(values)


def linked_outputs(prompt: Any, node_id: Any) -> set[int] | None:
    """Output slots of node ``node_id`` that some node of the API ``prompt`` reads; None when unknown."""
    if not isinstance(prompt, dict) or node_id is None:
        return None
    found: set[int] = set()
    for node in prompt.values():
        inputs = node.get("inputs", {}) if isinstance(node, dict) else {}
        for value in inputs.values() if isinstance(inputs, dict) else ():
            if isinstance(value, list) and len(value) == 2 and str(value[0]) == str(node_id) and _whole(value[1]):
                found.add(value[1])
    return found


def variant_records(variants: Sequence[Variant], sizes: Sequence[int]) -> list[dict[str, Any]]:
    """One record per variant: ``index``, ``prompt``, ``label``, ``chunk`` and ``item`` (its place in the chunk)."""
    records = []
    for chunk, indices in enumerate(chunk_ranges(sizes)):
        for item, index in enumerate(indices):
            v = variants[index]
            records.append({"index": index, "prompt": v.text, "label": v.label, "chunk": chunk, "item": item})
    return records
