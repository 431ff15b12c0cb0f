"""Core reads a prompt's links by output slot (it has no schemas); the slots it names are the nodes' own."""

from __future__ import annotations

import importlib
from types import ModuleType

from seed_number.nodes.core import seeds, variants


def test_core_output_slots_match_the_node_schemas(comfy: ModuleType) -> None:
    from seed_number.nodes.v3 import output_ids

    source = importlib.import_module("seed_number.nodes.seed_source").SeedSource
    sweep = importlib.import_module("seed_number.nodes.prompt_variant_sweep").PromptVariantSweep
    assert output_ids(source).index("seed") == seeds.SEED_OUTPUT
    assert output_ids(source).index("noise") == seeds.NOISE_OUTPUT
    assert output_ids(sweep).index("latent_out") == variants.LATENT_OUTPUT
    assert output_ids(sweep).index("noise") == variants.NOISE_OUTPUT
