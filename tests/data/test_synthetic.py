"""Tests for fer_lib.data._synthetic: drawn faces for machines without FER2013."""

from __future__ import annotations

import numpy as np
import pytest

from fer_lib.data._synthetic import SYNTHETIC_BANNER, synthetic_fer2013


def test_synthetic_is_reproducible_balanced_and_learnable():
    first = synthetic_fer2013(700, seed=3)
    second = synthetic_fer2013(700, seed=3)
    np.testing.assert_array_equal(first.images, second.images)
    assert first.class_counts().tolist() == [100] * 7
    assert set(first.usage) == {"Training", "PublicTest"}
    assert first.synthetic and first.source == "synthetic" and first.sha256 == ""
    # Learnable without a CNN: a linear model on pixels beats chance (1/7) by far (0.73 here).
    from sklearn.linear_model import RidgeClassifier

    train, test = synthetic_fer2013(1400, seed=4), synthetic_fer2013(350, seed=5)
    model = RidgeClassifier(alpha=10.0).fit(train.images.reshape(len(train), -1) / 255.0, train.labels)
    assert model.score(test.images.reshape(len(test), -1) / 255.0, test.labels) > 0.5


def test_different_seeds_draw_different_faces():
    assert not np.array_equal(synthetic_fer2013(7, seed=0).images, synthetic_fer2013(7, seed=1).images)


@pytest.mark.parametrize("n", [0, -3])
def test_size_must_be_positive(n):
    with pytest.raises(ValueError, match=rf"n must be a positive number of faces; got {n}"):
        synthetic_fer2013(n)


def test_banner_says_synthetic_and_where_to_put_real_data():
    assert "SYNTHETIC DATA" in SYNTHETIC_BANNER and "data_input/" in SYNTHETIC_BANNER
    assert all(len(line) <= 78 for line in SYNTHETIC_BANNER.splitlines())
