"""A tiny text-to-image model the project trains itself, in SD1.5 format, for the demo and the tests.

No model weights can be downloaded here, so the demo's "the seed decides the composition" needs a model
that learns it on a CPU in about an hour. This package draws the data, trains, exports, builds the
loadable checkpoint and measures it:

* ``data``: 64x64 images of one shape (circle, square, triangle) in one plain colour on a plain
  background of another (8 colours); prompts exactly ``a {colour} {shape} on a {colour} background``.
  Position and size are random and never in the prompt.
* ``train``: seeded, resumable training (state in ``~/.cache/seed-number/train/``, written then renamed)
  of (a) a TAESD-shaped autoencoder (ComfyUI's own ``TAESD`` class, so ``VAE.__init__`` detects it) and
  (b) an SD1.5 UNet (ComfyUI's ``UNetModel`` with the layout of ``tools.demo_checkpoint``: 320 channels,
  context 768, conv transformer projections), eps-prediction on SD1's noise schedule, conditioned on the
  embeddings ComfyUI's CLIPTextEncode path gives with the generated random CLIP (``tools.demo_checkpoint``,
  loaded through ``comfy.sd`` so its fp8 weights are cast as at inference), 10 % empty-prompt dropout for
  classifier-free guidance.
* ``build``: assembles the full checkpoint (trained UNet + trained VAE from ``weights/`` + the generated
  CLIP) after verifying the files' hashes and the text encoder's fingerprint; ``evaluate``: samples
  through ``comfy.sample`` and measures colours, shapes and centroid distances.

How a one-word edit keeps the composition
-----------------------------------------
A probe found that with an ordinary autoencoder a shape-colour edit moved the shape as far as a new seed:
each latent channel mixed "where" with "which colour", so the position the denoiser read out of the
initial noise depended on the colours in the prompt. Here the latent space is constructed, not left to
the autoencoder (``train.construct_latents``), so that one channel is layout and nothing else:

* channel 0 is the shape's **coverage mask**: the 8x8 average of the anti-aliased mask. It holds no
  colour, so a colour edit leaves it exactly as it is;
* channels 1-3 are the **colours**: the RGB of the shape colour in the cells the shape touches, of the
  background colour elsewhere (a blocky label map; the decoder takes the outline from channel 0).

Each channel is standardised over the data set. The TAESD decoder learns to draw an image from such a
latent, the TAESD encoder to produce it, and the UNet to generate it. The UNet is trained on pairs that
share layout, noise and timestep and differ in one word, with a penalty (weight 3) on the difference of
the two channel-0 predictions when the edit is a colour: the layout the denoiser reads out of the
initial noise must not depend on the colour words, and the colour channels learn to follow channel 0.
A shape edit changes the mask's outline, not where the noise puts it.

The latents are N(0, 1)-like per channel by construction, so the sampler works on them as they are:
``vae_scale = 0.18215`` (ComfyUI's SD15 latent format multiplies the VAE latent by 0.18215 and TAESD
divides by ``vae_scale``, so the sampler's latent is the decoder's input itself).

Training runs on CPU in fp32 unless the CPU has bf16 instructions (AVX-512 BF16 or AMX): on an
AVX2-only CPU, bf16 autocast was measured ~50x slower than fp32, not 2x faster.

Commands (``python -m tools.demo_model ...``): ``train`` (resumes where it stopped), ``export`` (writes
``weights/`` from the training state), ``build [--out PATH]``, ``eval``.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import pathlib
import sys
from types import ModuleType

import torch

ROOT = pathlib.Path(__file__).resolve().parents[2]
CACHE = pathlib.Path(os.environ.get("SEED_NUMBER_CACHE", pathlib.Path.home() / ".cache" / "seed-number"))
TRAIN_DIR = CACHE / "train"
MODELS_DIR = CACHE / "models"
#: The committed trained weights; ``SEED_NUMBER_WEIGHTS`` points elsewhere (e.g. a fresh export to a temporary
#: folder, to try the demo or the benchmark on a training that is still running).
WEIGHTS_DIR = pathlib.Path(os.environ.get("SEED_NUMBER_WEIGHTS") or ROOT / "weights")
MANIFEST = "manifest.json"
UNET_FILE = "demo_unet.safetensors"
VAE_FILE = "demo_vae.safetensors"
CHECKPOINT_NAME = "seed_number_trained_sd15.safetensors"

TRAIN_COMMAND = "python -m tools.demo_model train"
EXPORT_COMMAND = "python -m tools.demo_model export"
BUILD_COMMAND = "python -m tools.demo_model build"

UNET_PREFIX = "model.diffusion_model."
VAE_PREFIX = "first_stage_model."
CLIP_PREFIX = "cond_stage_model."
SD1_LATENT_SCALE = 0.18215  # what ComfyUI's SD15 latent format multiplies VAE latents by


class DemoModelError(RuntimeError):
    """The trained demo model cannot be built or used; the message names the command that fixes it."""


def text_encoder_fingerprint(state: dict[str, torch.Tensor]) -> str:
    """sha256 over every text-encoder tensor (key, dtype, shape and raw bytes, keys sorted)."""
    h = hashlib.sha256()
    for key in sorted(k for k in state if k.startswith(CLIP_PREFIX)):
        t = state[key].contiguous()
        h.update(f"{key}|{t.dtype}|{tuple(t.shape)}\n".encode())
        h.update(t.view(torch.uint8).numpy().tobytes() if t.dim() else t.reshape(1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def import_comfy() -> ModuleType:
    """ComfyUI's ``comfy`` package importable, CPU only; returns ``comfy.sd``.

    ComfyUI is found as the tests find it (``COMFYUI_PATH`` or comfy-cli's default workspace).
    """
    from tools.comfy_server import find_comfyui

    path = find_comfyui()
    if path is None:
        raise DemoModelError("ComfyUI not found: set COMFYUI_PATH to a ComfyUI checkout")
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
    import comfy.cli_args

    comfy.cli_args.args.cpu = True  # before comfy.model_management is imported
    comfy.cli_args.args.use_pytorch_cross_attention = True  # sub-quadratic attention is ~50x slower here
    return importlib.import_module("comfy.sd")
