"""Tests of the trained demo model's data set and build step (``tools/demo_model``); no ComfyUI, no training."""

from __future__ import annotations

import json
import math
import pathlib

import pytest

torch = pytest.importorskip("torch", reason="torch is not installed; the demo model needs it")
safetensors_torch = pytest.importorskip("safetensors.torch", reason="safetensors is not installed")

from tools import demo_checkpoint  # noqa: E402  (after the importorskip guards)
from tools.demo_model import (  # noqa: E402
    MANIFEST,
    TRAIN_COMMAND,
    UNET_FILE,
    VAE_FILE,
    DemoModelError,
    build,
    data,
    text_encoder_fingerprint,
    train,
)
from tools.demo_model import __main__ as cli  # noqa: E402

pytestmark = pytest.mark.core


def test_prompts_are_exactly_the_template() -> None:
    prompts = data.all_prompts()
    assert len(prompts) == 8 * 7 * 3
    assert {fg for fg, _, _ in prompts} >= {"red", "green", "blue", "yellow", "white", "black", "purple", "orange"}
    assert {shape for _, shape, _ in prompts} == {"circle", "square", "triangle"}
    assert all(fg != bg for fg, _, bg in prompts)
    assert data.prompt("red", "circle", "blue") == "a red circle on a blue background"


def test_the_data_set_draws_what_the_prompt_says() -> None:
    g = torch.Generator().manual_seed(7)
    labels = data.sample_labels(g, 96)
    images, masks = data.render(labels)
    assert images.shape == (96, 3, 64, 64) and masks.shape == (96, 1, 64, 64)
    for i, text in enumerate(labels.prompts()):
        words = text.split()
        a = data.analyse(images[i])
        assert (a.shape_colour, a.shape, a.background) == (words[1], words[2], words[5]), text
        cx, cy, r = (float(v) for v in labels.layout[i])
        assert math.dist(a.centroid, (cx, cy)) < 1.0, text  # the centre drawn is where the shape is
        assert 0.5 * math.pi * r * r < a.area < 1.5 * math.pi * r * r
        assert bool(masks[i, 0, 0].max() == 0) and bool(masks[i, 0, -1].max() == 0)  # inside the frame


def test_position_and_size_vary_and_stay_out_of_the_prompt() -> None:
    g = torch.Generator().manual_seed(3)
    labels = data.sample_labels(g, 256)
    xs, ys, rs = labels.layout.T
    assert float(xs.std()) > 6 and float(ys.std()) > 6 and float(rs.max() - rs.min()) > 4
    assert not any(ch.isdigit() for text in labels.prompts() for ch in text)


def test_pairs_share_the_layout_and_differ_in_one_word() -> None:
    g = torch.Generator().manual_seed(5)
    batch, kind = data.sample_pairs(g, 64)
    n = 64
    assert torch.equal(batch.layout[:n], batch.layout[n:])
    differs = torch.stack(
        [batch.fg[:n] != batch.fg[n:], batch.shape[:n] != batch.shape[n:], batch.bg[:n] != batch.bg[n:]], dim=1
    )
    assert bool((differs.sum(1) == 1).all())
    assert torch.equal(differs.float().argmax(1), kind)
    assert bool((batch.fg != batch.bg).all())


def test_constructed_latents_keep_layout_apart_from_colour() -> None:
    g = torch.Generator().manual_seed(11)
    batch, kind = data.sample_pairs(g, 32)
    _, masks = data.render(batch)
    z = train.construct_latents(batch, masks, train.latent_stats(512))
    assert z.shape == (64, 4, 8, 8)
    colour_pairs = kind != data.PAIR_SHAPE
    assert torch.equal(z[:32][colour_pairs, 0], z[32:][colour_pairs, 0])  # colour edits: same layout channel
    for i in range(64):  # channels 1-3: two colours, the shape's exactly where the shape touches a cell
        colours = z[i, 1:].flatten(1).T.unique(dim=0)
        assert len(colours) == 2
        touched = z[i, 1:] != z[i, 1:, 0, 0].view(3, 1, 1)  # the shape never touches the corner cell
        assert torch.equal(touched.any(0), masks[i, 0].view(8, 8, 8, 8).permute(0, 2, 1, 3).mean((2, 3)) > 0.05)
    assert bool((z.mean((0, 2, 3)).abs() < 0.3).all()) and bool(((z.std((0, 2, 3)) - 1).abs() < 0.3).all())


def test_shape_classifier_on_drawn_shapes() -> None:
    g = torch.Generator().manual_seed(13)
    labels = data.sample_labels(g, 120)
    _, masks = data.render(labels)
    right = sum(data.classify_shape(masks[i, 0] > 0.5) == data.SHAPES[int(labels.shape[i])] for i in range(len(masks)))
    assert right == len(masks)


# --- build ------------------------------------------------------------------------------------------


def _fake_weights(directory: pathlib.Path, fingerprint: str) -> pathlib.Path:
    """A weights/ folder whose files match the manifest's hashes (the tensors themselves are dummies)."""
    directory.mkdir(parents=True, exist_ok=True)
    files = {}
    for name in (UNET_FILE, VAE_FILE):
        safetensors_torch.save_file({"x": torch.zeros(2)}, str(directory / name))
        files[name] = {"sha256": build._sha256(directory / name), "bytes": (directory / name).stat().st_size}
    manifest = {
        "format": build.FORMAT,
        "clip_seed": demo_checkpoint.DEFAULT_SEED,
        "text_encoder_fingerprint": fingerprint,
        "files": files,
    }
    (directory / MANIFEST).write_text(json.dumps(manifest))
    return directory


def test_build_refuses_a_mismatched_text_encoder(tmp_path: pathlib.Path) -> None:
    weights = _fake_weights(tmp_path / "weights", "0" * 64)
    out = tmp_path / "model.safetensors"
    with pytest.raises(DemoModelError) as info:
        build.build(weights, out)
    message = str(info.value)
    assert "fingerprint" in message and TRAIN_COMMAND in message and "noise" in message
    assert not out.exists() and list(tmp_path.glob("*.tmp")) == []


def test_build_refuses_a_corrupt_weights_file(tmp_path: pathlib.Path) -> None:
    weights = _fake_weights(tmp_path / "weights", "0" * 64)
    with open(weights / UNET_FILE, "r+b") as fh:
        fh.seek(-1, 2)
        fh.write(b"\x01")
    with pytest.raises(DemoModelError, match="corrupt") as info:
        build.build(weights, tmp_path / "model.safetensors")
    assert "git checkout -- weights/" in str(info.value) and TRAIN_COMMAND in str(info.value)


def test_build_names_the_command_when_weights_are_missing(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(DemoModelError, match="is missing") as info:
        build.build(tmp_path / "nothing", tmp_path / "model.safetensors")
    assert TRAIN_COMMAND in str(info.value)
    weights = _fake_weights(tmp_path / "weights", "0" * 64)
    (weights / VAE_FILE).unlink()
    assert cli.main(["build", "--weights", str(weights), "--out", str(tmp_path / "m.safetensors")]) == 2
    err = capsys.readouterr().err
    assert "demo_vae.safetensors is missing" in err and TRAIN_COMMAND in err


def test_fingerprint_sees_every_text_encoder_weight() -> None:
    state = {
        "cond_stage_model.a": torch.zeros(3, dtype=torch.float8_e4m3fn),
        "cond_stage_model.b": torch.ones(2),
        "model.diffusion_model.c": torch.ones(1),
    }
    base = text_encoder_fingerprint(state)
    assert base == text_encoder_fingerprint(dict(reversed(state.items())))
    assert base == text_encoder_fingerprint({**state, "model.diffusion_model.c": torch.zeros(1)})
    changed = dict(state)
    changed["cond_stage_model.a"] = torch.tensor([0.0, 0.0, 0.125]).to(torch.float8_e4m3fn)
    assert text_encoder_fingerprint(changed) != base


def test_committed_weights_match_their_manifest() -> None:
    weights = build.WEIGHTS_DIR
    if not (weights / MANIFEST).exists():
        pytest.skip("no trained weights/ in this checkout")
    manifest = build.read_manifest(weights)
    build._check_files(weights, manifest)
    assert sum(entry["bytes"] for entry in manifest["files"].values()) <= 32_000_000
    assert manifest["vae_scale"] == pytest.approx(0.18215 * manifest["latent_std"])
