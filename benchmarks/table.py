"""The performance table: every benchmark's rows, each with its same-run baseline and the ratio.

``scripts/bench`` runs every ``bench_*.py`` with ``SEED_NUMBER_BENCH_OUT`` set, then this script,
which prints one markdown table (the one in the README) from what they recorded.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ORDER = (
    "bench_overhead",
    "bench_hook",
    "bench_render_speed",
    "bench_variant_sweep",
    "bench_seed_details",
    "bench_panel",
)


def main() -> int:
    folder = Path(os.environ.get("SEED_NUMBER_BENCH_OUT", ""))
    if not folder.is_dir():
        print("set SEED_NUMBER_BENCH_OUT to the folder the benchmarks wrote into (scripts/bench does)")  # noqa: T201
        return 1
    names = [n for n in ORDER if (folder / f"{n}.json").exists()]
    names += sorted(p.stem for p in folder.glob("*.json") if p.stem not in ORDER)
    lines = ["| what | measured | baseline (same run) | ratio |", "|---|---|---|---|"]
    for name in names:
        for row in json.loads((folder / f"{name}.json").read_text()):
            lines.append(f"| {row['what']} | {row['measured']} | {row['baseline']} | {row['ratio']} |")
    print("\n".join(lines))  # noqa: T201 - the table is this script's output
    return 0


if __name__ == "__main__":
    sys.exit(main())
