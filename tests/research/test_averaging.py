"""Tests of :func:`research.averaging.average_weights`: a run continued at a small rate, its weights averaged."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from fer_lib.data import synthetic_fer2013
from fer_lib.errors import ModelError
from fer_lib.model import load_saved_model
from fer_lib.train import TrainConfig, train
from research.averaging import average_weights


@pytest.fixture(scope="module")
def faces():
    return synthetic_fer2013(700, seed=0)


def small_run(faces, tmp_path, **overrides):
    config = TrainConfig(**{"model_name": "fer_net_small", "epochs": 2, "batch_size": 32, "sample_size": 320,
                            "seed": 0, **overrides})
    return train(config, faces, run_dir=tmp_path / "run", verbose=0)


def _first_kernel(model) -> np.ndarray:
    """The first convolution's kernel, also inside a flip-averaging wrapper."""
    for layer in model.layers:
        if layer.name == "block1a_conv":
            return layer.get_weights()[0]
        if hasattr(layer, "layers"):
            return _first_kernel(layer)
    raise AssertionError("no block1a_conv")



@pytest.mark.slow
def test_average_weights_continues_a_run_and_ships_the_moving_average(faces, tmp_path):
    small_run(faces, tmp_path, epochs=2, random_erasing=0.5)
    output = tmp_path / "averaged.keras"
    result = average_weights(tmp_path / "run", data=faces, epochs=2, learning_rate=1e-3,
                                      ema_momentum=0.9, output=output, verbose=0)
    card = json.loads(output.with_suffix(".json").read_text())
    assert card["epochs_trained"] == 4 and result.history["epoch"].tolist() == [1, 2, 3, 4]
    assert card["recipe"]["weight_averaging"] == {"epochs": 2, "learning_rate": 1e-3, "ema_momentum": 0.9,
                                                  "after_epoch": 2}
    assert card["recipe"]["random_erasing"] == 0.5  # the run's own augmentation carries on
    assert card["weights"].startswith("moving average (momentum 0.9) of epochs 3-4")
    assert result.history["learning_rate"].tolist()[2:] == pytest.approx([1e-3, 1e-3])
    # The shipped weights are the average, not the last step's: they differ from the checkpoint's.
    folder = result.run_dir
    last = load_saved_model(folder / "checkpoint.keras")
    assert not np.allclose(_first_kernel(result.model), _first_kernel(last))
    # A second call finds the finished averaging and trains no more, giving the same weights.
    again = average_weights(tmp_path / "run", data=faces, epochs=2, learning_rate=1e-3,
                                     ema_momentum=0.9, verbose=0)
    assert again.card["seconds"] == card["seconds"]
    assert again.card["accuracy"] == pytest.approx(card["accuracy"], abs=1e-6)


@pytest.mark.slow
def test_average_weights_refuses_bad_options_and_foreign_runs(faces, tmp_path):
    with pytest.raises(ModelError, match="holds no training run"):
        average_weights(tmp_path, data=faces, verbose=0)
    small_run(faces, tmp_path, epochs=1)
    with pytest.raises(ModelError, match="needs epochs > 0"):
        average_weights(tmp_path / "run", data=faces, epochs=0, verbose=0)
    with pytest.raises(ModelError, match="trained on another data file"):
        average_weights(tmp_path / "run", data=dataclasses.replace(faces, sha256="0" * 64), epochs=1,
                                 verbose=0)
