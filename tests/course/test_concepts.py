"""Tests for fer_lib.course.concepts: the teaching helpers run the real Keras layers correctly."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import correlate2d

from fer_lib.course import concepts
from fer_lib.model import _architectures as models


@pytest.fixture(scope="module")
def face():
    return np.random.default_rng(0).integers(0, 256, size=(48, 48)).astype(np.float32)


@pytest.mark.parametrize("name", list(concepts.KERNELS))
def test_convolve_is_cross_correlation(face, name):
    kernel = concepts.KERNELS[name]
    np.testing.assert_allclose(concepts.convolve(face, kernel), correlate2d(face, kernel, mode="valid"), atol=1e-2)
    assert concepts.convolve(face, kernel, padding="same").shape == (48, 48)
    assert concepts.convolve(face, kernel, stride=2).shape == (23, 23)


def test_relu_pool_softmax():
    values = np.array([[-1.0, 2.0], [3.0, -4.0]], np.float32)
    np.testing.assert_array_equal(concepts.relu(values), [[0, 2], [3, 0]])
    assert concepts.pool(values, 2).tolist() == [[3.0]]
    assert concepts.pool(values, 2, kind="average").tolist() == [[0.0]]
    probabilities = concepts.softmax(np.array([1.0, 2.0, 3.0]))
    assert probabilities.sum() == pytest.approx(1) and np.all(np.diff(probabilities) > 0)


def test_architecture_table_of_the_tutorials_network():
    table = concepts.architecture_table(models.seed_cnn())
    assert table["output shape"].iloc[1] == "(n, 46, 46, 64)"
    assert table["output shape"].iloc[-1] == "(n, 7)"
    assert table["parameters"].sum() == models.count_parameters(models.seed_cnn())["total"]


def test_sliding_window_frames_end_with_the_full_map(face):
    kernel = concepts.KERNELS["sharpen"]
    frames = list(concepts.sliding_window_frames(face, kernel, step=12))
    np.testing.assert_allclose(frames[-1][2], concepts.convolve(face, kernel), atol=1e-3)
    assert np.isnan(frames[0][2]).sum() > np.isnan(frames[-1][2]).sum()


@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_numpy_convolution_equals_keras_conv2d(face, stride, padding):
    import keras

    kernel = concepts.KERNELS["horizontal edges (Sobel y)"]
    layer = keras.layers.Conv2D(1, 3, strides=stride, padding=padding, use_bias=False)
    layer.build((None, 48, 48, 1))
    layer.set_weights([kernel[:, :, None, None]])
    by_keras = keras.ops.convert_to_numpy(layer(face[None, :, :, None]))[0, :, :, 0]
    np.testing.assert_allclose(concepts.convolve(face, kernel, stride=stride, padding=padding), by_keras,
                               rtol=1e-5, atol=1e-2)


@pytest.mark.parametrize("kernel", [1, 3, 5])
@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_output_size_formula_matches_keras(kernel, stride, padding):
    import keras

    layer = keras.layers.Conv2D(1, kernel, strides=stride, padding=padding)
    shape = layer.compute_output_shape((None, 48, 47, 1))
    assert shape[1:3] == (concepts.output_size(48, kernel, stride=stride, padding=padding),
                          concepts.output_size(47, kernel, stride=stride, padding=padding))


def test_output_size_refuses_what_keras_cannot_build():
    with pytest.raises(ValueError, match="padding must be 'valid' or 'same'"):
        concepts.output_size(48, 3, padding="full")
    with pytest.raises(ValueError, match="does not fit in 2 pixels"):
        concepts.output_size(2, 3)
    with pytest.raises(ValueError, match="must be positive"):
        concepts.output_size(48, 3, stride=0)


def test_conv_parameters_match_every_convolution_of_the_tutorials_network():
    import keras

    convolutions = [layer for layer in models.seed_cnn().layers if isinstance(layer, keras.layers.Conv2D)]
    assert len(convolutions) == 8
    for layer in convolutions:
        kernel = layer.kernel_size[0]
        assert concepts.conv_parameters(kernel, layer.input.shape[-1], layer.filters) == layer.count_params()
