"""The committed training results agree with themselves and with the README that quotes them.

Each model card (``models/default.json``, ``results/*.json`` with an ``accuracy`` entry) sits
beside the history of the run that made it. Retraining without updating the other file, or
without updating the README's figures, fails here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _cards() -> list[Path]:
    candidates = [ROOT / "models" / "default.json", *sorted((ROOT / "results").glob("*.json"))]
    return [path for path in candidates if "accuracy" in json.loads(path.read_text())]


CARDS = _cards()


def _percent(fraction: float) -> str:
    return f"{100 * fraction:.1f}%"


def test_there_are_cards_to_check():
    names = {path.name for path in CARDS}
    assert {"default.json", "fer_net_small_default.json"} <= names


@pytest.mark.parametrize("path", CARDS, ids=lambda path: path.name)
def test_card_and_history_agree(path):
    card = json.loads(path.read_text())
    history = pd.read_csv(path.parent / card["history"])
    assert list(history["epoch"]) == list(range(1, card["epochs_trained"] + 1))
    # The card's seconds are the sum of the epochs' (resumed runs add up their sittings).
    assert history["seconds"].sum() == pytest.approx(card["seconds"], rel=0.01, abs=5)
    assert card["data"]["synthetic"] is False
    for part in ("train", "validation", "test"):
        assert 1 / 7 < card["accuracy"][part] <= 1, part


#: Where the README quotes each card: the row of the profile table that names the card's files,
#: and/or the comparison table that follows a heading or sentence naming the card.
PASSAGES: dict[str, list[tuple[str, str]]] = {
    "default.json": [("profile row", "`models/default.*`"), ("comparison table", "### The shipped model")],
    "fer_net_small_default.json": [("profile row", "`results/fer_net_small_default.*`")],
    "fer_net_16_epochs.json": [("profile row", "`results/fer_net_16_epochs.*`")],
    "fer_net_weight_averaged.json": [("comparison table", "`results/fer_net_weight_averaged.{json,history.csv}`")],
    "fer_net_crop44.json": [("comparison table", "`results/fer_net_crop44.{json,history.csv}`")],
    "fer_net_distilled.json": [("comparison table", "`results/fer_net_distilled.{json,history.csv}`")],
    "seed_cnn_tutorial.json": [("comparison table", "`results/seed_cnn_tutorial.{json,history.csv}`")],
}

#: First cell of a comparison-table row -> the card's accuracy it quotes in its last cell.
COMPARISON_ROWS = {"train accuracy": "train", "validation accuracy": "validation", "test accuracy": "test"}


def _cells(line: str) -> list[str]:
    return [cell.strip().strip("*").strip() for cell in line.strip().strip("|").split("|")]


def _table_after(marker: str) -> list[list[str]]:
    """The cells of the first Markdown table after the line that contains ``marker``."""
    lines = README.splitlines()
    start = next(i for i, line in enumerate(lines) if marker in line)
    rows = []
    for line in lines[start + 1:]:
        if line.startswith("|"):
            rows.append(_cells(line))
        elif rows:
            break
    assert rows, f"no table follows {marker!r} in the README"
    return rows


def _profile_row(marker: str) -> dict[str, str]:
    """The profile table's row that names ``marker``, as column name -> cell."""
    header = next(_cells(line) for line in README.splitlines() if line.startswith("| profile |"))
    rows = [_cells(line) for line in README.splitlines() if line.startswith("|") and marker in line]
    assert len(rows) == 1, f"expected one README table row naming {marker}; found {len(rows)}"
    return dict(zip(header, rows[0]))


def test_every_card_has_its_place_in_the_readme():
    assert {path.name for path in CARDS} == set(PASSAGES)


@pytest.mark.parametrize("path", CARDS, ids=lambda path: path.name)
def test_readme_quotes_the_cards_accuracies_where_it_names_the_card(path):
    card = json.loads(path.read_text())
    for kind, marker in PASSAGES[path.name]:
        if kind == "profile row":
            row = _profile_row(marker)
            quoted = {"train": row["train"], "validation": row["validation"], "test": row["`PublicTest`"]}
            assert row["epochs"] == str(card["epochs_trained"]), marker
        else:
            table = _table_after(marker)
            quoted = {part: cells[-1].split()[0].strip("*")
                      for cells in table for first, part in COMPARISON_ROWS.items() if cells[0].startswith(first)}
        assert set(quoted) == {"train", "validation", "test"}, marker
        for part, figure in quoted.items():
            assert figure == _percent(card["accuracy"][part]), (
                f"README ({kind} at {marker}) quotes {figure} for {path.name}'s {part} accuracy; "
                f"the card says {_percent(card['accuracy'][part])}"
            )


def test_readme_gaps_of_the_shipped_model_are_the_cards():
    accuracy = json.loads((ROOT / "models" / "default.json").read_text())["accuracy"]
    table = {cells[0]: cells[-1] for cells in _table_after("### The shipped model")}
    assert table["train minus validation"] == f"{100 * (accuracy['train'] - accuracy['validation']):.1f} points"
    assert table["train minus test"] == f"{100 * (accuracy['train'] - accuracy['test']):.1f} points"


def test_readme_quotes_the_teacher_ensembles_scores():
    """The ensemble's figures (not a card: it was scored, not trained) are the ones its JSON holds."""
    scores = json.loads((ROOT / "results" / "teacher_ensemble.json").read_text())
    assert len(scores["members"]) == 2
    section = README[README.index("an ensemble distilled into one live-sized"):]
    assert (f"validation {_percent(scores['validation_accuracy'])} and `PublicTest` "
            f"{_percent(scores['test_accuracy'])}") in " ".join(section.split())
    assert f"(macro-F1 {scores['test_macro_f1']:.3f}" in " ".join(section.split())
