"""Benchmark (not a test): reading details back, and what saving with details adds to Save Image.

Run: ``scripts/bench`` or ``python -m benchmarks.bench_seed_details`` in the test venv with
COMFYUI_PATH set. Targets: details read from a 1024² PNG ≤ 5 ms median; saving a 512² image with
details ≤ 5 % over ComfyUI's own Save Image write (same compression, same prompt/workflow chunks).
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.common import ROOT, comfy_in_process, paired, record, timed


def _workflow() -> tuple[dict, dict]:
    prompt = json.loads((ROOT / "workflows/api/seed_source_txt2img.json").read_text())
    workflow = json.loads((ROOT / "workflows/seed_source_txt2img.json").read_text())
    return prompt, {"workflow": workflow}


def main() -> int:
    if comfy_in_process() is None:
        print("no ComfyUI found (set COMFYUI_PATH): nothing measured")  # noqa: T201
        return 1
    import torch
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    from seed_number.nodes.core.png_details import read_png_details
    from seed_number.nodes.environment import environment
    from seed_number.nodes.seed_details import _save_png

    prompt, extra = _workflow()
    details = {
        "seed": 406220,
        "mode": "random",
        "positive": prompt["2"]["inputs"]["text"],
        "negative": prompt["3"]["inputs"]["text"],
        "steps": 20,
        "cfg": 7.0,
        "sampler": "euler",
        "scheduler": "normal",
        "width": 512,
        "height": 512,
        "model": "seed_number_demo_sd15.safetensors",
        "model_hash": "50814bd5e5",
        **environment(),
    }
    rng = np.random.default_rng(0)  # a private generator: noise-like pixels compress like real renders
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "big.png"
        _save_png(torch.from_numpy(rng.random((1024, 1024, 3), dtype=np.float32)), str(big), prompt, extra, details)
        read = timed(lambda: read_png_details(big), runs=500, warmup=20)

        def pillow_text() -> dict:  # baseline: Pillow's own reading of a PNG's text chunks
            with Image.open(big) as im:
                return dict(im.text)

        pillow_read = timed(pillow_text, runs=500, warmup=20)
        image = torch.from_numpy(rng.random((512, 512, 3), dtype=np.float32))

        def plain_save(path: str) -> None:  # what ComfyUI's SaveImage does per image
            pixels = np.clip(255.0 * image.cpu().numpy(), 0, 255).astype(np.uint8)
            info = PngInfo()
            info.add_text("prompt", json.dumps(prompt))
            for key, value in extra.items():
                info.add_text(key, json.dumps(value))
            Image.fromarray(pixels).save(path, pnginfo=info, compress_level=4)

        plain, ours = paired(
            lambda i: plain_save(f"{tmp}/p{i}.png"),
            lambda i: _save_png(image, f"{tmp}/d{i}.png", prompt, extra, details),
        )
        # whole nodes: ComfyUI's SaveImage vs Seed Details (details found from the graph, model hash cached)
        import folder_paths
        from comfy_api.latest import io

        import nodes as comfy_nodes
        from seed_number.nodes.seed_details import SeedDetails

        folder_paths.set_output_directory(tmp)
        graph = dict(prompt)
        graph["8"] = {"class_type": "SeedDetails|SeedNumber", "inputs": {"images": ["7", 0]}}
        hidden = {io.Hidden.unique_id: "8", io.Hidden.prompt: graph, io.Hidden.extra_pnginfo: extra}
        node = SeedDetails.PREPARE_CLASS_CLONE(hidden)
        save_image = comfy_nodes.SaveImage()
        batch = image.unsqueeze(0)
        node_plain, node_ours = paired(
            lambda i: save_image.save_images(batch, "bench/plain", prompt=graph, extra_pnginfo=extra),
            lambda i: node.EXECUTE_NORMALIZED(images=[batch], filename_prefix=["bench/details"], save=[True]),
        )
    node_plain_ms, node_ours_ms = statistics.median(node_plain) * 1000, statistics.median(node_ours) * 1000
    plain_ms, ours_ms = statistics.median(plain) * 1000, statistics.median(ours) * 1000
    print(f"details_read_1024px_png: median_ms={read['median_ms']:.3f}, p95_ms={read['p95_ms']:.3f}")  # noqa: T201
    print(  # noqa: T201
        f"save_512px: save_image_median_ms={plain_ms:.1f}, seed_details_median_ms={ours_ms:.1f}, "
        f"overhead={100 * (ours_ms / plain_ms - 1):+.1f}%"
    )
    print(  # noqa: T201
        f"node_512px: SaveImage_median_ms={node_plain_ms:.1f}, SeedDetails_median_ms={node_ours_ms:.1f}, "
        f"overhead={100 * (node_ours_ms / node_plain_ms - 1):+.1f}%"
    )
    print(f"pillow_text_read_1024px_png: median_ms={pillow_read['median_ms']:.3f}")  # noqa: T201
    record(
        "bench_seed_details",
        [
            {
                "what": "details read back from a 1024² PNG (all fields, parsed and checked)",
                "measured": f"{read['median_ms']:.3f} ms",
                "baseline": f"Pillow's Image.text (it decodes the image) {pillow_read['median_ms']:.3f} ms",
                "ratio": f"{read['median_ms'] / pillow_read['median_ms']:.2f}×",
            },
            {
                "what": "saving a 512² image with details (whole node)",
                "measured": f"Seed Details {node_ours_ms:.1f} ms",
                "baseline": f"Save Image {node_plain_ms:.1f} ms",
                "ratio": f"{100 * (node_ours_ms / node_plain_ms - 1):+.1f} %",
            },
        ],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
