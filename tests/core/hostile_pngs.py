"""Hostile files for the PNG details reader: broken PNGs, bombs, deep JSON, wrong types, non-PNGs.

Deterministic: every random choice comes from the ``random.Random`` passed in (never the global
``random`` state), so a seed gives the same corpus byte for byte. Not a test module itself: the fuzz
tests import it as ``tests.core.hostile_pngs``.
"""

from __future__ import annotations

import functools
import io
import json
import random
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DETAILS_KEY = "seed_number_details"
KEYS = (DETAILS_KEY, "prompt", "parameters")
BOMB_SIZE = 1 << 30
"""Uncompressed size of the decompression bomb: 1 GiB of zeros (about 1 MB compressed)."""

GOOD_DETAILS = {
    "seed": 406220,
    "seeds": [406220],
    "mode": "random",
    "positive": "a cat",
    "negative": "blurry",
    "label": "purple",
    "speed": "Default",
    "steps": 20,
    "cfg": 7.0,
    "sampler": "euler",
    "scheduler": "normal",
    "denoise": 1.0,
    "width": 512,
    "height": 512,
    "batch_index": 0,
    "batch_size": 1,
    "model": "sd15.safetensors",
    "model_hash": "a1b2c3d4e5",
    "vae": None,
    "pack_version": "0.2.0",
    "comfyui_version": "0.3.64",
    "torch_version": "2.4.1",
    "device": "cpu",
    "noise_device": "cpu",
    "reproducible": {"verdict": "same machine", "reasons": ["all noise from CPU generators; model on cpu"]},
    "version": 1,
}
GOOD_PROMPT = {
    "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sd15.safetensors"}},
    "2": {"class_type": "CLIPTextEncode", "inputs": {"text": "a cat", "clip": ["1", 1]}},
    "3": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["1", 1]}},
    "4": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 512, "batch_size": 1}},
    "5": {"class_type": "SeedSource|SeedNumber", "inputs": {"seed_number": 406220, "mode": "fixed"}},
    "6": {
        "class_type": "KSampler",
        "inputs": {
            "seed": ["5", 0],
            "steps": 20,
            "cfg": 7.0,
            "sampler_name": "euler",
            "scheduler": "normal",
            "denoise": 1.0,
            "model": ["1", 0],
            "positive": ["2", 0],
            "negative": ["3", 0],
            "latent_image": ["4", 0],
        },
    },
    "7": {"class_type": "VAEDecode", "inputs": {"samples": ["6", 0], "vae": ["1", 2]}},
    "8": {"class_type": "SaveImage", "inputs": {"images": ["7", 0], "filename_prefix": "x"}},
}
GOOD_PARAMETERS = (
    "a cat\nNegative prompt: blurry\nSteps: 20, Sampler: Euler, Schedule type: Normal, CFG scale: 7, "
    "Seed: 406220, Size: 512x512, Model: sd15"
)

WRONG_VALUES: tuple[tuple[str, str], ...] = (
    ("string", '"x"'),
    ("empty list", "[]"),
    ("list", "[1, 2]"),
    ("object", '{"a": 1}'),
    ("nan", "NaN"),
    ("infinity", "Infinity"),
    ("overflow float", "1e400"),
    ("negative", "-1"),
    ("huge int", str(2**80)),
    ("bool", "true"),
    ("long string", json.dumps("x" * 5000)),
    ("nested list", "[" * 500 + "]" * 500),
)
"""Raw JSON values put in every field of our JSON, one at a time."""


def chunk(ctype: bytes, data: bytes, crc: int | None = None, length: int | None = None) -> bytes:
    """One PNG chunk; ``crc``/``length`` override the correct values."""
    real_crc = zlib.crc32(data, zlib.crc32(ctype))
    size = len(data) if length is None else length
    return struct.pack(">I", size) + ctype + data + struct.pack(">I", real_crc if crc is None else crc)


def ihdr() -> bytes:
    return chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))


def idat() -> bytes:
    return chunk(b"IDAT", zlib.compress(b"\x00\x00\x00\x00"))


def iend() -> bytes:
    return chunk(b"IEND", b"")


def png(*chunks: bytes, after_idat: tuple[bytes, ...] = ()) -> bytes:
    """A 1×1 RGB PNG with ``chunks`` before its IDAT and ``after_idat`` after it."""
    return PNG_SIGNATURE + ihdr() + b"".join(chunks) + idat() + b"".join(after_idat) + iend()


def text_chunk(key: str, text: str | bytes, kind: str = "tEXt", compressed: bool = False) -> bytes:
    """A tEXt, zTXt or iTXt chunk of ``key`` (``text`` as bytes is used as the already-encoded body)."""
    body = text if isinstance(text, bytes) else text.encode("latin-1" if kind != "iTXt" else "utf-8")
    head = key.encode("latin-1") + b"\0"
    if kind == "tEXt":
        return chunk(b"tEXt", head + body)
    if kind == "zTXt":
        return chunk(b"zTXt", head + b"\0" + zlib.compress(body))
    if compressed:
        return chunk(b"iTXt", head + b"\1\0\0\0" + zlib.compress(body))
    return chunk(b"iTXt", head + b"\0\0\0\0" + body)


@functools.cache
def zero_bomb(size: int = BOMB_SIZE) -> bytes:
    """A valid zlib stream of ``size`` zero bytes (a multiple of 1 MiB), built without compressing it all.

    Deflate blocks of 1 MiB of zeros ending in a full flush do not depend on what came before, so one
    is compressed and repeated; the Adler-32 of n zeros is ``(n % 65521) << 16 | 1``.
    """
    block = bytes(1 << 20)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
    repeat = deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
    final = deflate.flush(zlib.Z_FINISH)
    blocks = size >> 20
    adler = ((size % 65521) << 16) | 1
    return b"\x78\xda" + first + repeat * (blocks - 1) + final + struct.pack(">I", adler)


def _bombs() -> Iterator[tuple[str, bytes]]:
    bomb = zero_bomb()
    for key in KEYS:
        head = key.encode() + b"\0"
        yield f"bomb-ztxt-{key}", png(chunk(b"zTXt", head + b"\0" + bomb))
        yield f"bomb-itxt-{key}", png(chunk(b"iTXt", head + b"\1\0\0\0" + bomb))
    json_bomb = zlib.compress(b'{"seed": 1, "positive": "' + b" " * (8 << 20) + b'"}', 9)
    yield "bomb-json-whitespace", png(chunk(b"zTXt", DETAILS_KEY.encode() + b"\0\0" + json_bomb))
    yield "ztxt-garbage", png(chunk(b"zTXt", b"prompt\0\0" + b"\x78\x9c" + b"\xff" * 64))
    yield "ztxt-truncated", png(chunk(b"zTXt", b"prompt\0\0" + zlib.compress(json.dumps(GOOD_PROMPT).encode())[:-9]))
    yield "ztxt-bad-method", png(chunk(b"zTXt", b"prompt\0\7" + zlib.compress(b"{}")))
    yield "itxt-bad-method", png(chunk(b"iTXt", b"prompt\0\1\7\0\0" + zlib.compress(b"{}")))
    yield "itxt-no-header", png(chunk(b"iTXt", b"prompt\0\0"))
    yield "itxt-bad-utf8", png(chunk(b"iTXt", b"parameters\0\0\0\0\0" + b"\xff\xfe a cat"))


def _deep_json() -> Iterator[tuple[str, bytes]]:
    depth = 100_000
    nests = {
        "array": "[" * depth + "]" * depth,
        "object": '{"a":' * depth + "1" + "}" * depth,
        "open-array": "[" * depth,
        "in-field": '{"seed": ' + "[" * depth + "]" * depth + "}",
    }
    for key in KEYS:
        for name, text in nests.items():
            yield f"deep-{name}-{key}", png(text_chunk(key, text))
    graph = '{"1": {"class_type": "KSampler", "inputs": {"seed": ' + "[" * 500 + "]" * 500 + ', "steps": 5}}}'
    yield "prompt-input-500-deep", png(text_chunk("prompt", graph))  # parses: within Python's recursion limit


def _oversized() -> Iterator[tuple[str, bytes]]:
    big = 10 * 1024 * 1024
    for key in KEYS:
        yield f"10mb-text-{key}", png(text_chunk(key, "a" * big))
    yield "10mb-itxt-parameters", png(text_chunk("parameters", "é" * (big // 2), kind="iTXt"))
    near = 4 * 1024 * 1024 - 4096
    yield "4mb-parameters-one-line", png(text_chunk("parameters", "a" * near))
    yield "4mb-parameters-colons", png(text_chunk("parameters", "x\nNegative prompt: y\n" + "aa:" * (near // 3)))
    yield "4mb-parameters-quotes", png(text_chunk("parameters", "x\n" + 'Steps: "' + '\\"' * (near // 2)))
    yield "4mb-parameters-keys", png(text_chunk("parameters", "x\n" + "Seed: 1, " * (near // 9)))
    chain = {str(i): {"class_type": "Reroute", "inputs": {"input": [str(i + 1), 0]}} for i in range(40_000)}
    chain["0"] = {"class_type": "KSampler", "inputs": {"seed": ["1", 0], "positive": ["1", 0], "model": ["1", 0]}}
    yield "prompt-40k-node-chain", png(text_chunk("prompt", json.dumps(chain)))
    many = {str(i): {"class_type": "KSampler", "inputs": {"seed": i, "model": [str(i - 1), 0]}} for i in range(20_000)}
    yield "prompt-20k-samplers", png(text_chunk("prompt", json.dumps(many)))


def _wrong_types() -> Iterator[tuple[str, bytes]]:
    fields = [k for k in GOOD_DETAILS if k != "version"] + ["version", "unknown_field"]
    for name in fields:
        for label, raw in WRONG_VALUES:
            base = {k: v for k, v in GOOD_DETAILS.items() if k != name}
            text = json.dumps(base)[:-1] + f', "{name}": {raw}' + "}"
            yield f"wrong-{name}-{label.replace(' ', '-')}", png(text_chunk(DETAILS_KEY, text))
    for label, raw in (("list", "[1]"), ("string", '"x"'), ("number", "1"), ("null", "null"), ("nan", "NaN")):
        yield (
            f"details-not-object-{label}",
            png(text_chunk(DETAILS_KEY, raw), text_chunk("parameters", GOOD_PARAMETERS)),
        )
    yield "details-invalid-json", png(text_chunk(DETAILS_KEY, '{"seed": 1,'))
    yield "details-huge-int-digits", png(text_chunk(DETAILS_KEY, '{"seed": ' + "9" * 10_000 + "}"))
    yield "details-latin1", png(text_chunk(DETAILS_KEY, '{"positive": "caf\xe9"}'))
    yield "details-empty", png(text_chunk(DETAILS_KEY, ""))


def _graphs() -> Iterator[tuple[str, object]]:
    def ks(**inputs: object) -> dict[str, object]:
        return {"class_type": "KSampler", "inputs": inputs}

    yield "self-loop", {"1": ks(seed=["1", 0], positive=["1", 0], model=["1", 0], latent_image=["1", 0])}
    yield (
        "two-cycle",
        {
            "1": ks(seed=["2", 0], positive=["2", 0], negative=["2", 1], latent_image=["2", 0], model=["2", 0]),
            "2": {"class_type": "CLIPTextEncode", "inputs": {"text": ["1", 0], "conditioning": ["1", 0]}},
        },
    )
    yield "sampler-cycle", {"1": ks(model=["2", 0], seed=1), "2": ks(model=["1", 0], seed=2)}
    yield "dangling", {"1": ks(seed=["99", 0], positive=["98", 0], negative=["97", 1], model=["96", 0])}
    yield (
        "bad-link-ids",
        {"1": ks(seed=[{"a": 1}, 0], positive=[None, 0], negative=[1.5, 0], model=[True, 0], latent_image=[[1], 0])},
    )
    yield "int-link-ids", {"1": ks(seed=[2, 0]), "2": {"class_type": "PrimitiveInt", "inputs": {"value": 5}}}
    yield "inputs-not-dict", {"1": {"class_type": "KSampler", "inputs": [1, 2]}, "2": {"class_type": 5}}
    yield "nodes-not-dicts", {"1": "KSampler", "2": None, "3": [1, 2]}
    yield "graph-list", [{"class_type": "KSampler"}]
    yield "graph-string", "KSampler"
    yield "graph-number", 3
    yield "empty-graph", {}
    yield "no-sampler", {"1": {"class_type": "SaveImage", "inputs": {}}}
    yield (
        "unresolved-seed-source",
        {
            "1": ks(seed=["2", 0]),
            "2": {"class_type": "SeedSource|SeedNumber", "inputs": {"seed_number": 5, "mode": "random"}},
        },
    )
    lattice: dict[str, object] = {"0": ks(positive=["1", 0], model=["1", 0], latent_image=["1", 0])}
    for i in range(1, 300):
        nxt = [str(i + 1), 0]
        lattice[str(i)] = {
            "class_type": "ConditioningCombine",
            "inputs": {"conditioning_1": nxt, "conditioning_2": nxt},
        }
    yield "diamond-lattice", lattice
    wrong = ks(seed="x", steps=[], cfg={"a": 1}, sampler_name=7, scheduler=None, denoise="NaN")
    yield "wrong-input-types", {"1": wrong}


def _prompts() -> Iterator[tuple[str, bytes]]:
    for name, graph in _graphs():
        yield f"prompt-{name}", png(text_chunk("prompt", json.dumps(graph)))
    yield "prompt-nan", png(text_chunk("prompt", '{"1": {"class_type": "KSampler", "inputs": {"cfg": NaN}}}'))


def _non_png() -> Iterator[tuple[str, bytes]]:
    from PIL import Image

    image = Image.new("RGB", (8, 8), (200, 30, 30))
    for fmt in ("JPEG", "WEBP", "GIF", "BMP", "TIFF"):
        buffer = io.BytesIO()
        image.save(buffer, format=fmt)
        yield f"format-{fmt.lower()}", buffer.getvalue()
    yield "empty", b""
    yield "signature-only", PNG_SIGNATURE
    yield "signature-half", PNG_SIGNATURE[:5]
    yield "signature-ihdr", PNG_SIGNATURE + ihdr()
    yield "signature-garbage", PNG_SIGNATURE + b"\xff" * 64
    yield "no-iend", PNG_SIGNATURE + ihdr() + text_chunk("parameters", GOOD_PARAMETERS) + idat()
    yield "zero-length-chunks", PNG_SIGNATURE + b"".join(chunk(b"tEXt", b"") for _ in range(50)) + iend()
    yield "chunk-type-garbage", PNG_SIGNATURE + struct.pack(">I", 4) + b"\x00\x01\x02\x03" + b"abcd" + b"\0" * 4


def _many_chunks() -> Iterator[tuple[str, bytes]]:
    tiny = chunk(b"tEXt", b"x\0y")
    yield "100k-tiny-chunks", png(tiny * 100_000, text_chunk(DETAILS_KEY, json.dumps(GOOD_DETAILS)))
    dup = text_chunk("prompt", json.dumps(GOOD_PROMPT))
    yield "100k-duplicate-prompts", png(dup * 100_000)
    yield "100k-private-chunks", png(chunk(b"prVt", b"") * 100_000)


def _good() -> dict[str, bytes]:
    return {
        "good-all": png(
            text_chunk(DETAILS_KEY, json.dumps(GOOD_DETAILS)),
            text_chunk("prompt", json.dumps(GOOD_PROMPT)),
            text_chunk("parameters", GOOD_PARAMETERS),
        ),
        "good-prompt-ztxt": png(text_chunk("prompt", json.dumps(GOOD_PROMPT), kind="zTXt")),
        "good-parameters-itxt": png(text_chunk("parameters", GOOD_PARAMETERS, kind="iTXt", compressed=True)),
        "good-after-idat": png(after_idat=(text_chunk(DETAILS_KEY, json.dumps(GOOD_DETAILS)),)),
    }


def _chunk_spans(data: bytes) -> list[tuple[int, int, bytes]]:
    """(offset, length, type) of each chunk of a well-formed PNG."""
    spans, offset = [], len(PNG_SIGNATURE)
    while offset + 8 <= len(data):
        length, ctype = struct.unpack(">I4s", data[offset : offset + 8])
        spans.append((offset, length, ctype))
        offset += 12 + length
    return spans


def _damaged(rng: random.Random, base: bytes) -> Iterator[tuple[str, bytes]]:
    offsets = sorted(set(range(0, 80)) | {rng.randrange(len(base)) for _ in range(60)})
    for cut in offsets:
        yield f"truncated-at-{cut}", base[:cut]
    for offset, length, ctype in _chunk_spans(base):
        crc_at = offset + 8 + length
        name = ctype.decode()
        yield (
            f"bad-crc-{name}-{offset}",
            base[:crc_at] + bytes(b ^ 0xFF for b in base[crc_at : crc_at + 4]) + base[crc_at + 4 :],
        )
        for declared in (0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, length + 1, length + 100_000, max(length - 1, 0)):
            yield f"length-{declared}-{name}-{offset}", base[:offset] + struct.pack(">I", declared) + base[offset + 4 :]
    for i in range(60):
        data = bytearray(base)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        yield f"flipped-{i}", bytes(data)
    for i in range(20):
        start = rng.randrange(8, len(base))
        junk = bytes(rng.randrange(256) for _ in range(rng.randint(1, 40)))
        yield f"spliced-{i}", base[:start] + junk + base[start + rng.randint(0, 40) :]
    for i in range(10):
        yield f"random-bytes-{i}", bytes(rng.randrange(256) for _ in range(rng.randint(1, 2000)))
        yield (
            f"random-after-signature-{i}",
            PNG_SIGNATURE + bytes(rng.randrange(256) for _ in range(rng.randint(1, 200))),
        )


def cases(rng: random.Random) -> Iterator[tuple[str, bytes]]:
    """Every hostile case as ``(name, file content)``; names are unique and file-system safe."""
    good = _good()
    yield from good.items()
    yield from _damaged(rng, good["good-all"])
    yield from _bombs()
    yield from _deep_json()
    yield from _oversized()
    yield from _wrong_types()
    yield from _prompts()
    yield from _non_png()
    yield from _many_chunks()


def write_corpus(directory: Path, rng: random.Random) -> list[Path]:
    """Write every case into ``directory`` (``<name>.png``); the paths, in generation order."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in cases(rng):
        path = directory / f"{name}.png"
        if path.exists():
            raise ValueError(f"duplicate hostile case name {name!r}")
        path.write_bytes(data)
        paths.append(path)
    return paths
