"""Seeded, resumable training of the demo model: TAESD decoder, SD1.5 UNet, TAESD encoder.

The phases are independent (the latents are constructed, not learned), so they may run in separate
processes (``--phases``). Each keeps its state in ``<train dir>/<phase>.pt`` (settings in
``config.json``), rewritten (temporary file, fsync, rename) every
couple of minutes and at the end of each phase, so a kill at any moment loses at most those minutes;
``python -m tools.demo_model train`` continues from it, in this session or a later one. Every batch is
drawn from a generator seeded with (seed, phase, step), so a resumed run sees the batches an
uninterrupted one would have seen.

Phases:

1. ``decoder``: ComfyUI's TAESD decoder learns to draw an image from its *constructed* latent (see
   :func:`construct_latents`): channel 0 the 8x8 coverage of the shape mask, channels 1-3 the RGB of
   the shape colour in the cells the shape touches and of the background colour elsewhere.
   Mostly 32x32 crops (4x cheaper), full images at the end; small noise on the latents so the decoder
   tolerates a sampler's imperfect latents.
2. ``unet``: the SD1.5 UNet learns eps-prediction on SD1's schedule, conditioned on the precomputed
   CLIPTextEncode embeddings, 10 % empty-prompt dropout. Batches are pairs that share layout, noise and
   timestep and differ in one word; within colour pairs, the channel-0 (layout) predictions must agree.
3. ``encoder``: ComfyUI's TAESD encoder learns to map images to the constructed latents (for img2img;
   txt2img needs only the decoder).
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import os
import pathlib
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as nnf

from tools import demo_checkpoint
from tools.demo_model import (
    CLIP_PREFIX,
    DemoModelError,
    data,
    import_comfy,
    text_encoder_fingerprint,
)

if TYPE_CHECKING:  # ComfyUI is importable only after import_comfy()
    from comfy.taesd.taesd import TAESD

EMBEDDINGS_FILE = "embeddings.pt"
CLIP_DIR = "clip"

DEFAULTS = {
    "seed": 18,
    "clip_seed": demo_checkpoint.DEFAULT_SEED,
    "decoder_steps": 600,
    "decoder_batch": 16,
    "decoder_full_from": 0.8,  # fraction of decoder steps after which full 64x64 images are used
    "decoder_lr": 1e-3,
    "unet_steps": 4000,
    "unet_pairs": 16,
    "unet_lr": 3e-4,
    "unet_warmup": 50,
    "ema": 0.995,
    "cfg_dropout": 0.1,
    "pair_weight": 3.0,
    "encoder_steps": 200,
    "encoder_batch": 8,
    "encoder_lr": 5e-4,
    "save_every_s": 150.0,
}
PHASES = ("decoder", "unet", "encoder")
CONFIG_FILE = "config.json"
PHASE_FILES = {phase: f"{phase}.pt" for phase in PHASES}

LATENT_CELL = 8
#: A latent cell the shape touches (coverage above this) carries the shape colour, else the background's.
TOUCH = 0.05


def _raw_latents(batch: data.Batch, mask: torch.Tensor) -> torch.Tensor:
    cov = nnf.avg_pool2d(mask, LATENT_CELL)
    fg = data.PALETTE[batch.fg].view(-1, 3, 1, 1)
    bg = data.PALETTE[batch.bg].view(-1, 3, 1, 1)
    return torch.cat([cov, torch.where(cov > TOUCH, fg, bg)], dim=1)


def latent_stats(n: int = 8192) -> dict[str, list[float]]:
    """Per-channel mean and standard deviation of the raw latents over the data set (fixed sample)."""
    g = torch.Generator().manual_seed(0)
    labels = data.sample_labels(g, n)
    raw = _raw_latents(labels, data.render_masks(labels.layout, labels.shape))
    return {"mean": raw.mean((0, 2, 3)).tolist(), "std": raw.std((0, 2, 3)).tolist()}


def construct_latents(batch: data.Batch, mask: torch.Tensor, stats: dict[str, list[float]]) -> torch.Tensor:
    """The latent ``[n, 4, 8, 8]`` that the decoder learns to draw and the UNet learns to generate.

    Channel 0: the 8x8 coverage of the shape mask; channels 1-3: the RGB of the shape colour in the cells
    the shape touches, of the background colour elsewhere. Each channel standardised with ``stats``.
    """
    mean = torch.tensor(stats["mean"]).view(1, 4, 1, 1)
    std = torch.tensor(stats["std"]).view(1, 4, 1, 1)
    return (_raw_latents(batch, mask) - mean) / std


# --- models -----------------------------------------------------------------------------------------


_RESETS: tuple[tuple[type[torch.nn.Module], Callable[[Any], None]], ...] = (
    (torch.nn.Conv2d, torch.nn.Conv2d.reset_parameters),
    (torch.nn.Linear, torch.nn.Linear.reset_parameters),
    (torch.nn.GroupNorm, torch.nn.GroupNorm.reset_parameters),
    (torch.nn.LayerNorm, torch.nn.LayerNorm.reset_parameters),
)
"""The layer kinds :func:`_reset` initialises, each with PyTorch's own ``reset_parameters``."""


def _reset(module: torch.nn.Module) -> None:
    """Default PyTorch initialisation, also for ComfyUI's ``disable_weight_init`` layers (whose own
    ``reset_parameters`` does nothing: the base class's is called)."""
    for m in module.modules():
        for base, reset in _RESETS:
            if isinstance(m, base):
                reset(m)
                break


def unet_config() -> dict:
    """The SD15 UNet config ComfyUI detects from the demo checkpoint's layout."""
    import_comfy()
    import comfy.model_detection

    shapes = {p.key: torch.empty(p.shape) for p in demo_checkpoint._unet_params()}
    mc = comfy.model_detection.model_config_from_unet(shapes, "model.diffusion_model.")
    if type(mc).__name__ != "SD15":
        raise DemoModelError(f"ComfyUI detects the UNet layout as {type(mc).__name__}, not SD15")
    return dict(mc.unet_config)


def make_unet(seed: int) -> torch.nn.Module:
    import_comfy()
    import comfy.ops
    from comfy.ldm.modules.diffusionmodules.openaimodel import UNetModel

    torch.manual_seed(seed)
    unet = UNetModel(**unet_config(), device="cpu", operations=comfy.ops.disable_weight_init)
    _reset(unet)
    for name, p in unet.named_parameters():  # zero the last layer of every residual branch
        if name.startswith(("out.2.",)) or ".out_layers.3." in name or ".proj_out." in name:
            p.data.zero_()
    return unet


def make_taesd(seed: int) -> TAESD:
    import_comfy()
    from comfy.taesd.taesd import TAESD

    torch.manual_seed(seed)
    taesd = TAESD()
    _reset(taesd)
    with torch.no_grad():  # He initialisation, residual branches damped, so the signal survives 20 layers
        for name, m in taesd.named_modules():
            if isinstance(m, torch.nn.Conv2d):
                torch.nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                if name.endswith(".conv.4"):
                    m.weight.mul_(0.2)
                if m.bias is not None:
                    m.bias.zero_()
        taesd.taesd_decoder[-1].weight.mul_(0.1)
        taesd.taesd_decoder[-1].bias.fill_(0.5)
    return taesd


def alphas_cumprod() -> torch.Tensor:
    """SD1's schedule, as ComfyUI builds it (scaled linear betas 0.00085 to 0.012, 1000 steps)."""
    betas = torch.linspace(0.00085**0.5, 0.012**0.5, 1000, dtype=torch.float64) ** 2
    return torch.cumprod(1.0 - betas, dim=0).float()


# --- text embeddings --------------------------------------------------------------------------------


def compute_embeddings(train_dir: pathlib.Path, clip_seed: int, log: Callable[[str], None]) -> dict:
    """CLIPTextEncode of every prompt and of the empty prompt with the generated CLIP, cached."""
    path = train_dir / EMBEDDINGS_FILE
    if path.exists():
        cached = torch.load(path, weights_only=True)
        if cached.get("clip_seed") == clip_seed:
            return cached
    sd = import_comfy()
    from safetensors.torch import load_file

    ckpt = demo_checkpoint.ensure_checkpoint(train_dir / CLIP_DIR, seed=clip_seed)
    fingerprint = text_encoder_fingerprint({k: v for k, v in load_file(str(ckpt)).items() if k.startswith(CLIP_PREFIX)})
    _, clip, _, _ = sd.load_checkpoint_guess_config(str(ckpt), output_vae=False, output_clip=True)
    texts = [data.prompt(*p) for p in data.all_prompts()] + [""]
    conds = []
    start = time.time()
    for text in texts:  # exactly what CLIPTextEncode.encode does
        cond = clip.encode_from_tokens_scheduled(clip.tokenize(text))
        conds.append(cond[0][0][0].float())
    log(f"encoded {len(texts)} prompts in {time.time() - start:.0f} s; text encoder {fingerprint[:16]}")
    result = {"clip_seed": clip_seed, "fingerprint": fingerprint, "texts": texts, "cond": torch.stack(conds)}
    atomic_save(result, path)
    return result


# --- state ------------------------------------------------------------------------------------------


def atomic_save(obj: object, path: pathlib.Path) -> None:
    """torch.save to a temporary file in the same directory, fsync, then rename over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            torch.save(obj, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _generator(seed: int, phase: str, step: int) -> torch.Generator:
    return torch.Generator().manual_seed((seed * 1_000_003 + PHASES.index(phase) * 10_000_019 + step) % 2**63)


def _autocast(precision: str):
    if precision == "bf16":
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def pick_precision(requested: str) -> str:
    """bf16 autocast only where the CPU has bf16 instructions; elsewhere it is ~50x slower than fp32."""
    if requested != "auto":
        return requested
    try:
        flags = pathlib.Path("/proc/cpuinfo").read_text()
    except OSError:
        return "fp32"
    return "bf16" if ("avx512_bf16" in flags or "amx_bf16" in flags) else "fp32"


def _resumed(module: torch.nn.Module, opt: torch.optim.Optimizer, state: dict) -> torch.optim.Optimizer:
    """``opt`` for ``module``, both restored from a phase's saved ``state`` when it has them."""
    if "model" in state:
        module.load_state_dict(state["model"])
    if "opt" in state:
        opt.load_state_dict(state["opt"])
    return opt


class Trainer:
    """Runs the phases; each has its own state file, so phases may also run in separate processes."""

    def __init__(self, train_dir: pathlib.Path, overrides: dict, precision: str, log: Callable[[str], None]):
        self.dir = train_dir
        self.log = log
        self.precision = pick_precision(precision)
        config_path = train_dir / CONFIG_FILE
        train_dir.mkdir(parents=True, exist_ok=True)
        if not config_path.exists():  # create it once, even when two phase processes start together
            fresh = {**DEFAULTS, **overrides, "stats": latent_stats()}
            tmp = config_path.with_name(f".{CONFIG_FILE}.{os.getpid()}.tmp")
            _atomic_write_text(tmp, json.dumps(fresh, indent=2, sort_keys=True) + "\n")
            try:
                os.link(tmp, config_path)  # fails if another process created it first
                log(f"new training in {train_dir}: {json.dumps(fresh)}")
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        else:
            log(f"resuming in {train_dir}")
        stored = json.loads(config_path.read_text())
        self.config = {**stored, **{k: v for k, v in overrides.items() if k.endswith("_steps")}}
        ignored = {k: v for k, v in overrides.items() if not k.endswith("_steps") and stored.get(k) != v}
        if ignored:
            log(f"keeping the stored settings of {train_dir}, ignoring {ignored}")
        _atomic_write_text(config_path, json.dumps(self.config, indent=2, sort_keys=True) + "\n")
        self.stats = self.config["stats"]
        self.start = time.time()
        self.last_save = time.time()
        self.state: dict = {}
        self.phase = ""

    # -- bookkeeping

    def load(self, phase: str) -> dict:
        self.phase = phase
        path = self.dir / PHASE_FILES[phase]
        self.state = torch.load(path, weights_only=False) if path.exists() else {"step": 0}
        if self.state["step"]:
            self.log(f"{phase}: resuming at step {self.state['step']}")
        return self.state

    def save(self) -> None:
        atomic_save(self.state, self.dir / PHASE_FILES[self.phase])
        self.last_save = time.time()

    def maybe_save(self) -> None:
        if time.time() - self.last_save >= self.config["save_every_s"]:
            self.save()

    def progress(self, phase: str, step: int, total: int, loss: dict[str, float], t0: float, s0: int) -> None:
        rate = (time.time() - t0) / max(1, step - s0)
        parts = " ".join(f"{k} {v:.4f}" for k, v in loss.items())
        elapsed = time.time() - self.start
        self.log(f"{phase} step {step}/{total} {parts} | {rate:.2f} s/step, elapsed {elapsed / 60:.1f} min")

    def batch(self, phase: str, step: int, pairs: int):
        g = _generator(self.config["seed"], phase, step)
        labels, kind = data.sample_pairs(g, pairs)
        images, mask = data.render(labels)
        return g, labels, kind, images, construct_latents(labels, mask, self.stats)

    # -- phases

    def run(self, phases: tuple[str, ...] = PHASES) -> None:
        torch.set_num_threads(int(os.environ.get("SEED_NUMBER_TRAIN_THREADS", "2")))
        self.log(f"precision {self.precision}, {torch.get_num_threads()} threads, phases {', '.join(phases)}")
        for phase in phases:
            getattr(self, f"train_{phase}")()
            self.state["done"] = True
            self.save()
            self.log(f"phase {phase} done at step {self.state['step']}")
        self.log("training done")

    def _stage(self, phase: str, module: torch.nn.Module) -> tuple[dict, torch.optim.Optimizer, int, float, int]:
        """A TAESD phase's resumable state, its Adam optimizer (restored), total steps and progress clock."""
        st = self.load(phase)
        opt = _resumed(module, torch.optim.Adam(module.parameters(), lr=self.config[f"{phase}_lr"]), st)
        return st, opt, self.config[f"{phase}_steps"], time.time(), st["step"]

    def train_decoder(self) -> None:
        cfg = self.config
        dec = make_taesd(cfg["seed"]).taesd_decoder
        st, opt, total, t0, s0 = self._stage("decoder", dec)
        while st["step"] < total:
            step = st["step"]
            full = step >= cfg["decoder_full_from"] * total
            pairs = cfg["decoder_batch"] // (8 if full else 2)
            g, _, _, images, z = self.batch("decoder", step, pairs)
            if not full:  # a 4x4-latent (32x32-pixel) crop at a random cell offset
                oy, ox = (int(v) for v in torch.randint(0, 5, (2,), generator=g))
                z = z[:, :, oy : oy + 4, ox : ox + 4]
                images = images[:, :, oy * 8 : oy * 8 + 32, ox * 8 : ox * 8 + 32]
            noise = 0.1 * torch.randn(z.shape, generator=g)
            noise[:, 1:] += 0.1 * torch.randn(z.shape[0], 3, 1, 1, generator=g)
            lr = cfg["decoder_lr"] * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / total)))
            for group in opt.param_groups:
                group["lr"] = lr
            with _autocast(self.precision):
                out = dec(z + noise).float()
            loss = nnf.mse_loss(out, images) + 0.5 * nnf.l1_loss(out, images)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            st["step"] = step + 1
            if st["step"] % 10 == 0 or st["step"] == total:
                psnr = -10 * math.log10(max(nnf.mse_loss(out.detach().clamp(0, 1), images).item(), 1e-10))
                self.progress("decoder", st["step"], total, {"loss": loss.item(), "psnr": psnr}, t0, s0)
            st["opt"], st["model"] = opt.state_dict(), dec.state_dict()
            self.maybe_save()

    def train_unet(self) -> None:
        cfg = self.config
        st = self.load("unet")
        emb = compute_embeddings(self.dir, cfg["clip_seed"], self.log)
        st["fingerprint"] = emb["fingerprint"]
        cond_all = emb["cond"]
        empty = len(emb["texts"]) - 1
        unet = make_unet(cfg["seed"] + 1)
        if "model" in st:
            unet.load_state_dict(st["model"])
        ema = copy.deepcopy(unet).requires_grad_(False)
        if "ema" in st:
            ema.load_state_dict(st["ema"])
        opt = torch.optim.AdamW(unet.parameters(), lr=cfg["unet_lr"], weight_decay=0.0)
        if "opt" in st:
            opt.load_state_dict(st["opt"])
        ac = alphas_cumprod()
        total = cfg["unet_steps"]
        n = cfg["unet_pairs"]
        t0, s0 = time.time(), st["step"]
        avg: dict[str, float] = {}
        while st["step"] < total:
            step = st["step"]
            g, labels, kind, _, x0 = self.batch("unet", step, n)
            t = torch.randint(0, 1000, (n,), generator=g).repeat(2)
            eps = torch.randn(n, *x0.shape[1:], generator=g).repeat(2, 1, 1, 1)
            a = ac[t].view(-1, 1, 1, 1)
            xt = a.sqrt() * x0 + (1 - a).sqrt() * eps
            idx = labels.prompt_index()
            drop = (torch.rand(n, generator=g) < cfg["cfg_dropout"]).repeat(2)
            idx = torch.where(drop, torch.full_like(idx, empty), idx)
            context = cond_all[idx]
            for group in opt.param_groups:
                group["lr"] = cfg["unet_lr"] * min(1.0, (step + 1) / cfg["unet_warmup"])
            with _autocast(self.precision):
                pred = unet(xt, t.float(), context=context).float()
            mse = nnf.mse_loss(pred, eps)
            colour_pair = (kind != data.PAIR_SHAPE).float().view(n, 1, 1, 1)
            pair = ((pred[:n, :1] - pred[n:, :1]) ** 2 * colour_pair).mean()
            loss = mse + cfg["pair_weight"] * pair
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(unet.parameters(), 1.0)
            opt.step()
            decay = min(cfg["ema"], (1 + step) / (10 + step))
            with torch.no_grad():
                for pe, pm in zip(ema.parameters(), unet.parameters(), strict=True):
                    pe.lerp_(pm, 1 - decay)
            st["step"] = step + 1
            for k, v in (("loss", mse.item()), ("pair", pair.item())):
                avg[k] = v if k not in avg else 0.95 * avg[k] + 0.05 * v
            if st["step"] % 10 == 0 or st["step"] == total:
                self.progress("unet", st["step"], total, avg, t0, s0)
            if time.time() - self.last_save >= cfg["save_every_s"] or st["step"] == total:
                st["model"], st["ema"], st["opt"] = unet.state_dict(), ema.state_dict(), opt.state_dict()
                self.save()

    def train_encoder(self) -> None:
        cfg = self.config
        enc = make_taesd(cfg["seed"]).taesd_encoder
        st, opt, total, t0, s0 = self._stage("encoder", enc)
        while st["step"] < total:
            step = st["step"]
            _, _, _, images, z = self.batch("encoder", step, cfg["encoder_batch"] // 2)
            with _autocast(self.precision):
                out = enc(images).float()  # TAESD.encode feeds the encoder images in [0, 1]
            loss = nnf.mse_loss(out, z)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            st["step"] = step + 1
            if st["step"] % 10 == 0 or st["step"] == total:
                self.progress("encoder", st["step"], total, {"loss": loss.item()}, t0, s0)
            st["opt"], st["model"] = opt.state_dict(), enc.state_dict()
            self.maybe_save()


def _atomic_write_text(path: pathlib.Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def load_phase(train_dir: pathlib.Path, phase: str) -> dict | None:
    """A phase's saved state (None if it has not saved yet)."""
    path = train_dir / PHASE_FILES[phase]
    return torch.load(path, weights_only=False) if path.exists() else None
