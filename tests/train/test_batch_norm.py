"""Batch normalisation's statistics measured again for the weights a network has (fer_lib.train._runs)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from fer_lib.data import synthetic_fer2013, to_model_input
from fer_lib.train import TrainConfig, train
from fer_lib.train._loop import statistics_inputs
from fer_lib.train._runs import reestimate_batch_norm


def _dropout_then_norm():
    inputs = keras.Input((48, 48, 1))
    x = keras.layers.Dropout(0.5)(keras.layers.Rescaling(1.0)(inputs))
    model = keras.Model(inputs, keras.layers.BatchNormalization(momentum=0.99)(x))
    return model


def test_the_statistics_are_the_plain_average_of_batch_statistics_with_dropout_off():
    model = _dropout_then_norm()
    inputs = to_model_input(synthetic_fer2013(300, seed=2).images)
    reestimate_batch_norm(model, inputs, batch_size=64)
    norm, dropout = model.layers[-1], model.layers[2]
    pixels = inputs.astype(np.float64)
    batches = [pixels[i:i + 64] for i in range(0, 300, 64)]
    assert float(norm.moving_mean.numpy()[0]) == pytest.approx(np.mean([b.mean() for b in batches]), rel=1e-4)
    # with dropout on, the variance would be about twice as large (half the pixels zeroed, the rest doubled)
    assert float(norm.moving_variance.numpy()[0]) == pytest.approx(np.mean([b.var() for b in batches]), rel=1e-3)
    assert norm.momentum == 0.99 and dropout.rate == 0.5  # restored


def test_a_trained_model_carries_the_statistics_of_its_own_final_weights(tmp_path):
    faces = synthetic_fer2013(400, seed=0)
    config = TrainConfig("fer_net_small", epochs=1, batch_size=32, learning_rate=3e-3, schedule="constant",
                         flip_tta=False)  # the network itself, not wrapped in flip averaging
    result = train(config, faces, run_dir=tmp_path / "run", verbose=0)
    norms = [layer for layer in result.model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    before = [layer.moving_variance.numpy().copy() for layer in norms]
    assert before, "fer_net_small has batch normalisation"
    # measuring again on the same training faces changes nothing: they were measured for these weights
    from fer_lib.train._loop import prepare_split

    _, _, train_faces = prepare_split(config, faces)
    reestimate_batch_norm(result.model, statistics_inputs(train_faces, config.seed))
    for layer, variance in zip(norms, before):
        np.testing.assert_allclose(layer.moving_variance.numpy(), variance, rtol=1e-3, atol=1e-5)
