"""Tests for fer_lib.training: reproducibility, resume, model card, errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from fer_lib import training
from fer_lib.cards import ModelCard
from fer_lib.dataset import FER2013
from fer_lib.errors import DataError, ModelError
from fer_lib.synthetic import synthetic_fer2013


@pytest.fixture(scope="module")
def faces():
    return synthetic_fer2013(700, seed=0)


def small_run(faces, tmp_path, **overrides):
    options = dict(model_name="fer_net_small", data=faces, epochs=2, batch_size=32, sample_size=320,
                   run_dir=tmp_path / "run", verbose=0, seed=0)
    options.update(overrides)
    return training.train(**options)


def test_augment_batch_keeps_shape_dtype_and_changes_pixels():
    images = synthetic_fer2013(8, seed=1).images
    out = training.augment_batch(images, np.random.default_rng(0))
    assert out.shape == images.shape and out.dtype == images.dtype
    assert not np.array_equal(out, images)
    again = training.augment_batch(images, np.random.default_rng(0))
    np.testing.assert_array_equal(out, again)


def test_dataset_batches_reshuffle_per_epoch():
    faces = synthetic_fer2013(100, seed=1)
    batches = training.AugmentedFaces(faces.images, faces.labels, batch_size=32, augment=False, seed=3)
    assert len(batches) == 4
    x, y = batches[0]
    assert x.shape == (32, 48, 48, 1) and y.shape == (32, 7) and x.max() > 1  # raw grey levels
    first = batches._order.copy()
    batches.on_epoch_end()
    assert not np.array_equal(first, batches._order)
    batches.set_epoch(0)
    np.testing.assert_array_equal(first, batches._order)


def test_train_writes_model_card_history_and_output(faces, tmp_path):
    output = tmp_path / "models" / "m.keras"
    result = small_run(faces, tmp_path, output=output)
    card = json.loads(output.with_suffix(".json").read_text())
    assert output.is_file() and card == result.card
    assert ModelCard.read(output.with_suffix(".json")).to_dict() == card
    assert card["history"] == "m.history.csv" and (output.parent / card["history"]).is_file()
    run_card = json.loads((result.run_dir / "card.json").read_text())
    assert run_card == {**card, "history": str(result.run_dir / "history.csv")}
    assert card["architecture"] == "fer_net_small" and card["epochs_trained"] == 2
    assert card["split"]["sizes"]["train"] == 320 and card["split"]["test_part"] == "PublicTest"
    assert card["data"]["synthetic"] is True
    assert set(card["accuracy"]) >= {"train", "validation", "test"}
    assert set(card["per_class_test_accuracy"]) == {"Angry", "Disgust", "Fear", "Happy", "Sad", "Surprise", "Neutral"}
    assert card["parameters"]["total"] > 0 and card["seconds"] > 0 and card["machine"]["cpu_count"]
    history = pd.read_csv(result.run_dir / "history.csv")
    assert history["epoch"].tolist() == [1, 2]
    assert {"accuracy", "val_accuracy", "loss", "val_loss", "learning_rate"} <= set(history.columns)


def test_same_seed_same_result(faces, tmp_path):
    first = small_run(faces, tmp_path / "a")
    second = small_run(faces, tmp_path / "b")
    np.testing.assert_allclose(first.history["loss"], second.history["loss"], rtol=1e-3)
    assert first.card["accuracy"]["validation"] == pytest.approx(second.card["accuracy"]["validation"], abs=0.01)


def test_interrupted_run_resumes_without_losing_epochs(faces, tmp_path, monkeypatch):
    """Interrupt a run in the middle of its second epoch; the next call continues after the first."""

    def interrupt_in_epoch_two(self, batch, logs=None):
        if self.dataset.epoch == 1 and batch == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(training._EpochCheckpoint, "on_train_batch_end", interrupt_in_epoch_two, raising=False)
    with pytest.raises(KeyboardInterrupt):
        small_run(faces, tmp_path, epochs=3)
    state = json.loads((tmp_path / "run" / "state.json").read_text())
    assert state["epoch"] == 1 and [row["epoch"] for row in state["history"]] == [1]
    monkeypatch.undo()
    resumed = small_run(faces, tmp_path, epochs=3)
    assert resumed.history["epoch"].tolist() == [1, 2, 3]
    assert resumed.card["epochs_trained"] == 3
    # Nothing half-written is left in the run folder.
    assert not list((tmp_path / "run").glob("*.tmp*"))


def test_checkpoint_of_another_architecture_is_refused(faces, tmp_path):
    small_run(faces, tmp_path, epochs=1)
    with pytest.raises(ModelError, match=r"belongs to another run \(differs in: .*model_name"):
        small_run(faces, tmp_path, epochs=1, model_name="fer_net")


def test_unknown_model_name(faces, tmp_path):
    with pytest.raises(ModelError, match="unknown model 'vgg99'"):
        small_run(faces, tmp_path, model_name="vgg99")


def test_data_without_rows_for_the_split(tmp_path):
    faces = synthetic_fer2013(60, seed=0)
    only_test = FER2013(faces.images, faces.labels, np.full(60, "PublicTest"), source="tiny.csv")
    with pytest.raises(DataError, match=r"tiny\.csv: no 'Training' rows, so the official split is impossible"):
        training.train("fer_net_small", only_test, epochs=1, run_dir=tmp_path / "r", verbose=0)


def test_saved_model_carries_no_optimiser_state(faces, tmp_path):
    output = tmp_path / "m.keras"
    result = small_run(faces, tmp_path, output=output, epochs=1)
    import zipfile

    import h5py

    with zipfile.ZipFile(output) as archive:
        archive.extract("model.weights.h5", tmp_path)
    with h5py.File(tmp_path / "model.weights.h5") as weights:
        assert "optimizer" not in weights or len(weights["optimizer"].keys()) == 0
    assert result.card["parameters"]["total"] > 0


def test_inference_copy_predicts_like_the_trained_model():
    # The tutorial's network standardises per pixel with an adapted Normalization layer; its
    # copy without optimiser state once kept the weights but not the statistics derived from
    # them, so scores computed on the copy (train and test on the card) were wrong.
    from fer_lib import models

    rng = np.random.default_rng(0)
    faces = rng.integers(0, 256, size=(32, 48, 48, 1)).astype(np.float32)
    bright = np.clip(faces * 0.5 + 100, 0, 255)  # statistics far from mean 0, variance 1
    model = models.seed_cnn(width=2, normalization_data=bright)
    copy = training._inference_copy(model)
    np.testing.assert_allclose(np.asarray(copy.predict_on_batch(faces)),
                               np.asarray(model.predict_on_batch(faces)), atol=1e-5)


def test_evaluate_accuracy_is_the_evaluation_modules():
    from fer_lib import evaluation, models

    faces = synthetic_fer2013(70, seed=3)
    model = models.build_model("fer_net_small", compile=False)
    scores = training.evaluate_accuracy(model, faces, batch_size=16)
    reference = evaluation.evaluate(model, faces)
    assert scores["n"] == 70 and scores["accuracy"] == reference.accuracy
    assert scores["per_class"] == reference.per_class_accuracy
    manual = (reference.probabilities.argmax(axis=1) == faces.labels).mean()
    assert scores["accuracy"] == pytest.approx(manual)
    empty = training.evaluate_accuracy(model, faces.subset(np.zeros(70, bool)))
    assert empty["n"] == 0 and np.isnan(empty["accuracy"]) and empty["per_class"] == {}


def test_reduce_lr_needs_a_constant_schedule(faces, tmp_path):
    with pytest.raises(ModelError, match=r"reduce_lr works with schedule='constant' only; this run uses 'cosine'"):
        small_run(faces, tmp_path, reduce_lr=2, schedule="cosine", epochs=1)


def test_unknown_schedule(faces, tmp_path):
    with pytest.raises(ModelError, match=r"unknown schedule 'step'; expected 'constant' or 'cosine'"):
        small_run(faces, tmp_path, schedule="step")


def test_finalize_refuses_a_folder_without_a_run(tmp_path):
    with pytest.raises(ModelError, match=r"empty holds no training run \(no state\.json\)"):
        training.finalize(tmp_path / "empty")
    with pytest.raises(ModelError, match=r"weights must be 'best' or 'last'; got 'first'"):
        training.finalize(tmp_path / "empty", weights="first")
