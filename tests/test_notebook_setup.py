"""Tests for fer_lib.notebook: profiles, output folders that stay relative, metrics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fer_lib.notebook import notebook_setup


def test_relative_output_folder_stays_relative(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FER_LIB_OUTPUT", raising=False)
    monkeypatch.delenv("FER_LIB_PROFILE", raising=False)
    settings = notebook_setup("default", "build/nb", seed=0)
    assert settings.output_dir == Path("build/nb") and (tmp_path / "build/nb").is_dir()
    assert settings.pick(fast=1, default=2, full=3) == 2
    settings.write_metrics(accuracy=0.5)
    assert json.loads((tmp_path / "build/nb/metrics.json").read_text()) == {"accuracy": 0.5}


def test_environment_chooses_profile_and_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("FER_LIB_PROFILE", "fast")
    monkeypatch.setenv("FER_LIB_OUTPUT", str(tmp_path / "out"))
    settings = notebook_setup("default", "ignored", notebook="03_train")
    assert settings.fast and settings.output_dir == tmp_path / "out" / "03_train"
    monkeypatch.setenv("FER_LIB_PROFILE", "huge")
    with pytest.raises(ValueError, match="unknown profile 'huge'"):
        notebook_setup()
