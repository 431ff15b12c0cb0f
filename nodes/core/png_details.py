"""Generation details of one image in a PNG: the text chunks to write, and reading them back.

Pure Python (stdlib only: no ComfyUI, no torch, no pixel decoding). The details (see ``details_fields``)
are written twice:

- ``DETAILS_CHUNK`` (``seed_number_details``): our own JSON, exact (``details_json``);
- ``parameters``: the A1111 text every image site and tool reads (``a1111_infotext``);
- ``REMAKE_CHUNK`` (``seed_number_remake``), when given: the API prompt that makes this image alone
  (``remake``).

``read_png_details`` reads a PNG's texts (``png_text``, bounded, pixels never decoded) and the details
from, in this order, our JSON, ComfyUI's ``prompt`` chunk (the API graph, ``prompt_details``) or A1111
``parameters``: the first source that yields anything wins.

Error policy: readers never raise on bad *content*. Wrong-typed or out-of-range fields are dropped
and described in a ``problems`` list; a file that is not a PNG reads as source ``"none"`` with the
problem ``"not a PNG file (…)"``. Only ``DetailsError`` is raised: for a path that cannot be read
(missing, a directory, a FIFO), an argument of the wrong type, or — from the JSON parsers called
directly — text that is not a JSON object at all. Every read is bounded: ``max_bytes`` of file,
``max_text`` per text (zlib output is capped, so decompression bombs stop there), ``MAX_CHUNKS``
chunks, JSON nesting by Python's recursion limit, graph walks by ``MAX_LINK_DEPTH`` and visited sets.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .a1111_infotext import a1111_parameters, parse_a1111_parameters
from .details_fields import MAX_DEFAULT_TEXT, DetailsError
from .details_json import details_json, parse_details_json
from .png_text import DETAILS_CHUNK, MAX_DEFAULT_BYTES, PARAMETERS_CHUNK, PROMPT_CHUNK, read_png_text
from .prompt_details import details_from_comfy_prompt
from .remake import REMAKE_CHUNK, remake_json

__all__ = ["SOURCES", "ReadResult", "png_text_chunks", "read_png_details"]

SOURCE_SEED_NUMBER = "seed_number"
SOURCE_COMFY_PROMPT = "comfyui prompt"
SOURCE_A1111 = "a1111 parameters"
SOURCE_NONE = "none"
SOURCES = (SOURCE_SEED_NUMBER, SOURCE_COMFY_PROMPT, SOURCE_A1111, SOURCE_NONE)
"""``ReadResult.source`` values, in the order ``read_png_details`` tries them."""


@dataclass
class ReadResult:
    """What ``read_png_details`` found: the details, where they came from, and what was wrong."""

    details: dict[str, Any]
    source: str
    """One of ``SOURCES``: "seed_number", "comfyui prompt", "a1111 parameters" or "none"."""
    problems: list[str] = field(default_factory=list)


def read_png_details(
    path_or_bytes: str | os.PathLike[str] | bytes | bytearray | memoryview,
    *,
    max_bytes: int = MAX_DEFAULT_BYTES,
    max_text: int = MAX_DEFAULT_TEXT,
) -> ReadResult:
    """The generation details stored in a PNG, from the best source it has.

    Sources, first that yields any field wins: our ``seed_number_details`` JSON, ComfyUI's ``prompt``
    graph, A1111 ``parameters``. A source that is present but unreadable is noted in ``problems`` and the
    next is tried. Non-PNG input (JPEG, WebP, GIF, garbage, empty) gives source "none" and the problem
    "not a PNG file (…)". Never raises on content; raises ``DetailsError`` only for an unreadable path or
    a wrong argument type. Bounded in time and memory: see ``read_png_text``.
    """
    texts, problems = read_png_text(path_or_bytes, max_bytes=max_bytes, max_text=max_text)
    if texts is None:
        return ReadResult({}, SOURCE_NONE, problems)
    readers: tuple[tuple[str, str, Callable[..., dict[str, Any]], dict[str, int]], ...] = (
        (DETAILS_CHUNK, SOURCE_SEED_NUMBER, parse_details_json, {"max_text": max_text}),
        (PROMPT_CHUNK, SOURCE_COMFY_PROMPT, details_from_comfy_prompt, {"max_text": max_text}),
        (PARAMETERS_CHUNK, SOURCE_A1111, parse_a1111_parameters, {}),
    )
    for key, source, reader, options in readers:
        text = texts.get(key)
        if text is None:
            continue
        try:
            details = reader(text, problems, **options)
        except DetailsError as error:
            problems.append(f"{key}: {error}")
            continue
        except RecursionError:
            problems.append(f"{key}: nested too deeply")
            continue
        if details:
            return ReadResult(details, source, problems)
        problems.append(f"{key}: no generation details in it")
    if not texts:
        problems.append("no generation details: no seed_number_details, prompt or parameters text")
    return ReadResult({}, SOURCE_NONE, problems)


def png_text_chunks(details: Mapping[str, Any], remake: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The text chunks a saver adds for ``details``: ``parameters`` (A1111) and ``DETAILS_CHUNK`` (our JSON),
    and with ``remake`` (the image's re-make API prompt, ``remake.remake_prompt``) ``REMAKE_CHUNK``.

    With Pillow: ``for k, v in png_text_chunks(d).items(): pnginfo.add_text(k, v)``; Pillow writes an iTXt
    chunk for a value that is not Latin-1 (as A1111 does) and tEXt otherwise; our JSON is ASCII. A re-make
    prompt longer than a reader reads (``MAX_DEFAULT_TEXT``) is left out.
    """
    chunks = {PARAMETERS_CHUNK: a1111_parameters(details), DETAILS_CHUNK: details_json(details)}
    remake_text = remake_json(remake) if remake is not None else None
    if remake_text is not None:
        chunks[REMAKE_CHUNK] = remake_text
    return chunks
