"""Tests for fer_lib.data._container: the FER2013 container and the one path to model input."""

from __future__ import annotations

import numpy as np
import pytest

import fer_lib
from fer_lib.data._container import FER2013, to_model_input
from fer_lib.labels import EMOTIONS


def tiny_faces() -> FER2013:
    images = np.arange(4 * 48 * 48, dtype=np.int64).reshape(4, 48, 48).astype(np.uint8)
    usage = np.array(["Training", "PublicTest", "Training", "Training"])
    return FER2013(images, np.array([0, 3, 3, 6]), usage, source="tiny.csv", sha256="ab" * 32)


def test_subset_keeps_rows_and_provenance():
    faces = tiny_faces()
    part = faces.subset(faces.usage == "Training")
    assert len(part) == 3 and part.labels.tolist() == [0, 3, 6]
    np.testing.assert_array_equal(part.images[1], faces.images[2])
    assert part.source == "tiny.csv" and part.sha256 == faces.sha256
    assert len(faces.subset([3, 0])) == 2 and faces.subset([3, 0]).labels.tolist() == [6, 0]


def test_class_counts_names_all_seven_emotions():
    counts = tiny_faces().class_counts()
    assert counts.index.tolist() == list(EMOTIONS) and counts.name == "faces"
    assert counts.tolist() == [1, 0, 0, 2, 0, 0, 1]


def test_repr_says_source_and_skipped():
    assert repr(tiny_faces()) == "FER2013(n=4, source='tiny.csv', skipped=0)"
    empty = FER2013(np.zeros((0, 48, 48), np.uint8), np.zeros(0, np.int64), np.zeros(0, str), synthetic=True)
    assert repr(empty) == "FER2013(n=0, source='synthetic', skipped=0)"


def test_public_api_exports_the_container():
    assert fer_lib.FER2013 is FER2013


@pytest.mark.parametrize("shape", [(48, 48), (3, 48, 48), (3, 48, 48, 1)])
def test_to_model_input_shapes_without_rescaling(shape):
    images = np.full(shape, 200, dtype=np.uint8)
    prepared = to_model_input(images)
    assert prepared.dtype == np.float32 and prepared.shape[1:] == (48, 48, 1)
    assert prepared.max() == 200.0  # no rescaling outside the model


@pytest.mark.parametrize("shape", [(47, 48), (2, 48, 48, 3), (48,)])
def test_to_model_input_rejects_wrong_shapes(shape):
    with pytest.raises(ValueError, match=r"expected grey faces of shape \(n, 48, 48\); got \(.*\)\. Crop"):
        to_model_input(np.zeros(shape))
