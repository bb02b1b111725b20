"""Tests for fer_lib.evaluation: tables arranged by emotion, mistakes, saliency."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fer_lib import evaluation
from fer_lib.labels import EMOTIONS
from fer_lib.data._synthetic import synthetic_fer2013


@pytest.fixture(scope="module")
def known() -> evaluation.Evaluation:
    """Hand-made predictions: labels 0..6 twice; the second half is predicted as Happy."""
    labels = np.tile(np.arange(7), 2)
    probabilities = np.full((14, 7), 0.01)
    probabilities[np.arange(7), np.arange(7)] = 0.94
    probabilities[7 + np.arange(7), 3] = np.linspace(0.5, 0.9, 7)
    return evaluation.Evaluation(probabilities, labels, "hand-made")


def test_accuracy_and_confusion_table(known):
    assert known.accuracy == pytest.approx(8 / 14)
    table = evaluation.confusion_table(known)
    assert list(table.index) == list(EMOTIONS) == list(table.columns)
    np.testing.assert_allclose(table.sum(axis=1), 1.0)
    assert table.loc["Happy", "Happy"] == 1.0 and table.loc["Angry", "Happy"] == 0.5
    counts = evaluation.confusion_table(known, normalize=False)
    assert counts.to_numpy().sum() == 14


def test_per_class_report_matches_sklearn_and_names_classes(known):
    report = evaluation.per_class_report(known)
    assert list(report.index[:7]) == list(EMOTIONS)
    assert report.loc["Happy", "recall"] == 1.0 and report.loc["Angry", "recall"] == 0.5
    assert report.loc["Happy", "precision"] == pytest.approx(2 / 8)
    assert report["support"].iloc[:7].tolist() == [2] * 7


def test_macro_f1_weighs_every_emotion_alike(known):
    from sklearn.metrics import f1_score

    # Happy: precision 2/8, recall 1, F1 0.4; the six others: precision 1, recall 0.5, F1 2/3.
    assert known.macro_f1 == pytest.approx((0.4 + 6 * 2 / 3) / 7)
    assert known.macro_f1 == pytest.approx(f1_score(known.labels, known.predicted, average="macro"))
    # A model that never answers the rare class loses a seventh of the score, not 1.5% of it.
    labels = np.array([3] * 98 + [1] * 2)
    never_disgust = evaluation.Evaluation(np.eye(7)[np.full(100, 3)], labels)
    assert never_disgust.accuracy == 0.98
    assert never_disgust.macro_f1 == pytest.approx((2 * 0.98 / 1.98) / 7)


def test_confident_mistakes_are_wrong_and_sorted(known):
    mistakes = evaluation.confident_mistakes(known, count=3)
    assert len(mistakes) == 3
    assert (mistakes["true"] != mistakes["predicted"]).all()
    assert mistakes["confidence"].is_monotonic_decreasing
    assert mistakes["index"].tolist() == [13, 12, 11]


def test_overfitting_gap():
    history = pd.DataFrame({"epoch": [1, 2], "accuracy": [0.5, 0.8], "val_accuracy": [0.45, 0.6]})
    np.testing.assert_allclose(evaluation.overfitting_gap(history)["gap"], [0.05, 0.2])


def test_evaluate_and_saliency_with_a_real_model(classifier):
    faces = synthetic_fer2013(21, seed=0)
    result = evaluation.evaluate(classifier.model, faces)
    assert result.probabilities.shape == (21, 7) and 0 <= result.accuracy <= 1
    maps = evaluation.saliency_maps(classifier.model, faces.images[:3])
    assert maps.shape == (3, 48, 48) and maps.min() >= 0 and np.allclose(maps.max(axis=(1, 2)), 1, atol=1e-3)


def test_smoothgrad_averages_gradients_of_noisy_copies(classifier):
    faces = synthetic_fer2013(4, seed=1).images
    plain = evaluation.saliency_maps(classifier.model, faces)
    without_noise = evaluation.smoothgrad_maps(classifier.model, faces, samples=3, noise=0.0)
    np.testing.assert_allclose(without_noise, plain, atol=1e-5)  # the mean of identical gradients
    smooth = evaluation.smoothgrad_maps(classifier.model, faces, samples=8, seed=0)
    assert smooth.shape == (4, 48, 48) and smooth.min() >= 0 and np.allclose(smooth.max(axis=(1, 2)), 1, atol=1e-3)
    assert not np.allclose(smooth, plain, atol=1e-2)
    np.testing.assert_array_equal(smooth, evaluation.smoothgrad_maps(classifier.model, faces, samples=8, seed=0))
    with pytest.raises(ValueError, match="samples must be at least 1"):
        evaluation.smoothgrad_maps(classifier.model, faces, samples=0)
