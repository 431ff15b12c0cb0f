"""Render Speed Preset end to end: stock KSampler wiring, the ladder, overrides and bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from seed_number.nodes.core.presets import SHIPPED_PATH, SPEEDS
from tests.prompts import SEED_NODE
from tests.server.helpers import (
    PRESET_NODE,
    SHEET_NODE,
    api_workflow,
    cached_nodes,
    clear_noise_log,
    executed_nodes,
    noise_log,
    pixels,
    png_text,
    receipt,
    run_with_events,
    saved_images,
)
from tools.comfy_server import ComfyError, ComfyServer

SHIPPED = json.loads(SHIPPED_PATH.read_text())["families"]
FAMILIES = list(SHIPPED)
NO_SHIFT_FAMILIES = [f for f in FAMILIES if "shift_node" not in SHIPPED[f]]
"""The families whose presets run on the demo checkpoint (SD1.5 sampling: a shift needs a flow model)."""
OVERRIDE = "seed_number/render_speed_presets.json"


def speed_ui(entry: dict[str, Any]) -> list[dict[str, Any]]:
    return entry["outputs"][PRESET_NODE]["seed_number_speed"]


def ladder(server_prompt_size: int = 64, **preset_inputs: Any) -> dict[str, Any]:
    prompt = api_workflow("render_speed_ladder", size=server_prompt_size, seed_number=406220, mode="fixed")
    prompt[PRESET_NODE]["inputs"].update(preset_inputs)
    return prompt


def test_preset_node_is_listed_with_stock_combo_outputs(comfy_server: ComfyServer) -> None:
    info = comfy_server.get_json("/object_info/RenderSpeedPreset%7CSeedNumber")["RenderSpeedPreset|SeedNumber"]
    ksampler = comfy_server.get_json("/object_info/KSampler")["KSampler"]["input"]["required"]
    assert info["category"] == "Seed Number"
    assert info["input"]["required"]["speed"][1]["options"] == ["Turbo", "Default", "Quality", "Ladder"]
    assert info["input"]["required"]["model_family"][1]["options"] == ["auto", *FAMILIES]
    assert info["output_name"] == [  # new outputs appended: saved workflows' links by slot index keep working
        "steps",
        "cfg",
        "sampler_name",
        "scheduler",
        "sampler",
        "sigmas",
        "speed",
        "denoise",
        "model",
        "positive",
    ]
    assert info["output"][8:] == ["MODEL", "CONDITIONING"]
    assert info["input"]["optional"]["positive"][0] == "CONDITIONING"
    # the combo outputs are typed as KSampler's own option lists, so links to it validate
    assert info["output"][2] == ksampler["sampler_name"][0]
    assert info["output"][3] == ksampler["scheduler"][0]
    assert all(info["output_is_list"])


@pytest.mark.parametrize("family", NO_SHIFT_FAMILIES)
def test_every_family_and_speed_runs_through_a_stock_ksampler(comfy_server: ComfyServer, family: str) -> None:
    shipped = json.loads(SHIPPED_PATH.read_text())["families"][family]["speeds"]
    for speed in SPEEDS:
        prompt = ladder(speed=speed, model_family=family)
        prompt["6"]["inputs"]["steps"] = 2  # keep the run short; the preset's own steps are checked below
        entry = comfy_server.run(prompt)
        [ui] = speed_ui(entry)
        assert ui["family"] == family and ui["speed"] == speed
        assert {k: ui[k] for k in ("steps", "cfg", "sampler", "scheduler")} == {
            "steps": shipped[speed]["steps"],
            "cfg": shipped[speed]["cfg"],
            "sampler": shipped[speed]["sampler"],
            "scheduler": shipped[speed]["scheduler"],
        }
        assert len(saved_images(comfy_server, entry)) == 1


def test_auto_detects_sd15_on_the_demo_checkpoint(comfy_server: ComfyServer) -> None:
    prompt = ladder(speed="Turbo", model_family="auto")
    entry = comfy_server.run(prompt)
    assert speed_ui(entry)[0]["family"] == "SD1.5" and speed_ui(entry)[0]["steps"] == 12


def test_ladder_one_queue_three_speeds_same_noise_loader_once(probe_server: ComfyServer) -> None:
    clear_noise_log(probe_server)
    entry, events = run_with_events(probe_server, ladder())
    presets = speed_ui(entry)
    assert [p["speed"] for p in presets] == list(SPEEDS)
    assert [p["steps"] for p in presets] == [12, 20, 40]
    images = saved_images(probe_server, entry, node="8")
    assert len(images) == 3
    assert len({pixels(p).tobytes() for p in images}) == 3  # other steps, other images
    # each KSampler run drew its initial noise from the same seed: identical tensors
    calls = noise_log(probe_server)
    assert len(calls) == 3
    assert {c["seed"] for c in calls} == {406220} and len({c["sha256"] for c in calls}) == 1
    # the checkpoint and the text encodings ran once, the sampler once (over its 3-element lists)
    ran = executed_nodes(events)
    assert ran.count("1") == 1 and ran.count("2") == 1 and ran.count("6") == 1
    # a contact sheet with three labeled cells
    assert entry["outputs"][SHEET_NODE]["seed_number_captions"] == [
        "Seed 406220 · Turbo",
        "Seed 406220 · Default",
        "Seed 406220 · Quality",
    ]
    [sheet] = saved_images(probe_server, entry, node=SHEET_NODE)
    assert pixels(sheet).shape[1] > 3 * 64
    # re-queueing the unchanged ladder runs nothing again
    again, _ = run_with_events(probe_server, json.loads(png_text(images[0])["prompt"]))
    assert set(cached_nodes(again)) >= {"1", "2", "3", "5", "6", "9"}


def test_same_seed_and_speed_requeued_from_png_gives_identical_pixels(comfy_server: ComfyServer) -> None:
    first = comfy_server.run(api_workflow("render_speed_ladder", mode="random"))
    seed = receipt(first)["seed"]
    images = saved_images(comfy_server, first, node="8")
    for k, path in enumerate(images):
        embedded = json.loads(png_text(path)["prompt"])
        assert embedded[SEED_NODE]["inputs"]["seed_number"] == seed
        embedded[PRESET_NODE]["inputs"]["speed"] = SPEEDS[k]  # re-make just this speed
        embedded["8"]["inputs"]["filename_prefix"] = "tests/ladder_remake"
        again = comfy_server.run(embedded)
        assert np.array_equal(pixels(saved_images(comfy_server, again, node="8")[0]), pixels(path))


# -- the user's override file, through ComfyUI's own /userdata API (headless parity) --------------


def put_override(server: ComfyServer, body: bytes) -> None:
    """Upload the presets file as a single-user ComfyUI stores it: user/default/seed_number/…"""
    status, _ = server.request("POST", f"/userdata/{OVERRIDE.replace('/', '%2F')}?overwrite=true", body)
    assert status == 200


def override_path(server: ComfyServer) -> Path:
    return server.base_dir / "user" / "default" / OVERRIDE


@pytest.fixture
def clean_override(probe_server: ComfyServer):
    """The single-user test server (the session's main server runs --multi-user)."""
    yield probe_server
    override_path(probe_server).unlink(missing_ok=True)


def test_valid_override_changes_outputs_and_adds_a_family(clean_override: ComfyServer) -> None:
    server = clean_override
    override = {
        "families": {
            "SD1.5": {"speeds": {"Turbo": {"steps": 3, "sampler": "euler"}}},
            "MyTurboModel": {
                "detect": ["NoSuchConfig"],
                "speeds": {
                    s: {"steps": n, "cfg": 1.5, "sampler": "lcm", "scheduler": "sgm_uniform"}
                    for s, n in zip(SPEEDS, (1, 2, 4), strict=True)
                },
            },
        }
    }
    put_override(server, json.dumps(override).encode())
    assert override_path(server).exists()
    entry = server.run(ladder(speed="Turbo", model_family="SD1.5"))
    ui = speed_ui(entry)[0]
    assert (ui["steps"], ui["sampler"], ui["scheduler"], ui["cfg"]) == (3, "euler", "karras", 7.0)
    entry = server.run(ladder(speed="Ladder", model_family="MyTurboModel"))
    assert [p["steps"] for p in speed_ui(entry)] == [1, 2, 4]
    # lcm draws per-step noise on the device: the speed label says so
    assert all("per-step noise" in p["reproducibility"] for p in speed_ui(entry))
    assert "per-step noise" in entry["outputs"][SHEET_NODE]["seed_number_captions"][0]


MALFORMED = [
    (b"{not json", "broken JSON at line 1"),
    (b"[]", "top level must be an object"),
    (b'{"families": {}}', "'families' must be a non-empty object"),
    (b'{"families": {"SD1.5": {"speeds": {"Turbo": {"steps": -3}}}}}', "families.SD1.5.speeds.Turbo.steps: -3"),
    (b'{"families": {"SD1.5": {"speeds": {"Turbo": {"steps": "12"}}}}}', "families.SD1.5.speeds.Turbo.steps: '12'"),
    (b'{"families": {"SD1.5": {"speeds": {"Turbo": {"steps": 2.5}}}}}', "families.SD1.5.speeds.Turbo.steps: 2.5"),
    (b'{"families": {"SD1.5": {"speeds": {"Turbo": {"sampler": "euler_z"}}}}}', "unknown sampler 'euler_z'"),
    (b'{"families": {"SD1.5": {"speeds": {"Turbo": {"scheduler": "fast"}}}}}', "unknown scheduler 'fast'"),
    (b'{"families": {"SD1.5": {"speeds": {"Turbo": {"cfg": "high"}}}}}', "families.SD1.5.speeds.Turbo.cfg: 'high'"),
    (b'{"families": {"SD1.5": {"speeds": {"Turbo": {"cfg": 1e999}}}}}', "families.SD1.5.speeds.Turbo.cfg: inf"),
    (b'{"families": {"SD1.5": {"speeds": {"Turbo": {"denoise": 0}}}}}', "families.SD1.5.speeds.Turbo.denoise: 0"),
    (b'{"families": {"SD1.5": {"speeds": {"Fast": {"steps": 4}}}}}', "unknown speed 'Fast'"),
    (b'{"families": {"SD1.5": {"speeds": {"Turbo": {"stpes": 4}}}}}', "unknown field 'stpes'"),
    (b'{"families": {"New": {"speeds": {"Turbo": {"steps": 4}}}}}', "families.New.speeds: a new family needs all"),
    (b'{"families": {"SD1.5": {"speeds": []}}}', "families.SD1.5.speeds: must be an object"),
    (b'{"families": {"SD1.5": "fast"}}', "families.SD1.5: must be an object"),
    (b'{"version": 2, "families": {}}', "version 2 is not supported"),
    (b"\xff\xfe not utf8", "not UTF-8"),
    # issue 11: numbers that once raised OverflowError (500 on /object_info, the pack gone after a restart)
    (b'{"families": {"SD1.5": {"speeds": {"Turbo": {"cfg": 1' + b"0" * 400 + b"}}}}}", "cfg: a 401-digit number"),
    (b'{"families": {"SD1.5": {"speeds": {"Turbo": {"steps": 1' + b"0" * 400 + b"}}}}}", "steps: a 401-digit number"),
    (b'{"families": {"SD1.5": {"speeds": {"Turbo": {"denoise": 1e-300}}}}}', "denoise: 1e-300 is not a number from"),
    # issue 13: a shift where the model class has none, a negative shift, guidance where there is none
    (
        b'{"families": {"SD1.5": {"speeds": {"Turbo": {"shift": 3.0}}}}}',
        "families.SD1.5.speeds.Turbo.shift: SD1.5's model class has no shift",
    ),
    (b'{"families": {"SD3.x": {"speeds": {"Turbo": {"shift": -2}}}}}', "families.SD3.x.speeds.Turbo.shift: -2 is not"),
    (
        b'{"families": {"Qwen-Image": {"speeds": {"Default": {"guidance": 3.5}}}}}',
        "families.Qwen-Image.speeds.Default.guidance: Qwen-Image takes no guidance",
    ),
    (
        b'{"families": {"SDXL": {"shift_node": "ModelSamplingSD3", "speeds": {}}}}',
        "families.SDXL.shift_node: a shipped family's shift_node follows its ComfyUI model class",
    ),
    (b'{"families": {"SD1.5": {"speeds": {"Turbo": {"steps": 500, "denoise": 0.02}}}}}', "needs a schedule of 25,000"),
]


def test_malformed_overrides_each_give_one_clear_error(clean_override: ComfyServer) -> None:
    server = clean_override
    path = override_path(server)
    for body, expected in MALFORMED:
        put_override(server, body)
        status, reply = server.request("POST", "/prompt", {"prompt": ladder(speed="Turbo", model_family="SD1.5")})
        assert status == 400, (body, reply)
        details = reply["node_errors"][PRESET_NODE]["errors"][0]["details"]
        assert str(path) in details and expected in details, (body, details)
    path.unlink()
    assert server.run(ladder(speed="Turbo", model_family="SD1.5"))["status"]["completed"]  # server keeps serving


def test_a_broken_presets_file_never_unloads_the_pack(clean_override: ComfyServer) -> None:
    """Issue 11 item 2: with a hostile file in place, even across a restart, every node stays listed."""
    server = clean_override
    put_override(server, b'{"families": {"SD1.5": {"speeds": {"Turbo": {"cfg": 1' + b"0" * 400 + b"}}}}}")
    for restart in (False, True):
        if restart:
            server.restart()
        status, info = server.request("GET", "/object_info")
        assert status == 200
        ours = sorted(name for name in info if name.endswith("|SeedNumber"))
        assert len(ours) == 6, ours
        families = info["RenderSpeedPreset|SeedNumber"]["input"]["required"]["model_family"]
        assert "SD1.5" in json.dumps(families)  # the shipped families stay choosable
        status, reply = server.request("POST", "/prompt", {"prompt": ladder(speed="Turbo", model_family="SD1.5")})
        assert status == 400 and "cfg: a 401-digit number" in json.dumps(reply["node_errors"][PRESET_NODE])
    override_path(server).unlink()
    assert server.run(ladder(speed="Turbo", model_family="SD1.5"))["status"]["completed"]


# -- bad inputs through the API ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("inputs", "needle"),
    [
        ({"speed": "Fast"}, "speed: 'Fast' is not one of Turbo, Default, Quality, Ladder"),
        ({"speed": 3}, "speed: 3 is not one of"),
        ({"model_family": "SD9"}, "model_family: 'SD9' is not one of auto, SD1.5"),
        ({"model_family": ["x"]}, "model_family"),
        ({"model_family": "Flux-Dev"}, "model_family: 'Flux-Dev' is not one of auto, SD1.5"),  # names are exact
        ({"positive": "a cat"}, "positive: must be linked to a CONDITIONING output, got a constant (str)"),
    ],
)
def test_bad_preset_inputs_are_http_400_naming_the_input(
    comfy_server: ComfyServer, inputs: dict[str, Any], needle: str
) -> None:
    prompt = ladder(**inputs)
    status, reply = comfy_server.request("POST", "/prompt", {"prompt": prompt})
    assert status == 400
    errors = reply["node_errors"][PRESET_NODE]["errors"]
    assert any(needle in (e.get("details", "") + e.get("message", "")) for e in errors), errors


def test_wrong_output_type_link_and_missing_model_for_sigmas(comfy_server: ComfyServer) -> None:
    prompt = ladder(speed="Turbo", model_family="SD1.5")
    prompt["6"]["inputs"]["steps"] = [PRESET_NODE, 1]  # cfg (FLOAT) into steps (INT)
    status, reply = comfy_server.request("POST", "/prompt", {"prompt": prompt})
    assert status == 400 and reply["node_errors"]["6"]["errors"][0]["type"] == "return_type_mismatch"
    # sigmas need the model: a clear node error naming the input, and the server keeps serving
    prompt = ladder(speed="Turbo", model_family="SD1.5")
    del prompt[PRESET_NODE]["inputs"]["model"]
    prompt["20"] = {"class_type": "SplitSigmas", "inputs": {"sigmas": [PRESET_NODE, 5], "step": 1}}
    prompt["21"] = {"class_type": "PreviewAny", "inputs": {"source": ["20", 0]}}
    with pytest.raises(ComfyError, match="the sigmas output needs the model input"):
        comfy_server.run(prompt)
    assert comfy_server.run(ladder(speed="Turbo", model_family="SD1.5"))["status"]["completed"]
