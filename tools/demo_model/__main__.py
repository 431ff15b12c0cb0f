"""``python -m tools.demo_model {train,export,build,eval}``: see the package docstring."""

from __future__ import annotations

import argparse
import pathlib
import sys
import time
from collections.abc import Sequence

from tools.demo_model import MODELS_DIR, TRAIN_DIR, WEIGHTS_DIR, DemoModelError


def _log(message: str) -> None:
    sys.stdout.write(f"[{time.strftime('%H:%M:%S')}] {message}\n")
    sys.stdout.flush()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.demo_model", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train (or resume training) the demo model")
    p.add_argument("--dir", type=pathlib.Path, default=TRAIN_DIR, help=f"training state (default {TRAIN_DIR})")
    p.add_argument("--seed", type=int, help="training seed (new runs only)")
    for phase in ("decoder", "unet", "encoder"):
        p.add_argument(f"--{phase}-steps", type=int, help=f"total {phase} steps (may be raised on resume)")
    p.add_argument("--precision", choices=("auto", "fp32", "bf16"), default="auto")
    p.add_argument(
        "--phases",
        nargs="+",
        choices=("decoder", "unet", "encoder"),
        default=["decoder", "unet", "encoder"],
        help="phases to run, in order (they are independent)",
    )

    p = sub.add_parser("export", help="write weights/ from the training state")
    p.add_argument("--dir", type=pathlib.Path, default=TRAIN_DIR)
    p.add_argument("--out-dir", type=pathlib.Path, default=WEIGHTS_DIR)

    p = sub.add_parser("build", help="assemble the full SD1.5 checkpoint from weights/ and the generated CLIP")
    p.add_argument("--weights", type=pathlib.Path, default=WEIGHTS_DIR)
    p.add_argument("--out", type=pathlib.Path, help=f"checkpoint path (default in {MODELS_DIR})")

    p = sub.add_parser("eval", help="sample prompts x seeds through ComfyUI and measure the promises")
    p.add_argument("--checkpoint", type=pathlib.Path, help="a built checkpoint (default: build from weights/)")
    p.add_argument("--from-train", type=pathlib.Path, nargs="?", const=TRAIN_DIR, help="use the training state")
    p.add_argument("--prompts", type=int, default=12)
    p.add_argument("--seeds", type=int, default=8)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--cfg", type=float, default=6.0)
    p.add_argument("--sheet", type=pathlib.Path, help="also write a contact sheet PNG here")

    args = parser.parse_args(argv)
    try:
        if args.command == "train":
            from tools.demo_model.train import Trainer

            overrides = {k: v for k in ("seed", "decoder_steps", "unet_steps", "encoder_steps")
                         if (v := getattr(args, k)) is not None}  # fmt: skip
            Trainer(args.dir, overrides, args.precision, _log).run(tuple(args.phases))
        elif args.command == "export":
            from tools.demo_model.build import export

            for path in export(args.dir, args.out_dir):
                _log(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")
        elif args.command == "build":
            from tools.demo_model.build import build

            start = time.perf_counter()
            path = build(args.weights, args.out)
            _log(f"built in {time.perf_counter() - start:.1f} s")
            sys.stdout.write(f"{path}\n")
        elif args.command == "eval":
            from tools.demo_model.evaluate import run_eval

            run_eval(args, _log)
    except DemoModelError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
