"""Tests for research.knobs: SGD, mixup / CutMix, class weights, crops and fer_resnet as hooks of fer_lib's train."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import keras
import numpy as np
import pytest

import fer_lib.train as training
from fer_lib.data import synthetic_fer2013
from fer_lib.errors import ModelError
from fer_lib.model import count_parameters, fer_net, load_saved_model
from fer_lib.train._config import fingerprint
from research import knobs as research_knobs
from research.knobs import Knobs
from research.runs import finalize

ROOT = Path(__file__).resolve().parents[2]
_KNOB_FIELDS = ("optimizer", "mixup", "cutmix", "class_weight", "crop")


@pytest.fixture(scope="module")
def faces():
    return synthetic_fer2013(700, seed=0)


def small_run(faces, tmp_path, **overrides):
    """A two-epoch run of fer_net_small on 320 synthetic faces; ``overrides``: config fields, knobs or train()'s."""
    options = {"model_name": "fer_net_small", "epochs": 2, "batch_size": 32, "sample_size": 320, "seed": 0,
               "run_dir": tmp_path / "run", "verbose": 0, **overrides}
    call = {key: options.pop(key) for key in ("run_dir", "output", "verbose") if key in options}
    knobs = Knobs(**{key: options.pop(key) for key in _KNOB_FIELDS if key in options})
    config = knobs.configure(training.TrainConfig(**options))
    return training.train(config, faces, hooks=knobs, **call)


def test_mix_batch_makes_soft_labels_that_match_the_mixed_pixels():
    faces = np.stack([np.zeros((48, 48, 1)), np.full((48, 48, 1), 255.0)]).astype(np.float32)
    targets = np.eye(7, dtype=np.float32)[[0, 1]]
    for method in ({"mixup": 0.4}, {"cutmix": 1.0}):
        mixed, soft, weights = research_knobs.mix_batch(faces, targets, np.random.default_rng(3),
                                                        weights=np.array([1.0, 3.0], np.float32), **method)
        np.testing.assert_allclose(soft.sum(axis=1), 1.0, rtol=1e-6)
        # The share of face 1 in each mixed face (its mean grey level / 255) is its label weight.
        np.testing.assert_allclose(mixed.mean(axis=(1, 2, 3)) / 255, soft[:, 1], atol=1e-5)
        np.testing.assert_allclose(weights, soft[:, 0] * 1.0 + soft[:, 1] * 3.0, rtol=1e-5)
    same, hard = research_knobs.mix_batch(faces, targets, np.random.default_rng(0))
    assert same is faces and hard is targets
    with pytest.raises(ValueError, match="Beta alphas, 0 \\(off\\) or positive; got -1"):
        research_knobs.mix_batch(faces, targets, np.random.default_rng(0), mixup=-1)


def test_balanced_weights_give_every_class_the_same_total():
    labels = np.array([3] * 50 + [1] * 2 + [0, 2, 4, 5, 6] * 10)
    weights = research_knobs.balanced_class_weights(labels)
    totals = np.bincount(labels, weights=weights[labels], minlength=7)
    np.testing.assert_allclose(totals, len(labels) / 7, rtol=1e-5)


def test_batches_with_every_knob_are_soft_weighted_and_cropped():
    faces = synthetic_fer2013(64, seed=1)
    config = training.TrainConfig("fer_net_small", batch_size=32, random_erasing=0.5)
    batches = Knobs(mixup=0.2, cutmix=1.0, class_weight="balanced", crop=44).batches(faces, config, None)
    x, y, w = batches[0]
    assert x.shape == (32, 44, 44, 1) and y.shape == (32, 7) and w.shape == (32,)
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-5)
    assert (y.max(axis=1) < 1).any()  # some labels were mixed
    x2, _, _ = batches[0]
    np.testing.assert_array_equal(x, x2)  # reproducible
    plain = Knobs().batches(faces, config, None)[0]
    assert len(plain) == 2 and plain[0].shape == (32, 48, 48, 1)


@pytest.mark.slow
def test_train_with_knobs_records_them_and_default_runs_keep_their_fingerprint(faces, tmp_path, monkeypatch):
    monkeypatch.setenv("FER_LIB_RUNS_DIR", str(tmp_path / "runs"))
    plain = small_run(faces, tmp_path, epochs=1, run_dir=None, optimizer="adamw", mixup=0.0, class_weight=None)
    # Knobs at their defaults stay out of the run's identity, so existing checkpoints still resume.
    assert not {"optimizer", "mixup", "cutmix", "random_erasing", "class_weight", "max_minutes"} & set(
        plain.card["recipe"])
    assert plain.run_dir.parent == tmp_path / "runs"
    result = small_run(faces, tmp_path, epochs=1, optimizer="sgd", mixup=0.2, cutmix=1.0, random_erasing=0.5,
                       class_weight="balanced")
    recipe = result.card["recipe"]
    assert recipe["optimizer"] == "sgd" and recipe["learning_rate"] == research_knobs.OPTIMIZERS["sgd"]
    assert (recipe["mixup"], recipe["cutmix"], recipe["random_erasing"], recipe["class_weight"]) == (
        0.2, 1.0, 0.5, "balanced")
    assert np.isfinite(result.history["loss"]).all()
    assert "max_minutes" not in recipe


def test_sgd_is_nesterov_momentum():
    model = fer_net(widths=(4, 8), compile=False)
    research_knobs.compile_with(model, "sgd", learning_rate=0.05)
    assert isinstance(model.optimizer, keras.optimizers.SGD)
    assert model.optimizer.nesterov and model.optimizer.momentum == 0.9
    with pytest.raises(ValueError, match="unknown optimizer 'adam'"):
        research_knobs.compile_with(model, "adam", learning_rate=0.05)


@pytest.mark.parametrize("options, message", [
    ({"optimizer": "adam"}, "unknown optimizer 'adam'; choose one of adamw, sgd"),
    ({"optimizer": "sgd", "model_name": "seed_cnn"}, "seed_cnn keeps the tutorial's Adam"),
    ({"class_weight": "inverse"}, "class_weight must be None or 'balanced'; got 'inverse'"),
    ({"mixup": -0.2}, "got mixup=-0.2"),
    ({"crop": 48}, "crop takes 24 to 47 pixels; got 48"),
    ({"crop": 44, "model_name": "seed_cnn"}, "crop works with fer_net and fer_net_small; got seed_cnn"),
])
def test_knob_errors_name_the_problem(faces, tmp_path, options, message):
    with pytest.raises(ModelError, match=message):
        small_run(faces, tmp_path, **options)


def test_a_config_not_configured_for_sgd_is_refused(faces):
    with pytest.raises(ModelError, match="through Knobs.configure"):
        Knobs(optimizer="sgd").build(training.TrainConfig("fer_net_small"), faces, 10)


def test_crop_batch_takes_a_window_of_each_face():
    faces = np.arange(3 * 48 * 48, dtype=np.float32).reshape(3, 48, 48, 1)
    crops = research_knobs.crop_batch(faces, np.random.default_rng(0), 44)
    assert crops.shape == (3, 44, 44, 1)
    for face, crop in zip(faces, crops):  # each crop is a contiguous window of its own face
        top, left = np.argwhere(face[..., 0] == crop[0, 0, 0])[0]
        np.testing.assert_array_equal(face[top:top + 44, left:left + 44], crop)
    np.testing.assert_array_equal(research_knobs.centre_crop(faces, 44), faces[:, 2:46, 2:46])
    assert research_knobs.centre_crop(faces, None) is faces
    with pytest.raises(ValueError, match="a crop must be 1 to 48 pixels; got 50"):
        research_knobs.crop_batch(faces, np.random.default_rng(0), 50)


@pytest.mark.slow
def test_training_on_crops_ships_a_whole_face_model_with_ten_crop_averaging(faces, tmp_path):
    output = tmp_path / "cropped.keras"
    result = small_run(faces, tmp_path, epochs=1, crop=44, flip_tta=True, output=output)
    assert result.card["recipe"]["crop"] == 44 and result.card["flip_tta"] is True
    assert result.model.input_shape == (None, 48, 48, 1) and result.model.name.endswith("_ten_crop")
    loaded = load_saved_model(output)
    batch = faces.images[:5].astype(np.float32)[..., None]
    np.testing.assert_allclose(loaded.predict(batch, verbose=0), result.model.predict(batch, verbose=0), atol=1e-5)
    knobs = research_knobs.knobs_of_run(result.run_dir)
    assert knobs == Knobs(crop=44)
    batches = knobs.batches(faces, training.TrainConfig.from_identity(result.card["recipe"]), None)
    assert batches[0][0].shape[1:] == (44, 44, 1)
    again = small_run(faces, tmp_path, epochs=1, crop=44, flip_tta=True)  # finished: the same ten-crop model
    assert again.model.name.endswith("_ten_crop")
    final = finalize(result.run_dir, data=faces, weights="last", verbose=0)  # its knobs from its identity
    assert final.model.name.endswith("_ten_crop") and final.card["accuracy"] == result.card["accuracy"]


def test_crop_averaging_feeds_whole_faces_to_a_network_for_crops():
    network = fer_net(widths=(4, 8), input_size=44, compile=False)
    assert network.input_shape == (None, 44, 44, 1)
    centre = research_knobs.with_crop_averaging(network, crops=1)
    ten = research_knobs.with_crop_averaging(network, crops=10)
    faces = np.random.default_rng(0).integers(0, 256, size=(3, 48, 48, 1)).astype(np.float32)
    np.testing.assert_allclose(centre.predict(faces, verbose=0), network.predict(faces[:, 2:46, 2:46], verbose=0),
                               atol=1e-6)
    views = [faces[:, :44, :44], faces[:, :44, 4:], faces[:, 4:, :44], faces[:, 4:, 4:], faces[:, 2:46, 2:46]]
    expected = np.mean([network.predict(v, verbose=0) for view in views for v in (view, view[:, :, ::-1])], axis=0)
    np.testing.assert_allclose(ten.predict(faces, verbose=0), expected, atol=1e-5)
    assert ten.count_params() == network.count_params()  # shared weights, none of its own
    with pytest.raises(ValueError, match="crops=1 or 10"):
        research_knobs.with_crop_averaging(network, crops=5)
    with pytest.raises(ValueError, match="a 48-pixel network"):
        research_knobs.with_crop_averaging(fer_net(widths=(4, 8), compile=False), crops=1)


@pytest.mark.slow
def test_fer_resnet_is_fer_net_sized_and_trains_a_smoke_epoch(tmp_path):
    counts = count_parameters(research_knobs.fer_resnet(compile=False))
    assert counts["total"] == 1221319  # fer_net: 1,176,359 (4% fewer)
    assert count_parameters(research_knobs.fer_resnet(compile=False, blocks=2))["total"] == 2791879
    small = {"widths": (8, 16, 32, 64)}
    config = training.TrainConfig("fer_resnet", epochs=1, batch_size=32, sample_size=128, model_options=small)
    result = training.train(config, synthetic_fer2013(400, seed=0), run_dir=tmp_path, verbose=0)
    assert result.card["architecture"] == "fer_resnet" and result.card["epochs_trained"] == 1
    with pytest.raises(ValueError, match="blocks must be a positive integer; got 0"):
        research_knobs.fer_resnet(blocks=0)


def _identity(config, knobs, data):
    """A run's identity as train() records it: the config's, then the hooks'."""
    return {**knobs.configure(config).identity(data), **knobs.identity}


def test_knob_runs_keep_their_fingerprints_and_identities():
    # Pinned before the knobs left fer_lib (tests/train/test_training.py has the rest): old run folders resume.
    data = SimpleNamespace(sha256="ab" * 32, synthetic=False)
    knobs = Knobs(optimizer="sgd", mixup=0.2, cutmix=1.0, class_weight="balanced", crop=44)
    config = training.TrainConfig("fer_net", random_erasing=0.5, max_minutes=3.0, model_options={"widths": (8, 16)},
                                  flip_tta=True, early_stopping=3)
    identity = _identity(config, knobs, data)
    assert fingerprint(identity) == "6804c1f676279e37"
    assert sorted(identity) == sorted([
        "model_name", "protocol", "validation_fraction", "sample_size", "epochs", "batch_size", "seed",
        "data_sha256", "synthetic", "augment", "schedule", "learning_rate", "flip_tta", "model_options",
        "optimizer", "mixup", "cutmix", "random_erasing", "class_weight", "crop", "max_minutes"])
    constant = training.TrainConfig("fer_resnet", schedule="constant", learning_rate=1e-3, reduce_lr=2, augment=False)
    assert fingerprint(_identity(constant, Knobs(), data)) == "a198715588ddeae2"


def test_the_crop_card_gives_back_its_recipe():
    saved = json.loads((ROOT / "results" / "fer_net_crop44.json").read_text())
    data = SimpleNamespace(sha256=saved["data"]["sha256"], synthetic=saved["data"]["synthetic"])
    identity = _identity(training.TrainConfig.from_identity(saved["recipe"]), Knobs.from_identity(saved["recipe"]),
                         data)
    assert {k: v for k, v in identity.items() if k not in ("data_sha256", "synthetic")} == saved["recipe"]


@pytest.mark.slow
def test_finalize_refuses_a_folder_without_a_run(tmp_path):
    with pytest.raises(ModelError, match=r"empty holds no training run \(no state\.json\)"):
        finalize(tmp_path / "empty")
    with pytest.raises(ModelError, match=r"weights must be 'best' or 'last'; got 'first'"):
        finalize(tmp_path / "empty", weights="first")
