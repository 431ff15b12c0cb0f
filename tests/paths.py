"""Paths every tier shares: the repository root (defined here only) and the folders tests read or write."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
"""The repository root (this file is ``tests/paths.py``)."""
WORKFLOWS = ROOT / "workflows"
"""The example workflows: UI format here, API format under ``api/``."""
ARTIFACTS = ROOT / "test-artifacts"
"""Screenshots and other files the tests leave for a person to look at."""
