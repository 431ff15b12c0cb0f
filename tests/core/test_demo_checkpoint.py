"""Tests of the generated demo checkpoint (``tools/demo_checkpoint.py``); no ComfyUI needed."""

from __future__ import annotations

import hashlib
import os
import pathlib
import shutil

import pytest

torch = pytest.importorskip("torch", reason="torch is not installed; the demo checkpoint needs it")
safetensors_torch = pytest.importorskip(
    "safetensors.torch", reason="safetensors is not installed; the demo checkpoint needs it"
)

from tools import demo_checkpoint  # noqa: E402  (after the importorskip guards)

UNET_IN = "model.diffusion_model.input_blocks.0.0.weight"
TAESD_DECODER_IN = "first_stage_model.taesd_decoder.1.weight"
TOKEN_EMBEDDING = "cond_stage_model.transformer.text_model.embeddings.token_embedding.weight"


def _sha256(path: pathlib.Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """The default-seed checkpoint, generated once for the module."""
    return demo_checkpoint.ensure_checkpoint(tmp_path_factory.mktemp("demo_checkpoint"))


@pytest.mark.core
def test_same_seed_gives_identical_bytes(checkpoint: pathlib.Path, tmp_path: pathlib.Path) -> None:
    again = demo_checkpoint.write_checkpoint(tmp_path / "again.safetensors")
    assert _sha256(again) == _sha256(checkpoint)


@pytest.mark.core
def test_different_seed_gives_different_bytes(checkpoint: pathlib.Path, tmp_path: pathlib.Path) -> None:
    # A complete file for another seed is not reused: ensure_checkpoint rewrites it for this seed.
    shutil.copyfile(checkpoint, tmp_path / demo_checkpoint.DEFAULT_NAME)
    seed = demo_checkpoint.DEFAULT_SEED + 1
    other = demo_checkpoint.ensure_checkpoint(tmp_path, seed=seed)
    assert other.stat().st_size == checkpoint.stat().st_size
    assert _sha256(other) != _sha256(checkpoint)
    with safetensors_torch.safe_open(str(other), "pt") as f:
        assert f.metadata() == {demo_checkpoint.METADATA_KEY: f"{seed}:{demo_checkpoint.FORMAT_VERSION}"}


@pytest.mark.core
def test_write_is_clean_and_world_readable(checkpoint: pathlib.Path) -> None:
    assert checkpoint.name == demo_checkpoint.DEFAULT_NAME
    assert [p.name for p in checkpoint.parent.iterdir()] == [checkpoint.name]  # no temp files left
    if os.name == "posix":
        assert checkpoint.stat().st_mode & 0o777 == 0o644


@pytest.mark.core
def test_ensure_reuses_a_complete_file(checkpoint: pathlib.Path) -> None:
    before = checkpoint.stat()
    again = demo_checkpoint.ensure_checkpoint(checkpoint.parent)
    after = again.stat()
    assert again == checkpoint
    assert (after.st_mtime_ns, after.st_ino, after.st_size) == (
        before.st_mtime_ns,
        before.st_ino,
        before.st_size,
    )


@pytest.mark.core
def test_ensure_replaces_a_truncated_file(checkpoint: pathlib.Path, tmp_path: pathlib.Path) -> None:
    broken = tmp_path / demo_checkpoint.DEFAULT_NAME
    with open(checkpoint, "rb") as src, open(broken, "wb") as dst:
        dst.write(src.read(checkpoint.stat().st_size // 2))
    fixed = demo_checkpoint.ensure_checkpoint(tmp_path)
    assert fixed == broken
    assert _sha256(fixed) == _sha256(checkpoint)


@pytest.mark.core
def test_keys_shapes_and_values(checkpoint: pathlib.Path) -> None:
    state = safetensors_torch.load_file(str(checkpoint))
    assert state[UNET_IN].shape == (320, 4, 3, 3)
    assert state[TAESD_DECODER_IN].shape == (64, 4, 3, 3)
    assert state[TOKEN_EMBEDDING].shape == (49408, 768)
    attn2_k = "model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight"
    assert state[attn2_k].shape == (320, 768)  # context_dim 768: what SD1.5 detection reads
    assert not any(k.startswith("model.diffusion_model.middle_block.") for k in state)
    clip_layers = {k.split(".")[5] for k in state if ".text_model.encoder.layers." in k}
    assert clip_layers == {str(i) for i in range(12)}
    for key, tensor in state.items():
        assert tensor.is_floating_point(), key
        assert bool(torch.isfinite(tensor.float()).all()), key
    assert state[TOKEN_EMBEDDING].float().std() > 0.01
    assert float(state["first_stage_model.vae_scale"]) == pytest.approx(0.18215)


@pytest.mark.core
def test_state_dict_leaves_global_rng_alone() -> None:
    before = torch.random.get_rng_state()
    demo_checkpoint.build_state_dict(seed=3)
    assert torch.equal(torch.random.get_rng_state(), before)


@pytest.mark.core
@pytest.mark.parametrize("seed", [-1, 2**64, True, 1.5])
def test_bad_seed_is_rejected(seed: object) -> None:
    with pytest.raises((TypeError, ValueError)):
        demo_checkpoint.build_state_dict(seed)  # type: ignore[arg-type]


@pytest.mark.core
def test_main_logs_the_path(checkpoint: pathlib.Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="seed_number")
    mtime = checkpoint.stat().st_mtime_ns
    assert demo_checkpoint.main([str(checkpoint.parent)]) == 0  # reuses the complete file
    assert str(checkpoint) in caplog.text
    assert checkpoint.stat().st_mtime_ns == mtime
