"""Seed Number: Ideogram-style seed control for ComfyUI (see README.md)."""

WEB_DIRECTORY = "./web"


async def comfy_entrypoint():
    """ComfyUI's V3 entry point; imports ComfyUI only when ComfyUI calls it."""
    from .nodes.extension import comfy_entrypoint as entrypoint

    return await entrypoint()


__all__ = ["WEB_DIRECTORY", "comfy_entrypoint"]
