"""The prepare_noise guard against the real (in-process) comfy.sample: warns once when patched, else never."""

from __future__ import annotations

import functools
import importlib
import logging
from collections.abc import Iterator
from types import ModuleType

import pytest

from tests.comfy.helpers import run_node

WARNING_START = "Seed Number: comfy.sample.prepare_noise has been replaced by"


@pytest.fixture
def guard(comfy: ModuleType) -> Iterator[ModuleType]:
    module = importlib.import_module("seed_number.nodes.noise_guard")
    module.reset()
    yield module
    module.reset()


def warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "seed_number" and r.getMessage().startswith(WARNING_START)]


def test_unpatched_comfy_is_recognised_and_never_warned_about(
    comfy: ModuleType, guard: ModuleType, seed_source: ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="seed_number")
    assert guard.is_core_prepare_noise(comfy.prepare_noise)
    assert guard.check_prepare_noise() is None
    for _ in range(3):
        run_node(seed_source.SeedSource, seed_number=1, mode="fixed")
    assert warnings(caplog) == []


def test_patched_prepare_noise_is_warned_about_once_from_seed_source(
    comfy: ModuleType,
    guard: ModuleType,
    seed_source: ModuleType,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = comfy.prepare_noise

    @functools.wraps(original)  # copies __module__ and __name__: only the code's file tells
    def softer(latent_image, seed, noise_inds=None):
        return original(latent_image, seed, noise_inds) * 0.5

    monkeypatch.setattr(comfy, "prepare_noise", softer)
    caplog.set_level(logging.WARNING, logger="seed_number")
    for _ in range(3):
        run_node(seed_source.SeedSource, seed_number=1, mode="fixed")
    [record] = warnings(caplog)
    assert record.levelno == logging.WARNING
    message = record.getMessage()
    assert "softer" in message and __file__ in message and __name__ in message
    assert "Seed Source's `noise` output does not use it" in message
    assert "KSampler's seed input" in message and "goes through the replacement" in message
    patch = guard.check_prepare_noise()
    assert patch is not None and patch.file == __file__
    assert len(warnings(caplog)) == 1  # still once


def test_a_plain_replacement_and_a_callable_object_are_detected(comfy: ModuleType, guard: ModuleType) -> None:
    def plain(latent_image, seed, noise_inds=None):
        return None

    class Noise:
        def __call__(self, latent_image, seed, noise_inds=None):
            return None

    found = guard.describe_patch(plain)
    assert found is not None and found.name.endswith("plain") and found.file == __file__
    assert guard.describe_patch(Noise()) is not None
    assert guard.describe_patch(comfy.prepare_noise) is None
