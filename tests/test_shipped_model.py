"""The shipped model's contract: models/default.keras and its card, as the training issue fixes them."""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import pytest

import fer_lib  # noqa: F401  (registers fer_lib's custom layers before load_model)
from fer_lib.classifier import predict_probabilities
from fer_lib.labels import EMOTIONS

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "default.keras"
CARD = ROOT / "models" / "default.json"


@pytest.fixture(scope="module")
def model():
    return keras.saving.load_model(MODEL)


@pytest.fixture(scope="module")
def card():
    return json.loads(CARD.read_text())


def test_files_are_small_and_present():
    assert MODEL.is_file() and CARD.is_file()
    assert MODEL.stat().st_size < 20 * 2**20


def test_takes_raw_grey_levels_and_returns_probabilities(model):
    faces = np.random.default_rng(0).integers(0, 256, size=(5, 48, 48, 1)).astype(np.float32)
    probabilities = np.asarray(model.predict_on_batch(faces))
    assert probabilities.shape == (5, 7)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)
    assert (probabilities >= 0).all()


def test_card_describes_the_model(card, model):
    assert card["output"].endswith(str(list(EMOTIONS)))
    assert card["data"]["synthetic"] is False
    assert card["split"]["protocol"] == "official" and card["split"]["test_part"] == "PublicTest"
    assert card["parameters"]["total"] == fer_lib.models.count_parameters(model)["total"] or card["flip_tta"]
    assert set(card["per_class_test_accuracy"]) == set(EMOTIONS)
    assert card["seconds"] > 0 and card["machine"]["cpu_count"]
    assert 0.25 < card["accuracy"]["test"] <= 1


@pytest.mark.shared_data
def test_card_accuracy_is_reproduced_on_public_test(shared_fer2013, card, model):
    """Recompute the PublicTest accuracy from the raw faces: it must match the card."""
    faces = fer_lib.load_fer2013(shared_fer2013)
    if faces.sha256 != card["data"]["sha256"]:
        pytest.skip("a different FER2013 file than the one the model was trained on")
    test = faces.subset(faces.usage == "PublicTest")
    accuracy = float((predict_probabilities(model, test.images).argmax(axis=1) == test.labels).mean())
    assert accuracy == pytest.approx(card["accuracy"]["test"], abs=0.002)
    assert accuracy > 0.5  # far above the 25% of always answering "Happy"
