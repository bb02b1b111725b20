"""Fixtures of the training tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def float32_machine(monkeypatch):
    """A machine where ``precision="auto"`` trains in float32: no GPU, bf16 on CPUs not chosen (yet)."""
    import tensorflow as tf

    from fer_lib.train import _config

    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: [])
    monkeypatch.setattr(_config, "BFLOAT16_ON_CPU", False)
