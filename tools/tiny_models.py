"""Tiny random diffusion models of ComfyUI's DiT families, loadable by the stock UNETLoader.

ComfyUI derives an MMDiT's (SD3's) width from its weights (``x_embedder``: 64 x depth), so a
depth-2 MMDiT built from ComfyUI's own class is detected as the ``SD3`` model class at ~2.4 M
parameters. The weights are random (normal, seeded), stored fp16 with one metadata entry (so
the bytes are identical for one seed), and cached like the demo checkpoint.

Families whose width ComfyUI fixes (Flux 3072, Lumina 2 2304, Qwen-Image 3072, AuraFlow 3072)
cannot be made tiny this way: one block is hundreds of MB. Not built here yet.

Usage: ``python -m tools.tiny_models [DIR]`` writes every tiny model into DIR (default: the cache).
"""

from __future__ import annotations

import os
import pathlib
import sys
from collections.abc import Callable

import torch

from tools.demo_checkpoint import write_atomically

DEFAULT_SEED = 20251013
FORMAT_VERSION = 1
METADATA_KEY = "seed_number_tiny_model"
CACHE_DIR = pathlib.Path(os.environ.get("SEED_NUMBER_CACHE", pathlib.Path.home() / ".cache" / "seed-number"))


def _sd3_module() -> torch.nn.Module:
    """ComfyUI's MMDiT at depth 2 (width 128): detected as the SD3 class (16 latent channels, shift 3.0)."""
    import comfy.ops
    from comfy.ldm.modules.diffusionmodules.mmdit import MMDiT

    return MMDiT(
        in_channels=16,
        out_channels=16,
        depth=2,
        patch_size=2,
        adm_in_channels=2048,
        context_embedder_config={"target": "torch.nn.Linear", "params": {"in_features": 4096, "out_features": 128}},
        pos_embed_max_size=16,
        num_patches=256,
        dtype=torch.float32,
        device="cpu",
        operations=comfy.ops.disable_weight_init,
    )


BUILDERS: dict[str, Callable[[], torch.nn.Module]] = {"sd3": _sd3_module}
"""Family key -> a builder of ComfyUI's own module at its smallest detectable config."""
FILE_NAMES = {"sd3": "seed_number_tiny_sd3.safetensors"}


def state_dict(family: str, seed: int = DEFAULT_SEED) -> dict[str, torch.Tensor]:
    """The tiny model's weights: every tensor drawn in key order from one seeded generator, fp16."""
    module = BUILDERS[family]()
    generator = torch.Generator().manual_seed(seed)
    weights: dict[str, torch.Tensor] = {}
    for key, tensor in sorted(module.state_dict().items()):
        fan_in = tensor[0].numel() if tensor.dim() > 1 else 1
        std = 0.02 if tensor.dim() <= 1 else 1.0 / max(1, fan_in) ** 0.5
        drawn = torch.randn(tensor.shape, generator=generator, dtype=torch.float32) * std
        if key.endswith(".bias"):
            drawn.zero_()
        weights[key] = drawn.to(torch.float16).contiguous()
    return weights


def model_bytes(family: str, seed: int = DEFAULT_SEED) -> bytes:
    from safetensors.torch import save

    return save(state_dict(family, seed), metadata={METADATA_KEY: f"{family} v{FORMAT_VERSION} seed {seed}"})


def ensure_model(family: str, directory: pathlib.Path | None = None, seed: int = DEFAULT_SEED) -> pathlib.Path:
    """The cached tiny model file of ``family`` (built once per seed and format version)."""
    directory = directory or CACHE_DIR / f"tiny_models_v{FORMAT_VERSION}_{seed}"
    path = directory / FILE_NAMES[family]
    if not path.exists():
        write_atomically(path, model_bytes(family, seed))
    return path


def main(argv: list[str]) -> int:
    directory = pathlib.Path(argv[0]) if argv else None
    for family in BUILDERS:
        path = ensure_model(family, directory)
        sys.stdout.write(f"{path}  {path.stat().st_size / 1e6:.1f} MB\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
