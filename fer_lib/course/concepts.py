"""The building blocks of a CNN applied to real faces (notebook 1): the loop notebook 1 types, the rest by Keras."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["KERNELS", "convolve", "output_size", "conv_parameters", "relu", "pool", "softmax", "architecture_table"]

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
    """The feature map of ``kernel`` sliding over a grey ``image``, as Keras' ``Conv2D`` computes it.

    Notebook 1 types this loop in front of the reader (sections 3 and 4) and checks it against ``Conv2D``.
    ``out[i, j] = sum(image[i*s : i*s+k, j*s : j*s+k] * kernel)``: not flipped (a cross-correlation, as in Keras).

    Parameters
    ----------
    image : ndarray of shape (h, w)
    kernel : ndarray of shape (k, k)
        E.g. a value of :data:`KERNELS`.
    padding : {"valid", "same"}, default "valid"
        ``valid`` shrinks the map by ``k - 1``; ``same`` adds Keras' zeros (the odd one after) to keep the size.
    stride : int, default 1

    Examples
    --------
    >>> convolve(np.arange(16).reshape(4, 4), np.ones((3, 3))).tolist()
    [[45.0, 54.0], [81.0, 90.0]]
    """
    image, kernel = np.asarray(image, np.float32), np.asarray(kernel, np.float32)
    k = kernel.shape[0]
    sizes = [output_size(n, k, stride=stride, padding=padding) for n in image.shape]
    pads = [max((size - 1) * stride + k - n, 0) for size, n in zip(sizes, image.shape)]
    image = np.pad(image, [(pad // 2, pad - pad // 2) for pad in pads])
    out = np.zeros(sizes, np.float32)
    for i in range(sizes[0]):
        for j in range(sizes[1]):
            out[i, j] = np.sum(image[i * stride : i * stride + k, j * stride : j * stride + k] * kernel)
    return out


def output_size(size: int, kernel: int, *, stride: int = 1, padding: str = "valid") -> int:
    """Width (or height) of a convolution's or pooling's output, by the formula Keras follows.

    ``valid`` (no padding): ``(size - kernel) // stride + 1``; ``same`` (padded): ``ceil(size / stride)``.

    Parameters
    ----------
    size, kernel : int
        Input width (or height), and kernel (or pooling window) width.
    stride : int, default 1
    padding : {"valid", "same"}, default "valid"
    """
    if min(size, kernel, stride) < 1:
        raise ValueError(f"size, kernel and stride must be positive; got {size}, {kernel}, {stride}")
    if padding == "same":
        return -(-size // stride)
    if padding != "valid":
        raise ValueError(f"padding must be 'valid' or 'same'; got {padding!r}")
    if kernel > size:
        raise ValueError(f"a {kernel}-wide kernel does not fit in {size} pixels without padding")
    return (size - kernel) // stride + 1


def conv_parameters(kernel: int, channels_in: int, filters: int, *, bias: bool = True) -> int:
    """Weights of a ``Conv2D`` layer: a ``kernel x kernel x channels_in`` kernel per filter, plus a bias each.

    Parameters
    ----------
    kernel, channels_in, filters : int
        Kernel width (3 for 3x3), feature maps coming in (1 for a grey face) and going out.
    bias : bool, default True
    """
    return (kernel * kernel * channels_in + int(bias)) * filters


def relu(feature_map: np.ndarray) -> np.ndarray:
    """Keras' ReLU: negative values become 0, positive ones pass unchanged (float32, the same shape).

    Parameters
    ----------
    feature_map : ndarray
    """
    import keras

    return keras.ops.convert_to_numpy(keras.layers.ReLU()(np.asarray(feature_map, np.float32)))


def pool(feature_map: np.ndarray, size: int = 2, *, kind: str = "max") -> np.ndarray:
    """Keras' MaxPooling2D or AveragePooling2D with a ``size`` x ``size`` window and the same stride.

    Parameters
    ----------
    feature_map : ndarray of shape (h, w)
    size : int, default 2
    kind : {"max", "average"}, default "max"
    """
    import keras

    layer = {"max": keras.layers.MaxPooling2D, "average": keras.layers.AveragePooling2D}[kind](size)
    return keras.ops.convert_to_numpy(layer(_as_batch(feature_map)))[0, ..., 0]


def softmax(scores: np.ndarray) -> np.ndarray:
    """Keras' softmax: turns any scores into probabilities that are positive and sum to 1 (float32).

    Parameters
    ----------
    scores : ndarray of shape (..., n)
        Scores (logits); the last axis is normalised.
    """
    import keras

    return keras.ops.convert_to_numpy(keras.ops.softmax(np.asarray(scores, np.float32)))


def architecture_table(model) -> pd.DataFrame:
    """The layers' ``type``, ``output shape`` and ``parameters``, indexed by ``layer`` from 1.

    Parameters
    ----------
    model : keras.Model
    """
    rows = []  # no layer names: Keras numbers them per session (conv2d_7)
    for layer in model.layers:
        shape = tuple(layer.output.shape) if getattr(layer, "output", None) is not None else ()
        rows.append({"type": type(layer).__name__, "output shape": str(shape).replace("None", "n"),
                     "parameters": layer.count_params()})
    table = pd.DataFrame(rows)
    table.index = pd.RangeIndex(1, len(rows) + 1, name="layer")
    return table


def sliding_window_frames(image: np.ndarray, kernel: np.ndarray, *, step: int = 3):
    """Yield ``(row, column, map so far, NaN elsewhere)`` every ``step`` positions, ending on the full map."""
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
