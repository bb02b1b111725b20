"""Tests for fer_lib.model._architectures: the tutorial's architecture, ours, and self-contained preprocessing."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from fer_lib.model import _architectures as models
from fer_lib.model._classifier import predict_probabilities
from fer_lib.errors import ModelError
from fer_lib.labels import IMAGE_SHAPE, NUM_CLASSES


def test_seed_cnn_is_the_tutorials_network():
    model = models.seed_cnn()
    counts = models.count_parameters(model)
    # 5,902,151 trainable weights: conv 64-64 / 128-128 / 256-256 / 512-512, dense 512-256-128-7.
    assert counts["trainable"] == 5_902_151
    conv = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [layer.filters for layer in conv] == [64, 64, 128, 128, 256, 256, 512, 512]
    assert conv[0].padding == "valid" and all(layer.padding == "same" for layer in conv[1:])
    assert float(conv[0].kernel_regularizer.l2) == pytest.approx(0.01)
    dense = [layer.units for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert dense == [512, 256, 128, NUM_CLASSES]
    dropout = [layer.rate for layer in model.layers if isinstance(layer, keras.layers.Dropout)]
    assert dropout == [0.5, 0.5, 0.5, 0.5, 0.4, 0.4, 0.5]
    optimizer = model.optimizer
    assert isinstance(optimizer, keras.optimizers.Adam)
    assert float(optimizer.learning_rate) == pytest.approx(1e-3)
    assert (optimizer.beta_1, optimizer.beta_2, optimizer.epsilon) == (0.9, 0.999, 1e-7)
    assert model.output_shape == (None, NUM_CLASSES)


def test_seed_cnn_variants_for_the_claims_change_only_what_they_name():
    more_dropout = models.seed_cnn(conv_dropout=0.6, dense_dropout=(0.6, 0.6, 0.6), compile=False)
    assert [layer.rate for layer in more_dropout.layers if isinstance(layer, keras.layers.Dropout)] == [0.6] * 7
    assert models.count_parameters(more_dropout)["trainable"] == 5_902_151
    smaller_stride = models.seed_cnn(pool_strides=(2, 2, 2, 1), compile=False)
    pools = [layer for layer in smaller_stride.layers if isinstance(layer, keras.layers.MaxPooling2D)]
    assert [layer.strides for layer in pools] == [(2, 2), (2, 2), (2, 2), (1, 1)]
    flatten = next(layer for layer in smaller_stride.layers if isinstance(layer, keras.layers.Flatten))
    assert flatten.output.shape[-1] == 4 * 4 * 512  # 5x5 maps pooled at stride 1, instead of 2x2 at stride 2
    narrow = models.seed_cnn(width=16, compile=False)
    conv = [layer.filters for layer in narrow.layers if isinstance(layer, keras.layers.Conv2D)]
    assert conv == [16, 16, 32, 32, 64, 64, 128, 128]
    assert [layer.units for layer in narrow.layers if isinstance(layer, keras.layers.Dense)] == [512, 256, 128, 7]
    with pytest.raises(ValueError, match="width must be a positive integer"):
        models.seed_cnn(width=0)
    with pytest.raises(ValueError, match="dropout rates must lie in"):
        models.seed_cnn(conv_dropout=1.0)
    with pytest.raises(ValueError, match="four strides of 1 or 2"):
        models.seed_cnn(pool_strides=(2, 2, 3, 2))


def test_fer_net_options_for_the_claims():
    model = models.fer_net(widths=(8, 16, 32), block_dropout=0.25, pool_strides=(2, 1), compile=False)
    pools = [layer for layer in model.layers if isinstance(layer, keras.layers.MaxPooling2D)]
    assert [layer.strides for layer in pools] == [(2, 2), (1, 1)]
    assert [layer.rate for layer in model.layers if isinstance(layer, keras.layers.Dropout)] == [0.25, 0.25, 0.4]
    assert model.get_layer("global_pool").input.shape[1:3] == (23, 23)  # 48 -> 24 -> 23
    with pytest.raises(ValueError, match="pool_strides needs 2 strides of 1 or 2"):
        models.fer_net(widths=(8, 16, 32), pool_strides=(2, 2, 2))
    with pytest.raises(ValueError, match="dropout rates must lie in"):
        models.fer_net(block_dropout=-0.1)


def test_seed_cnn_standardises_per_pixel_inside_the_model():
    rng = np.random.default_rng(0)
    faces = rng.integers(0, 256, size=(64,) + IMAGE_SHAPE).astype("float32")
    model = models.seed_cnn(normalization_data=faces)
    normalize = model.layers[0]
    standardized = keras.ops.convert_to_numpy(normalize(faces))
    expected = (faces - faces.mean(axis=0)) / faces.std(axis=0)
    np.testing.assert_allclose(standardized, expected, atol=1e-3)


@pytest.mark.parametrize("name", ["fer_net", "fer_net_small"])
def test_our_models_take_raw_grey_levels(name):
    model = models.build_model(name)
    assert model.input_shape == (None,) + IMAGE_SHAPE
    assert model.layers[1].name == "rescale"
    faces = np.random.default_rng(1).integers(0, 256, size=(3, 48, 48)).astype(np.uint8)
    probabilities = predict_probabilities(model, faces)
    assert probabilities.shape == (3, NUM_CLASSES)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


def test_fer_net_is_much_smaller_than_the_tutorials():
    assert models.count_parameters(models.fer_net())["total"] < models.count_parameters(models.seed_cnn())["total"] / 4


@pytest.mark.parametrize("name, total", [("fer_net", 1_176_359), ("fer_net_small", 295_575)])
def test_our_parameter_counts_are_the_ones_the_readme_states(name, total):
    # The README and the model card quote these counts; a change to the builders must update them.
    assert models.count_parameters(models.build_model(name))["total"] == total


def test_flip_averaging_is_mirror_invariant_and_reloads(tmp_path):
    base = models.build_model("fer_net_small", compile=False)  # no optimiser to restore on loading
    wrapped = models.with_flip_averaging(base)
    faces = np.random.default_rng(2).integers(0, 256, size=(2, 48, 48)).astype(np.uint8)
    direct = predict_probabilities(wrapped, faces)
    mirrored = predict_probabilities(wrapped, faces[:, :, ::-1])
    np.testing.assert_allclose(direct, mirrored, atol=1e-5)
    path = tmp_path / "m.keras"
    wrapped.save(path)
    reloaded = keras.saving.load_model(path)
    np.testing.assert_allclose(predict_probabilities(reloaded, faces), direct, atol=1e-5)


def test_unknown_model_name():
    with pytest.raises(ModelError, match=r"unknown model 'resnet'; choose one of fer_net, fer_net_small, "):
        models.build_model("resnet")
