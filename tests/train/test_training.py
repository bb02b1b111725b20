"""Tests for fer_lib.train._loop: reproducibility, resume, model card, errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import fer_lib.train as training
from fer_lib.data import FER2013, synthetic_fer2013
from fer_lib.errors import DataError, ModelError
from fer_lib.evaluation import evaluate_accuracy
from fer_lib.model import ModelCard
from fer_lib.train import _augment, _loop, _runs


@pytest.fixture(scope="module")
def faces():
    return synthetic_fer2013(700, seed=0)


_CALL = ("data", "run_dir", "resume", "output", "verbose", "callbacks", "model", "targets")


def small_run(faces, tmp_path, **overrides):
    """A two-epoch run of fer_net_small on 320 synthetic faces; ``overrides`` are config fields or train()'s."""
    options = {"model_name": "fer_net_small", "epochs": 2, "batch_size": 32, "sample_size": 320, "seed": 0,
               "data": faces, "run_dir": tmp_path / "run", "verbose": 0, **overrides}
    call = {key: options.pop(key) for key in _CALL if key in options}
    return training.train(training.TrainConfig(**options), call.pop("data"), **call)


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


@pytest.mark.slow
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


@pytest.mark.slow
def test_same_seed_same_result(faces, tmp_path):
    first = small_run(faces, tmp_path / "a")
    second = small_run(faces, tmp_path / "b")
    np.testing.assert_allclose(first.history["loss"], second.history["loss"], rtol=1e-3)
    assert first.card["accuracy"]["validation"] == pytest.approx(second.card["accuracy"]["validation"], abs=0.01)


@pytest.mark.slow
def test_interrupted_run_resumes_without_losing_epochs(faces, tmp_path, monkeypatch):
    """Interrupt a run in the middle of its second epoch; the next call continues after the first."""

    def interrupt_in_epoch_two(self, batch, logs=None):
        if self.dataset.epoch == 1 and batch == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(_runs.EpochCheckpoint, "on_train_batch_end", interrupt_in_epoch_two, raising=False)
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


@pytest.mark.slow
def test_checkpoint_of_another_architecture_is_refused(faces, tmp_path):
    small_run(faces, tmp_path, epochs=1)
    with pytest.raises(ModelError, match=r"belongs to another run \(differs in: .*model_name"):
        small_run(faces, tmp_path, epochs=1, model_name="fer_net")


@pytest.mark.slow
def test_unknown_model_name(faces, tmp_path):
    with pytest.raises(ModelError, match="unknown model 'vgg99'"):
        small_run(faces, tmp_path, model_name="vgg99")


@pytest.mark.slow
def test_data_without_rows_for_the_split(tmp_path):
    faces = synthetic_fer2013(60, seed=0)
    only_test = FER2013(faces.images, faces.labels, np.full(60, "PublicTest"), source="tiny.csv")
    with pytest.raises(DataError, match=r"tiny\.csv: no 'Training' rows, so the official split is impossible"):
        training.train(training.TrainConfig("fer_net_small", epochs=1), only_test, run_dir=tmp_path / "r", verbose=0)


@pytest.mark.slow
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
    from fer_lib.model import _architectures as models

    rng = np.random.default_rng(0)
    faces = rng.integers(0, 256, size=(32, 48, 48, 1)).astype(np.float32)
    bright = np.clip(faces * 0.5 + 100, 0, 255)  # statistics far from mean 0, variance 1
    model = models.seed_cnn(width=2, normalization_data=bright)
    copy = models.rebuilt(model)
    np.testing.assert_allclose(np.asarray(copy.predict_on_batch(faces)),
                               np.asarray(model.predict_on_batch(faces)), atol=1e-5)


def test_evaluate_accuracy_is_the_evaluation_modules():
    from fer_lib import evaluation
    from fer_lib.model import _architectures as models

    faces = synthetic_fer2013(70, seed=3)
    model = models.build_model("fer_net_small", compile=False)
    scores = evaluate_accuracy(model, faces, batch_size=16)
    reference = evaluation.evaluate(model, faces)
    assert scores["n"] == 70 and scores["accuracy"] == reference.accuracy
    assert scores["per_class"] == reference.per_class_accuracy
    manual = (reference.probabilities.argmax(axis=1) == faces.labels).mean()
    assert scores["accuracy"] == pytest.approx(manual)
    empty = evaluate_accuracy(model, faces.subset(np.zeros(70, bool)))
    assert empty["n"] == 0 and np.isnan(empty["accuracy"]) and empty["per_class"] == {}


@pytest.mark.slow
def test_reduce_lr_needs_a_constant_schedule(faces, tmp_path):
    with pytest.raises(ModelError, match=r"reduce_lr works with schedule='constant' only; this run uses 'cosine'"):
        small_run(faces, tmp_path, reduce_lr=2, schedule="cosine", epochs=1)


@pytest.mark.slow
def test_unknown_schedule(faces, tmp_path):
    with pytest.raises(ModelError, match=r"unknown schedule 'step'; expected 'constant' or 'cosine'"):
        small_run(faces, tmp_path, schedule="step")


# --------------------------------------------------------------------------------------
# random erasing, time budget (research's knobs: tests/research/test_knobs.py)
# --------------------------------------------------------------------------------------


def test_erase_batch_erases_one_rectangle_per_chosen_face():
    faces = np.zeros((200, 48, 48), np.uint8)
    erased = _augment.erase_batch(faces, np.random.default_rng(0), probability=0.5)
    assert erased.dtype == np.uint8 and not np.shares_memory(erased, faces) and not faces.any()
    touched = (erased > 0).mean(axis=(1, 2))
    assert 0.35 < (touched > 0).mean() < 0.65 and touched.max() < 0.3
    np.testing.assert_array_equal(_augment.erase_batch(faces, np.random.default_rng(0), probability=0.0), faces)
    with pytest.raises(ValueError, match="probability must lie in \\[0, 1\\]; got 2"):
        _augment.erase_batch(faces, np.random.default_rng(0), probability=2)


@pytest.mark.parametrize("options, message", [
    ({"random_erasing": 1.5}, "random_erasing is a probability in \\[0, 1\\]; got 1.5"),
    ({"max_minutes": 0}, "max_minutes must be positive"),
])
def test_config_errors_name_the_problem(faces, tmp_path, options, message):
    with pytest.raises(ModelError, match=message):
        small_run(faces, tmp_path, **options)


@pytest.mark.slow
def test_time_budget_stops_mid_epoch_and_a_spent_budget_trains_no_more(faces, tmp_path):
    # 0.003 min = 0.18 s: the first epoch is cut short (the model's first batch alone takes longer).
    result = small_run(faces, tmp_path, epochs=5, max_minutes=0.003)
    state = json.loads((tmp_path / "run" / "state.json").read_text())
    assert state["epoch"] == 1 and state["stopped"].startswith("time budget (0.003 min) spent after batch 1 of 10")
    assert result.card["epochs_trained"] == 1 and result.card["epochs_planned"] == 5
    again = small_run(faces, tmp_path, epochs=5, max_minutes=0.003)
    assert again.card["epochs_trained"] == 1 and again.card["seconds"] == result.card["seconds"]


def test_time_budget_counts_seconds_spent_before():
    now = iter([0.0, 0.0, 20.0, 40.0])
    budget = training.TimeBudget(1.0, spent_seconds=30.0, clock=lambda: next(now))

    class Model:
        stop_training = False

    budget.set_model(Model())
    budget.on_train_begin()
    budget.on_train_batch_end(0)  # 0 s here + 30 before: go on
    assert not budget.model.stop_training
    budget.on_train_batch_end(1)  # 20 s here: go on
    budget.on_train_batch_end(2)  # 40 s here + 30 before > 60: stop
    assert budget.model.stop_training and budget.stopped_at == (1, 3)
    with pytest.raises(ValueError, match="positive number of minutes; got 0"):
        training.TimeBudget(0)


def test_learning_rate_schedule_warms_up_then_decays_to_zero():
    rate = training.learning_rate_schedule("cosine", 2e-3, steps_per_epoch=50, epochs=8)
    values = np.array([float(rate(step)) for step in range(0, 401, 10)])
    assert values[0] == pytest.approx(2e-4) and values.max() == pytest.approx(2e-3)
    assert np.all(np.diff(values[:6]) > 0) and np.all(np.diff(values[5:]) <= 1e-12)
    assert values[-1] == pytest.approx(0.0, abs=1e-9)
    assert training.learning_rate_schedule("constant", 1e-3, 50, 8) == 1e-3
    with pytest.raises(ValueError, match="unknown schedule 'step'"):
        training.learning_rate_schedule("step", 1e-3, 50, 8)


@pytest.mark.slow
def test_a_network_built_by_hand_trains_and_resumes_when_built_again(faces, tmp_path):
    from fer_lib.model import fer_net

    first = training.train(training.TrainConfig("fer_net_small", epochs=1, batch_size=32, sample_size=320),
                           faces, model=fer_net(widths=(4, 8), compile=False), run_dir=tmp_path / "run", verbose=0)
    again = training.train(training.TrainConfig("fer_net_small", epochs=2, batch_size=32, sample_size=320),
                           faces, model=fer_net(widths=(4, 8), compile=False), run_dir=tmp_path / "run2", verbose=0)
    assert first.card["recipe"]["architecture"] == again.card["recipe"]["architecture"]
    resumed = training.train(training.TrainConfig("fer_net_small", epochs=2, batch_size=32, sample_size=320),
                             faces, model=fer_net(widths=(4, 8), compile=False), run_dir=tmp_path / "run2",
                             verbose=0)
    assert resumed.history["epoch"].tolist() == [1, 2]
    with pytest.raises(ModelError, match="differs in: architecture"):
        training.train(training.TrainConfig("fer_net_small", epochs=2, batch_size=32, sample_size=320), faces,
                       model=fer_net(widths=(8, 16), compile=False), run_dir=tmp_path / "run2", verbose=0)


def test_an_unknown_profile_name_is_a_model_error(faces):
    with pytest.raises(ModelError, match="unknown profile 'nosuch'"):
        training.train("nosuch", faces)


@pytest.mark.slow
def test_a_finished_run_says_so_and_does_no_work(faces, tmp_path, monkeypatch, capsys):
    first = small_run(faces, tmp_path, epochs=1, verbose=1)
    capsys.readouterr()

    def no_scoring(*args, **kwargs):
        raise AssertionError("a finished run must not be scored again")

    monkeypatch.setattr(_loop, "evaluate_accuracy", no_scoring)
    output = tmp_path / "again.keras"
    again = small_run(faces, tmp_path, epochs=1, verbose=1, output=output)
    assert "already trained (1 epochs); nothing to do" in capsys.readouterr().out
    assert again.card == {**first.card, "history": "again.history.csv"}
    assert json.loads(output.with_suffix(".json").read_text()) == again.card
    batch = faces.images[:4].astype(np.float32)[..., None]
    np.testing.assert_allclose(again.model.predict(batch, verbose=0), first.model.predict(batch, verbose=0), atol=1e-5)


def test_a_hand_built_networks_identity_is_its_layers_settings_not_their_names():
    import keras

    from fer_lib.model import fer_net

    key = _loop._architecture_key
    assert key(fer_net(widths=(4, 8), compile=False)) == key(fer_net(widths=(4, 8), compile=False))
    assert key(fer_net(widths=(4, 8), compile=False)) != key(fer_net(widths=(4, 8), dropout=0.1, compile=False))
    unbuilt = keras.Sequential([keras.layers.Conv2D(4, 3), keras.layers.GlobalAveragePooling2D(),
                                keras.layers.Dense(7, activation="softmax")])
    assert len(key(unbuilt)) == 16  # built on 48x48 faces first


def test_a_run_with_early_stopping_is_never_taken_as_finished(tmp_path):
    run = _runs.Run(tmp_path, {"epoch": 5, "history": [], "config": {}}, True)
    (tmp_path / "card.json").write_text(json.dumps({"weights": "last epoch"}))
    assert _loop._finished(run, training.TrainConfig("fer_net_small", epochs=5))
    assert not _loop._finished(run, training.TrainConfig("fer_net_small", epochs=5, early_stopping=2))


_PINNED_FINGERPRINTS = {  # computed before the train/ refactoring: old run folders must still resume
    "fast": "82245b82e8f8591c", "default": "e831e59350c70625", "student": "694aaa5d6bd0c8f1",
    "full": "a296cc54e8fc91ec", "seed_cnn": "9f52a51b278edfd4",
}  # research's knobs ("knobs", "constant"): tests/research/test_knobs.py


def test_run_identities_and_fingerprints_stay_as_they_were(float32_machine):
    from types import SimpleNamespace

    from fer_lib.train._config import fingerprint

    data = SimpleNamespace(sha256="ab" * 32, synthetic=False)
    configs = {
        **training.PROFILES,
        "seed_cnn": training.TrainConfig("seed_cnn", epochs=5, protocol="tutorial", sample_size=900),
    }
    assert {name: fingerprint(config.identity(data)) for name, config in configs.items()} == _PINNED_FINGERPRINTS
    assert list(training.TrainConfig("fer_net", random_erasing=0.5, max_minutes=3.0, model_options={"widths": (8,)},
                                     flip_tta=True, early_stopping=3).identity(data)) == [
        "model_name", "protocol", "validation_fraction", "sample_size", "epochs", "batch_size", "seed",
        "data_sha256", "synthetic", "augment", "schedule", "learning_rate", "flip_tta", "model_options",
        "random_erasing", "max_minutes"]


@pytest.mark.parametrize("card", ["fer_lib/model/shipped/default.json", "results/seed_cnn_tutorial.json",
                                  "results/fer_net_small_default.json"])  # fer_net_crop44: test_knobs.py
def test_committed_cards_give_back_their_recipe(card, float32_machine):
    from pathlib import Path
    from types import SimpleNamespace

    saved = json.loads((Path(__file__).resolve().parents[2] / card).read_text())
    data = SimpleNamespace(sha256=saved["data"]["sha256"], synthetic=saved["data"]["synthetic"])
    identity = training.TrainConfig.from_identity(saved["recipe"]).identity(data)
    assert {k: v for k, v in identity.items() if k not in ("data_sha256", "synthetic")} == saved["recipe"]
