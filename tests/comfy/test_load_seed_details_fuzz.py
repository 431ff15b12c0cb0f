"""Load Seed Details over 200+ hostile files, as ComfyUI runs it: a clear result, bounded time and memory."""

from __future__ import annotations

import importlib
import random
import time
import tracemalloc
from pathlib import Path
from types import ModuleType

import pytest

from seed_number.nodes.core.sampler_names import COMFY_SAMPLERS, COMFY_SCHEDULERS
from tests.comfy.helpers import run_node
from tests.core import hostile_pngs

TIME_LIMIT_S = 10.0
"""Per file, under tracemalloc (which slows the read ~2.5×): a bound against a hang or a blowup, not
speed. The slowest file (a 40,000-node prompt chain) takes ~1.6 s traced on a busy 2-core machine."""
MEMORY_LIMIT = 64 * 1024 * 1024


@pytest.fixture(scope="module")
def loader(comfy: ModuleType) -> ModuleType:
    return importlib.import_module("seed_number.nodes.load_seed_details")


def hostile_corpus(directory: Path) -> list[Path]:
    return hostile_pngs.write_corpus(directory, random.Random(4321))


def test_every_hostile_file_gives_outputs_or_a_clear_error(
    loader: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import folder_paths

    monkeypatch.setattr(folder_paths, "get_input_directory", lambda: str(tmp_path))
    files = hostile_corpus(tmp_path)
    assert len(files) >= 200
    outcomes = {"outputs": 0, "error": 0}
    for path in files:
        assert loader.LoadSeedDetails.validate_inputs(image=path.name) is True
        tracemalloc.start()
        start = time.perf_counter()
        try:
            out = run_node(loader.LoadSeedDetails, image=path.name)
        except ValueError as exc:
            message = str(exc)
            assert message.startswith("Load Seed Details: image: ") and path.name in message
            outcomes["error"] += 1
        else:
            seed, positive, negative, speed, steps, cfg, sampler, scheduler, width, height, source, *noise = out.args
            noise_source, variation_seed, variation_strength = noise
            assert noise_source in ("comfy", "a1111 gpu", "a1111 cpu") and isinstance(variation_seed, int)
            assert 0.0 <= variation_strength <= 1.0
            assert isinstance(seed, int) and seed >= 0 and isinstance(source, str)
            assert all(isinstance(text, str) for text in (positive, negative, speed))
            assert 1 <= steps <= 10_000 and 0 <= cfg <= 100 and width >= 1 and height >= 1
            assert sampler in COMFY_SAMPLERS and scheduler in COMFY_SCHEDULERS
            outcomes["outputs"] += 1
        finally:
            elapsed = time.perf_counter() - start
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        assert elapsed < TIME_LIMIT_S, (path.name, elapsed)
        assert peak < MEMORY_LIMIT, (path.name, peak)
    assert outcomes["error"] > 100 and outcomes["outputs"] > 0  # both kinds occur in the corpus
