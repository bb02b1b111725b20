"""The building blocks of a CNN, applied one at a time to real faces (for notebook 1).

Each function runs the real Keras layer (Conv2D with fixed weights, ReLU, max and
average pooling, softmax) on numpy arrays, so what the notebook shows is exactly
what happens inside the trained network, not a re-implementation of it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "KERNELS",
    "convolve",
    "relu",
    "pool",
    "softmax",
    "architecture_table",
    "sliding_window_frames",
]

#: Classic 3x3 kernels, each a feature detector a first convolution layer often learns.
KERNELS: dict[str, np.ndarray] = {
    "vertical edges (Sobel x)": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float32),
    "horizontal edges (Sobel y)": np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], np.float32),
    "outline (Laplacian)": np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], np.float32),
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], np.float32),
    "blur (box)": np.full((3, 3), 1 / 9, np.float32),
}


def _as_batch(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image, dtype=np.float32)
    return image[None, ..., None] if image.ndim == 2 else image[None]


def convolve(image: np.ndarray, kernel: np.ndarray, *, padding: str = "valid", stride: int = 1) -> np.ndarray:
    """Slide ``kernel`` over a grey ``image`` with a Keras ``Conv2D`` layer holding that kernel as its weight.

    Returns the feature map (2-D). Like every deep-learning library, Keras computes a
    cross-correlation (the kernel is not flipped), and so does this function.
    """
    import keras

    kernel = np.asarray(kernel, dtype=np.float32)
    layer = keras.layers.Conv2D(1, kernel.shape, strides=stride, padding=padding, use_bias=False)
    layer.build((None, None, None, 1))
    layer.set_weights([kernel[:, :, None, None]])
    return keras.ops.convert_to_numpy(layer(_as_batch(image)))[0, ..., 0]


def relu(feature_map: np.ndarray) -> np.ndarray:
    """Keras' ReLU: negative values become 0, positive ones pass unchanged."""
    import keras

    return keras.ops.convert_to_numpy(keras.layers.ReLU()(np.asarray(feature_map, np.float32)))


def pool(feature_map: np.ndarray, size: int = 2, *, kind: str = "max") -> np.ndarray:
    """Keras' MaxPooling2D or AveragePooling2D with a ``size`` x ``size`` window and the same stride."""
    import keras

    layer = {"max": keras.layers.MaxPooling2D, "average": keras.layers.AveragePooling2D}[kind](size)
    return keras.ops.convert_to_numpy(layer(_as_batch(feature_map)))[0, ..., 0]


def softmax(scores: np.ndarray) -> np.ndarray:
    """Keras' softmax: turns any scores into probabilities that are positive and sum to 1."""
    import keras

    return keras.ops.convert_to_numpy(keras.ops.softmax(np.asarray(scores, np.float32)))


def architecture_table(model) -> pd.DataFrame:
    """One row per layer, numbered from 1: type, output shape and number of parameters.

    Layer names are left out: Keras numbers them per session (``conv2d_7``), so they
    would change from run to run.
    """
    rows = []
    for layer in model.layers:
        shape = getattr(layer, "output", None)
        shape = tuple(shape.shape) if shape is not None else ()
        rows.append({"type": type(layer).__name__, "output shape": str(shape).replace("None", "n"),
                     "parameters": layer.count_params()})
    table = pd.DataFrame(rows)
    table.index = pd.RangeIndex(1, len(rows) + 1, name="layer")
    return table


def sliding_window_frames(image: np.ndarray, kernel: np.ndarray, *, step: int = 3):
    """Yield ``(row, column, partial_map)`` as the kernel slides: the map filled up to that position."""
    full = convolve(image, kernel)
    partial = np.full(full.shape, np.nan, dtype=np.float32)
    positions = [(r, c) for r in range(0, full.shape[0], step) for c in range(0, full.shape[1], step)]
    filled = 0
    for row, column in positions:
        flat = row * full.shape[1] + column
        partial.flat[filled : flat + 1] = full.flat[filled : flat + 1]
        filled = flat + 1
        yield row, column, partial.copy()
    if filled < full.size:  # the step skipped the last positions: end on the complete map
        yield full.shape[0] - 1, full.shape[1] - 1, full.copy()
