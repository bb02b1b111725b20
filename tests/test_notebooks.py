"""Tests of the committed notebooks as documents: light, free of machine paths, connected, explained.

nbval (``make test-notebooks``) checks that they run; these check what a reader sees on the web,
in both editions: English (``NN_name.ipynb``) and Indonesian (``NN_name.id.ipynb``, made from the
English one by ``scripts/make_id_notebooks.py``, which these tests also keep honest).
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(path for path in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb") if path.name.count(".") == 1)
ID_NOTEBOOKS = [path.with_name(f"{path.stem}.id.ipynb") for path in NOTEBOOKS]
BOTH = NOTEBOOKS + ID_NOTEBOOKS
#: What the opening and ending cells say, per edition.
WORDS = {"en": ("You will learn", "It assumes", "## Summary", "## Exercises", "Hint"),
         "id": ("Yang akan Anda pelajari", "Prasyarat", "## Ringkasan", "## Latihan", "Petunjuk")}
MAX_BYTES = 300 * 1024
MACHINE_PATH = re.compile(r"(?<![\w.])/(?:work|home|root|tmp|Users)/|PosixPath\(|WindowsPath\(")
IMAGES = ("image/png", "image/jpeg")
WIDGET = "application/vnd.jupyter.widget-view+json"


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _text(cell: dict) -> str:
    return "".join(cell["source"])


def _output_texts(cell: dict):
    for output in cell.get("outputs", []):
        if "text" in output:
            yield "".join(output["text"])
        for kind, value in output.get("data", {}).items():
            if kind.startswith("text/") or kind == "application/json":
                yield "".join(value) if isinstance(value, list) else json.dumps(value)


def _edition(path: Path) -> str:
    return "id" if path.name.endswith(".id.ipynb") else "en"


def test_there_are_seven_notebooks_in_each_edition():
    assert [path.name[:2] for path in NOTEBOOKS] == ["01", "02", "03", "04", "05", "06", "07"]
    assert all(path.is_file() for path in ID_NOTEBOOKS), "run `make notebooks-id`"


@pytest.mark.parametrize("path", BOTH, ids=lambda path: path.name)
def test_notebook_is_light_enough_for_a_web_viewer(path):
    assert path.stat().st_size <= MAX_BYTES, f"{path.name} is {path.stat().st_size // 1024} KB (limit 300 KB)"


@pytest.mark.parametrize("path", BOTH, ids=lambda path: path.name)
def test_saved_outputs_name_no_path_of_the_machine_that_ran_them(path):
    for index, cell in enumerate(_cells(path)):
        for text in _output_texts(cell):
            found = MACHINE_PATH.search(text)
            assert found is None, f"{path.name} cell {index} shows {text[max(0, found.start() - 40):found.end() + 40]!r}"
            assert text.strip() not in {"True", "False", "None"}, f"{path.name} cell {index} shows a stray {text!r}"


@pytest.mark.parametrize("path", BOTH, ids=lambda path: path.name)
def test_saved_outputs_show_no_tensorflow_start_up_lines(path):
    from fer_lib.quiet import is_startup_line

    for index, cell in enumerate(_cells(path)):
        for text in _output_texts(cell):
            shown = [line for line in text.splitlines() if is_startup_line(line)]
            assert not shown, f"{path.name} cell {index} shows TensorFlow's start-up line {shown[0][:80]!r}"


@pytest.mark.parametrize("edition", [NOTEBOOKS, ID_NOTEBOOKS], ids=["en", "id"])
@pytest.mark.parametrize("position", range(7))
def test_each_notebook_links_to_the_previous_and_the_next(position, edition):
    if position >= len(edition) or not edition[position].is_file():
        pytest.skip("notebook missing (test_there_are_seven_notebooks_in_each_edition fails)")
    path = edition[position]
    last = _text(_cells(path)[-1])
    words = {"Previous": "Previous", "Next": "Next", "Sebelumnya": "Previous", "Berikutnya": "Next"}
    found = re.findall(r"\[(?:← )?(Previous|Next|Sebelumnya|Berikutnya)[^\]]*\]\(([^)]+\.ipynb)\)", last)
    links = {words[word]: target for word, target in found}
    expected = {}
    if position > 0:
        expected["Previous"] = edition[position - 1].name
    if position < len(edition) - 1:
        expected["Next"] = edition[position + 1].name
    assert links == expected, f"{path.name}'s last cell links {links}, expected {expected}"


@pytest.mark.parametrize("path", BOTH, ids=lambda path: path.name)
def test_each_notebook_says_what_it_teaches_and_ends_with_summary_and_exercises(path):
    cells = _cells(path)
    learn, assumes, summary, exercises, hint = WORDS[_edition(path)]
    opening = _text(cells[0])
    assert learn in opening and assumes in opening, f"{path.name}: opening cell"
    ending = "\n".join(_text(cell) for cell in cells[-3:] if cell["cell_type"] == "markdown")
    assert summary in ending and exercises in ending and hint in ending, f"{path.name}: ending"


@pytest.mark.parametrize("path", BOTH, ids=lambda path: path.name)
def test_every_figure_is_followed_by_a_sentence(path):
    cells = _cells(path)
    for index, cell in enumerate(cells):
        # a widget's saved image stands in for the widget, which the cell before it introduces
        shows_figure = any(kind in output.get("data", {}) for output in cell.get("outputs", []) for kind in IMAGES
                           if WIDGET not in output.get("data", {}))
        if shows_figure:
            following = cells[index + 1] if index + 1 < len(cells) else None
            assert following is not None and following["cell_type"] == "markdown", (
                f"{path.name} cell {index} draws a figure that no sentence explains")


def test_make_run_all_hides_the_kernels_routine_warnings():
    spec = importlib.util.spec_from_file_location("run_notebooks", ROOT / "scripts" / "run_notebooks.py")
    runner = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(runner)
    assert runner.is_kernel_noise("[IPKernelApp] WARNING | Kernel is running over TCP without encryption.\n")
    assert runner.is_kernel_noise("KeyboardInterrupt caught in kernel.\n")
    assert not runner.is_kernel_noise("ValueError: a real problem in a cell\n")


# ---------------------------------------------------------------------------------- the Indonesian edition


def _editions_script():
    spec = importlib.util.spec_from_file_location("make_id_notebooks", ROOT / "scripts" / "make_id_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_english_markdown_cell_has_a_current_translation():
    editions = _editions_script()
    missing = editions.problems(editions.load_translations())
    assert not missing, "translate again (python scripts/make_id_notebooks.py --list): " + ", ".join(
        f"{item['notebook']}/{item['id']} ({item['why']})" for item in missing)


@pytest.mark.parametrize("english", NOTEBOOKS, ids=lambda path: path.name)
def test_indonesian_notebook_is_the_english_code_with_translated_text(english):
    editions = _editions_script()
    indonesian = english.with_name(f"{english.stem}.id.ipynb")
    assert indonesian.is_file(), f"{indonesian.name} is missing: run `make notebooks-id`"
    translations = editions.load_translations()
    english_cells = _cells(english)
    extras = editions.extra_cells(translations[english.stem])
    id_cells, seen, previous = [], [], None
    for cell in _cells(indonesian):
        tags = cell["metadata"].get("tags", [])
        if editions.EXTRA_TAG in tags:  # an Indonesian-only cell (a glossary), after the cell its entry names
            entry = extras.pop(cell["id"])
            assert _text(cell) == editions.translate_links(entry["id"]), f"{cell['id']}: run `make notebooks-id`"
            assert entry["after"] in seen and (previous == entry["after"] or not previous_is_english), cell["id"]
        elif "injected-parameters" not in tags:
            id_cells.append(cell)
        previous, previous_is_english = cell.get("id"), not ({editions.EXTRA_TAG, "injected-parameters"} & set(tags))
        seen.append(previous)
    assert not extras, f"edition-only cells missing: {sorted(extras)}: run `make notebooks-id`"
    assert [cell.get("id") for cell in id_cells] == [cell.get("id") for cell in english_cells], "cells differ"
    for en, tr in zip(english_cells, id_cells):
        if en["cell_type"] == "code":
            assert _text(tr) == _text(en), f"code cell {en.get('id')} differs from the English notebook"
        else:
            expected = editions.translate_links(translations[english.stem][en["id"]]["id"])
            assert _text(tr) == expected, f"markdown cell {en['id']} is not its translation: run `make notebooks-id`"
    injected = [cell for cell in _cells(indonesian) if "injected-parameters" in cell["metadata"].get("tags", [])]
    assert len(injected) == 1 and 'language = "id"' in _text(injected[0])


def test_an_edition_only_cell_goes_after_the_cell_it_names_and_is_never_stale(tmp_path):
    editions = _editions_script()
    translations = editions.load_translations()
    notebook = json.loads(NOTEBOOKS[0].read_text(encoding="utf-8"))
    first, second = (cell["id"] for cell in notebook["cells"][:2])
    table = {key: entry for key, entry in translations[NOTEBOOKS[0].stem].items() if "after" not in entry}
    translations[NOTEBOOKS[0].stem] = table
    table["x-note"] = {"en": "", "id": "Catatan [lihat](02_prepare_data.ipynb).", "after": first}
    table["x-more"] = {"en": "", "id": "Lagi.", "after": "x-note"}
    assert editions.problems(translations, [NOTEBOOKS[0]]) == []
    built = editions.build_edition(NOTEBOOKS[0], translations)
    ids = [cell.get("id") for cell in built.cells]
    assert ids[:4] == [first, "x-note", "x-more", second]
    assert built.cells[1].source == "Catatan [lihat](02_prepare_data.id.ipynb)."
    assert built.cells[1].cell_type == "markdown" and built.cells[1].metadata["tags"] == [editions.EXTRA_TAG]
    table["x-more"]["after"] = "no-such-cell"
    table["x-note"]["id"] = " "
    table[first]["after"] = second  # an English cell's entry cannot become an edition-only one
    found = {item["id"]: item["why"] for item in editions.problems(translations, [NOTEBOOKS[0]])}
    assert set(found) == {"x-more", "x-note", first} and "no cell 'no-such-cell'" in found["x-more"]


def test_a_changed_english_cell_makes_its_translation_stale(tmp_path):
    editions = _editions_script()
    translations = editions.load_translations()
    notebook = json.loads(NOTEBOOKS[0].read_text(encoding="utf-8"))
    first = next(cell for cell in notebook["cells"] if cell["cell_type"] == "markdown")
    first["source"] = _text(first) + " A sentence added later."
    changed = tmp_path / NOTEBOOKS[0].name
    changed.write_text(json.dumps(notebook), encoding="utf-8")
    found = editions.problems(translations, [changed])
    assert [(item["id"], item["why"]) for item in found] == [(first["id"], "stale: the English text changed")]
    del translations[NOTEBOOKS[0].stem][first["id"]]
    assert editions.problems(translations, [changed])[0]["why"] == "no translation"
