"""Research's training knobs, kept out of :mod:`fer_lib`: SGD, mixup and CutMix, class-balanced loss weights,
training on crops with a ten-crop test (:class:`Knobs`, passed to :func:`fer_lib.train.train` as its ``hooks=``),
and the residual network ``fer_resnet`` (registered with :data:`fer_lib.model.MODEL_BUILDERS` on import).

A run's identity records each knob under the name ``fer_lib.train.TrainConfig`` gave it before 0.3.0, so the
recipe study's runs keep their folders and the cards in ``results/`` read as they did::

    python -m research train --profile full --crop 44 --output fer_net_crop44.keras
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import os
from pathlib import Path

import keras
import numpy as np
from keras import layers

from fer_lib.data import FER2013
from fer_lib.errors import ModelError
from fer_lib.labels import IMAGE_SHAPE, IMAGE_SIZE, NUM_CLASSES
from fer_lib.model._architectures import MODEL_BUILDERS, HorizontalFlip, _conv_bn_relu, compile_model
from fer_lib.train import RECIPES, TrainConfig
from fer_lib.train._augment import AugmentedFaces, training_batches
from fer_lib.train._loop import Hooks, build_model_for, learning_rate_for

__all__ = ["OPTIMIZERS", "Knobs", "balanced_class_weights", "centre_crop", "compile_with", "crop_batch", "fer_resnet",
           "knobs_of_run", "mix_batch", "with_crop_averaging"]

#: ``optimizer`` choices -> the peak learning rate used when none is given (``None``: the recipe's).
OPTIMIZERS: dict[str, float | None] = {"adamw": None, "sgd": 0.05}


@dataclasses.dataclass(frozen=True)
class Knobs(Hooks):
    """Research's changes to a run of :func:`fer_lib.train.train` (its ``hooks=``); the defaults change nothing.

    Parameters
    ----------
    optimizer : {"adamw", "sgd"}
        ``"sgd"``: Nesterov momentum 0.9, peak rate ``OPTIMIZERS["sgd"]`` (not for ``seed_cnn``).
    mixup, cutmix : float, default 0.0
        Beta alphas of mixup and CutMix (0: off).
    class_weight : {None, "balanced"}
    crop : int, optional
        Train on random 24-47 pixel windows (fer_net models); test on ten crops if they help on validation.

    Examples
    --------
    >>> knobs = Knobs(optimizer="sgd", mixup=0.2)
    >>> knobs.identity
    {'optimizer': 'sgd', 'mixup': 0.2}
    >>> knobs.configure(TrainConfig("fer_net")).learning_rate
    0.05
    """

    optimizer: str = "adamw"
    mixup: float = 0.0
    cutmix: float = 0.0
    class_weight: str | None = None
    crop: int | None = None

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise ModelError(f"unknown optimizer {self.optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")
        if self.class_weight not in (None, "balanced"):
            raise ModelError(f"class_weight must be None or 'balanced'; got {self.class_weight!r}")
        if self.mixup < 0 or self.cutmix < 0:
            raise ModelError(f"mixup and cutmix are Beta alphas (0 or more); got mixup={self.mixup}, "
                             f"cutmix={self.cutmix}")
        if self.crop is not None and not 24 <= self.crop < IMAGE_SIZE:
            raise ModelError(f"crop takes 24 to {IMAGE_SIZE - 1} pixels; got {self.crop!r}")

    @classmethod
    def from_identity(cls, identity: dict) -> Knobs:
        """The knobs a run's recorded identity (or a card's ``recipe``) names; other keys are ignored.

        Parameters
        ----------
        identity : dict
        """
        names = {field.name for field in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in identity.items() if key in names})

    @property
    def identity(self) -> dict:
        """The knobs not at their default, merged into the run's identity."""
        return {field.name: getattr(self, field.name) for field in dataclasses.fields(self)
                if getattr(self, field.name) != field.default}

    def configure(self, config: TrainConfig) -> TrainConfig:
        """``config`` checked against the knobs, with SGD's peak learning rate unless it names one.

        Parameters
        ----------
        config : fer_lib.train.TrainConfig

        Raises
        ------
        ModelError
            For SGD with ``seed_cnn``, or crops with a model other than the fer_net ones.
        """
        if self.optimizer != "adamw" and config.model_name == "seed_cnn":
            raise ModelError("seed_cnn keeps the tutorial's Adam; optimizer= works with the fer_net models only")
        if self.crop is not None and config.model_name not in ("fer_net", "fer_net_small"):
            raise ModelError(f"crop works with fer_net and fer_net_small; got {config.model_name}")
        if OPTIMIZERS[self.optimizer] is not None and config.learning_rate is None:
            config = dataclasses.replace(config, learning_rate=OPTIMIZERS[self.optimizer])
        return config

    def batches(self, faces: FER2013, config: TrainConfig, targets: np.ndarray | None) -> AugmentedFaces:
        """The run's batches: mixed (and weighted) after augmentation, then cropped.

        Parameters
        ----------
        faces : FER2013
        config : fer_lib.train.TrainConfig
        targets : ndarray of shape (n, 7), optional
        """
        weights = None
        if self.class_weight:
            weights = balanced_class_weights(faces.labels)[np.asarray(faces.labels, np.int64)]
        return training_batches(faces, config, targets=targets,
                                transform=functools.partial(self._transform, weights=weights))

    def _transform(self, images, targets, rows, rng, *, weights=None):
        """Mix a batch (with its faces' loss weights), then crop it, as fer_lib 0.2's batches did."""
        batch = mix_batch(images, targets, rng, mixup=self.mixup, cutmix=self.cutmix,
                          weights=None if weights is None else weights[rows])
        return batch if not self.crop else (crop_batch(batch[0], rng, self.crop), *batch[1:])

    def view(self, faces: np.ndarray) -> np.ndarray:
        """Centre crops for a network trained on crops.

        Parameters
        ----------
        faces : ndarray of shape (n, 48, 48, 1)
        """
        return centre_crop(faces, self.crop)

    def build(self, config: TrainConfig, faces: FER2013, steps_per_epoch: int) -> keras.Model:
        """The compiled network: for crops if training on them, with SGD if asked.

        Parameters
        ----------
        config : fer_lib.train.TrainConfig
            As :meth:`configure` made it.
        faces : FER2013
        steps_per_epoch : int
        """
        if self.configure(config) != config:
            raise ModelError("pass the config through Knobs.configure first (it sets SGD's learning rate)")
        extra = {"input_size": self.crop} if self.crop else {}
        if self.optimizer == "adamw":
            return build_model_for(config, faces, steps_per_epoch, **extra)
        model = build_model_for(config, faces, steps_per_epoch, compile=False, **extra)
        options = {k: config.model_options[k] for k in ("weight_decay", "label_smoothing") if k in config.model_options}
        compile_with(model, self.optimizer, learning_rate=learning_rate_for(config, steps_per_epoch), **options)
        return model

    def averaging(self, model: keras.Model, used: bool) -> keras.Model:
        """Ten crops (centre crop alone if not ``used``) for a network trained on crops, else flips.

        Parameters
        ----------
        model : keras.Model
        used : bool
        """
        if self.crop:
            return with_crop_averaging(model, crops=10 if used else 1)
        return super().averaging(model, used)


def knobs_of_run(run_dir: str | os.PathLike) -> Knobs:
    """The knobs of the run in ``run_dir`` (none when it holds no run).

    Parameters
    ----------
    run_dir : str or path
    """
    state = Path(run_dir) / "state.json"
    return Knobs.from_identity(json.loads(state.read_text())["config"]) if state.is_file() else Knobs()


def compile_with(model: keras.Model, optimizer: str = "adamw", *, learning_rate, weight_decay: float = 1e-4,
                 label_smoothing: float = 0.1, ema_momentum: float | None = None) -> None:
    """Compile with :func:`fer_lib.model.compile_model`'s recipe, AdamW or Nesterov SGD, optionally keeping a
    moving average of the weights (Keras' ``use_ema``).

    Parameters
    ----------
    model : keras.Model
    optimizer : {"adamw", "sgd"}, default "adamw"
    learning_rate : float or keras.optimizers.schedules.LearningRateSchedule
    weight_decay, label_smoothing : float, default 1e-4, 0.1
    ema_momentum : float, optional
    """
    ema = {} if ema_momentum is None else {"use_ema": True, "ema_momentum": ema_momentum}
    if optimizer == "sgd":
        chosen = keras.optimizers.SGD(learning_rate=learning_rate, momentum=0.9, nesterov=True,
                                      weight_decay=weight_decay, **ema)
    elif optimizer == "adamw":
        chosen = keras.optimizers.AdamW(learning_rate=learning_rate, weight_decay=weight_decay, **ema)
    else:
        raise ValueError(f"unknown optimizer {optimizer!r}; expected 'adamw' or 'sgd'")
    compile_model(model, label_smoothing=label_smoothing, optimizer=chosen)


# --------------------------------------------------------------------------------------
# the batches: mixing, class weights, crops
# --------------------------------------------------------------------------------------


def crop_batch(images: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    """A random ``size`` x ``size`` window of each face (training on crops, testing on ten of them)."""
    side = images.shape[1]
    if not 0 < size <= side:
        raise ValueError(f"a crop must be 1 to {side} pixels; got {size}")
    tops, lefts = rng.integers(0, side - size + 1, size=(2, len(images)))
    return np.stack([face[top:top + size, left:left + size] for face, top, left in zip(images, tops, lefts)])


def centre_crop(images: np.ndarray, size: int | None) -> np.ndarray:
    """The centre ``size`` x ``size`` window of each face; ``None`` keeps the faces whole."""
    if size is None:
        return images
    start = (images.shape[1] - size) // 2
    return images[:, start:start + size, start:start + size]


def mix_batch(images: np.ndarray, targets: np.ndarray, rng: np.random.Generator, *, mixup: float = 0.0,
              cutmix: float = 0.0, weights: np.ndarray | None = None):
    """Mixup or CutMix a batch with a shuffled copy of itself; the targets become soft labels."""
    if mixup < 0 or cutmix < 0:
        raise ValueError(f"mixup and cutmix are Beta alphas, 0 (off) or positive; got {mixup}, {cutmix}")
    if not (mixup or cutmix):
        return (images, targets) if weights is None else (images, targets, weights)
    use_cutmix = bool(cutmix) and (not mixup or rng.random() < 0.5)
    lam = float(rng.beta(cutmix, cutmix) if use_cutmix else rng.beta(mixup, mixup))
    order = rng.permutation(len(images))
    if use_cutmix:
        side = images.shape[1]
        cut = math.sqrt(1.0 - lam) * side
        cy, cx = rng.uniform(0, side, size=2)
        top, bottom = int(np.clip(round(cy - cut / 2), 0, side)), int(np.clip(round(cy + cut / 2), 0, side))
        left, right = int(np.clip(round(cx - cut / 2), 0, side)), int(np.clip(round(cx + cut / 2), 0, side))
        images = images.copy()
        images[:, top:bottom, left:right] = images[order, top:bottom, left:right]
        lam = 1.0 - (bottom - top) * (right - left) / (side * side)  # the area actually kept
    else:
        images = (lam * images + (1.0 - lam) * images[order]).astype(images.dtype)
    targets = (lam * targets + (1.0 - lam) * targets[order]).astype(targets.dtype)
    if weights is None:
        return images, targets
    return images, targets, (lam * weights + (1.0 - lam) * weights[order]).astype(weights.dtype)


def balanced_class_weights(labels: np.ndarray) -> np.ndarray:
    """Per-class loss weights inversely proportional to class frequency (scikit-learn's ``"balanced"``)."""
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=NUM_CLASSES).astype(np.float64)
    weights = np.divide(len(labels), NUM_CLASSES * counts, out=np.zeros(NUM_CLASSES), where=counts > 0)
    return weights.astype(np.float32)


# --------------------------------------------------------------------------------------
# the networks: fer_resnet, ten-crop averaging
# --------------------------------------------------------------------------------------


def _residual_block(x, filters: int, name: str):
    """Two 3x3 convolutions with batch norm, bridged by a shortcut (projected where the width changes)."""
    shortcut = x
    if x.shape[-1] != filters:  # a 1x1 projection where the width changes
        shortcut = layers.Conv2D(filters, 1, use_bias=False, name=f"{name}_project")(x)
        shortcut = layers.BatchNormalization(momentum=0.9, name=f"{name}_project_bn")(shortcut)
    x = _conv_bn_relu(x, filters, f"{name}a")
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}b_conv")(x)
    x = layers.BatchNormalization(momentum=0.9, name=f"{name}b_bn")(x)
    x = layers.Add(name=f"{name}_add")([x, shortcut])
    return layers.ReLU(name=f"{name}_relu")(x)


def fer_resnet(
    *,
    widths: tuple[int, ...] = (32, 64, 128, 256),
    blocks: int = 1,
    dropout: float = 0.4,
    compile: bool = True,
    learning_rate: float | keras.optimizers.schedules.LearningRateSchedule = 1e-3,
    weight_decay: float = 1e-4,
    label_smoothing: float = 0.1,
    optimizer: str = "adamw",
) -> keras.Model:
    """The residual variant of :func:`fer_lib.model.fer_net`: the same convolutions, each pair bridged by a shortcut.

    Parameters
    ----------
    widths : tuple of int, default (32, 64, 128, 256)
    blocks : int, default 1
        Residual blocks per stage (two convolutions each).
    dropout : float, default 0.4
    compile : bool, default True
    learning_rate : float or keras.optimizers.schedules.LearningRateSchedule, default 1e-3
    weight_decay, label_smoothing : float, default 1e-4, 0.1
    optimizer : {"adamw", "sgd"}, default "adamw"
    """
    if not isinstance(blocks, int) or blocks < 1:
        raise ValueError(f"blocks must be a positive integer; got {blocks!r}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must lie in [0, 1); got {dropout}")
    inputs = keras.Input(shape=IMAGE_SHAPE, name="face")
    x = layers.Rescaling(1.0 / 127.5, offset=-1.0, name="rescale")(inputs)
    for stage, filters in enumerate(widths, start=1):
        for block in range(1, blocks + 1):
            x = _residual_block(x, filters, f"stage{stage}_block{block}")
        if stage < len(widths):
            x = layers.MaxPooling2D(2, name=f"stage{stage}_pool")(x)
    x = layers.GlobalAveragePooling2D(name="global_pool")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", name="probabilities")(x)
    model = keras.Model(inputs, outputs, name="fer_resnet")
    if compile:
        compile_with(model, optimizer, learning_rate=learning_rate, weight_decay=weight_decay,
                     label_smoothing=label_smoothing)
    return model


def with_crop_averaging(model: keras.Model, *, crops: int = 10) -> keras.Model:
    """Wrap a network trained on crops (weights shared) so that it takes whole 48x48 faces: ``crops=1`` the
    centre crop, ``crops=10`` the four corners and the centre, each also mirrored.

    Parameters
    ----------
    model : keras.Model
    crops : {1, 10}, default 10
    """
    size = model.input_shape[1]
    margin = IMAGE_SIZE - size
    if crops not in (1, 10) or not 0 < margin < IMAGE_SIZE:
        raise ValueError(f"crop averaging takes crops=1 or 10 and a network for faces under 48 pixels; "
                         f"got crops={crops} and a {size}-pixel network")
    half = margin // 2
    centre = ((half, margin - half), (half, margin - half))
    corners = [((0, margin), (0, margin)), ((0, margin), (margin, 0)), ((margin, 0), (0, margin)),
               ((margin, 0), (margin, 0))]
    inputs = keras.Input(shape=IMAGE_SHAPE, name="face")
    outputs = []
    for index, cropping in enumerate([centre] if crops == 1 else [*corners, centre]):
        view = layers.Cropping2D(cropping, name=f"crop{index}")(inputs)
        outputs.append(model(view))
        if crops == 10:
            outputs.append(model(HorizontalFlip(name=f"mirror{index}")(view)))
    if crops == 1:
        return keras.Model(inputs, outputs[0], name=f"{model.name}_centre_crop")
    return keras.Model(inputs, layers.Average(name="probabilities")(outputs), name=f"{model.name}_ten_crop")




MODEL_BUILDERS.setdefault("fer_resnet", fer_resnet)
RECIPES.setdefault("fer_resnet", dict(RECIPES["fer_net"]))
