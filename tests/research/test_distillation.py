"""Tests of :mod:`research.distillation`: the ensemble, soft targets and ``train(targets=DistillationTargets(...))``."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from fer_lib.data import make_split, stratified_sample, synthetic_fer2013
from fer_lib.errors import ModelError
from fer_lib.evaluation import EMOTIONS, evaluate_accuracy
from fer_lib.model import build_model, load_saved_model
from research.knobs import with_crop_averaging
from fer_lib.train import TrainConfig, train
from fer_lib.train._augment import training_batches
from research import cli, distillation
from research.averaging import average_weights
from research.distillation import DistillationTargets, ensemble


@pytest.fixture(scope="module")
def faces():
    return synthetic_fer2013(700, seed=0)


@pytest.fixture(scope="module")
def teacher_files(tmp_path_factory):
    """Two untrained networks saved as .keras files: one on whole faces, one on crops (ten-crop wrapped)."""
    folder = tmp_path_factory.mktemp("teachers")
    whole = build_model("fer_net_small", compile=False)
    cropped = with_crop_averaging(build_model("fer_net_small", compile=False, input_size=44), crops=10)
    paths = [folder / "whole.keras", folder / "cropped.keras"]
    whole.save(paths[0])
    cropped.save(paths[1])
    return paths


def _distil(faces, tmp_path, teachers, share=0.5, temperature=2.0, **overrides):
    config = TrainConfig(**{"model_name": "fer_net_small", "epochs": 1, "batch_size": 32, "sample_size": 320,
                            "seed": 0, **overrides})
    return train(config, faces, targets=DistillationTargets(teachers, share=share, temperature=temperature),
                 run_dir=tmp_path / "run", verbose=0)


# --------------------------------------------------------------------------------------
# soften and soft_targets
# --------------------------------------------------------------------------------------


def test_soften_keeps_the_order_and_spreads_the_mass():
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    np.testing.assert_allclose(distillation.soften(p, 1.0), p, rtol=1e-6)
    warm = distillation.soften(p, 3.0)
    np.testing.assert_allclose(warm.sum(axis=1), 1.0, rtol=1e-6)
    assert (warm.argmax(axis=1) == p.argmax(axis=1)).all()
    assert (warm.max(axis=1) < p.max(axis=1)).all()  # less sure, same ranking
    np.testing.assert_allclose(distillation.soften(p, 1e6), 1 / 3, atol=1e-5)  # hot: uniform
    with pytest.raises(ValueError, match="temperature must be positive; got 0"):
        distillation.soften(p, 0)


@settings(max_examples=60, deadline=None)
@given(
    raw=arrays(np.float64, (5, 7), elements=st.floats(0.0, 1.0)),
    labels=arrays(np.int64, 5, elements=st.integers(0, 6)),
    weight=st.floats(0.0, 0.49),
    temperature=st.floats(0.5, 8.0),
)
def test_soft_targets_are_distributions_that_keep_the_label_on_top(raw, labels, weight, temperature):
    probabilities = (raw + 1e-3) / (raw + 1e-3).sum(axis=1, keepdims=True)
    targets = distillation.soft_targets(labels, probabilities, weight=weight, temperature=temperature)
    assert targets.shape == (5, 7) and targets.dtype == np.float32
    np.testing.assert_allclose(targets.sum(axis=1), 1.0, rtol=1e-5)
    assert (targets >= 0).all()
    # With the teacher under half the weight, the true label always stays the largest target.
    assert (targets.argmax(axis=1) == labels).all()


def test_soft_targets_ends_are_the_labels_and_the_teacher():
    labels = np.array([2, 5])
    p = np.full((2, 7), 0.05)
    p[0, 1] = p[1, 5] = 0.7
    np.testing.assert_array_equal(distillation.soft_targets(labels, p, weight=0.0), np.eye(7)[labels])
    np.testing.assert_allclose(distillation.soft_targets(labels, p, weight=1.0, temperature=1.0), p, rtol=1e-6)


@pytest.mark.parametrize(("labels", "probabilities", "weight", "message"), [
    ([0, 1], np.full((2, 7), 1 / 7), 1.5, r"share in \[0, 1\]; got 1.5"),
    ([0, 1], np.full((3, 7), 1 / 7), 0.5, r"one row of 7 probabilities per label; got \(3, 7\) for 2"),
    ([0, 1], np.full((2, 6), 1 / 6), 0.5, "one row of 7 probabilities"),
    ([0, 7], np.full((2, 7), 1 / 7), 0.5, "labels must be emotion indices 0..6"),
])
def test_soft_targets_refuse_malformed_input(labels, probabilities, weight, message):
    with pytest.raises(ValueError, match=message):
        distillation.soft_targets(np.array(labels), probabilities, weight=weight)


# --------------------------------------------------------------------------------------
# ensemble and teachers
# --------------------------------------------------------------------------------------


def test_ensemble_averages_its_members_probabilities(teacher_files, faces):
    teacher, sha256 = distillation.load_teachers(teacher_files)
    members = [load_saved_model(path, compile=False) for path in teacher_files]
    batch = faces.images[:6].astype(np.float32)[..., None]
    expected = np.mean([m.predict(batch, verbose=0) for m in members], axis=0)
    np.testing.assert_allclose(teacher.predict(batch, verbose=0), expected, atol=1e-6)
    np.testing.assert_allclose(distillation.teacher_probabilities(teacher, faces.images[:6]), expected, atol=1e-6)
    assert len(sha256) == 2 and sha256[0] != sha256[1] and all(len(s) == 64 for s in sha256)


def test_ensemble_refuses_one_member_and_crop_sized_networks():
    whole = build_model("fer_net_small", compile=False)
    with pytest.raises(ValueError, match="two or more models; got 1"):
        ensemble([whole])
    with pytest.raises(ValueError, match="wrap a crop-trained network with with_crop_averaging"):
        ensemble([whole, build_model("fer_net_small", compile=False, input_size=44)])


def test_missing_teacher_file_is_named(tmp_path):
    with pytest.raises(ModelError, match=r"teacher model file .*absent.keras does not exist"):
        distillation.load_teachers([tmp_path / "absent.keras"])
    with pytest.raises(ModelError, match="at least one teacher"):
        distillation.teacher_sha256([])


def test_evaluate_ensemble_scores_the_averaged_teachers(teacher_files, faces):
    scores = distillation.evaluate_ensemble(teacher_files, faces, verbose=False)
    teacher, _ = distillation.load_teachers(teacher_files)
    split = make_split(faces, "official", validation_fraction=0.1, seed=0)
    assert scores["validation_accuracy"] == pytest.approx(evaluate_accuracy(teacher, split.validation)["accuracy"])
    assert [m["file"] for m in scores["members"]] == ["whole.keras", "cropped.keras"]
    assert 0.0 <= scores["test_accuracy"] <= 1.0 and set(scores["per_class_test_accuracy"]) <= set(
        EMOTIONS)


# --------------------------------------------------------------------------------------
# train(targets=DistillationTargets(...))
# --------------------------------------------------------------------------------------


def test_distilled_run_fits_the_blended_targets_and_records_its_teachers(teacher_files, faces, tmp_path):
    result = _distil(faces, tmp_path, teacher_files, share=0.7, temperature=3.0)
    recipe = result.card["recipe"]
    assert recipe["teachers"] == distillation.teacher_sha256(teacher_files)
    assert (recipe["distillation"], recipe["temperature"]) == (0.7, 3.0)
    (saved,) = list((tmp_path / "run").glob("teacher_probabilities-*.npy"))
    train_part = stratified_sample(make_split(faces, "official", validation_fraction=0.1, seed=0).train, 320, seed=0)
    teacher, _ = distillation.load_teachers(teacher_files)
    np.testing.assert_allclose(np.load(saved), distillation.teacher_probabilities(teacher, train_part.images),
                               atol=1e-6)
    # The batches carry the soft targets of their faces, not one-hot labels.
    hook = DistillationTargets(share=0.7, temperature=3.0, sha256=recipe["teachers"])
    batches = training_batches(train_part, TrainConfig("fer_net_small", batch_size=32, seed=0),
                               targets=hook(train_part, tmp_path / "run"))
    _, targets = batches[0]
    rows = batches._order[:32]
    expected = distillation.soft_targets(train_part.labels, np.load(saved), weight=0.7, temperature=3.0)[rows]
    np.testing.assert_allclose(targets, expected, rtol=1e-6)
    assert not np.isin(targets, [0.0, 1.0]).all()


def test_distilled_run_resumes_and_averages_from_its_saved_probabilities(teacher_files, faces, tmp_path,
                                                                        monkeypatch):
    first = _distil(faces, tmp_path, teacher_files, schedule="constant")  # a constant rate lets a run extend

    def no_teacher(*args, **kwargs):
        raise AssertionError("the teachers' probabilities are saved; they must not be computed again")

    monkeypatch.setattr(distillation, "teacher_probabilities", no_teacher)
    resumed = _distil(faces, tmp_path, teacher_files, schedule="constant", epochs=2)
    assert resumed.history["epoch"].tolist() == [1, 2] and resumed.run_dir == first.run_dir
    averaged = average_weights(tmp_path / "run", data=faces, epochs=1, verbose=0)
    assert averaged.card["recipe"]["teachers"] == first.card["recipe"]["teachers"]


def test_distillation_errors_name_the_problem(teacher_files, faces, tmp_path):
    with pytest.raises(ModelError, match=r"distillation is the teachers' share .* got distillation=2"):
        _distil(faces, tmp_path, teacher_files, share=2.0)
    with pytest.raises(ModelError, match="absent.keras does not exist"):
        _distil(faces, tmp_path, [tmp_path / "absent.keras"])
    # Saved probabilities gone and no teacher files given: say what to pass.
    with pytest.raises(ModelError, match="pass the teacher model files again"):
        DistillationTargets(sha256=["0" * 64])(faces, tmp_path)
    with pytest.raises(ModelError, match="not the ones this run was started with"):
        DistillationTargets(teacher_files, sha256=["0" * 64])(faces, tmp_path)


def test_cli_ensemble_prints_and_saves_the_scores(teacher_files, faces, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(distillation, "load_default_data", lambda data, verbose=True: faces)
    output = tmp_path / "ensemble.json"
    assert cli.main(["ensemble", *map(str, teacher_files), "--output", str(output)]) == 0
    assert "validation" in capsys.readouterr().out
    saved = json.loads(output.read_text())
    assert saved["command"].startswith("python -m research ensemble ") and len(saved["members"]) == 2
    assert cli.main(["ensemble", str(teacher_files[0])]) == 2
    assert "two or more models" in capsys.readouterr().err
