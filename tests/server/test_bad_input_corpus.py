"""The bad-input corpus (``bad_inputs.json``): every input of every node, malformed, through ``POST /prompt``.

Each case mutates one node of an example API workflow (shrunk to 64x64 and 2 steps; a mutated output
node is the prompt's only output, so its refusal refuses the prompt) and expects one of:

- ``http400``: refused, ``node_errors[node]`` has an error naming ``input`` (ComfyUI's own error for
  that input, or our ``validate_inputs`` message starting with the input's name);
- ``node_error``: accepted, then the node fails with an exception message naming ``input``;
- ``ok``: runs (ComfyUI's own coercions and ignored extra inputs, documented with a ``note``); every
  file it reports lies inside the output or temp folder;
- ``http400_core``: refused by ComfyUI 0.3.64 itself, which indexes a link's target unguarded in
  ``execution.validate_inputs``: the error names the bad target (``mentions``), not the input.

After the whole corpus a good prompt still runs, and no file appeared in ComfyUI's base directory
outside ``output/`` and ``temp/`` (nor anywhere near it under a traversal payload's name).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from tests.paths import ROOT
from tests.prompts import example_prompt
from tests.server.helpers import receipt
from tools.comfy_server import ComfyError, ComfyServer

CORPUS = json.loads(Path(__file__).with_name("bad_inputs.json").read_text(encoding="utf-8"))
CASES: list[dict[str, Any]] = CORPUS["cases"]
OUTPUT_CLASSES = frozenset(
    {"SaveImage", "PreviewImage", "PreviewAny", "SeedDetails|SeedNumber", "SeedContactSheet|SeedNumber"}
)
ESCAPE_MARK = "seed_number_escape"
"""Every traversal payload writes (if it ever writes) a file with this in its name."""
OWN_FOLDERS = ("output", "temp", "user")
"""Top-level folders of the base directory that ComfyUI writes to by design (user: its settings)."""
EXPECTS = ("http400", "node_error", "ok", "http400_core")
A1111 = "a red cube\nNegative prompt: fog\nSteps: 2, Sampler: Euler, CFG scale: 5.5, Seed: 123, Size: 64x64"


# -- building a case's prompt --------------------------------------------------------------------


def decode(value: Any) -> Any:
    """A corpus value as sent: ``{"$repeat": [text, n]}`` is ``text * n``; ``{"$float": "nan"}`` a float."""
    if isinstance(value, dict) and len(value) == 1:
        [(key, arg)] = value.items()
        if key == "$repeat":
            return arg[0] * arg[1]
        if key == "$float":
            return float(arg)
    if isinstance(value, dict):
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


def load_base(name: str) -> dict[str, Any]:
    """``workflows/api/<name>.json``, or a derived base: ``from`` less ``drop``, plus ``add``/``set``/``delete``."""
    derived = CORPUS.get("bases", {}).get(name)
    if derived is None:
        return json.loads((ROOT / "workflows" / "api" / f"{name}.json").read_text(encoding="utf-8"))
    prompt = load_base(derived["from"])
    for node in derived.get("drop", []):
        del prompt[node]
    prompt.update(decode(derived.get("add", {})))
    for node, inputs in derived.get("set", {}).items():
        prompt[node]["inputs"].update(decode(inputs))
    for node, names in derived.get("delete", {}).items():
        for name in names:
            del prompt[node]["inputs"][name]
    return prompt


def shrink(prompt: dict[str, Any], tag: str) -> dict[str, Any]:
    """64x64, 2 steps, at most 2 seeds, fixed seeds (cached between cases) and files under ``corpus/``."""
    for node in prompt.values():
        kind, inputs = node["class_type"], node["inputs"]
        if kind == "EmptyLatentImage":
            inputs.update(width=64, height=64)
        if kind in ("KSampler", "BasicScheduler"):
            inputs["steps"] = 2
        if kind == "SeedSource|SeedNumber":
            inputs["mode"] = "fixed"
            if not isinstance(inputs.get("seed_number"), list):
                inputs["seed_number"] = 406220
            inputs["count"] = min(int(inputs.get("count", 1)), 2)
        if "filename_prefix" in inputs:
            inputs["filename_prefix"] = f"corpus/{tag}_{kind.split('|')[0]}"
    return prompt


def build(case: dict[str, Any]) -> dict[str, Any]:
    prompt = shrink(load_base(case["base"]), case["base"])
    prompt.update(decode(case.get("add", {})))
    node = prompt[case["node"]]
    if node["class_type"] in OUTPUT_CLASSES:  # the node's refusal must refuse the whole prompt
        for other in [k for k, v in prompt.items() if k != case["node"] and v["class_type"] in OUTPUT_CLASSES]:
            del prompt[other]
    node["inputs"].update(decode(case.get("set", {})))
    for name in case.get("delete", []):
        node["inputs"].pop(name, None)
    return prompt


# -- what the server answers ---------------------------------------------------------------------


def names(text: Any, name: str) -> bool:
    """``text`` names input ``name`` as a word (``seed`` is not named by ``seed_number``)."""
    return isinstance(text, str) and re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text) is not None


def error_names_input(error: dict[str, Any], name: str) -> bool:
    """A validation error that blames input ``name``: ComfyUI's own, or our validate_inputs message."""
    if error.get("type") == "custom_validation_failed":
        # ComfyUI files the message under every input validate_inputs takes: the message must name it
        reason = error.get("details", "").partition(" - ")[2]
        return reason.startswith(f"{name}:") or names(reason, name)
    if str(error.get("type", "")).startswith("exception_"):  # a crash during validation names nothing
        return False
    return error.get("extra_info", {}).get("input_name") == name


def execution_error(server: ComfyServer, prompt_id: str) -> dict[str, Any]:
    """The ``execution_error`` message of a failed prompt, from ``/history``."""
    with pytest.raises(ComfyError):
        server.wait(prompt_id, timeout=120)
    entry = server.get_json(f"/history/{prompt_id}")[prompt_id]
    errors = [data for kind, data in entry["status"]["messages"] if kind == "execution_error"]
    assert errors, entry["status"]
    return errors[0]


def reported_files(server: ComfyServer, entry: dict[str, Any]) -> list[Path]:
    return [server.output_path(img) for out in entry["outputs"].values() for img in out.get("images", [])]


def listing(base_dir: Path) -> set[str]:
    """Every path in the base directory except ComfyUI's own folders and log (symlinks are not followed)."""
    found = set()
    for top, dirs, files in os.walk(base_dir):
        rel = Path(top).relative_to(base_dir)
        if rel == Path("."):
            dirs[:] = [d for d in dirs if d not in OWN_FOLDERS]
            files = [f for f in files if f != "comfyui.log"]
        found.update(str(rel / name) for name in dirs + files)
    return found


def escaped_files(roots: list[Path]) -> list[str]:
    hits = []
    for root in roots:
        for top, dirs, files in os.walk(root):
            hits += [os.path.join(top, f) for f in dirs + files if ESCAPE_MARK in f]
            if root == Path("/tmp"):
                break  # only /tmp itself: it is shared with everything else on the machine
    return hits


class Corpus(NamedTuple):
    server: ComfyServer
    before: set[str]
    """``listing`` of the base directory before the first case."""


@pytest.fixture(scope="module")
def corpus(comfy_server: ComfyServer) -> Corpus:
    """The session's ComfyUI, with the input files the Load Seed Details cases name; then a snapshot."""
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    inputs = comfy_server.base_dir / "input"
    info = PngInfo()
    info.add_text("parameters", A1111)
    Image.new("RGB", (64, 64)).save(inputs / "corpus_a1111.png", pnginfo=info)
    Image.new("RGB", (64, 64)).save(inputs / "corpus_plain.png")
    (inputs / "corpus_text.png").write_text("not a PNG, just text\n")
    outside = comfy_server.base_dir.parent / "corpus_outside.png"  # loads fine, if the link were followed
    Image.new("RGB", (64, 64)).save(outside, pnginfo=info)
    link = inputs / "corpus_escape_link.png"
    if not link.is_symlink():
        link.symlink_to(outside)
    return Corpus(comfy_server, listing(comfy_server.base_dir))


def test_corpus_is_well_formed() -> None:
    assert len(CASES) >= 150
    assert len({c["id"] for c in CASES}) == len(CASES)
    for case in CASES:
        assert case["expect"] in EXPECTS, case["id"]
        assert case["expect"] != "http400_core" or case.get("mentions"), case["id"]
        assert build(case)[case["node"]]["class_type"].endswith("|SeedNumber"), case["id"]
    runs = [c for c in CASES if c["expect"] in ("node_error", "ok")]
    assert len(runs) <= 40, "keep the corpus fast: cases that execute are the expensive ones"


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_bad_input(corpus: Corpus, case: dict[str, Any]) -> None:
    server, node, name = corpus.server, case["node"], case["input"]
    status, body = server.post_prompt(build(case))
    if case["expect"] in ("http400", "http400_core"):
        assert status == 400, f"accepted: {json.dumps(body)[:500]}"
        errors = body["node_errors"].get(node, {}).get("errors", [])
        text = json.dumps(errors)[:2000]
        if case["expect"] == "http400":
            assert any(error_names_input(e, name) for e in errors), f"no error naming {name!r}: {text}"
        else:
            assert case["mentions"] in json.dumps(errors), text
        return
    assert status == 200, f"refused: {json.dumps(body)[:1000]}"
    assert not body.get("node_errors"), body["node_errors"]
    if case["expect"] == "node_error":
        error = execution_error(server, body["prompt_id"])
        assert error["node_id"] == case.get("error_node", node), error["exception_message"][:500]
        assert names(error["exception_message"], name), error["exception_message"][:500]
        return
    entry = server.wait(body["prompt_id"], timeout=120)
    allowed = [(server.base_dir / folder).resolve() for folder in ("output", "temp")]
    for path in reported_files(server, entry):
        real = path.resolve()
        assert real.is_file() and any(real.is_relative_to(folder) for folder in allowed), path


def test_after_the_corpus_the_server_serves_and_wrote_nothing_outside_output_and_temp(
    corpus: Corpus,
) -> None:
    server = corpus.server
    # the Seed Details cases' graph with a Save Image: its sampling comes from the cache, the rest runs
    prompt = example_prompt(mode="fixed", seed_number=406220, steps=2)
    prompt["8"]["inputs"]["filename_prefix"] = "corpus/after"
    entry = server.run(prompt, timeout=120)
    assert receipt(entry)["seed"] == 406220
    assert [path.is_file() for path in reported_files(server, entry)] == [True]
    assert listing(server.base_dir) - corpus.before == set()
    assert escaped_files([server.base_dir.parent, Path("/tmp")]) == []
