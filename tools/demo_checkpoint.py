"""Write a small, seeded, random-weight SD1.5-format checkpoint for demos and tests.

No real model weights can be shipped or downloaded, so the demo workflow and the end-to-end tests use a
checkpoint generated here. The file has the key layout of an SD1.5 ``.safetensors`` checkpoint, so the
stock ``CheckpointLoaderSimple`` of ComfyUI detects it as SD1.5 and the ordinary txt2img graph runs on a
CPU, producing abstract, mostly mid-grey images. Its parts:

* a minimal SD1.5 UNet (``model.diffusion_model.*``): 320 model channels, one resolution level with one
  res block and one cross-attention transformer (context width 768), two output res blocks, no middle
  block; stored as float16;
* the full-size CLIP-L text encoder (``cond_stage_model.transformer.text_model.*``), which ComfyUI builds
  from a fixed config and therefore needs complete; stored as ``float8_e4m3fn`` to halve the file;
* a TAESD-shaped VAE (``first_stage_model.taesd_*``) with ``vae_scale`` and ``vae_shift``; float16.

The shapes come from the small spec tables below; this module imports neither ComfyUI nor anything but
torch, safetensors and the standard library. Weights are drawn from a private ``torch.Generator``, so the
bytes depend only on the seed (and the torch version), never on the global RNG state.

Usage: ``python -m tools.demo_checkpoint OUTDIR [--seed N] [--name FILE] [--force]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import os
import pathlib
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch
from safetensors.torch import save as _safetensors_save

__all__ = [
    "DEFAULT_NAME",
    "DEFAULT_SEED",
    "FORMAT_VERSION",
    "METADATA_KEY",
    "build_state_dict",
    "ensure_checkpoint",
    "main",
    "write_checkpoint",
]

DEFAULT_SEED = 20251012
DEFAULT_NAME = "seed_number_demo_sd15.safetensors"

#: Bumped whenever the layout or the initialisation changes, so stale files are rewritten.
FORMAT_VERSION = 1
#: The only safetensors metadata entry (more than one would make the bytes depend on hash order).
METADATA_KEY = "seed_number_demo"

logger = logging.getLogger("seed_number")

_FILE_MODE = 0o644
_MAX_SEED = 2**64 - 1
_MAX_HEADER_BYTES = 100 * 1024 * 1024

# --- architecture constants -------------------------------------------------------------------------

_UNET = "model.diffusion_model."
_UNET_CH = 320  # model_channels: the value ComfyUI's SD1.5 detection requires
_UNET_TIME_CH = 4 * _UNET_CH  # time embedding width
_UNET_LATENT_CH = 4
_UNET_CONTEXT = 768  # context_dim, read by ComfyUI from attn2.to_k
_UNET_FF_MULT = 4  # GEGLU feed-forward: proj to 2 * 4 * ch, back from 4 * ch

_CLIP = "cond_stage_model.transformer.text_model."
_CLIP_WIDTH = 768
_CLIP_LAYERS = 12
_CLIP_MLP = 3072
_CLIP_VOCAB = 49408
_CLIP_POSITIONS = 77

_VAE = "first_stage_model."
_TAESD_CH = 64
_TAESD_LATENT_CH = 4
_VAE_SCALE = 0.18215  # SD1.5 latent scale factor; TAESD multiplies the latent by it before decoding
_VAE_SHIFT = 0.0

# --- initialisation ---------------------------------------------------------------------------------

_UNET_DTYPE = torch.float16
_CLIP_DTYPE = torch.float8_e4m3fn
_TAESD_DTYPE = torch.float16
_SCALAR_DTYPE = torch.float32

_GAIN = 1.0  # weights ~ normal(0, gain / sqrt(fan_in))
_CLIP_STD = 0.02  # CLIP weights and embeddings ~ normal(0, 0.02)
_TAESD_OUT_GAIN = 0.12  # keeps decoded pixels well inside [0, 1] ...
_TAESD_OUT_BIAS = 0.5  # ... around mid grey


@dataclass(frozen=True)
class _Param:
    """One tensor of the checkpoint: key, shape, storage dtype and how to initialise it."""

    key: str
    shape: tuple[int, ...]
    dtype: torch.dtype
    init: str  # "normal" (std = ``std``) or "const" (filled with ``value``)
    std: float = 0.0
    value: float = 0.0


def _weight(key: str, shape: tuple[int, ...], dtype: torch.dtype, gain: float = _GAIN) -> _Param:
    """A dense or convolution weight, normal(0, gain / sqrt(fan_in))."""
    fan_in = math.prod(shape[1:])
    return _Param(key, shape, dtype, "normal", std=gain / math.sqrt(fan_in))


def _const(key: str, shape: tuple[int, ...], dtype: torch.dtype, value: float = 0.0) -> _Param:
    """A tensor filled with one value (biases 0, norm scales 1, scalars)."""
    return _Param(key, shape, dtype, "const", value=value)


def _linear(prefix: str, n_out: int, n_in: int, dtype: torch.dtype, bias: bool = True) -> list[_Param]:
    """``Linear(n_in, n_out)`` weights."""
    params = [_weight(f"{prefix}.weight", (n_out, n_in), dtype)]
    if bias:
        params.append(_const(f"{prefix}.bias", (n_out,), dtype))
    return params


def _conv(
    prefix: str,
    n_out: int,
    n_in: int,
    kernel: int,
    dtype: torch.dtype,
    bias: bool = True,
    gain: float = _GAIN,
    bias_value: float = 0.0,
) -> list[_Param]:
    """``Conv2d(n_in, n_out, kernel)`` weights."""
    params = [_weight(f"{prefix}.weight", (n_out, n_in, kernel, kernel), dtype, gain)]
    if bias:
        params.append(_const(f"{prefix}.bias", (n_out,), dtype, bias_value))
    return params


def _norm(prefix: str, channels: int, dtype: torch.dtype) -> list[_Param]:
    """GroupNorm / LayerNorm affine parameters: scale 1, shift 0."""
    return [
        _const(f"{prefix}.weight", (channels,), dtype, 1.0),
        _const(f"{prefix}.bias", (channels,), dtype, 0.0),
    ]


# --- UNet -------------------------------------------------------------------------------------------


def _unet_resblock(prefix: str, n_in: int, n_out: int) -> list[_Param]:
    """An SD ResBlock: GroupNorm-SiLU-conv, time-embedding projection, GroupNorm-SiLU-conv, skip."""
    dt = _UNET_DTYPE
    params = [
        *_norm(f"{prefix}.in_layers.0", n_in, dt),
        *_conv(f"{prefix}.in_layers.2", n_out, n_in, 3, dt),
        *_linear(f"{prefix}.emb_layers.1", n_out, _UNET_TIME_CH, dt),
        *_norm(f"{prefix}.out_layers.0", n_out, dt),
        *_conv(f"{prefix}.out_layers.3", n_out, n_out, 3, dt),
    ]
    if n_in != n_out:
        params += _conv(f"{prefix}.skip_connection", n_out, n_in, 1, dt)
    return params


def _unet_attention(prefix: str, dim: int, context_dim: int) -> list[_Param]:
    """A CrossAttention: bias-free q/k/v projections and a biased output projection."""
    dt = _UNET_DTYPE
    return [
        *_linear(f"{prefix}.to_q", dim, dim, dt, bias=False),
        *_linear(f"{prefix}.to_k", dim, context_dim, dt, bias=False),
        *_linear(f"{prefix}.to_v", dim, context_dim, dt, bias=False),
        *_linear(f"{prefix}.to_out.0", dim, dim, dt),
    ]


def _unet_transformer(prefix: str, ch: int) -> list[_Param]:
    """A conv-projected SpatialTransformer of depth 1 (``use_linear_in_transformer = False``)."""
    dt = _UNET_DTYPE
    block = f"{prefix}.transformer_blocks.0"
    inner = _UNET_FF_MULT * ch
    return [
        *_norm(f"{prefix}.norm", ch, dt),
        *_conv(f"{prefix}.proj_in", ch, ch, 1, dt),
        *_unet_attention(f"{block}.attn1", ch, ch),
        *_linear(f"{block}.ff.net.0.proj", 2 * inner, ch, dt),
        *_linear(f"{block}.ff.net.2", ch, inner, dt),
        *_unet_attention(f"{block}.attn2", ch, _UNET_CONTEXT),
        *_norm(f"{block}.norm1", ch, dt),
        *_norm(f"{block}.norm2", ch, dt),
        *_norm(f"{block}.norm3", ch, dt),
        *_conv(f"{prefix}.proj_out", ch, ch, 1, dt),
    ]


def _unet_params() -> list[_Param]:
    """The minimal SD1.5 UNet: channel_mult [1], num_res_blocks [1], no middle block."""
    dt = _UNET_DTYPE
    ch = _UNET_CH
    return [
        *_linear(f"{_UNET}time_embed.0", _UNET_TIME_CH, ch, dt),
        *_linear(f"{_UNET}time_embed.2", _UNET_TIME_CH, _UNET_TIME_CH, dt),
        *_conv(f"{_UNET}input_blocks.0.0", ch, _UNET_LATENT_CH, 3, dt),
        *_unet_resblock(f"{_UNET}input_blocks.1.0", ch, ch),
        *_unet_transformer(f"{_UNET}input_blocks.1.1", ch),
        # num_res_blocks + 1 output blocks, each taking the concatenated skip from one input block.
        *_unet_resblock(f"{_UNET}output_blocks.0.0", 2 * ch, ch),
        *_unet_resblock(f"{_UNET}output_blocks.1.0", 2 * ch, ch),
        *_norm(f"{_UNET}out.0", ch, dt),
        *_conv(f"{_UNET}out.2", _UNET_LATENT_CH, ch, 3, dt),
    ]


# --- CLIP-L text encoder ----------------------------------------------------------------------------


def _clip_linear(prefix: str, n_out: int, n_in: int) -> list[_Param]:
    """A CLIP linear layer: weight ~ normal(0, 0.02), zero bias."""
    dt = _CLIP_DTYPE
    return [
        _Param(f"{prefix}.weight", (n_out, n_in), dt, "normal", std=_CLIP_STD),
        _const(f"{prefix}.bias", (n_out,), dt),
    ]


def _clip_params() -> list[_Param]:
    """The full-size CLIP-L text model (12 layers, width 768, vocabulary 49408)."""
    dt = _CLIP_DTYPE
    w = _CLIP_WIDTH
    std = _CLIP_STD
    params = [
        _Param(f"{_CLIP}embeddings.token_embedding.weight", (_CLIP_VOCAB, w), dt, "normal", std=std),
        _Param(f"{_CLIP}embeddings.position_embedding.weight", (_CLIP_POSITIONS, w), dt, "normal", std=std),
    ]
    for i in range(_CLIP_LAYERS):
        layer = f"{_CLIP}encoder.layers.{i}"
        params += [
            *_norm(f"{layer}.layer_norm1", w, dt),
            *_clip_linear(f"{layer}.self_attn.q_proj", w, w),
            *_clip_linear(f"{layer}.self_attn.k_proj", w, w),
            *_clip_linear(f"{layer}.self_attn.v_proj", w, w),
            *_clip_linear(f"{layer}.self_attn.out_proj", w, w),
            *_norm(f"{layer}.layer_norm2", w, dt),
            *_clip_linear(f"{layer}.mlp.fc1", _CLIP_MLP, w),
            *_clip_linear(f"{layer}.mlp.fc2", w, _CLIP_MLP),
        ]
    params += _norm(f"{_CLIP}final_layer_norm", w, dt)
    return params


# --- TAESD ------------------------------------------------------------------------------------------

# Layer tables of TAESD's nn.Sequential encoder and decoder: ("conv", n_in, n_out, bias), ("block",)
# for a residual block of three 3x3 convolutions, None for parameter-free layers (ReLU, Upsample, Clamp).
_TaesdLayer = tuple[object, ...] | None

_C = _TAESD_CH
_L = _TAESD_LATENT_CH
_BLOCK: _TaesdLayer = ("block",)
_TAESD_ENCODER: tuple[_TaesdLayer, ...] = (
    ("conv", 3, _C, True), _BLOCK,
    ("conv", _C, _C, False), _BLOCK, _BLOCK, _BLOCK,
    ("conv", _C, _C, False), _BLOCK, _BLOCK, _BLOCK,
    ("conv", _C, _C, False), _BLOCK, _BLOCK, _BLOCK,
    ("conv", _C, _L, True),
)  # fmt: skip
_TAESD_DECODER: tuple[_TaesdLayer, ...] = (
    None, ("conv", _L, _C, True), None,
    _BLOCK, _BLOCK, _BLOCK, None, ("conv", _C, _C, False),
    _BLOCK, _BLOCK, _BLOCK, None, ("conv", _C, _C, False),
    _BLOCK, _BLOCK, _BLOCK, None, ("conv", _C, _C, False),
    _BLOCK, ("conv", _C, 3, True),
)  # fmt: skip


def _taesd_sequential(prefix: str, layers: Sequence[_TaesdLayer], gain: float, bias: float) -> list[_Param]:
    """Parameters of one TAESD ``nn.Sequential``; its last convolution gets ``gain`` and ``bias``."""
    dt = _TAESD_DTYPE
    last = max(i for i, layer in enumerate(layers) if layer is not None and layer[0] == "conv")
    params: list[_Param] = []
    for i, layer in enumerate(layers):
        if layer is None:
            continue
        if layer[0] == "block":
            for j in (0, 2, 4):  # conv, ReLU, conv, ReLU, conv; identity skip (64 -> 64)
                params += _conv(f"{prefix}.{i}.conv.{j}", _C, _C, 3, dt)
            continue
        _, n_in, n_out, has_bias = layer
        assert isinstance(n_in, int) and isinstance(n_out, int) and isinstance(has_bias, bool)
        if i == last:
            params += _conv(f"{prefix}.{i}", n_out, n_in, 3, dt, has_bias, gain=gain, bias_value=bias)
        else:
            params += _conv(f"{prefix}.{i}", n_out, n_in, 3, dt, has_bias)
    return params


def _taesd_params() -> list[_Param]:
    """TAESD encoder and decoder, plus the latent scale and shift ComfyUI applies around them."""
    return [
        *_taesd_sequential(f"{_VAE}taesd_encoder", _TAESD_ENCODER, _GAIN, 0.0),
        *_taesd_sequential(f"{_VAE}taesd_decoder", _TAESD_DECODER, _TAESD_OUT_GAIN, _TAESD_OUT_BIAS),
        _const(f"{_VAE}vae_scale", (), _SCALAR_DTYPE, _VAE_SCALE),
        _const(f"{_VAE}vae_shift", (), _SCALAR_DTYPE, _VAE_SHIFT),
    ]


def _params() -> list[_Param]:
    """Every tensor of the checkpoint, in generation order (the order fixes which random draws go where)."""
    return [*_unet_params(), *_clip_params(), *_taesd_params()]


# --- building and writing ---------------------------------------------------------------------------


def _check_seed(seed: int) -> int:
    """Return ``seed`` if it is an int usable by ``torch.Generator.manual_seed``, else raise."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, not {type(seed).__name__}")
    if not 0 <= seed <= _MAX_SEED:
        raise ValueError(f"seed must be in [0, 2**64 - 1], got {seed}")
    return seed


def _metadata(seed: int) -> dict[str, str]:
    """The single safetensors metadata entry that identifies a complete demo checkpoint."""
    return {METADATA_KEY: f"{seed}:{FORMAT_VERSION}"}


def _generate(params: Sequence[_Param], generator: torch.Generator) -> Iterator[tuple[str, torch.Tensor]]:
    """Yield ``(key, tensor)`` for each spec, drawing random values from ``generator`` in order."""
    for p in params:
        if p.init == "normal":
            values = torch.empty(p.shape, dtype=torch.float32).normal_(0.0, p.std, generator=generator)
            yield p.key, values.to(p.dtype)
        else:
            yield p.key, torch.full(p.shape, p.value, dtype=p.dtype)


def build_state_dict(seed: int = DEFAULT_SEED) -> dict[str, torch.Tensor]:
    """Build the checkpoint's tensors for ``seed``.

    Uses a private CPU ``torch.Generator`` seeded with ``seed``; the global RNG state is neither read
    nor changed. The same seed gives identical tensors (for a given torch version).

    Args:
        seed: an integer in ``[0, 2**64 - 1]``.

    Returns:
        A mapping from checkpoint key to a contiguous CPU tensor.
    """
    generator = torch.Generator(device="cpu")
    generator.manual_seed(_check_seed(seed))
    return dict(_generate(_params(), generator))


def _fsync_directory(directory: pathlib.Path) -> None:
    """Flush a directory entry to disk where the platform allows it (a no-op on Windows)."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    try:
        fd = os.open(directory, flags)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(target: pathlib.Path, data: bytes) -> None:
    """Write ``data`` to ``target`` through a temporary file and a rename: a reader never sees half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    tmp = pathlib.Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_directory(target.parent)


def write_checkpoint(path: str | os.PathLike[str], seed: int = DEFAULT_SEED) -> pathlib.Path:
    """Write the demo checkpoint for ``seed`` to ``path`` atomically and return the path.

    The bytes go to a temporary file in the same directory, which is flushed, fsynced, made mode 0644
    and then renamed over ``path``; a failure leaves no partial file behind. Missing parent directories
    are created.

    Args:
        path: the ``.safetensors`` file to write; replaced if it exists.
        seed: the weight seed, an integer in ``[0, 2**64 - 1]``.

    Returns:
        ``path`` as a :class:`pathlib.Path`.
    """
    target = pathlib.Path(path)
    data = _safetensors_save(build_state_dict(seed), metadata=_metadata(seed))
    write_atomically(target, data)
    os.chmod(target, _FILE_MODE)
    logger.debug("wrote demo checkpoint %s (seed %d, %d bytes)", target, seed, len(data))
    return target


def _is_complete(path: pathlib.Path, seed: int) -> bool:
    """Whether ``path`` is a whole demo checkpoint of the current format for ``seed``.

    Reads only the safetensors header: the metadata entry must match, the tensor keys must be exactly
    the expected ones, and the file size must equal header plus the data the header describes.
    """
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            prefix = fh.read(8)
            if len(prefix) != 8:
                return False
            header_len = int.from_bytes(prefix, "little")
            if header_len > min(_MAX_HEADER_BYTES, size - 8):
                return False
            header = json.loads(fh.read(header_len))
    except (OSError, ValueError):
        return False
    if not isinstance(header, dict) or header.pop("__metadata__", None) != _metadata(seed):
        return False
    if set(header) != {p.key for p in _params()}:
        return False
    try:
        data_len = max(int(entry["data_offsets"][1]) for entry in header.values())
    except (KeyError, IndexError, TypeError, ValueError):
        return False
    return size == 8 + header_len + data_len


def ensure_checkpoint(
    directory: str | os.PathLike[str], seed: int = DEFAULT_SEED, name: str = DEFAULT_NAME
) -> pathlib.Path:
    """Return ``directory / name``, writing the demo checkpoint there unless a complete one exists.

    An existing file is reused as-is (not rewritten, its mtime unchanged) when its header identifies it
    as the current format for ``seed`` and its size matches; a truncated, foreign or stale file is
    replaced atomically.

    Args:
        directory: where the checkpoint lives (e.g. ComfyUI's ``models/checkpoints``); created if missing.
        seed: the weight seed.
        name: the file name.

    Returns:
        The checkpoint's path.
    """
    _check_seed(seed)
    path = pathlib.Path(directory) / name
    if _is_complete(path, seed):
        logger.debug("reusing demo checkpoint %s", path)
        return path
    return write_checkpoint(path, seed)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: write (or reuse) the demo checkpoint in OUTDIR and log its path."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.demo_checkpoint",
        description="Write a small seeded random-weight SD1.5-format checkpoint for ComfyUI demos.",
    )
    parser.add_argument("outdir", type=pathlib.Path, help="directory to write into (created if missing)")
    seed_help = f"weight seed, 0 to 2**64 - 1 (default {DEFAULT_SEED})"
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=seed_help)
    parser.add_argument("--name", default=DEFAULT_NAME, help=f"file name (default {DEFAULT_NAME})")
    parser.add_argument("--force", action="store_true", help="rewrite the file even if it is complete")
    args = parser.parse_args(argv)
    if not 0 <= args.seed <= _MAX_SEED:
        parser.error(f"--seed must be in [0, 2**64 - 1], got {args.seed}")

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    start = time.perf_counter()
    if args.force:
        path = write_checkpoint(args.outdir / args.name, args.seed)
    else:
        path = ensure_checkpoint(args.outdir, args.seed, args.name)
    logger.info(
        "demo checkpoint: %s (seed %d, %.1f MB, %.2f s)",
        path,
        args.seed,
        path.stat().st_size / 1e6,
        time.perf_counter() - start,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
