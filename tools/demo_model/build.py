"""Export the trained parts to ``weights/`` and build the loadable SD1.5 checkpoint from them.

``weights/`` holds ``demo_unet.safetensors`` (the UNet's EMA weights, float16),
``demo_vae.safetensors`` (TAESD: decoder float16, encoder float8 with one float32 scale per tensor, to
stay within the 32 MB budget) and ``manifest.json`` (how they were made, their sha256, and the
fingerprint of the text encoder the UNet was trained with).

``build`` regenerates the random CLIP with ``tools.demo_checkpoint``, checks its fingerprint and the
files' hashes, and writes the full checkpoint (temporary file, then rename). It never writes a model
that would silently make noise: any mismatch is an error naming the command that fixes it.
"""

from __future__ import annotations

import hashlib
import json
import pathlib

import torch
from safetensors import safe_open
from safetensors.torch import load_file
from safetensors.torch import save as safetensors_save

from tools import demo_checkpoint
from tools.demo_model import (
    BUILD_COMMAND,
    CHECKPOINT_NAME,
    EXPORT_COMMAND,
    MANIFEST,
    MODELS_DIR,
    SD1_LATENT_SCALE,
    TRAIN_COMMAND,
    TRAIN_DIR,
    UNET_FILE,
    UNET_PREFIX,
    VAE_FILE,
    VAE_PREFIX,
    WEIGHTS_DIR,
    DemoModelError,
    text_encoder_fingerprint,
)

FORMAT = 1
METADATA_KEY = "seed_number_trained_demo"
_SCALE_SUFFIX = ".fp8_scale"
_FP8 = torch.float8_e4m3fn
_FP8_MAX = 448.0


def _sha256(path: pathlib.Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# --- export -----------------------------------------------------------------------------------------


def _quantise(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """float8 tensors, each with a float32 scale so that its largest value maps to float8's maximum."""
    out = {}
    for key, t in state.items():
        t = t.float()
        scale = max(float(t.abs().max()), 1e-12) / _FP8_MAX
        out[key] = (t / scale).to(_FP8)
        out[key + _SCALE_SUFFIX] = torch.tensor(scale, dtype=torch.float32)
    return out


def _dequantise(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    out = {}
    for key, t in state.items():
        if key.endswith(_SCALE_SUFFIX):
            continue
        if t.dtype == _FP8:
            t = (t.float() * state[key + _SCALE_SUFFIX].float()).to(torch.float16)
        out[key] = t
    return out


def export(train_dir: pathlib.Path = TRAIN_DIR, out_dir: pathlib.Path = WEIGHTS_DIR) -> list[pathlib.Path]:
    """Write the UNet (EMA) and TAESD of the training state under ``out_dir``, with the manifest."""
    from tools.demo_model.train import load_phase, make_taesd

    if not (train_dir / "config.json").exists():
        raise DemoModelError(f"no training state in {train_dir}: run `{TRAIN_COMMAND}` first")
    cfg = json.loads((train_dir / "config.json").read_text())
    phases = {phase: load_phase(train_dir, phase) for phase in ("decoder", "unet", "encoder")}
    unet_state = phases["unet"]
    if unet_state is None or "ema" not in unet_state or phases["decoder"] is None:
        raise DemoModelError(
            f"the training in {train_dir} has no UNet or decoder yet: let `{TRAIN_COMMAND}` run longer"
        )
    unet = {UNET_PREFIX + k: v.to(torch.float16).contiguous() for k, v in unet_state["ema"].items()}
    taesd = make_taesd(cfg["seed"])
    taesd.taesd_decoder.load_state_dict(phases["decoder"]["model"])
    if phases["encoder"] is not None:
        taesd.taesd_encoder.load_state_dict(phases["encoder"]["model"])
    tensors = taesd.state_dict()
    vae = {
        VAE_PREFIX + k: v.to(torch.float16).contiguous() for k, v in tensors.items() if k.startswith("taesd_decoder.")
    }
    encoder = {VAE_PREFIX + k: v for k, v in tensors.items() if k.startswith("taesd_encoder.")}
    vae.update(_quantise(encoder))
    latent_std = 1.0  # the constructed latents are standardised per channel (see train.construct_latents)
    vae[VAE_PREFIX + "vae_scale"] = torch.tensor(SD1_LATENT_SCALE * latent_std, dtype=torch.float32)
    vae[VAE_PREFIX + "vae_shift"] = torch.tensor(0.0, dtype=torch.float32)
    files = {UNET_FILE: unet, VAE_FILE: vae}
    written = []
    entries = {}
    for name, tensors in files.items():
        target = out_dir / name
        demo_checkpoint.write_atomically(target, safetensors_save(tensors, metadata={METADATA_KEY: str(FORMAT)}))
        entries[name] = {"sha256": _sha256(target), "bytes": target.stat().st_size}
        written.append(target)
    steps = {phase: (st or {}).get("step", 0) for phase, st in phases.items()}
    manifest = {
        "format": FORMAT,
        "description": "Seed Number's trained demo model (tools/demo_model): UNet + TAESD; CLIP generated",
        "train_command": f"{TRAIN_COMMAND} --seed {cfg['seed']} --decoder-steps {cfg['decoder_steps']} "
        f"--unet-steps {cfg['unet_steps']} --encoder-steps {cfg['encoder_steps']}",
        "export_command": EXPORT_COMMAND,
        "build_command": BUILD_COMMAND,
        "seed": cfg["seed"],
        "clip_seed": cfg["clip_seed"],
        "steps": steps,
        "complete": all(st is not None and st.get("done") for st in phases.values()),
        "config": cfg,
        "latent_std": latent_std,
        "vae_scale": SD1_LATENT_SCALE * latent_std,
        "vae_shift": 0.0,
        "torch": torch.__version__,
        "text_encoder_fingerprint": unet_state["fingerprint"],
        "files": entries,
    }
    manifest_path = out_dir / MANIFEST
    demo_checkpoint.write_atomically(manifest_path, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())
    written.append(manifest_path)
    return written


# --- build ------------------------------------------------------------------------------------------

_REBUILD = (
    f"restore weights/ from git (`git checkout -- weights/`), or retrain and export them: "
    f"`{TRAIN_COMMAND}` then `{EXPORT_COMMAND}`"
)


def read_manifest(weights: pathlib.Path) -> dict:
    path = weights / MANIFEST
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise DemoModelError(f"{path} is missing: {_REBUILD}") from None
    except (OSError, ValueError) as exc:
        raise DemoModelError(f"{path} is unreadable ({exc}): {_REBUILD}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise DemoModelError(f"{path} is not a format-{FORMAT} manifest: {_REBUILD}")
    return manifest


def _check_files(weights: pathlib.Path, manifest: dict) -> None:
    for name in (UNET_FILE, VAE_FILE):
        path = weights / name
        entry = manifest.get("files", {}).get(name)
        if not path.is_file():
            raise DemoModelError(f"{path} is missing: {_REBUILD}")
        if not isinstance(entry, dict) or _sha256(path) != entry.get("sha256"):
            raise DemoModelError(f"{path} is corrupt (its sha256 is not the manifest's): {_REBUILD}")


def _build_metadata(manifest_bytes: bytes) -> dict[str, str]:
    return {METADATA_KEY: hashlib.sha256(manifest_bytes).hexdigest()}


def _is_current(path: pathlib.Path, metadata: dict[str, str]) -> bool:
    """Whether ``path`` is a complete checkpoint built from these very weights (header check only)."""
    try:
        with safe_open(str(path), "pt") as f:
            if f.metadata() != metadata:
                return False
        with open(path, "rb") as fh:
            header_len = int.from_bytes(fh.read(8), "little")
            header = json.loads(fh.read(header_len))
        header.pop("__metadata__", None)
        end = max(int(v["data_offsets"][1]) for v in header.values())
        return path.stat().st_size == 8 + header_len + end
    except Exception:
        return False


def build(weights: pathlib.Path = WEIGHTS_DIR, out: pathlib.Path | None = None, force: bool = False) -> pathlib.Path:
    """Assemble the trained demo checkpoint and return its path (reused if already built from ``weights``).

    Raises:
        DemoModelError: a weights file or the manifest is missing or corrupt, or the generated text
            encoder is not the one the UNet was trained with (its fingerprint differs).
    """
    weights = pathlib.Path(weights)
    target = pathlib.Path(out) if out is not None else MODELS_DIR / CHECKPOINT_NAME
    manifest = read_manifest(weights)
    metadata = _build_metadata((weights / MANIFEST).read_bytes())
    _check_files(weights, manifest)
    if not force and _is_current(target, metadata):
        return target
    state = demo_checkpoint.build_state_dict(int(manifest["clip_seed"]))
    fingerprint = text_encoder_fingerprint(state)
    if fingerprint != manifest.get("text_encoder_fingerprint"):
        raise DemoModelError(
            f"the generated text encoder (fingerprint {fingerprint[:16]}…) is not the one the UNet in {weights} "
            f"was trained with ({str(manifest.get('text_encoder_fingerprint'))[:16]}…); tools/demo_checkpoint.py "
            f"or torch changed how it is generated. The model would only make noise, so nothing was built: "
            f"retrain with `{TRAIN_COMMAND}` (in a fresh --dir) and `{EXPORT_COMMAND}`, or restore the "
            f"generator that matches"
        )
    for name, prefix in ((UNET_FILE, UNET_PREFIX), (VAE_FILE, VAE_PREFIX)):
        try:
            trained = _dequantise(load_file(str(weights / name)))
        except Exception as exc:
            raise DemoModelError(f"{weights / name} is unreadable ({exc}): {_REBUILD}") from None
        expected = {k for k in state if k.startswith(prefix)}
        if set(trained) != expected:
            raise DemoModelError(f"{weights / name} does not have the expected {prefix}* tensors: {_REBUILD}")
        for key, tensor in trained.items():
            if tensor.shape != state[key].shape:
                raise DemoModelError(f"{weights / name}: {key} has shape {tuple(tensor.shape)}: {_REBUILD}")
            state[key] = tensor.contiguous()
    demo_checkpoint.write_atomically(target, safetensors_save(state, metadata=metadata))
    return target


def ensure_built(weights: pathlib.Path = WEIGHTS_DIR, out: pathlib.Path | None = None) -> pathlib.Path:
    """:func:`build`, for callers (demo, tests): the path of the trained checkpoint."""
    return build(weights, out)


__all__ = ["BUILD_COMMAND", "build", "ensure_built", "export", "read_manifest"]
