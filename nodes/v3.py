"""The single import point of ComfyUI's V3 node API for the whole pack."""

from comfy_api.latest import ComfyExtension, io, ui

__all__ = ["ComfyExtension", "io", "ui"]
