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


def test_the_indonesian_setup_writes_decimal_commas_and_explains_fer_lib_errors(tmp_path, capsys, monkeypatch):
    import IPython
    import pandas as pd

    from fer_lib import language
    from fer_lib.course import _setup
    from fer_lib.errors import DataNotFoundError, FerError, SourceError

    class FakeShell:
        custom_exceptions = ()

        def set_custom_exc(self, exceptions, handler):
            self.custom_exceptions, self.handler = exceptions, handler

        def showtraceback(self, exc_tuple, tb_offset=None):
            self.shown = exc_tuple

    shell = FakeShell()  # what notebook_setup uses of IPython's shell
    monkeypatch.setattr(IPython, "get_ipython", lambda: shell)
    monkeypatch.delenv("FER_LIB_OUTPUT", raising=False)
    monkeypatch.delenv("FER_LIB_PROFILE", raising=False)
    try:
        _setup.notebook_setup("fast", output_dir=tmp_path / "nb", language="id")
        assert shell.custom_exceptions == (FerError,)
        assert pd.DataFrame({"x": [0.073, 1.0]}).to_string() == "      x\n0 0,073\n1   1,0"
        error = DataNotFoundError("no fer2013.csv")
        shell.handler(shell, DataNotFoundError, error, None)
        said = capsys.readouterr().out
        assert said.startswith("DataNotFoundError: FER2013 tidak ditemukan") and "FER2013_PATH" in said
        assert "(environment variable)" in said and shell.shown[1] is error
        shell.handler(shell, SourceError, SourceError("no camera"), None)
        assert capsys.readouterr().out.startswith("SourceError: kamera, video, atau gambar")
        _setup.notebook_setup("fast", output_dir=tmp_path / "nb")  # English again: pandas' own format, no handler
        assert shell.custom_exceptions == ()
        assert pd.DataFrame({"x": [0.073, 1.0]}).to_string() == "       x\n0  0.073\n1  1.000"
    finally:
        language.set_language("en")
        pd.reset_option("display.float_format")
