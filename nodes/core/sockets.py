"""Checks for inputs that only a link can fill (MODEL, CLIP, LATENT, IMAGE): pure Python, duck-typed.

ComfyUI passes an API prompt's constant for such an input on to the node unchecked (only links are
type-checked), and ``{"__value__": [...]}`` even smuggles a link past the type check. These checks
turn what would be an ``AttributeError`` deep in a node into an error naming the input.

The pack's one convention for input checks, here and in every core module: ``check_*`` returns
nothing and raises ``ValueError`` whose message starts with the input's name; ``validate_inputs``
turns the first one into its message (``except ValueError as exc: return str(exc)``).
"""

from __future__ import annotations

from typing import Any


def _kind(value: Any) -> str:
    """A short description of a value (no repr: it may be a megabyte of text)."""
    return "null" if value is None else type(value).__name__


def check_linked(name: str, value: Any, type_name: str) -> None:
    """For ``validate_inputs``: ValueError naming ``name`` when it holds a constant, not a link.

    At validation time a linked input arrives as None (a list of None for an input-list node);
    anything else was written into the prompt as a value.
    """
    values = value if isinstance(value, list | tuple) else [value]
    for item in values:
        if item is not None:
            raise ValueError(f"{name}: must be linked to a {type_name} output, got a constant ({_kind(item)})")


def check_clip(name: str, clip: Any) -> None:
    """ValueError naming ``name`` unless ``clip`` is a loaded CLIP (ComfyUI's ``comfy.sd.CLIP``)."""
    if not all(callable(getattr(clip, m, None)) for m in ("tokenize", "encode_from_tokens_scheduled")):
        raise ValueError(f"{name}: expected a CLIP, got {_kind(clip)}")


def check_model(name: str, model: Any) -> None:
    """ValueError naming ``name`` unless ``model`` is a loaded MODEL (ComfyUI's ``ModelPatcher``)."""
    if not callable(getattr(model, "get_model_object", None)):
        raise ValueError(f"{name}: expected a MODEL, got {_kind(model)}")


def check_latent(name: str, latent: Any) -> None:
    """ValueError naming ``name`` unless ``latent`` is a LATENT: a dict with a ``samples`` tensor."""
    samples = latent.get("samples") if isinstance(latent, dict) else None
    if len(getattr(samples, "shape", ())) < 3:
        raise ValueError(f"{name}: expected a LATENT (a dict with a samples tensor), got {_kind(latent)}")


def check_images(name: str, images: Any) -> None:
    """ValueError naming ``name`` unless ``images`` is a list of IMAGE batches (B, H, W, C tensors)."""
    for batch in images if isinstance(images, list) else [images]:
        if len(getattr(batch, "shape", ())) != 4:
            raise ValueError(f"{name}: expected IMAGE batches, got {_kind(batch)}")
