"""Model builders and test-time averaging; every model takes raw 0..255 faces and normalises them itself."""

from __future__ import annotations

import contextlib

from typing import Callable

import keras
import numpy as np
from keras import layers, regularizers

from fer_lib.errors import ModelError
from fer_lib.labels import IMAGE_SHAPE, IMAGE_SIZE, NUM_CLASSES

__all__ = ["seed_cnn", "fer_net", "with_flip_averaging", "build_model", "MODEL_BUILDERS", "HorizontalFlip",
           "count_parameters", "compile_model", "rebuilt", "all_layers"]


@keras.saving.register_keras_serializable(package="fer_lib")
class HorizontalFlip(layers.Layer):
    """Mirror images left to right (always, not at random): used for test-time flip averaging."""

    def call(self, inputs):
        return keras.ops.flip(inputs, axis=2)


def seed_cnn(
    *,
    normalization_data: np.ndarray | None = None,
    compile: bool = True,
    width: int = 64,
    conv_dropout: float = 0.5,
    dense_dropout: tuple[float, float, float] = (0.4, 0.4, 0.5),
    pool_strides: tuple[int, int, int, int] = (2, 2, 2, 2),
) -> keras.Model:
    """The tutorial's VGG-style CNN, layer for layer (5.9 M parameters); its first layer standardises pixels.

    Parameters
    ----------
    normalization_data : ndarray of shape (n, 48, 48, 1), optional
        Raw training faces to adapt the per-pixel mean and variance on (else mean 0, variance 1).
    compile : bool, default True
    width : int, default 64
        Filters of the first block (the others 2, 4 and 8 times as many).
    conv_dropout, dense_dropout, pool_strides : optional
        The tutorial's by default; :mod:`research.claims` varies them.
    """
    rates = (conv_dropout, *dense_dropout)
    if len(dense_dropout) != 3 or not all(0.0 <= rate < 1.0 for rate in rates):
        raise ValueError(f"dropout rates must lie in [0, 1) (three dense rates); "
                         f"got {conv_dropout}, {dense_dropout}")
    if not isinstance(width, int) or width < 1:
        raise ValueError(f"width must be a positive integer; got {width!r}")
    if len(pool_strides) != 4 or not all(s in (1, 2) for s in pool_strides):
        raise ValueError(f"pool_strides needs four strides of 1 or 2, one per block; got {pool_strides}")
    normalize = layers.Normalization(axis=(1, 2, 3), name="per_pixel_standardize")
    model = keras.Sequential(name="seed_cnn")
    model.add(keras.Input(shape=IMAGE_SHAPE, name="face"))
    model.add(normalize)
    model.add(layers.Conv2D(width, 3, activation="relu", kernel_regularizer=regularizers.l2(0.01)))
    model.add(layers.Conv2D(width, 3, activation="relu", padding="same"))
    model.add(layers.BatchNormalization())
    model.add(layers.MaxPooling2D(pool_size=2, strides=pool_strides[0]))
    model.add(layers.Dropout(conv_dropout))
    for multiplier, stride in zip((2, 4, 8), pool_strides[1:]):
        for _ in range(2):
            model.add(layers.Conv2D(multiplier * width, 3, activation="relu", padding="same"))
            model.add(layers.BatchNormalization())
        model.add(layers.MaxPooling2D(pool_size=2, strides=stride))
        model.add(layers.Dropout(conv_dropout))
    model.add(layers.Flatten())
    for units, rate in zip((512, 256, 128), dense_dropout):
        model.add(layers.Dense(units, activation="relu"))
        model.add(layers.Dropout(rate))
    model.add(layers.Dense(NUM_CLASSES, activation="softmax", name="probabilities", dtype="float32"))
    if normalization_data is not None:
        normalize.adapt(np.asarray(normalization_data, dtype=np.float32))
    else:
        normalize.adapt(np.stack([np.full(IMAGE_SHAPE, -1.0, np.float32), np.ones(IMAGE_SHAPE, np.float32)]))
    if compile:
        adam = keras.optimizers.Adam(learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7)
        model.compile(optimizer=adam, loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def _conv_bn_relu(x, filters: int, name: str):
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(momentum=0.9, name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def fer_net(
    *,
    widths: tuple[int, ...] = (32, 64, 128, 256),
    dropout: float = 0.4,
    block_dropout: float = 0.0,
    pool_strides: tuple[int, ...] | None = None,
    compile: bool = True,
    learning_rate: float | keras.optimizers.schedules.LearningRateSchedule = 1e-3,
    weight_decay: float = 1e-4,
    label_smoothing: float = 0.1,
    input_size: int = IMAGE_SIZE,
) -> keras.Model:
    """Our light VGG-style CNN (1.2 M parameters): blocks of two 3x3 conv + batch norm, global pooling.

    Parameters
    ----------
    widths : tuple of int, default (32, 64, 128, 256)
        Filters of each block (``fer_net_small`` halves them).
    dropout, block_dropout : float, default 0.4, 0.0
        Dropout before the classifier; after every pooling layer.
    pool_strides : tuple of int, optional
        One stride of 1 or 2 per pooling layer, default all 2.
    compile : bool, default True
    learning_rate : float or keras.optimizers.schedules.LearningRateSchedule, default 1e-3
    weight_decay, label_smoothing : float, default 1e-4, 0.1
    input_size : int, default 48
        Smaller for a network trained on crops (research's ten-crop recipe).
    """
    strides = tuple(pool_strides) if pool_strides is not None else (2,) * (len(widths) - 1)
    if len(strides) != len(widths) - 1 or not all(s in (1, 2) for s in strides):
        raise ValueError(f"pool_strides needs {len(widths) - 1} strides of 1 or 2; got {pool_strides}")
    if not (0.0 <= dropout < 1.0 and 0.0 <= block_dropout < 1.0):
        raise ValueError(f"dropout rates must lie in [0, 1); got {dropout}, {block_dropout}")
    inputs = keras.Input(shape=(input_size, input_size, 1), name="face")
    x = layers.Rescaling(1.0 / 127.5, offset=-1.0, name="rescale")(inputs)
    for block, filters in enumerate(widths, start=1):
        x = _conv_bn_relu(x, filters, f"block{block}a")
        x = _conv_bn_relu(x, filters, f"block{block}b")
        if block < len(widths):
            x = layers.MaxPooling2D(2, strides=strides[block - 1], name=f"block{block}_pool")(x)
            if block_dropout:
                x = layers.Dropout(block_dropout, name=f"block{block}_dropout")(x)
    x = layers.GlobalAveragePooling2D(name="global_pool")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", name="probabilities", dtype="float32")(x)
    model = keras.Model(inputs, outputs, name="fer_net")
    if compile:
        compile_model(model, learning_rate=learning_rate, weight_decay=weight_decay, label_smoothing=label_smoothing)
    return model


def compile_model(model: keras.Model, *, learning_rate=2e-3, weight_decay: float = 1e-4,
                  label_smoothing: float = 0.1, optimizer: keras.optimizers.Optimizer | None = None) -> None:
    """Compile ``model`` with the recipe of :func:`fer_net`: AdamW, label smoothing, accuracy.

    Parameters
    ----------
    model : keras.Model
    learning_rate : float or keras.optimizers.schedules.LearningRateSchedule, default 2e-3
    weight_decay, label_smoothing : float, default 1e-4, 0.1
    optimizer : keras.optimizers.Optimizer, optional
        Another optimiser instead of AdamW (``learning_rate`` and ``weight_decay`` are then its own).
    """
    if optimizer is None:
        optimizer = keras.optimizers.AdamW(learning_rate=learning_rate, weight_decay=weight_decay)
    loss = keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing)
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])


def with_flip_averaging(model: keras.Model) -> keras.Model:
    """Wrap ``model`` (weights shared) so it averages its probabilities over the face and its mirror image.

    Parameters
    ----------
    model : keras.Model
    """
    inputs = keras.Input(shape=IMAGE_SHAPE, name="face")
    flipped = HorizontalFlip(name="mirror")(inputs)
    outputs = layers.Average(name="probabilities")([model(inputs), model(flipped)])
    return keras.Model(inputs, outputs, name=f"{model.name}_flip_tta")


#: Model name -> builder; :func:`build_model` and the training CLI look names up here (research adds its own).
MODEL_BUILDERS: dict[str, Callable[..., keras.Model]] = {
    "seed_cnn": seed_cnn,
    "fer_net": fer_net,
    "fer_net_small": lambda **kw: fer_net(widths=(16, 32, 64, 128), **kw),
}


def build_model(name: str, *, precision: str = "float32", **options) -> keras.Model:
    """Build a registered model by name; a ModelError for a name not in :data:`MODEL_BUILDERS`.

    Parameters
    ----------
    name : str
    precision : str, default "float32"
        Keras' dtype policy of its layers (the output's: float32); compiling under ``"mixed_float16"`` adds
        loss scaling.
    **options
        Keyword arguments for the builder.
    """
    if name not in MODEL_BUILDERS:
        raise ModelError(f"unknown model {name!r}; choose one of {', '.join(sorted(MODEL_BUILDERS))}")
    with dtype_policy(precision):
        return MODEL_BUILDERS[name](**options)


@contextlib.contextmanager
def dtype_policy(precision: str):
    """Keras' global dtype policy set to ``precision`` inside the block (building, loading), then restored."""
    before = keras.config.dtype_policy()
    keras.config.set_dtype_policy(precision)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(before)


def rebuilt(model: keras.Model, *, float32: bool = False) -> keras.Model:
    """The same network and weights without optimiser state; ``float32``: every layer in float32 (for export)."""
    def plain(value):  # the config with every layer's dtype policy float32
        if isinstance(value, dict):
            return "float32" if value.get("class_name") == "DTypePolicy" else {k: plain(v) for k, v in value.items()}
        return [plain(item) for item in value] if isinstance(value, list) else value

    copy = model.__class__.from_config(plain(model.get_config()) if float32 else model.get_config())
    copy.set_weights(model.get_weights())
    for layer in all_layers(copy):  # e.g. an adapted Normalization recomputes its constants, as loading does
        if hasattr(layer, "finalize_state"):
            layer.finalize_state()
    return copy


def all_layers(model: keras.Model) -> list:
    """Every layer of ``model`` in order, each nested model followed by its own layers."""
    found = []
    for layer in model.layers:
        found.append(layer)
        found.extend(all_layers(layer) if hasattr(layer, "layers") else [])
    return found


def count_parameters(model: keras.Model) -> dict[str, int]:
    """Trainable, non-trainable and total parameter counts of ``model``.

    Parameters
    ----------
    model : keras.Model
    """
    trainable = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    non_trainable = int(sum(np.prod(w.shape) for w in model.non_trainable_weights))
    return {"trainable": trainable, "non_trainable": non_trainable, "total": trainable + non_trainable}
