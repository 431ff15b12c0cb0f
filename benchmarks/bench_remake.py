"""Benchmark (not a test): building one image's re-make prompt (``nodes/core/remake.py``).

Run: ``scripts/bench`` or ``python -m benchmarks.bench_remake`` in the test venv. Pure Python: no
ComfyUI needed. Target (issue 14): ≤ 1 ms median for a 50-node graph. Baseline, same run: a JSON
round-trip copy of the same prompt (``json.loads(json.dumps(prompt))``), the cheapest full copy.

The graph is the worst case for a 50-node prompt: every pack node to pin (Seed Source sweeping 8
seeds, Render Speed Preset ``Ladder``, Prompt Variant Sweep with groups), a 30-node LoRA chain on the
model and clip that is all upstream of the image, and an unrelated 9-node branch that is dropped.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from benchmarks.common import ROOT, record, timed

DETAILS = {
    "seed": 406223,
    "seeds": [406223],
    "seed_node": "5",
    "sampler_node": "6",
    "sampler": "dpmpp_2m",
    "speed": "Default",
    "positive": "a lighthouse on a cliff at dusk, dark purple gradient sky",
    "noise_source": "comfy",
    "batch_index": 0,
    "batch_size": 1,
}


def fifty_node_prompt() -> dict[str, Any]:
    """The variant-sweep workflow with a seed sweep, a ladder, a LoRA chain and an unrelated branch."""
    prompt = json.loads((ROOT / "workflows/api/variant_sweep_list.json").read_text())
    prompt["5"]["inputs"].update(count=8, mode="fixed", _requested_mode="random")
    prompt["9"] = {
        "class_type": "RenderSpeedPreset|SeedNumber",
        "inputs": {"speed": "Ladder", "model_family": "auto", "model": ["1", 0]},
    }
    prompt["6"]["inputs"].update(steps=["9", 0], cfg=["9", 1], sampler_name=["9", 2], scheduler=["9", 3])
    prompt["8"] = {
        "class_type": "SeedDetails|SeedNumber",
        "inputs": {"images": ["7", 0], "filename_prefix": "bench", "save": True},
    }
    previous = "1"
    for k in range(30):  # model and clip through 30 LoRAs, all upstream of the image
        node_id = str(100 + k)
        prompt[node_id] = {
            "class_type": "LoraLoader",
            "inputs": {
                "model": [previous, 0],
                "clip": [previous, 1],
                "lora_name": f"lora_{k}.safetensors",
                "strength_model": 0.5,
                "strength_clip": 0.5,
            },
        }
        previous = node_id
    prompt["6"]["inputs"]["model"] = [previous, 0]
    prompt["20"]["inputs"]["clip"] = [previous, 1]
    for k in range(50 - len(prompt)):  # an unrelated branch (a second output): dropped
        prompt[str(200 + k)] = {"class_type": "CLIPTextEncode", "inputs": {"text": f"other {k}", "clip": ["1", 1]}}
    assert len(prompt) == 50
    return prompt


def main() -> int:
    from tools.pack import load_pack

    load_pack()
    from seed_number.nodes.core.remake import remake_json, remake_prompt

    prompt = fifty_node_prompt()
    problems: list[str] = []
    remake = remake_prompt(DETAILS, prompt, "8", problems)
    assert remake is not None, problems
    results = {
        "remake_50_node_prompt": timed(lambda: remake_prompt(DETAILS, prompt, "8"), runs=3000, warmup=200),
        "json_round_trip_copy": timed(lambda: json.loads(json.dumps(prompt)), runs=3000, warmup=200),
        "remake_json": timed(lambda: remake_json(remake), runs=3000, warmup=200),
    }
    results["remake_50_node_prompt"]["nodes_kept"] = len(remake)
    for name, figures in results.items():
        line = ", ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items())
        print(f"{name}: {line}")  # noqa: T201 - a benchmark's report is its output
    ours, base = results["remake_50_node_prompt"]["median_ms"], results["json_round_trip_copy"]["median_ms"]
    record(
        "bench_remake",
        [
            {
                "what": f"re-make prompt of one image, 50-node graph ({len(remake)} kept; goal ≤ 1 ms)",
                "measured": f"{ours:.3f} ms",
                "baseline": f"JSON round-trip copy of the prompt {base:.3f} ms",
                "ratio": f"{ours / base:.2f}×",
            }
        ],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
