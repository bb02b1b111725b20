"""Tests of the committed notebooks as documents: light, free of machine paths, connected, explained.

nbval (``make test-notebooks``) checks that they run; these check what a reader sees on the web.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MAX_BYTES = 300 * 1024
MACHINE_PATH = re.compile(r"(?<![\w.])/(?:work|home|root|tmp|Users)/|PosixPath\(|WindowsPath\(")
IMAGES = ("image/png", "image/jpeg")


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


def test_there_are_five_notebooks():
    assert [path.name[:2] for path in NOTEBOOKS] == ["01", "02", "03", "04", "05"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_is_light_enough_for_a_web_viewer(path):
    assert path.stat().st_size <= MAX_BYTES, f"{path.name} is {path.stat().st_size // 1024} KB (limit 300 KB)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_saved_outputs_name_no_path_of_the_machine_that_ran_them(path):
    for index, cell in enumerate(_cells(path)):
        for text in _output_texts(cell):
            found = MACHINE_PATH.search(text)
            assert found is None, f"{path.name} cell {index} shows {text[max(0, found.start() - 40):found.end() + 40]!r}"
            assert text.strip() not in {"True", "False", "None"}, f"{path.name} cell {index} shows a stray {text!r}"


@pytest.mark.parametrize("position", range(5))
def test_each_notebook_links_to_the_previous_and_the_next(position):
    if position >= len(NOTEBOOKS):
        pytest.skip("notebook missing (test_there_are_five_notebooks fails)")
    path = NOTEBOOKS[position]
    last = _text(_cells(path)[-1])
    links = dict(re.findall(r"\[(?:← )?(Previous|Next)[^\]]*\]\(([^)]+\.ipynb)\)", last))
    expected = {}
    if position > 0:
        expected["Previous"] = NOTEBOOKS[position - 1].name
    if position < len(NOTEBOOKS) - 1:
        expected["Next"] = NOTEBOOKS[position + 1].name
    assert links == expected, f"{path.name}'s last cell links {links}, expected {expected}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_each_notebook_says_what_it_teaches_and_ends_with_summary_and_exercises(path):
    cells = _cells(path)
    opening = _text(cells[0])
    assert "You will learn" in opening and "It assumes" in opening, f"{path.name}: opening cell"
    ending = "\n".join(_text(cell) for cell in cells[-3:] if cell["cell_type"] == "markdown")
    assert "## Summary" in ending and "## Exercises" in ending and "Hint" in ending, f"{path.name}: ending"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_every_figure_is_followed_by_a_sentence(path):
    cells = _cells(path)
    for index, cell in enumerate(cells):
        shows_figure = any(kind in output.get("data", {}) for output in cell.get("outputs", []) for kind in IMAGES)
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
