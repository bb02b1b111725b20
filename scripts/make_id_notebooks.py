"""Make the Indonesian edition of the course from the English notebooks: ``make notebooks-id`` calls this.

One source of code: ``notebooks/NN_name.id.ipynb`` is ``notebooks/NN_name.ipynb`` with every
markdown cell replaced by its translation from ``notebooks/translations/id.json`` and every code
cell kept byte for byte, plus papermill's ``injected-parameters`` cell setting ``language = "id"``
after the parameters cell (so figures and widgets speak Indonesian, see ``fer_lib.language``).

The translation file maps ``notebook -> cell id -> {"en": English text, "id": translation}``.
Keeping the English text beside its translation is what makes a stale translation visible: when
a markdown cell of an English notebook changes, its ``en`` no longer matches and this script
refuses to write anything, naming every cell to translate again (``--list`` prints them as JSON
to fill in). Links between notebooks point to the same edition.

A notebook's table may also hold cells that only the Indonesian edition has (a glossary, say):
``"n01-glossary": {"en": "", "id": "...", "after": "<cell id>"}`` inserts a markdown cell with the
id ``n01-glossary`` and the tag ``edition-only`` after the English notebook's cell ``<cell id>`` (or
after another edition-only cell). Such entries have no English text, so they are never stale; an
``after`` that names no cell, or an id the English notebook already uses, is reported like a missing
translation.

Outputs of code cells whose source did not change are kept from the existing Indonesian notebook;
``make notebooks-id`` then re-executes the edition (``scripts/run_notebooks.py --in-place --edition id``).
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
TRANSLATIONS = NOTEBOOKS / "translations" / "id.json"
LANGUAGE = "id"
INJECTED_TAG = "injected-parameters"
EXTRA_TAG = "edition-only"
_LINK = re.compile(r"\((\d\d_[A-Za-z0-9_]+)\.ipynb\)")


def english_notebooks() -> list[Path]:
    """The English edition: ``notebooks/NN_name.ipynb`` (no language suffix)."""
    return sorted(path for path in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb") if path.name.count(".") == 1)


def edition_path(english: Path, language: str = LANGUAGE) -> Path:
    """``01_cnn_concepts.ipynb`` -> ``01_cnn_concepts.id.ipynb`` beside it."""
    return english.with_name(f"{english.stem}.{language}.ipynb")


def load_translations(path: Path = TRANSLATIONS) -> dict[str, dict[str, dict[str, str]]]:
    """The translation file, or an empty table when there is none yet."""
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise SystemExit(f"{path}: not valid JSON ({error}); fix the file, nothing was written") from error


def extra_cells(table: dict) -> dict[str, dict[str, str]]:
    """The edition-only cells of one notebook's table: the entries with an ``after``."""
    return {key: entry for key, entry in table.items() if "after" in entry}


def _anchor(key: str, extras: dict) -> str | None:
    """The English cell an edition-only cell ends up after (following ``after`` through other such cells)."""
    seen = set()
    while key in extras and key not in seen:
        seen.add(key)
        key = extras[key]["after"]
    return None if key in seen else key


def problems(translations: dict, notebooks: list[Path] | None = None) -> list[dict[str, str]]:
    """Markdown cells without a current translation: ``{"notebook", "id", "why", "en"}`` each."""
    found = []
    for path in notebooks or english_notebooks():
        table = translations.get(path.stem, {})
        cells = nbformat.read(path, as_version=4).cells
        english_ids = {cell.get("id") for cell in cells}
        extras = extra_cells(table)
        for key, entry in extras.items():
            why = None
            if key in english_ids:
                why = "edition-only cell: the English notebook has a cell with this id"
            elif _anchor(key, extras) not in english_ids:
                why = f"edition-only cell: no cell {entry['after']!r} to put it after"
            elif not entry.get(LANGUAGE, "").strip():
                why = "edition-only cell: no text"
            if why:
                found.append({"notebook": path.stem, "id": key, "why": why, "en": ""})
        for cell in cells:
            if cell.cell_type != "markdown":
                continue
            entry = table.get(cell.get("id"))
            if entry is None or "after" in entry or not entry.get(LANGUAGE, "").strip():
                found.append({"notebook": path.stem, "id": cell["id"], "why": "no translation", "en": cell.source})
            elif entry.get("en") != cell.source:
                found.append({"notebook": path.stem, "id": cell["id"], "why": "stale: the English text changed",
                              "en": cell.source})
    return found


def translate_links(text: str, language: str = LANGUAGE) -> str:
    """Point links to other notebooks at the same edition."""
    return _LINK.sub(lambda match: f"({match.group(1)}.{language}.ipynb)", text)


def _injected_cell() -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(f'# Parameters\nlanguage = "{LANGUAGE}"')
    cell["id"] = "injected-parameters"
    cell.metadata["tags"] = [INJECTED_TAG]
    return cell


def _extra_cells_after(cell_id: str, extras: dict) -> list[nbformat.NotebookNode]:
    """The edition-only cells that follow ``cell_id``, in table order, each followed by its own."""
    cells = []
    for key, entry in extras.items():
        if entry["after"] == cell_id:
            cell = nbformat.v4.new_markdown_cell(translate_links(entry[LANGUAGE]))
            cell["id"] = key
            cell.metadata["tags"] = [EXTRA_TAG]
            cells += [cell, *_extra_cells_after(key, extras)]
    return cells


def build_edition(english: Path, translations: dict, previous: nbformat.NotebookNode | None = None):
    """The Indonesian notebook for ``english`` (raises KeyError if a cell has no translation)."""
    notebook = nbformat.read(english, as_version=4)
    table = translations[english.stem]
    old_outputs = {}
    if previous is not None:
        old_outputs = {cell.get("id"): cell for cell in previous.cells
                       if cell.cell_type == "code" and INJECTED_TAG not in cell.metadata.get("tags", [])}
    extras = extra_cells(table)
    cells = []
    for cell in notebook.cells:
        cell = copy.deepcopy(cell)
        if cell.cell_type == "markdown":
            cell.source = translate_links(table[cell["id"]][LANGUAGE])
        elif cell.cell_type == "code":
            before = old_outputs.get(cell.get("id"))
            if before is not None and before.source == cell.source:  # same code: keep its last real outputs
                cell.outputs, cell.execution_count = before.outputs, before.execution_count
            else:
                cell.outputs, cell.execution_count = [], None
        cells.append(cell)
        if "parameters" in cell.metadata.get("tags", []):
            cells.append(_injected_cell())
        cells += _extra_cells_after(cell.get("id"), extras)
    notebook.cells = cells
    notebook.metadata["language_edition"] = LANGUAGE
    return notebook


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true",
                        help="print the cells that need a (new) translation as JSON, and write nothing")
    parser.add_argument("--only", nargs="*", help="only notebooks whose name contains one of these")
    args = parser.parse_args()
    chosen = [english for english in english_notebooks()
              if not args.only or any(part in english.name for part in args.only)]
    translations = load_translations()
    missing = problems(translations, chosen)
    if args.list:
        print(json.dumps(missing, ensure_ascii=False, indent=1))
        return 0
    if missing:
        print(f"{len(missing)} markdown cell(s) need a translation in {TRANSLATIONS.relative_to(ROOT)}; "
              "nothing was written:", file=sys.stderr)
        for item in missing:
            print(f"  {item['notebook']} cell {item['id']}: {item['why']}", file=sys.stderr)
        print("Run `python scripts/make_id_notebooks.py --list` for their English text.", file=sys.stderr)
        return 1
    for english in chosen:
        target = edition_path(english)
        previous = nbformat.read(target, as_version=4) if target.is_file() else None
        edition = build_edition(english, translations, previous)
        temporary = target.with_suffix(".ipynb.tmp")
        nbformat.write(edition, temporary)
        temporary.replace(target)  # atomic: never half a notebook
        print(f"wrote {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
