"""Convert the API-format example workflows ``workflows/api/<name>.json`` into UI-format ``workflows/<name>.json``.

ComfyUI's template browser lists only UI-format (LiteGraph) workflows, so every API workflow needs a twin of
the same name. The conversion uses the real node definitions from a running ComfyUI's ``GET /object_info``:

* inputs in definition order (``input_order``: required, then optional); an input is a *widget* when its
  type is INT, FLOAT, STRING, BOOLEAN or COMBO (or a list of options) and it is not ``forceInput``;
  every other input is a *socket*;
* a widget given a literal goes into ``widgets_values``; a widget given a link becomes an entry of the
  node's ``inputs`` with ``"widget": {"name": ...}`` while its ``widgets_values`` slot keeps the default;
  a widget absent from the API prompt gets its default (as the frontend computes it);
* a widget with a ``control_after_generate`` widget in the frontend (the option set, or an INT named
  ``seed`` / ``noise_seed``) is followed by the control's value ``"fixed"``;
* socket inputs are ``inputs`` entries in definition order (``link`` null when not connected), followed by
  the linked widget inputs; outputs come from the definition (a list of options is type ``COMBO``);
* a link is typed like the frontend types a link it draws: the target input's type, else the origin
  output's type;
* nodes are laid out in columns by topological depth (x = 40 + depth * 380, y = 40 + k * 300).

The top-level ``id`` is a UUID derived from the workflow's name, so regenerating gives identical bytes.

Not handled: API node ids that are not integers (subgraph ids such as ``"50:3"``), group nodes and
subgraphs, widget types added by frontend extensions (IMAGEUPLOAD etc.: such inputs are treated as
sockets), multi-select combos, reroutes and primitive nodes (an API prompt has none).

Usage: ``python -m tools.workflow_ui [--check] [--object-info FILE] [names...]``. Without names every API
workflow is converted except the hand-made ones (``seed_source_txt2img``). With ``--check`` nothing is
written; differences are reported and the exit status is 1 when there are any.
"""

from __future__ import annotations

import argparse
import difflib
import json
import logging
import os
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.comfy_server import PACK_ROOT, ComfyServer, find_comfyui

logger = logging.getLogger("seed_number")

WORKFLOWS = PACK_ROOT / "workflows"
API_WORKFLOWS = WORKFLOWS / "api"
HAND_MADE = frozenset({"seed_source_txt2img"})
"""UI workflows kept by hand (colours, layout, descriptions): not regenerated unless named."""

DESCRIPTIONS = {
    "render_speed_ladder": (
        "Render Speed Preset in Ladder mode: one queue renders the same seed at Turbo, Default and Quality, "
        "saved one by one and as a captioned contact sheet."
    ),
    "seed_sweep": (
        "Seed Source with count 8: one queue renders eight consecutive seeds at the Turbo preset, saved one by "
        "one and as a contact sheet captioned with each seed."
    ),
    "seed_details_txt2img": (
        "Seed Source → KSampler → Seed Details: the image is saved with its seed, prompts, sampler settings, "
        "model hash and reproducibility (ComfyUI, A1111 and Seed Number metadata) and shows them."
    ),
}
"""``extra.info.description`` of generated workflows (optional; the name is derived from the file name)."""

ID_NAMESPACE = uuid.UUID("5eed0000-0000-4000-8000-000000000000")
"""Namespace of the derived workflow ids (the hand-made example uses 5eed0000-...-000000000001)."""

WIDGET_TYPES = frozenset({"INT", "FLOAT", "STRING", "BOOLEAN", "COMBO"})
SEED_NAMES = ("seed", "noise_seed")
"""INT inputs the frontend gives a control_after_generate widget even without the option."""
CONTROL_VALUE = "fixed"
MAX_DIFF_LINES = 60

COLUMN_X, COLUMN_WIDTH = 40, 380
ROW_Y, ROW_HEIGHT = 40, 300
NODE_WIDTH, WIDE_NODE_WIDTH = 315, 340
MAX_NODE_HEIGHT = ROW_HEIGHT - 60  # the title bar (30) is drawn above pos: leave a gap
SLOT_HEIGHT, WIDGET_HEIGHT, TITLE_HEIGHT = 20, 24, 30
MULTILINE_EXTRA = 100


class ConversionError(ValueError):
    """The API workflow cannot be expressed with the node definitions at hand."""


@dataclass(frozen=True)
class InputDef:
    """One input of a node definition, as the frontend sees it."""

    name: str
    type: str
    options: dict[str, Any]
    is_widget: bool

    @property
    def has_control(self) -> bool:
        """Whether the frontend adds a control_after_generate widget after this widget."""
        if not self.is_widget:
            return False
        control = self.options.get("control_after_generate")
        if control is None and self.type == "INT":
            return self.name in SEED_NAMES
        return bool(control)

    @property
    def default(self) -> Any:
        """The widget's value in a freshly created node (the frontend's rules)."""
        options = self.options
        if self.type == "COMBO":
            if options.get("default"):
                return options["default"]
            choices = options.get("options") or []
            return choices[0] if choices else None
        fallback = {"INT": 0, "FLOAT": 0, "STRING": "", "BOOLEAN": False}.get(self.type)
        value = options.get("default")
        return fallback if value is None else value


def input_defs(node_def: dict[str, Any]) -> list[InputDef]:
    """The required and optional inputs of an ``/object_info`` entry, in definition order."""
    spec = node_def.get("input") or {}
    order = node_def.get("input_order") or {}
    found = []
    for group in ("required", "optional"):
        entries = spec.get(group) or {}
        for name in order.get(group) or list(entries):
            raw = entries[name]
            kind, options = raw[0], dict(raw[1]) if len(raw) > 1 and isinstance(raw[1], dict) else {}
            if isinstance(kind, list):
                options.setdefault("options", kind)
                kind = "COMBO"
            is_widget = kind in WIDGET_TYPES and not options.get("forceInput")
            found.append(InputDef(name, str(kind), options, is_widget))
    return found


def output_types(node_def: dict[str, Any]) -> list[tuple[str, str]]:
    """(name, type) of each output; a list of options is the frontend's type ``COMBO``."""
    types = node_def.get("output") or []
    names = node_def.get("output_name") or []
    result = []
    for index, kind in enumerate(types):
        kind = "COMBO" if isinstance(kind, list) else str(kind)
        result.append((names[index] if index < len(names) and names[index] else f"output_{index}", kind))
    return result


def is_link(value: Any, prompt: dict[str, Any]) -> bool:
    """Whether an API input value is a link ``["node_id", output_index]`` to a node of the prompt."""
    return (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], str)
        and isinstance(value[1], int)
        and not isinstance(value[1], bool)
        and value[0] in prompt
    )


def _int_id(node_id: str) -> int:
    try:
        return int(node_id)
    except ValueError:
        raise ConversionError(f"node id {node_id!r} is not an integer (subgraph ids are not supported)") from None


def depths(prompt: dict[str, Any]) -> dict[str, int]:
    """Topological depth of each node: 0 without links in, else one more than its deepest source."""
    found: dict[str, int] = {}
    visiting: set[str] = set()

    def depth(node_id: str) -> int:
        if node_id in found:
            return found[node_id]
        if node_id in visiting:
            raise ConversionError(f"the prompt has a cycle through node {node_id}")
        visiting.add(node_id)
        sources = [v[0] for v in prompt[node_id].get("inputs", {}).values() if is_link(v, prompt)]
        found[node_id] = 1 + max(map(depth, sources)) if sources else 0
        visiting.discard(node_id)
        return found[node_id]

    for node_id in prompt:
        depth(node_id)
    return found


def node_size(node_def: dict[str, Any], inputs: list[dict[str, Any]], n_widgets: int, multiline: bool) -> list[int]:
    """A readable size: wide for text and image nodes, tall enough for slots and widgets."""
    rows = max(len([i for i in inputs if "widget" not in i]), len(node_def.get("output") or []), 1)
    height = TITLE_HEIGHT + rows * SLOT_HEIGHT + n_widgets * WIDGET_HEIGHT
    if multiline:
        height += MULTILINE_EXTRA
    if node_def.get("output_node"):
        height = MAX_NODE_HEIGHT  # room for the image preview
    wide = multiline or bool(node_def.get("output_node"))
    return [WIDE_NODE_WIDTH if wide else NODE_WIDTH, min(height, MAX_NODE_HEIGHT)]


def workflow_id(name: str) -> str:
    """The stable top-level id of a generated workflow."""
    return str(uuid.uuid5(ID_NAMESPACE, f"seed-number/workflows/{name}"))


def convert(prompt: dict[str, Any], object_info: dict[str, Any], name: str) -> dict[str, Any]:
    """The UI-format (LiteGraph, version 0.4) workflow of an API-format prompt."""
    for node_id, node in prompt.items():
        _int_id(node_id)
        if node.get("class_type") not in object_info:
            raise ConversionError(f"node {node_id}: {node.get('class_type')!r} is not a node type of this ComfyUI")
    depth = depths(prompt)
    ordered = sorted(prompt, key=lambda i: (depth[i], _int_id(i)))  # execution order
    defs = {i: input_defs(object_info[prompt[i]["class_type"]]) for i in prompt}
    outs = {i: output_types(object_info[prompt[i]["class_type"]]) for i in prompt}

    # Links, numbered by target node id, then by the target's slot order (sockets, then linked widgets).
    links: list[list[Any]] = []
    node_inputs: dict[str, list[dict[str, Any]]] = {}
    for node_id in sorted(prompt, key=_int_id):
        node = prompt[node_id]
        given = node.get("inputs", {})
        known = {d.name for d in defs[node_id]}
        unknown = sorted(set(given) - known)
        if unknown:
            raise ConversionError(f"node {node_id} ({node['class_type']}): unknown inputs {unknown}")
        sockets = [d for d in defs[node_id] if not d.is_widget]
        linked_widgets = [d for d in defs[node_id] if d.is_widget and is_link(given.get(d.name), prompt)]
        entries = []
        for slot, d in enumerate(sockets + linked_widgets):
            value = given.get(d.name)
            entry: dict[str, Any] = {"name": d.name, "type": d.type}
            if d.is_widget:
                entry["widget"] = {"name": d.name}
            if value is not None and not is_link(value, prompt):
                raise ConversionError(f"node {node_id}: input {d.name!r} is a socket ({d.type}) but given {value!r}")
            if value is None:
                entry["link"] = None
            else:
                origin, origin_slot = value
                if origin_slot >= len(outs[origin]):
                    raise ConversionError(f"node {node_id}: input {d.name!r} links to a missing output {value}")
                link_id = len(links) + 1
                # The frontend types a new link by its target input, else by the origin output.
                link_type = d.type or outs[origin][origin_slot][1]
                links.append([link_id, _int_id(origin), origin_slot, _int_id(node_id), slot, link_type])
                entry["link"] = link_id
            entries.append(entry)
        node_inputs[node_id] = entries

    columns: dict[int, int] = {}
    nodes = []
    for order, node_id in enumerate(ordered):
        node = prompt[node_id]
        class_type = node["class_type"]
        node_def = object_info[class_type]
        given = node.get("inputs", {})
        widgets_values: list[Any] = []
        multiline = False
        for d in defs[node_id]:
            if not d.is_widget:
                continue
            value = given.get(d.name)
            widgets_values.append(d.default if value is None or is_link(value, prompt) else value)
            if d.has_control:
                widgets_values.append(CONTROL_VALUE)
            multiline = multiline or (d.type == "STRING" and bool(d.options.get("multiline")))
        outputs = []
        for slot, (out_name, out_type) in enumerate(outs[node_id]):
            out_links = [link[0] for link in links if link[1] == _int_id(node_id) and link[2] == slot]
            output: dict[str, Any] = {"name": out_name, "type": out_type, "links": out_links or None}
            if out_links:
                output["slot_index"] = slot
            outputs.append(output)
        row = columns.get(depth[node_id], 0)
        columns[depth[node_id]] = row + 1
        ui_node: dict[str, Any] = {
            "id": _int_id(node_id),
            "type": class_type,
            "pos": [COLUMN_X + depth[node_id] * COLUMN_WIDTH, ROW_Y + row * ROW_HEIGHT],
            "size": node_size(node_def, node_inputs[node_id], len(widgets_values), multiline),
            "flags": {},
            "order": order,
            "mode": 0,
            "inputs": node_inputs[node_id],
            "outputs": outputs,
            "properties": {"Node name for S&R": class_type},
            "widgets_values": widgets_values,
        }
        title = (node.get("_meta") or {}).get("title")
        if title:
            ui_node["title"] = title
        nodes.append(ui_node)
    nodes.sort(key=lambda n: n["id"])

    info = {"name": " ".join(word.capitalize() for word in name.split("_"))}
    if name in DESCRIPTIONS:
        info["description"] = DESCRIPTIONS[name]
    return {
        "id": workflow_id(name),
        "revision": 0,
        "last_node_id": max((n["id"] for n in nodes), default=0),
        "last_link_id": len(links),
        "nodes": nodes,
        "links": links,
        "groups": [],
        "config": {},
        "extra": {"ds": {"scale": 0.8, "offset": [0, 0]}, "info": info},
        "version": 0.4,
    }


def render(workflow: dict[str, Any]) -> str:
    """The file text of a workflow: JSON, indent 2, trailing newline."""
    return json.dumps(workflow, indent=2, ensure_ascii=False) + "\n"


def default_names() -> list[str]:
    """Every API workflow that has no hand-made UI twin."""
    return sorted(p.stem for p in API_WORKFLOWS.glob("*.json") if p.stem not in HAND_MADE)


def cache_dir() -> Path:
    return Path(os.environ.get("SEED_NUMBER_CACHE", Path.home() / ".cache" / "seed-number"))


def fetch_object_info() -> dict[str, Any]:
    """``/object_info`` of a temporary headless ComfyUI with the pack and the demo checkpoint."""
    from tools.demo_checkpoint import ensure_checkpoint

    comfyui = find_comfyui()
    if comfyui is None:
        raise ConversionError("ComfyUI not found: set COMFYUI_PATH (or use --object-info FILE)")
    checkpoint = ensure_checkpoint(cache_dir() / "models")
    with ComfyServer(comfyui, checkpoints=[checkpoint], cpu=True) as server:
        return server.get_json("/object_info", timeout=120)


def sync(names: Sequence[str], object_info: dict[str, Any], check: bool) -> tuple[int, int]:
    """Write (or with ``check`` compare) the UI twin of each named API workflow.

    Returns (how many differed, how many could not be converted); a failed one is logged and skipped.
    """
    differing = failed = 0
    for name in names:
        api_path = API_WORKFLOWS / f"{name}.json"
        ui_path = WORKFLOWS / f"{name}.json"
        try:
            text = render(convert(json.loads(api_path.read_text()), object_info, name))
        except (ConversionError, json.JSONDecodeError) as exc:
            logger.error("%s: cannot convert: %s", api_path.relative_to(PACK_ROOT), exc)
            failed += 1
            continue
        current = ui_path.read_text() if ui_path.exists() else None
        if current == text:
            logger.info("%s: up to date", ui_path.relative_to(PACK_ROOT))
            continue
        differing += 1
        if check and current is None:
            logger.error("%s is missing", ui_path.relative_to(PACK_ROOT))
        elif check and current is not None:
            diff = list(
                difflib.unified_diff(
                    current.splitlines(),
                    text.splitlines(),
                    f"{name}.json (file)",
                    f"{name}.json (generated)",
                    n=1,
                    lineterm="",
                )
            )
            shown = diff[:MAX_DIFF_LINES] + (
                [f"... {len(diff) - MAX_DIFF_LINES} more lines"] if len(diff) > MAX_DIFF_LINES else []
            )
            logger.error("%s differs from its API workflow:\n%s", ui_path.relative_to(PACK_ROOT), "\n".join(shown))
        else:
            ui_path.write_text(text)
            logger.info("%s: written", ui_path.relative_to(PACK_ROOT))
    return differing, failed


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tools.workflow_ui", description="Write the UI-format twins of workflows/api/*.json."
    )
    parser.add_argument("names", nargs="*", help="workflow names (default: every API workflow but the hand-made)")
    parser.add_argument("--check", action="store_true", help="write nothing; report differences, exit 1 if any")
    parser.add_argument("--object-info", type=Path, help="read /object_info from this JSON file, start no ComfyUI")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[seed-number] %(message)s")
    names = args.names or default_names()
    missing = [n for n in names if not (API_WORKFLOWS / f"{n}.json").is_file()]
    if missing:
        logger.error("no API workflow named %s in %s", ", ".join(missing), API_WORKFLOWS)
        return 2
    try:
        object_info = json.loads(args.object_info.read_text()) if args.object_info else fetch_object_info()
    except ConversionError as exc:
        logger.error("%s", exc)
        return 2
    differing, failed = sync(names, object_info, args.check)
    if failed:
        return 2
    if args.check and differing:
        logger.error("%d of %d UI workflows are out of date: run python -m tools.workflow_ui", differing, len(names))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
