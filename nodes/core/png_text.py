"""The bounded PNG text reader: the tEXt/zTXt/iTXt texts of a PNG, without decoding pixels.

Pure Python (stdlib only: ``struct`` and ``zlib``). ``read_png_text`` walks a PNG's chunks from a path or
a buffer and returns the texts of the keys asked for (by default the three the details live in:
``DETAILS_CHUNK``, ``PROMPT_CHUNK``, ``PARAMETERS_CHUNK``). Never raises on bad content: damaged chunks,
bad CRCs, truncation and non-PNG input are described in a ``problems`` list. Every read is bounded:
``max_bytes`` of file, ``max_text`` per text (zlib output is capped, so decompression bombs stop there),
``MAX_CHUNKS`` chunks. Raises ``DetailsError`` only for a path that cannot be read (missing, a directory,
a FIFO) or an argument of the wrong type.
"""

from __future__ import annotations

import os
import stat
import struct
import zlib
from typing import Any, BinaryIO

from .details_fields import MAX_DEFAULT_TEXT, DetailsError

__all__ = [
    "DETAILS_CHUNK",
    "MAX_CHUNKS",
    "MAX_DEFAULT_BYTES",
    "PARAMETERS_CHUNK",
    "PNG_SIGNATURE",
    "PROMPT_CHUNK",
    "read_png_text",
]

DETAILS_CHUNK = "seed_number_details"
"""PNG text key of our JSON (namespaced: ComfyUI's own ``seed_number`` chunk holds the resolved seeds)."""
PARAMETERS_CHUNK = "parameters"
"""PNG text key of the A1111 ``parameters`` text."""
PROMPT_CHUNK = "prompt"
"""PNG text key of ComfyUI's API-format prompt."""

MAX_CHUNKS = 10_000
"""Chunks walked per PNG before giving up (text chunks after that are not read)."""
MAX_DEFAULT_BYTES = 64 * 1024 * 1024

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_TEXT_CHUNKS = (b"tEXt", b"zTXt", b"iTXt")


class _Source:
    """Random access to the bytes of a file or a buffer, clipped to ``limit`` bytes."""

    def __init__(self, data: memoryview | None, handle: BinaryIO | None, size: int, limit: int) -> None:
        self._data = data
        self._handle = handle
        self.size = min(size, limit)
        self.clipped = size > limit
        """True when the file is longer than ``max_bytes``: only its first ``max_bytes`` are read."""

    def read(self, offset: int, count: int) -> bytes:
        if offset >= self.size or count <= 0:
            return b""
        count = min(count, self.size - offset)
        if self._data is not None:
            return bytes(self._data[offset : offset + count])
        assert self._handle is not None
        self._handle.seek(offset)
        return self._handle.read(count)


def _guess_format(head: bytes) -> str:
    if not head:
        return "empty file"
    if PNG_SIGNATURE.startswith(head) or head.startswith(PNG_SIGNATURE[:4]):
        return "truncated or damaged PNG signature"
    for magic, name in ((b"\xff\xd8\xff", "JPEG"), (b"GIF87a", "GIF"), (b"GIF89a", "GIF"), (b"BM", "BMP")):
        if head.startswith(magic):
            return name
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP"
    return "unknown format"


def _inflate(data: bytes, max_text: int, where: str, problems: list[str]) -> bytes | None:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, max_text + 1)
    except zlib.error as error:
        problems.append(f"{where}: compressed text is damaged ({error}); skipped")
        return None
    if len(out) > max_text:
        problems.append(f"{where}: decompresses to more than max_text ({max_text} bytes); skipped")
        return None
    if not inflater.eof:
        problems.append(f"{where}: compressed text is truncated; skipped")
        return None
    return out


def _decode_text(raw: bytes, utf8_only: bool, where: str, problems: list[str]) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        if utf8_only:
            problems.append(f"{where}: text is not valid UTF-8; undecodable bytes replaced")
            return raw.decode("utf-8", errors="replace")
        return raw.decode("latin-1")


def _text_chunk(ctype: bytes, data: bytes, keyword: str, max_text: int, problems: list[str]) -> str | None:
    where = f"{ctype.decode()} chunk {keyword!r}"
    body = data[len(keyword.encode("latin-1")) + 1 :]
    if ctype == b"tEXt":
        return _decode_text(body, False, where, problems)
    if ctype == b"zTXt":
        if not body or body[0] != 0:
            problems.append(f"{where}: unknown compression method; skipped")
            return None
        raw = _inflate(body[1:], max_text, where, problems)
        return None if raw is None else _decode_text(raw, False, where, problems)
    if len(body) < 2:
        problems.append(f"{where}: too short; skipped")
        return None
    compressed, method, rest = body[0], body[1], body[2:]
    language_end = rest.find(b"\0")
    translated_end = rest.find(b"\0", language_end + 1) if language_end != -1 else -1
    if translated_end == -1:
        problems.append(f"{where}: malformed iTXt header; skipped")
        return None
    raw = rest[translated_end + 1 :]
    if compressed:
        if method != 0:
            problems.append(f"{where}: unknown compression method; skipped")
            return None
        raw = _inflate(raw, max_text, where, problems)
        if raw is None:
            return None
    return _decode_text(raw, True, where, problems)


def _walk_png(source: _Source, wanted: frozenset[str], max_text: int, problems: list[str]) -> dict[str, str] | None:
    """Text of the ``wanted`` keys (first occurrence each), or None when this is not a PNG at all."""
    head = source.read(0, 16)
    if not head.startswith(PNG_SIGNATURE):
        problems.append(f"not a PNG file ({_guess_format(head)})")
        return None
    texts: dict[str, str] = {}
    duplicates: set[str] = set()
    offset, chunks = len(PNG_SIGNATURE), 0
    while True:
        header = source.read(offset, 8)
        if len(header) < 8:
            if source.clipped:
                problems.append(f"stopped after max_bytes ({source.size} bytes)")
            else:
                problems.append(f"truncated PNG: no IEND chunk (the file ends at offset {source.size})")
            break
        if chunks >= MAX_CHUNKS:
            problems.append(f"more than {MAX_CHUNKS} chunks: stopped reading at offset {offset}")
            break
        chunks += 1
        length, ctype = struct.unpack(">I4s", header)
        if length > 0x7FFFFFFF or not ctype.isalpha():
            problems.append(f"damaged chunk header at offset {offset}: stopped reading")
            break
        end = offset + 12 + length
        if end > source.size:
            if source.clipped:
                problems.append(f"stopped after max_bytes ({source.size} bytes)")
            else:
                problems.append(f"truncated PNG: {ctype!r} chunk at offset {offset} runs past the end of the file")
            break
        if ctype == b"IEND":
            break
        if ctype in _TEXT_CHUNKS:
            _read_text_chunk(source, offset, length, ctype, wanted, texts, duplicates, max_text, problems)
        offset = end
    return texts


def _read_text_chunk(
    source: _Source,
    offset: int,
    length: int,
    ctype: bytes,
    wanted: frozenset[str],
    texts: dict[str, str],
    duplicates: set[str],
    max_text: int,
    problems: list[str],
) -> None:
    start = source.read(offset + 8, min(length, 80))
    nul = start.find(b"\0")
    if nul < 1:
        return
    keyword = start[:nul].decode("latin-1")
    if keyword not in wanted:
        return
    where = f"{ctype.decode()} chunk {keyword!r} at offset {offset}"
    if keyword in texts:
        if keyword not in duplicates:
            duplicates.add(keyword)
            problems.append(f"{where}: another {keyword!r} chunk; only the first is read")
        return
    if length > max_text + 256:
        problems.append(f"{where}: {length} bytes, more than max_text ({max_text}); skipped")
        return
    data = source.read(offset + 8, length + 4)
    if len(data) != length + 4:
        problems.append(f"{where}: the file changed while reading; skipped")
        return
    crc = struct.unpack(">I", data[length:])[0]
    data = data[:length]
    if zlib.crc32(data, zlib.crc32(ctype)) != crc:
        problems.append(f"{where}: bad CRC; skipped")
        return
    text = _text_chunk(ctype, data, keyword, max_text, problems)
    if text is not None:
        if len(text) > max_text:
            problems.append(f"{where}: more than max_text ({max_text}) characters; skipped")
        else:
            texts[keyword] = text


def _open_source(path_or_bytes: Any, max_bytes: int) -> tuple[_Source, BinaryIO | None]:
    if isinstance(path_or_bytes, bytes | bytearray | memoryview):
        try:
            data = memoryview(path_or_bytes).cast("B")
        except TypeError:  # not C-contiguous: copy it
            data = memoryview(memoryview(path_or_bytes).tobytes())
        return _Source(data, None, len(data), max_bytes), None
    if not isinstance(path_or_bytes, str | os.PathLike):
        raise DetailsError(f"expected a path or bytes, not {type(path_or_bytes).__name__}")
    path = os.fspath(path_or_bytes)
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise DetailsError(f"{path!r} is not a regular file")
        handle = open(path, "rb")  # noqa: SIM115 (closed by the caller)
    except (OSError, ValueError) as error:  # ValueError: a NUL in the path
        raise DetailsError(f"cannot read {path!r}: {getattr(error, 'strerror', None) or error}") from error
    return _Source(None, handle, os.fstat(handle.fileno()).st_size, max_bytes), handle


def read_png_text(
    path_or_bytes: str | os.PathLike[str] | bytes | bytearray | memoryview,
    keys: frozenset[str] | set[str] = frozenset({DETAILS_CHUNK, PROMPT_CHUNK, PARAMETERS_CHUNK}),
    *,
    max_bytes: int = MAX_DEFAULT_BYTES,
    max_text: int = MAX_DEFAULT_TEXT,
) -> tuple[dict[str, str] | None, list[str]]:
    """``(texts, problems)``: the tEXt/zTXt/iTXt texts of ``keys`` in a PNG (None when not a PNG).

    Walks chunks with ``struct`` only (pixels are never decoded or even read): checks the signature and
    each chunk length against the file, the CRC of each chunk it reads (bad ones are skipped), stops at
    IEND, after ``MAX_CHUNKS`` chunks or past ``max_bytes``. Texts over ``max_text`` are skipped, zlib
    output is capped at ``max_text`` (bombs stop there). The first chunk of each key wins. tEXt/zTXt are
    read as UTF-8 when valid (what ComfyUI's browser reader assumes), else Latin-1 (the PNG standard).
    Raises ``DetailsError`` for an unreadable path or a wrong argument type.
    """
    problems: list[str] = []
    source, handle = _open_source(path_or_bytes, max_bytes)
    try:
        texts = _walk_png(source, frozenset(keys), max_text, problems)
    except OSError as error:
        raise DetailsError(f"cannot read the file: {error}") from error
    finally:
        if handle is not None:
            handle.close()
    return texts, problems
