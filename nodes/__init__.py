"""Seed Number's nodes. ``nodes.v3`` is the one module that imports ComfyUI's node API."""
