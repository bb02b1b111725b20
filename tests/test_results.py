"""The committed training results agree with themselves.

Each model card (``fer_lib/model/shipped/default.json``, ``results/*.json`` with an ``accuracy`` entry) sits
beside the history of the run that made it; retraining without updating the other file fails
here. The documents that quote the cards are generated from them (``tests/test_docs.py``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _cards() -> list[Path]:
    candidates = [ROOT / "fer_lib" / "model" / "shipped" / "default.json", *sorted((ROOT / "results").glob("*.json"))]
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
