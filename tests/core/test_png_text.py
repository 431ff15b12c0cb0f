"""The PNG text reader: compressed and international text, late chunks, CRCs, bounds, non-PNGs, any input."""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from seed_number.nodes.core.details_fields import DetailsError
from seed_number.nodes.core.details_json import details_json
from seed_number.nodes.core.png_details import ReadResult, png_text_chunks, read_png_details
from seed_number.nodes.core.png_text import DETAILS_CHUNK
from tests.core.details_samples import DETAILS, save_png


def raw_chunk(ctype: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", zlib.crc32(data, zlib.crc32(ctype)))


@pytest.mark.parametrize(("zip_", "itxt"), [(True, False), (False, True), (True, True)])
def test_read_png_compressed_and_international_text(tmp_path: Path, zip_: bool, itxt: bool) -> None:
    details = {**DETAILS, "positive": "ünïcode ✓ " * 50}
    path = save_png(tmp_path / "c.png", png_text_chunks(details), zip_=zip_, itxt=itxt)
    assert read_png_details(path) == ReadResult(details, "seed_number", [])
    assert read_png_details(path, max_text=100).source == "none"


def test_read_png_text_after_idat_and_all_input_kinds(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, format="PNG")
    data = buffer.getvalue()
    data = data[:-12] + raw_chunk(b"tEXt", DETAILS_CHUNK.encode() + b"\0" + details_json(DETAILS).encode()) + data[-12:]
    path = tmp_path / "late.png"
    path.write_bytes(data)
    expected = ReadResult(DETAILS, "seed_number", [])
    for source in (path, str(path), data, bytearray(data), memoryview(data)):
        assert read_png_details(source) == expected


def test_read_png_skips_bad_crc_and_respects_max_bytes(tmp_path: Path) -> None:
    path = save_png(tmp_path / "a.png", png_text_chunks(DETAILS))
    data = bytearray(path.read_bytes())
    at = data.index(b"Seed Number speed")
    data[at] ^= 0x20
    result = read_png_details(bytes(data))
    assert result.source == "seed_number"
    data[data.index(b'"seed":406220') + 8] ^= 0x01
    result = read_png_details(bytes(data))
    assert result.source == "none"
    assert [p.split(": ", 1)[1] for p in result.problems[:2]] == ["bad CRC; skipped", "bad CRC; skipped"]
    clipped = read_png_details(path, max_bytes=100)
    assert clipped.source == "none" and clipped.problems[0] == "stopped after max_bytes (100 bytes)"


@pytest.mark.parametrize("fmt", ["JPEG", "WEBP", "GIF", "BMP"])
def test_read_non_png_is_source_none(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"x.{fmt.lower()}"
    Image.new("RGB", (8, 8)).save(path, format=fmt)
    expected_name = {"WEBP": "WebP"}.get(fmt, fmt)
    assert read_png_details(path) == ReadResult({}, "none", [f"not a PNG file ({expected_name})"])
    assert read_png_details(b"") == ReadResult({}, "none", ["not a PNG file (empty file)"])


def test_read_png_unreadable_paths_raise_details_error(tmp_path: Path) -> None:
    with pytest.raises(DetailsError, match="cannot read"):
        read_png_details(tmp_path / "missing.png")
    with pytest.raises(DetailsError, match="not a regular file"):
        read_png_details(tmp_path)
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "fifo")
        with pytest.raises(DetailsError, match="not a regular file"):
            read_png_details(tmp_path / "fifo")  # would block forever if opened
    with pytest.raises(DetailsError, match="cannot read"):
        read_png_details(str(tmp_path / "nul\0byte.png"))
    with pytest.raises(DetailsError, match="path or bytes"):
        read_png_details(123)  # type: ignore[arg-type]


def test_read_png_from_any_buffer(tmp_path: Path) -> None:
    numpy = pytest.importorskip("numpy")
    data = save_png(tmp_path / "a.png", png_text_chunks(DETAILS)).read_bytes()
    padded = data + bytes(-len(data) % 4)  # bytes after IEND are ignored
    as_ints = numpy.frombuffer(padded, dtype=numpy.uint8).view(numpy.int32)  # a memoryview of format "i"
    strided = numpy.repeat(numpy.frombuffer(data, dtype=numpy.uint8), 2)[::2]  # not contiguous
    expected = ReadResult(DETAILS, "seed_number", [])
    assert read_png_details(memoryview(as_ints)) == expected
    assert read_png_details(memoryview(strided)) == expected
