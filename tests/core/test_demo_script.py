"""``scripts/demo`` (``tools/demo.py``): the trained model's prompts in the example copies, and ``--prepare``."""

from __future__ import annotations

import pathlib

import pytest

pytest.importorskip("torch", reason="torch is not installed; the demo model needs it")

from tools import demo

pytestmark = pytest.mark.core


def test_the_examples_get_prompts_the_demo_model_knows_and_its_size() -> None:
    workflows = demo.load_workflows("trained.safetensors", demo.DEMO_SIZE, None, demo_prompts=True)
    assert {"render_speed_ladder", "seed_sweep", "variant_sweep_list", "variant_sweep_batched"} <= set(workflows)
    for name, prompt in workflows.items():
        for node in prompt.values():
            inputs = node["inputs"]
            if node["class_type"] == "CLIPTextEncode" and isinstance(inputs["text"], str):  # not a linked text
                assert inputs["text"] in (demo.DEMO_PROMPT, demo.DEMO_NEGATIVE), name
            if node["class_type"] == "PromptVariantSweep|SeedNumber":
                assert inputs["template"] == demo.DEMO_TEMPLATE and inputs["negative"] == demo.DEMO_NEGATIVE
            if node["class_type"] == "EmptyLatentImage" and not isinstance(inputs["width"], list):
                assert (inputs["width"], inputs["height"]) == (64, 64)
            if node["class_type"] == "CheckpointLoaderSimple":
                assert inputs["ckpt_name"] == "trained.safetensors"
    ladder = workflows["render_speed_ladder"]
    sampler = next(n for n in ladder.values() if n["class_type"] == "KSampler")["inputs"]
    assert ladder[sampler["positive"][0]]["inputs"]["text"] == demo.DEMO_PROMPT
    assert ladder[sampler["negative"][0]]["inputs"]["text"] == demo.DEMO_NEGATIVE
    remake = workflows.get("remake_a1111_image")
    if remake is not None:  # a re-make keeps the size and prompt it reads from the image
        latent = next(n for n in remake.values() if n["class_type"] == "EmptyLatentImage")["inputs"]
        assert isinstance(latent["width"], list) and isinstance(latent["height"], list)


def test_a_real_checkpoint_runs_the_examples_as_they_are() -> None:
    workflows = demo.load_workflows("real.safetensors", None, None)
    texts = {
        str(n["inputs"]["text"]) for p in workflows.values() for n in p.values() if n["class_type"] == "CLIPTextEncode"
    }
    assert demo.DEMO_PROMPT not in texts and "blurry, low quality" in texts


def test_prepare_without_weights_names_the_command_and_exits_non_zero(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    from tools.comfy_server import find_comfyui

    if find_comfyui() is None:
        pytest.skip("no ComfyUI: --prepare stops before the model")
    assert demo.main(["--prepare", "--weights", str(tmp_path / "missing")]) == 2
    assert capsys.readouterr().out == ""  # no path printed
    assert "python -m tools.demo_model train" in caplog.text and "manifest.json is missing" in caplog.text
    assert "Traceback" not in caplog.text


def test_prepare_prints_a_given_checkpoint_as_the_last_line(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tools.comfy_server import find_comfyui

    if find_comfyui() is None:
        pytest.skip("no ComfyUI")
    model = tmp_path / "model.safetensors"
    model.write_bytes(b"x")
    assert demo.main(["--prepare", "--checkpoint", str(model)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == str(model.resolve())
    assert demo.main(["--prepare", "--checkpoint", str(tmp_path / "nope.safetensors")]) == 2


def test_sheets_are_copied_under_the_workflows_name(tmp_path: pathlib.Path) -> None:
    prompt = {"8": {"class_type": "SaveImage"}, "10": {"class_type": demo.SHEET_NODE}}
    out, sheets = tmp_path / "out", tmp_path / "docs"
    out.mkdir()
    sheets.mkdir()
    for name in ("a.png", "sheet.png"):
        (out / name).write_bytes(name.encode())
    rows = [{"node": "8", "file": "a.png"}, {"node": "10", "file": "sheet.png"}]
    assert demo.copy_sheets(prompt, "seed_sweep", rows, out, sheets) == [sheets / "seed_sweep.png"]
    assert (sheets / "seed_sweep.png").read_bytes() == b"sheet.png"
