"""Tests for fer_lib.language: one table of emotion names and figure words, English and Indonesian."""

from __future__ import annotations

import ast
import inspect
import json
import re
import string
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from fer_lib import language  # noqa: E402
from fer_lib.course import concepts
from fer_lib.course import plots
from fer_lib.live._drawing import annotate  # noqa: E402
from fer_lib.labels import EMOTIONS  # noqa: E402
from fer_lib.data._synthetic import synthetic_fer2013  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def english_afterwards():
    yield
    language.set_language("en")
    plt.close("all")


def test_emotion_names_in_both_languages_follow_the_label_order():
    assert language.emotion_names("en") == EMOTIONS
    assert language.emotion_names("id") == ("Marah", "Jijik", "Takut", "Senang", "Sedih", "Terkejut", "Netral")
    assert language.display_emotion("Disgust", "id") == "Jijik" and language.display_emotion(6, "id") == "Netral"
    with pytest.raises(ValueError, match="unknown emotion 'Bored'"):
        language.display_emotion("Bored")
    with pytest.raises(ValueError, match="outside 0..6"):
        language.display_emotion(7)


def test_english_is_the_default_and_unchanged():
    assert language.current_language() == "en"
    for english in language.FIGURE_WORDS:
        assert language.tr(english) == english
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        language.set_language("fr")
    assert language.current_language() == "en"


def test_every_translation_keeps_the_fields_of_its_english_text():
    def fields(text):
        return sorted(name for _, name, spec, _ in string.Formatter().parse(text) if name is not None)

    for english, indonesian in language.FIGURE_WORDS.items():
        assert indonesian.strip(), english
        assert fields(indonesian) == fields(english), english


def _texts_given_to_tr_and_titles() -> set[str]:
    """Every literal passed to tr(...) or as title=... in fer_lib and in the notebooks' code."""
    sources = [path.read_text(encoding="utf-8") for path in (ROOT / "fer_lib").rglob("*.py")]
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        if path.name.count(".") == 1:
            cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
            sources += ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "code"]
    found = set()
    for source in sources:
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "tr" and node.args:
                if isinstance(node.args[0], ast.Constant):
                    found.add(node.args[0].value)
            if isinstance(node, ast.keyword) and node.arg == "title" and isinstance(node.value, ast.Constant):
                if isinstance(node.value.value, str):
                    found.add(node.value.value)
    for name, function in inspect.getmembers(plots, inspect.isfunction):
        default = inspect.signature(function).parameters.get("title")
        if default is not None and isinstance(default.default, str):
            found.add(default.default)
    page = (ROOT / "fer_lib" / "course" / "webcam.js").read_text(encoding="utf-8")
    found |= {match[1] for match in re.findall(r"""say\((["'])(.+?)\1""", page)}  # the webcam page's words
    return found | set(concepts.KERNELS)


def test_every_text_shown_in_a_figure_has_an_indonesian_entry():
    missing = sorted(text for text in _texts_given_to_tr_and_titles() if text not in language.FIGURE_WORDS)
    assert not missing, f"add to fer_lib.language.FIGURE_WORDS: {missing}"


def test_figures_speak_the_chosen_language():
    faces = synthetic_fer2013(140, seed=0)
    with language.using_language("id"):
        figure = plots.class_counts_bar({"train": faces})
        axes = figure.axes[0]
        assert [label.get_text() for label in axes.get_xticklabels()] == list(language.emotion_names("id"))
        assert axes.get_xlabel() == "emosi" and axes.get_title() == "Jumlah wajah per emosi dan per bagian data"
        assert axes.get_legend().get_title().get_text() == "bagian data"
    english = plots.class_counts_bar({"train": faces}).axes[0]
    assert [label.get_text() for label in english.get_xticklabels()] == list(EMOTIONS)
    assert english.get_xlabel() == "emotion" and english.get_legend().get_title().get_text() == "split"
    counts = plots.confusion_heatmap(pd.DataFrame([[3, 1], [0, 2]], index=["a", "b"], columns=["a", "b"])).axes[0]
    assert [label.get_text() for label in counts.get_xticklabels()] == ["a", "b"]  # not emotions: shown as they are


def test_annotated_frames_name_the_emotion_in_the_chosen_language():
    frame = np.full((120, 200, 3), 255, np.uint8)
    face = {"box": (60, 40, 60, 60), "probabilities": [0, 0, 0, 1, 0, 0, 0], "emotion": "Happy"}
    english = annotate(frame, [face])
    with language.using_language("id"):
        indonesian = annotate(frame, [face])
    assert not np.array_equal(english, indonesian)  # "Happy 100%" against "Senang 100%"
    np.testing.assert_array_equal(english[60:], indonesian[60:])  # the same box; only the label differs


def test_notebooks_declare_their_language_parameter():
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        if path.name.count(".") != 1:
            continue
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        parameters = next(cell for cell in cells if "parameters" in cell["metadata"].get("tags", []))
        assert re.search(r'^language = "en"', "".join(parameters["source"]), re.M), path.name
        assert any("language=language" in "".join(cell["source"]) for cell in cells if cell["cell_type"] == "code")
