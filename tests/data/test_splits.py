"""Tests for fer_lib.data._splits: the official and tutorial splits, samples, and saved splits."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import fer_lib
from fer_lib.data import _splits as splits
from fer_lib.data._container import FER2013
from fer_lib.errors import DataError, DataNotFoundError
from fer_lib.data._synthetic import synthetic_fer2013


def test_official_split_uses_usage_and_keeps_private_test_out():
    faces = synthetic_fer2013(700, seed=0)
    usage = faces.usage.copy()
    usage[:50] = "PrivateTest"
    faces = FER2013(faces.images, faces.labels, usage)
    split = splits.official_split(faces, validation_fraction=0.1, seed=0)
    assert set(split.train.usage) == {"Training"} and set(split.validation.usage) == {"Training"}
    assert set(split.test.usage) == {"PublicTest"}
    n_training = int(np.sum(usage == "Training"))
    assert len(split.train) + len(split.validation) == n_training
    assert abs(len(split.validation) - round(0.1 * n_training)) <= 1
    # Stratified: every class is in the validation part.
    assert (split.validation.class_counts() > 0).all()
    again = splits.official_split(faces, validation_fraction=0.1, seed=0)
    np.testing.assert_array_equal(split.validation.labels, again.validation.labels)


def test_official_split_without_usage_explains():
    faces = synthetic_fer2013(70)
    faces = FER2013(faces.images, faces.labels, np.full(70, "Unassigned"), source="x.csv")
    with pytest.raises(DataError, match=r"^x\.csv: no 'Training' rows.*no Usage column; use protocol='tutorial'"):
        splits.make_split(faces, "official")


def test_official_split_without_public_test_explains():
    faces = synthetic_fer2013(70)
    faces = FER2013(faces.images, faces.labels, np.full(70, "Training"), source="x.csv")
    with pytest.raises(DataError, match=r"^x\.csv: no 'PublicTest' rows to test on; use protocol='tutorial'"):
        splits.make_split(faces, "official")


def test_tutorial_split_matches_sklearn_protocol():
    from sklearn.model_selection import train_test_split

    faces = synthetic_fer2013(500, seed=2)
    split = splits.make_split(faces, "tutorial")
    x_train, x_test, _, _ = train_test_split(faces.images, faces.labels, test_size=0.1, random_state=42)
    x_train, x_valid, _, _ = train_test_split(x_train, np.zeros(len(x_train)), test_size=0.1, random_state=41)
    np.testing.assert_array_equal(split.test.images, x_test)
    np.testing.assert_array_equal(split.validation.images, x_valid)
    np.testing.assert_array_equal(split.train.images, x_train)
    assert split.sizes() == {"train": 405, "validation": 45, "test": 50}
    with pytest.raises(DataError, match=r"19 rows are too few for the tutorial split \(need 20\)"):
        splits.tutorial_split(synthetic_fer2013(19))


def test_unknown_protocol():
    with pytest.raises(ValueError, match="unknown split protocol 'random'; expected 'official' or 'tutorial'"):
        splits.make_split(synthetic_fer2013(50), "random")


def test_validation_fraction():
    usage = np.array(["Training"] * 139 + ["PublicTest"])
    faces = dataclasses.replace(synthetic_fer2013(140, seed=1), usage=usage)
    split = splits.official_split(faces, validation_fraction=0.25, seed=1)
    assert (len(split.train), len(split.validation)) == (104, 35)
    with pytest.raises(ValueError, match="validation fraction must be between 0 and 1; got 1.5"):
        splits.make_split(faces, validation_fraction=1.5)


def test_stratified_sample_keeps_proportions():
    faces = synthetic_fer2013(700, seed=1)
    sample = splits.stratified_sample(faces, 140, seed=0)
    assert len(sample) == 140 and sample.class_counts().tolist() == [20] * 7
    assert splits.stratified_sample(faces, 10_000) is faces
    with pytest.raises(ValueError, match="sample size must be a positive number of faces; got 0"):
        splits.stratified_sample(faces, 0)


def test_save_and_load_split(tmp_path):
    split = splits.make_split(synthetic_fer2013(300, seed=1), "official")
    path = splits.save_split(split, tmp_path / "prepared" / "split.npz")
    again = splits.load_split(path)
    assert again.sizes() == split.sizes() and again.protocol == "official" and again.seed == 0
    np.testing.assert_array_equal(again.test.images, split.test.images)
    assert again.train.synthetic
    assert [p.name for p in path.parent.iterdir()] == ["split.npz"]  # no temporary left behind
    with pytest.raises(DataNotFoundError, match="none.npz does not exist; run notebooks/02_prepare_data.ipynb"):
        splits.load_split(tmp_path / "none.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(DataError, match=r"junk\.npz: not a split written by fer_lib\.data\.save_split"):
        splits.load_split(tmp_path / "junk.npz")


def test_public_api_exports_split():
    assert fer_lib.Split is splits.Split
