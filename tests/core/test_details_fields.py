"""Details fields: the modules import nothing heavy; validation keeps None."""

from __future__ import annotations

import subprocess
import sys

from seed_number.nodes.core.details_fields import FIELDS, validate_details
from tests.core.details_samples import DETAILS
from tests.paths import ROOT

DETAILS_MODULES = (
    "details_fields",
    "a1111_infotext",
    "details_json",
    "prompt_graph",
    "prompt_details",
    "png_text",
    "png_details",
    "model_hash",
    "reproducibility",
)


def test_details_modules_import_no_comfyui_torch_numpy_or_pillow() -> None:
    imports = "; ".join(f"import seed_number.nodes.core.{name}" for name in DETAILS_MODULES)
    code = (
        f"import sys; from tools.pack import load_pack; load_pack(); {imports}; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'comfy', 'comfy_api', 'torch', 'numpy', 'PIL'}))"
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"


def test_validate_details_keeps_none() -> None:
    assert validate_details({"vae": None, "seed": None}) == {"vae": None, "seed": None}
    assert set(FIELDS) >= set(DETAILS)
