"""The Seed Number extension: the node list ComfyUI loads."""

from __future__ import annotations

from .contact_sheet import SeedContactSheet
from .prompt_hook import register
from .render_speed_preset import RenderSpeedPreset
from .seed_source import SeedSource
from .v3 import ComfyExtension, io

NODES: list[type[io.ComfyNode]] = [SeedSource, RenderSpeedPreset, SeedContactSheet]


class SeedNumberExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return list(NODES)


async def comfy_entrypoint() -> SeedNumberExtension:
    register()
    return SeedNumberExtension()
