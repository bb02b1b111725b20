"""Tests for fer_lib.model._cards: assembling, writing and reading model cards."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from fer_lib.model import _cards as cards
from fer_lib.model._cards import ModelCard
from fer_lib.data._container import FER2013
from fer_lib.data._splits import make_split
from fer_lib.data._synthetic import synthetic_fer2013
from fer_lib.errors import ModelError
from fer_lib.labels import EMOTIONS

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = [ROOT / "fer_lib" / "model" / "shipped" / "default.json", *sorted((ROOT / "results").glob("*.json"))]
COMMITTED = [path for path in COMMITTED if "accuracy" in json.loads(path.read_text())]

CONFIG = {"model_name": "fer_net_small", "protocol": "official", "validation_fraction": 0.1,
          "sample_size": 100, "epochs": 3, "batch_size": 32, "seed": 0,
          "data_sha256": "ab" * 32, "synthetic": True,
          "augment": True, "schedule": "cosine", "learning_rate": 0.002, "flip_tta": "auto"}


@pytest.fixture(scope="module")
def faces() -> FER2013:
    return synthetic_fer2013(300, seed=0)


def _card(faces: FER2013, **overrides) -> ModelCard:
    if "split" not in overrides:
        overrides["split"] = make_split(faces, "official", validation_fraction=0.1, seed=0)
    options = dict(
        config=CONFIG, state={"epoch": 2, "seconds": 12.345, "best_epoch": 2}, data=faces,
        train_size=100, parameters={"trainable": 10, "non_trainable": 2, "total": 12}, flip_tta=True,
        accuracy={"train": 0.9, "validation": 0.6, "validation_without_flip_tta": 0.55, "test": 0.5},
        per_class_test_accuracy=dict.fromkeys(EMOTIONS, 0.5), weights="last epoch", history="run/history.csv",
    )
    options.update(overrides)
    return ModelCard.from_run(**options)


def test_from_run_fills_every_section(faces):
    split = make_split(faces, "official", validation_fraction=0.1, seed=0)
    card = _card(faces).to_dict()
    assert card["name"] == card["architecture"] == "fer_net_small"
    assert card["data"] == {"file": "synthetic", "sha256": faces.sha256, "synthetic": True, "skipped_rows": 0}
    assert card["split"] == {"protocol": "official", "validation_fraction": 0.1, "seed": 0,
                             "sizes": {"train": 100, "validation": len(split.validation), "test": len(split.test)},
                             "test_part": "PublicTest"}
    assert "data_sha256" not in card["recipe"] and "synthetic" not in card["recipe"]
    assert card["recipe"]["epochs"] == 3 and card["recipe"]["flip_tta"] == "auto"
    assert card["epochs_trained"] == 2 and card["epochs_planned"] == 3 and card["best_epoch"] == 2
    assert card["seconds"] == 12.3 and card["flip_tta"] is True
    assert card["input"] == cards.INPUT_DESCRIPTION and card["output"].endswith(str(list(EMOTIONS)))
    assert set(card["machine"]) == {"platform", "processor", "cpu_count", "python", "keras", "backend"}
    assert card["history"] == "run/history.csv"


def test_tutorial_protocol_names_its_test_part():
    faces = synthetic_fer2013(300, seed=0)
    tutorial = FER2013(faces.images, faces.labels, np.full(len(faces), "Unassigned"),
                       source="/somewhere/faces.csv.gz", sha256="cd" * 32)
    card = _card(tutorial, config={**CONFIG, "protocol": "tutorial"},
                 split=make_split(tutorial, "tutorial", seed=0))
    assert card.split["test_part"] == "random 10% (tutorial)"
    assert card.data == {"file": "faces.csv.gz", "sha256": "cd" * 32, "synthetic": False, "skipped_rows": 0}


@pytest.mark.parametrize("path", COMMITTED, ids=lambda path: path.name)
def test_committed_cards_have_the_same_keys_in_the_same_order(path):
    """Cards written before this module existed read back unchanged: same keys, same order."""
    mapping = json.loads(path.read_text())
    card = ModelCard.read(path)
    assert list(card.to_dict()) == list(mapping)
    assert card.to_dict() == mapping


def test_new_card_has_the_committed_key_order(faces):  # and says the precision it was trained in, after flip_tta
    committed = [key for key in json.loads((ROOT / "fer_lib" / "model" / "shipped" / "default.json").read_text())
                 if key != "precision"]  # cards written before precision was recorded lack it
    assert list(_card(faces, test_macro_f1=0.25).to_dict()) == [*committed[:5], "precision", *committed[5:]]
    assert committed[4] == "flip_tta" and _card(faces).precision == "float32"


def test_macro_f1_is_recorded_after_the_per_class_accuracies(faces):
    mapping = _card(faces, test_macro_f1=np.float64(0.4567)).to_dict()
    keys = list(mapping)
    assert keys.index("test_macro_f1") == keys.index("per_class_test_accuracy") + 1
    assert mapping["test_macro_f1"] == 0.4567 and type(mapping["test_macro_f1"]) is float  # JSON-ready


def test_card_without_macro_f1_reads_back_unchanged(faces, tmp_path):
    """Cards written before macro-F1 was recorded have no such key, and keep having none."""
    mapping = _card(faces).to_dict()
    assert "test_macro_f1" not in mapping
    card = ModelCard.from_dict(mapping)
    assert card.test_macro_f1 is None and card.to_dict() == mapping


def test_write_and_read_round_trip(faces, tmp_path):
    card = _card(faces)
    path = card.write(tmp_path / "cards" / "m.json")
    assert path == tmp_path / "cards" / "m.json"
    assert json.loads(path.read_text()) == card.to_dict()
    assert ModelCard.read(path) == card
    assert [p.name for p in path.parent.iterdir()] == ["m.json"]  # no temporary file left


def test_card_is_immutable(faces):
    with pytest.raises(AttributeError, match="cannot assign to field 'seconds'"):
        _card(faces).seconds = 0.0


def test_options_are_keyword_only(faces):
    with pytest.raises(TypeError, match="takes 1 positional argument"):
        ModelCard.from_run(CONFIG)


def test_read_missing_card(tmp_path):
    with pytest.raises(ModelError, match=r"model card .*nope\.json does not exist.*--output MODEL\.keras"):
        ModelCard.read(tmp_path / "nope.json")


def test_read_card_that_is_not_json(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    with pytest.raises(ModelError, match=r"bad\.json is not valid JSON"):
        ModelCard.read(path)


def test_read_card_with_wrong_keys(tmp_path, faces):
    mapping = _card(faces).to_dict()
    path = tmp_path / "extra.json"
    path.write_text(json.dumps({**mapping, "colour": "blue"}))
    with pytest.raises(ModelError, match=r"extra\.json: not a model card: unknown key\(s\) colour"):
        ModelCard.read(path)
    del mapping["accuracy"]
    path.write_text(json.dumps(mapping))
    with pytest.raises(ModelError, match=r"extra\.json: not a model card: .*'accuracy'"):
        ModelCard.read(path)


def test_machine_description_is_json_ready():
    description = cards.machine_description()
    assert json.loads(json.dumps(description)) == description
    assert isinstance(description["cpu_count"], int) and description["cpu_count"] >= 1
