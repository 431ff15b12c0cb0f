"""README command one: the example workflows through a real headless ComfyUI.

Writes the demo checkpoint (once), starts ComfyUI with this pack in a temporary base directory
(``--cpu`` unless torch sees a GPU), posts every ``workflows/api/*.json`` to ``/prompt``, and copies
the images plus a report (workflow, seed used, file) into the output folder. ``--serve`` keeps the
server up for the browser until Ctrl-C. Every process it starts is stopped on exit, Ctrl-C or error.

Usage: ``scripts/demo [--out DIR] [--serve] [--checkpoint FILE] [--size PX] [--steps N]``
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
from tools.demo_checkpoint import ensure_checkpoint

logger = logging.getLogger("seed_number")

RECEIPT_KEY = "seed_number_receipt"


def cache_dir() -> Path:
    return Path(os.environ.get("SEED_NUMBER_CACHE", Path.home() / ".cache" / "seed-number"))


def gpu_available() -> bool:
    try:
        import torch

        return bool(torch.cuda.is_available())
    except Exception:  # no torch or a broken driver: CPU it is
        return False


def load_workflows(checkpoint_name: str, size: int | None, steps: int | None) -> dict[str, dict[str, Any]]:
    """The API-format example workflows, pointed at ``checkpoint_name`` and optionally resized."""
    workflows = {}
    for path in sorted((PACK_ROOT / "workflows" / "api").glob("*.json")):
        prompt = json.loads(path.read_text())
        for node in prompt.values():
            inputs = node.get("inputs", {})
            if node.get("class_type") == "CheckpointLoaderSimple":
                inputs["ckpt_name"] = checkpoint_name
            if size and node.get("class_type") == "EmptyLatentImage":
                inputs.update(width=size, height=size)
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


def _seeds_text(s: dict[str, Any]) -> str:
    if s.get("count", 1) > 1:
        return f"{s['seed']} … {s['seed'] + s['count'] - 1} ({s['count']} seeds, {s['mode']})"
    return f"{s['seed']} ({s['mode']})"


def write_report(out: Path, rows: list[dict[str, Any]], checkpoint: str) -> Path:
    (out / "report.json").write_text(json.dumps({"checkpoint": checkpoint, "images": rows}, indent=2) + "\n")
    lines = [
        "# Seed Number demo",
        "",
        f"Checkpoint: `{checkpoint}`",
        "",
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
    parser.add_argument("--checkpoint", type=Path, help="a real .safetensors checkpoint instead of the demo one")
    parser.add_argument("--size", type=int, help="override the image size (the examples use 512)")
    parser.add_argument("--steps", type=int, help="override the sampler steps (the examples use 20)")
    parser.add_argument("--comfyui", type=Path, help="ComfyUI checkout (default: COMFYUI_PATH, ~/comfy/ComfyUI)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="[seed-number] %(message)s")
    args = parse_args(argv)
    comfyui = args.comfyui or find_comfyui()
    if comfyui is None:
        logger.error("No ComfyUI found: set COMFYUI_PATH or lay ComfyUI out at ~/comfy/ComfyUI (see README).")
        return 2
    checkpoint = args.checkpoint or ensure_checkpoint(cache_dir() / "models")
    if not args.checkpoint:
        logger.info(
            "Demo checkpoint: %s (seeded random weights: its images are abstract; a real "
            "model gives real pictures: --checkpoint FILE)",
            checkpoint,
        )
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
        for name, prompt in load_workflows(checkpoint.name, args.size, args.steps).items():
            started = time.perf_counter()
            entry = server.run(prompt, timeout=1800)
            new = collect(server, name, entry, out)
            rows.extend(new)
            logger.info(
                "%s: %d image(s), seed %s, %.1f s",
                name,
                len(new),
                ", ".join(str(s["seed"]) for r in new[:1] for s in r["seeds"]) or "—",
                time.perf_counter() - started,
            )
        report = write_report(out, rows, checkpoint.name)
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
