"""The Seed Number extension: the node list ComfyUI loads."""

from __future__ import annotations

from .contact_sheet import SeedContactSheet
from .help_pages import register as register_help_pages
from .load_seed_details import LoadSeedDetails
from .prompt_hook import register
from .prompt_variant_sweep import PromptVariantSweep
from .render_speed_preset import RenderSpeedPreset
from .seed_details import SeedDetails
from .seed_source import SeedSource
from .v3 import ComfyExtension, io

NODES: list[type[io.ComfyNode]] = [
    SeedSource,
    RenderSpeedPreset,
    SeedDetails,
    PromptVariantSweep,
    SeedContactSheet,
    LoadSeedDetails,
]


class SeedNumberExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return list(NODES)


async def comfy_entrypoint() -> SeedNumberExtension:
    register(NODES)
    register_help_pages([node.GET_SCHEMA().node_id for node in NODES])
    return SeedNumberExtension()
