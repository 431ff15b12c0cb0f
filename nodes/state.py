"""The pack's process-wide state: one of each per ComfyUI process, kept in the node layer.

``nodes/core`` defines the classes (pure, testable on their own); the single instances the nodes and
the prompt hook share live here, so no core module holds global state.
"""

from __future__ import annotations

from .core.model_hash import HashCache
from .core.run_values import RunValues
from .core.seeds import SeedCounter

run_values = RunValues()
"""What the pack's nodes output when they last ran (read by Seed Details and the contact sheet)."""
queue_counter = SeedCounter()
"""increment / decrement seeds resolved by the prompt hook when a prompt is queued."""
runtime_counter = SeedCounter()
"""increment / decrement with a linked seed, resolved when Seed Source runs."""
model_hashes = HashCache(max_entries=256)
"""Checkpoint hashes (the last 256 files, by path, size and mtime)."""
