"""Tests for fer_lib.language: one table of emotion names and figure words, English and Indonesian."""

from __future__ import annotations

import ast
import html
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
from fer_lib.course import _results, plots
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


def _fields(text: str) -> list[tuple[str, str, str]]:
    """(name, conversion, format spec) of each replacement field: {count:,} is ("count", "", ",")."""
    return sorted((name, conversion or "", spec) for _, name, spec, conversion in string.Formatter().parse(text)
                  if name is not None)


def test_every_translation_keeps_the_fields_and_format_specs_of_its_english_text():
    assert _fields("{count:,} faces, {name!r}") != _fields("{count} wajah, {name!r}")   # 3,589 against 3589
    for english, indonesian in language.FIGURE_WORDS.items():
        assert indonesian.strip(), english
        assert _fields(indonesian) == _fields(english), f"{english!r}: {indonesian!r}"


def test_the_indonesian_table_names_each_english_text_once():
    def no_duplicate(pairs):
        keys = [key for key, _ in pairs]
        twice = sorted({key for key in keys if keys.count(key) > 1})
        assert not twice, f"twice in one group: {twice}"
        return dict(pairs)

    text = (ROOT / "fer_lib" / "language_id.json").read_text(encoding="utf-8")
    keys = [english for group in json.loads(text, object_pairs_hook=no_duplicate).values() for english in group]
    twice = sorted({key for key in keys if keys.count(key) > 1})
    assert not twice, f"in two groups: {twice}"


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


def test_both_languages_have_every_emotion_name_and_every_figure_word():
    for code in language.LANGUAGES:
        names = language.EMOTION_NAMES[code]
        assert len(names) == len(EMOTIONS) == len(set(names)) and all(name.strip() for name in names), code
    for english, indonesian in language.FIGURE_WORDS.items():
        assert english.strip() and indonesian.strip(), repr(english)


def test_verdicts_and_claims_speak_the_current_language():
    from fer_lib.course import verdicts

    rows = [("baseline", 0.40, 0.40), ("cure", 0.20, 0.45), ("narrow", 0.20, 0.40), ("lose", 0.20, 0.30),
            ("helps", 0.40, 0.45), ("none", 0.45, 0.39)]
    table = pd.DataFrame([{"variant": name, "claim": "more dropout", "gap": gap, "validation_accuracy": val}
                          for name, gap, val in rows])
    english = verdicts(table).set_index("variant")
    assert english.loc["cure", "verdict"] == ("Cures overfitting: shrinks the overfitting gap by 20.0 points and "
                                              "raises validation accuracy (+5.0 points).")
    assert english.loc["none", "verdict"] == ("Does not cure overfitting: widens the overfitting gap by 5.0 points "
                                              "and does not change validation accuracy (-1.0 points).")
    with language.using_language("id"):
        indonesian = verdicts(table).set_index("variant")
    assert indonesian.loc["cure", "verdict"] == ("Menyembuhkan overfitting: mempersempit selisih overfitting sebesar "
                                                 "20,0 poin dan menaikkan akurasi validasi (+5,0 poin).")
    assert set(indonesian["claim"]) == {"dropout lebih besar"}
    for sentence in indonesian["verdict"]:  # every head, gap and accuracy clause has its translation
        assert not [piece for piece in _ENGLISH_PIECES if piece in sentence], sentence


def _literal_pieces(text: str) -> list[str]:
    """The clauses of a template between its fields, colons and semicolons, without surrounding punctuation."""
    clauses = [clause for literal, *_ in string.Formatter().parse(text) for clause in re.split(r"[:;]", literal)]
    return [clause.strip(" ,.()\n") for clause in clauses if clause.strip(" ,.()\n")]


_VERDICT_KEYS = {node.value for node in ast.walk(ast.parse(inspect.getsource(_results)))
                 if isinstance(node, ast.Constant) and node.value in language.FIGURE_WORDS}
#: English a student of the Indonesian edition must not meet: the verdicts' clauses (fer_lib.course.verdicts) and
#: the library's sentences and titles (FIGURE_WORDS keys that start with a capital), each run of 2+ words.
_ENGLISH_PIECES = {piece for english, indonesian in language.FIGURE_WORDS.items() if english != indonesian
                   and (english in _VERDICT_KEYS or english[:1].isupper())
                   for piece in _literal_pieces(english) if len(piece.split()) >= 2}
#: Allowed in the Indonesian edition's outputs: Keras' epoch and progress lines, and quoted text ('Angry' in a printed
#: Python list, a widget's repr): code and data, like the code cells. Identifiers (test_Disgust) and file names do not
#: match the capitalised, whole-word emotion names.
_KERAS_LINE = re.compile(r"^\s*(Epoch \d+/\d+|\d+/\d+ .*step)")
_QUOTED = re.compile(r"'[^'\n]*'")
_EMOTION_WORD = re.compile(r"\b(" + "|".join(EMOTIONS) + r")\b")
ID_NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.id.ipynb"))


def _shown_texts(path: Path):
    """(cell index, text, table headers) of each stream, text/plain and text/html output, without markup."""
    for index, cell in enumerate(json.loads(path.read_text(encoding="utf-8"))["cells"]):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            for raw in (output.get("text", ""), data.get("text/plain", ""), data.get("text/html", "")):
                raw = "".join(raw)
                headers = [html.unescape(header).strip() for header in re.findall(r"<th[^>]*>(.*?)</th>", raw, re.S)]
                text = html.unescape(re.sub(r"<style.*?</style>|<[^>]+>", " ", raw, flags=re.S))
                text = "\n".join(line for line in text.splitlines() if not _KERAS_LINE.match(line))
                yield index, _QUOTED.sub("''", text), headers


@pytest.mark.parametrize("path", ID_NOTEBOOKS, ids=lambda path: path.name)
def test_the_indonesian_edition_shows_no_english_emotion_message_verdict_or_header(path):
    assert _ENGLISH_PIECES >= {"Cures overfitting", "Does not cure overfitting", "shrinks the overfitting gap by",
                               "No model of yours yet"}
    for index, text, headers in _shown_texts(path):
        found = _EMOTION_WORD.search(text)
        assert found is None, f"{path.name} cell {index}: {text[max(0, found.start() - 60):found.end() + 20]!r}"
        english = sorted(piece for piece in _ENGLISH_PIECES if piece in text)
        assert not english, f"{path.name} cell {index} shows English: {english}"
        untranslated = [header for header in headers if language.FIGURE_WORDS.get(header, header) != header]
        assert not untranslated, f"{path.name} cell {index}: table headers in English {untranslated} (.rename(columns=tr))"


#: English prose: a function word or an English noun a sentence of the course uses, as a whole word. The Indonesian
#: edition's printouts say "dari", "dan", "pada", "wajah"; Keras' lines, quoted text and code are left out above.
_ENGLISH_WORD = re.compile(r"\b(the|of|and|on|in|with|to|is|are|faces|epoch\(s\)|emotion\(s\))\b", re.IGNORECASE)
_ENGLISH_PERCENT = re.compile(r"\d\.\d+ ?%")  # 24.9%: Indonesian writes 24,9%
_PYTHON_BOOLEAN = re.compile(r"\b(True|False)\b")  # print tr("yes") / tr("no"), or a sentence per outcome
#: English an Indonesian reader may meet: a path, a shell command (python -m research ...), a file name, an object's
#: repr (EmotionClassifier(...), FER2013(n=...)): code, like the code cells; and TensorFlow's log lines, like Keras'.
_ALLOWED_LINE = re.compile(r"^\s*(\S+/\S+|dibuat dengan: .*|\S+\.(npz|keras|json|csv|png|gif)|\W*[A-Z]\w*\(.*[),]"
                           r"|(WARNING|INFO):\w+:.*)\s*$")


def _english_dict(line: str) -> bool:
    """Whether ``line`` prints a dict whose keys are English (a FIGURE_WORDS key, a Python name such as learning_rate)
    or whose numbers have a decimal point: a dict is code; a student of the edition reads a sentence."""
    if _ALLOWED_LINE.match(line) or not re.search(r"\{'[^'\n]*'\s*:", line):
        return False
    keys = re.findall(r"'([^'\n]*)'\s*:", line)
    english = [key for key in keys if language.FIGURE_WORDS.get(key, key) != key
               or re.fullmatch(r"[a-z]+(_[a-z0-9]+)+", key)]
    return bool(english) or re.search(r"\d\.\d", _QUOTED.sub("''", line)) is not None


def _english_dicts(path: Path):
    """(cell index, line) of each printed line of the edition's stream and text/plain outputs with such a dict."""
    for index, cell in enumerate(json.loads(path.read_text(encoding="utf-8"))["cells"]):
        for output in cell.get("outputs", []):
            text = "".join(output.get("text", "")) + "".join(output.get("data", {}).get("text/plain", ""))
            yield from ((index, line) for line in text.splitlines() if _english_dict(line))


def _prose_lines(path: Path):
    """(cell index, line) of every line a student reads as a sentence or a table label in the edition's outputs."""
    for index, text, _ in _shown_texts(path):
        for line in text.splitlines():
            if line.strip() and not _ALLOWED_LINE.match(line):
                yield index, line


@pytest.mark.parametrize("path", ID_NOTEBOOKS, ids=lambda path: path.name)
def test_the_indonesian_edition_prints_no_english_sentence_and_indonesian_numbers(path):
    assert _ENGLISH_WORD.search("always predicting the largest class: 24.9% of the test set")
    assert not _ENGLISH_WORD.search("selalu menebak kelas terbesar: 24,9% dari data uji")
    english = [f"cell {index}: {line.strip()[:120]!r}" for index, line in _prose_lines(path)
               if _ENGLISH_WORD.search(line)]
    assert not english, f"{path.name} prints English (tr('...') in the code, an entry in language_id.json): {english}"
    numbers = [f"cell {index}: {line.strip()[:120]!r}" for index, line in _prose_lines(path)
               if _ENGLISH_PERCENT.search(line)]
    assert not numbers, f"{path.name} prints numbers the English way (tr() fields write 24,9%): {numbers}"
    assert _PYTHON_BOOLEAN.search("sama dengan padding='valid': True") and not _PYTHON_BOOLEAN.search("ya")
    booleans = [f"cell {index}: {line.strip()[:120]!r}" for index, line in _prose_lines(path)
                if _PYTHON_BOOLEAN.search(line)]
    assert not booleans, f"{path.name} prints Python's True/False (tr('yes') / tr('no')): {booleans}"
    assert _english_dict("perataan: {'epochs': 10, 'learning_rate': 0.0003}") and _english_dict("{'latih': 0.881}")
    assert not _english_dict("{'latih': 25838, 'validasi': 2871}")
    dicts = [f"cell {index}: {line.strip()[:120]!r}" for index, line in _english_dicts(path)]
    assert not dicts, f"{path.name} prints a dict with English keys or decimal points (print a sentence): {dicts}"
