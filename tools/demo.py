"""README command one: the example workflows through a real headless ComfyUI.

Builds the trained demo model from ``weights/`` (once; seconds), starts ComfyUI with this pack in a
temporary base directory (``--cpu`` unless torch sees a GPU), posts every ``workflows/api/*.json`` to
``/prompt``, and copies the images plus a report (workflow, seed used, file) into the output folder.
``--serve`` keeps the server up for the browser until Ctrl-C; ``--prepare`` only builds the model and
prints its path. Every process it starts is stopped on exit, Ctrl-C or error.

On the trained demo model (no ``--checkpoint``) the examples run at its 64x64 size with prompts it
knows: the lighthouse prompt becomes ``DEMO_PROMPT``, the variant template ``DEMO_TEMPLATE`` (colours
and shapes), the negative prompt is empty (the model's unconditional prompt). The files in
``workflows/`` are not changed; with ``--checkpoint`` the examples run as they are.

Usage: ``scripts/demo [--out DIR] [--serve | --prepare] [--checkpoint FILE | --weights DIR] [--sheets DIR]
[--size PX] [--steps N]``
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import signal
import sys
import time
from pathlib import Path
from typing import Any

from tools.comfy_server import PACK_ROOT, ComfyServer, find_comfyui

logger = logging.getLogger("seed_number")

RECEIPT_KEY = "seed_number_receipt"
#: What the examples ask the trained demo model for (it knows 8 colours and 3 shapes, at 64x64).
DEMO_PROMPT = "a red circle on a blue background"
DEMO_TEMPLATE = "a {red|yellow|white} {circle|square|triangle} on a blue background"
DEMO_NEGATIVE = ""
DEMO_SIZE = 64
SHEET_NODE = "SeedContactSheet|SeedNumber"


class DemoError(RuntimeError):
    """The demo cannot start; the message says what to do (no traceback is shown)."""


def cache_dir() -> Path:
    return Path(os.environ.get("SEED_NUMBER_CACHE", Path.home() / ".cache" / "seed-number"))


def gpu_available() -> bool:
    try:
        import torch

        return bool(torch.cuda.is_available())
    except Exception:  # no torch or a broken driver: CPU it is
        return False


def trained_checkpoint(weights: Path | None = None) -> Path:
    """The trained demo model, built from ``weights`` (default ``weights/``) if not built yet.

    Raises:
        DemoError: a file in ``weights`` is missing or corrupt, or the text encoder does not match;
            the message names the command that rebuilds it.
    """
    from tools.demo_model import WEIGHTS_DIR, DemoModelError
    from tools.demo_model.build import ensure_built

    try:
        return ensure_built(weights or WEIGHTS_DIR)
    except DemoModelError as exc:
        raise DemoError(f"the trained demo model cannot be built: {exc}") from None


def _negative_nodes(prompt: dict[str, Any]) -> set[str]:
    """Ids of the nodes linked into any ``negative`` input (the negative prompts' encoders)."""
    return {
        str(node["inputs"]["negative"][0])
        for node in prompt.values()
        if isinstance(node.get("inputs", {}).get("negative"), list)
    }


def use_demo_prompts(prompt: dict[str, Any]) -> dict[str, Any]:
    """``prompt`` with the texts the trained demo model knows (in place; returned for chaining)."""
    negatives = _negative_nodes(prompt)
    for node_id, node in prompt.items():
        inputs = node.get("inputs", {})
        if node.get("class_type") == "CLIPTextEncode" and isinstance(inputs.get("text"), str):
            inputs["text"] = DEMO_NEGATIVE if node_id in negatives else DEMO_PROMPT
        elif node.get("class_type") == "PromptVariantSweep|SeedNumber":
            inputs["template"] = DEMO_TEMPLATE
            if isinstance(inputs.get("negative"), str):
                inputs["negative"] = DEMO_NEGATIVE
    return prompt


def load_workflows(
    checkpoint_name: str, size: int | None, steps: int | None, demo_prompts: bool = False
) -> dict[str, dict[str, Any]]:
    """The API-format example workflows, pointed at ``checkpoint_name``, optionally resized, and with
    ``demo_prompts`` the prompts of the trained demo model (see :func:`use_demo_prompts`)."""
    workflows = {}
    for path in sorted((PACK_ROOT / "workflows" / "api").glob("*.json")):
        prompt = json.loads(path.read_text())
        if demo_prompts:
            use_demo_prompts(prompt)
        for node in prompt.values():
            inputs = node.get("inputs", {})
            if node.get("class_type") == "CheckpointLoaderSimple":
                inputs["ckpt_name"] = checkpoint_name
            if size and node.get("class_type") == "EmptyLatentImage":  # a linked size (a re-make) stays linked
                inputs.update({k: size for k in ("width", "height") if not isinstance(inputs.get(k), list)})
            if steps and "steps" in inputs and not isinstance(inputs["steps"], list):
                inputs["steps"] = steps
        workflows[path.stem] = prompt
    return workflows


def collect(server: ComfyServer, name: str, entry: dict[str, Any], out: Path) -> list[dict[str, Any]]:
    """Copy a run's images into ``out`` and describe each: workflow, seed used, file."""
    seeds = [out_ui[RECEIPT_KEY][0] for out_ui in entry["outputs"].values() if RECEIPT_KEY in out_ui]
    rows = []
    for node_id, node_out in entry["outputs"].items():
        for image in node_out.get("images", []):
            target = out / f"{name}_{image['filename']}"
            shutil.copyfile(server.output_path(image), target)
            rows.append(
                {
                    "workflow": name,
                    "node": node_id,
                    "file": target.name,
                    "seeds": [{"seed": s["seed"], "mode": s["mode"], "count": len(s.get("seeds", [1]))} for s in seeds],
                }
            )
    return rows


def copy_sheets(prompt: dict[str, Any], name: str, rows: list[dict[str, Any]], out: Path, sheets: Path) -> list[Path]:
    """Copy each contact sheet of one workflow's run (already in ``out``) to ``sheets/<workflow>.png``."""
    sheet_nodes = {node_id for node_id, node in prompt.items() if node.get("class_type") == SHEET_NODE}
    files = [row["file"] for row in rows if row["node"] in sheet_nodes]
    copied = []
    for k, file in enumerate(files):
        target = sheets / (f"{name}.png" if k == 0 else f"{name}_{k + 1}.png")
        shutil.copyfile(out / file, target)
        copied.append(target)
    return copied


def _seeds_text(s: dict[str, Any]) -> str:
    if s.get("count", 1) > 1:
        return f"{s['seed']} … {s['seed'] + s['count'] - 1} ({s['count']} seeds, {s['mode']})"
    return f"{s['seed']} ({s['mode']})"


def write_report(out: Path, rows: list[dict[str, Any]], checkpoint: str, demo_prompts: bool = False) -> Path:
    (out / "report.json").write_text(json.dumps({"checkpoint": checkpoint, "images": rows}, indent=2) + "\n")
    lines = [
        "# Seed Number demo",
        "",
        f"Checkpoint: `{checkpoint}`",
        "",
    ]
    if demo_prompts:
        lines += [
            f"Prompts of the trained demo model (64x64): `{DEMO_PROMPT}`; variant template `{DEMO_TEMPLATE}`; "
            "empty negative prompt.",
            "",
        ]
    lines += [
        "| workflow | seed used (mode asked) | file |",
        "|---|---|---|",
    ]
    for row in rows:
        seeds = ", ".join(_seeds_text(s) for s in row["seeds"]) or "—"
        lines.append(f"| {row['workflow']} | {seeds} | {row['file']} |")
    report = out / "report.md"
    report.write_text("\n".join(lines) + "\n")
    return report


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/demo", description=__doc__.split("\n\n")[1])
    parser.add_argument("--out", type=Path, default=Path("demo-output"), help="output folder (./demo-output)")
    parser.add_argument("--serve", action="store_true", help="keep ComfyUI running for the browser until Ctrl-C")
    parser.add_argument(
        "--prepare",
        action="store_true",
        help="only prepare (build the trained demo model) and print its absolute path as the last line",
    )
    parser.add_argument("--checkpoint", type=Path, help="a real .safetensors checkpoint instead of the demo one")
    parser.add_argument(
        "--sheets", type=Path, help="also copy each example's contact sheet to DIR/<workflow>.png (e.g. docs/)"
    )
    parser.add_argument(
        "--weights", type=Path, help="the trained demo model's weights folder (default: weights/, SEED_NUMBER_WEIGHTS)"
    )
    parser.add_argument(
        "--size", type=int, help="override the image size (the examples use 256-512; the demo model 64)"
    )
    parser.add_argument("--steps", type=int, help="override the sampler steps (the examples use 20)")
    parser.add_argument("--comfyui", type=Path, help="ComfyUI checkout (default: COMFYUI_PATH, ~/comfy/ComfyUI)")
    return parser.parse_args(argv)


def resolve_checkpoint(args: argparse.Namespace) -> Path:
    """The checkpoint the demo runs: ``--checkpoint`` as given, else the trained demo model (built)."""
    if args.checkpoint is not None:
        if not args.checkpoint.is_file():
            raise DemoError(f"--checkpoint {args.checkpoint}: no such file")
        return args.checkpoint.resolve()
    checkpoint = trained_checkpoint(args.weights)
    logger.info("Demo model: %s (trained on drawn shapes, 64x64; a real model: --checkpoint FILE)", checkpoint)
    return checkpoint.resolve()


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="[seed-number] %(message)s")
    args = parse_args(argv)
    comfyui = args.comfyui or find_comfyui()
    if comfyui is None:
        logger.error("No ComfyUI found: set COMFYUI_PATH or lay ComfyUI out at ~/comfy/ComfyUI (see README).")
        return 2
    try:
        checkpoint = resolve_checkpoint(args)
    except DemoError as exc:
        logger.error("%s", exc)
        return 2
    if args.prepare:
        logger.info("Ready: ComfyUI %s; `scripts/demo` runs the examples on this checkpoint.", comfyui)
        sys.stdout.write(f"{checkpoint}\n")
        sys.stdout.flush()
        return 0
    demo_prompts = args.checkpoint is None
    size = args.size or (DEMO_SIZE if demo_prompts else None)
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    server = ComfyServer(comfyui, checkpoints=[checkpoint], cpu=not gpu_available())
    # Ctrl-C, SIGTERM and a closed terminal all unwind through `finally`, which stops ComfyUI
    # (SIGINT explicitly too: a shell starts background jobs with it ignored).
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)
    rows: list[dict[str, Any]] = []
    try:
        server.start()
        for name, prompt in load_workflows(checkpoint.name, size, args.steps, demo_prompts).items():
            started = time.perf_counter()
            entry = server.run(prompt, timeout=1800)
            new = collect(server, name, entry, out)
            rows.extend(new)
            if args.sheets is not None:
                args.sheets.mkdir(parents=True, exist_ok=True)
                for path in copy_sheets(prompt, name, new, out, args.sheets):
                    logger.info("contact sheet -> %s", path)
            logger.info(
                "%s: %d image(s), seed %s, %.1f s",
                name,
                len(new),
                ", ".join(str(s["seed"]) for r in new[:1] for s in r["seeds"]) or "—",
                time.perf_counter() - started,
            )
        report = write_report(out, rows, checkpoint.name, demo_prompts)
        logger.info("Images and report in %s (%s)", out, report.name)
        if args.serve:
            logger.info(
                "ComfyUI with Seed Number is serving at %s — open it in a browser; Ctrl-C stops it.", server.url
            )
            while server.process is not None and server.process.poll() is None:
                time.sleep(1)
        return 0
    except KeyboardInterrupt:
        logger.info("Interrupted; stopping ComfyUI.")
        return 130
    except Exception as exc:
        logger.error("Demo failed: %s\nComfyUI log tail:\n%s", exc, server.log_tail())
        return 1
    finally:
        server.cleanup()


if __name__ == "__main__":
    sys.exit(main())
