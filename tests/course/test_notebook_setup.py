"""Tests for fer_lib.course._setup: profiles, output folders that stay relative, metrics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fer_lib.course._setup import NotebookSettings, notebook_setup


def test_relative_output_folder_stays_relative(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FER_LIB_OUTPUT", raising=False)
    monkeypatch.delenv("FER_LIB_PROFILE", raising=False)
    settings = notebook_setup("default", "build/nb", seed=0)
    assert settings.output_dir == Path("build/nb") and (tmp_path / "build/nb").is_dir()
    assert settings.pick(fast=1, default=2, full=3) == 2
    assert NotebookSettings("full", Path("b"), 0).pick(fast=1, default=2, full=3) == 3
    assert NotebookSettings("full", Path("b"), 0).pick(fast=1, default=2) == 2
    assert settings.output_of("03_train") == Path("build/03_train")  # relative stays relative
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


def test_language_sets_figure_words_and_a_separate_output_folder(tmp_path, monkeypatch):
    from fer_lib import language

    monkeypatch.delenv("FER_LIB_PROFILE", raising=False)
    monkeypatch.setenv("FER_LIB_OUTPUT", str(tmp_path))
    try:
        settings = notebook_setup("fast", notebook="04_evaluate_overfitting", language="id")
        assert language.current_language() == "id" and language.tr("accuracy") == "akurasi"
        assert settings.output_dir == tmp_path / "04_evaluate_overfitting.id"
        assert settings.output_of("03_train") == tmp_path / "03_train.id"
        english = notebook_setup("fast", notebook="04_evaluate_overfitting")
        assert language.current_language() == "en" and english.output_of("03_train") == tmp_path / "03_train"
        with pytest.raises(ValueError, match="unknown language 'fr'"):
            notebook_setup("fast", notebook="01_cnn_concepts", language="fr")
    finally:
        language.set_language("en")
