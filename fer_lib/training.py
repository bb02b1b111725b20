"""Training: one function, :func:`train`, for every model in :mod:`fer_lib.models`.

What it adds around ``model.fit``:

* a seeded, reproducible split and batch order (:func:`fer_lib.seeding.set_seed`);
* a numpy augmentation pipeline (random flips, shifts, rotations, zoom) as a
  :class:`keras.utils.PyDataset`, so it runs on every Keras backend and costs a
  millisecond per batch instead of the up to 40% Keras' random layers cost here;
* a checkpoint after every epoch, written atomically outside the work tree
  (``~/.cache/fer_lib/runs/<name>`` by default), so an interrupted run resumes
  where it stopped and loses no finished epoch;
* a CSV history, optional early stopping and learning-rate reduction;
* a saved ``.keras`` model with a JSON model card beside it.

Smoke runs: Keras honours ``KERAS_MAX_EPOCHS`` and ``KERAS_MAX_STEPS_PER_EPOCH``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import keras
import numpy as np
import pandas as pd

from . import distillation as distillation_module
from . import evaluation
from . import models as _models
from .cards import ModelCard
from .classifier import load_saved_model
from .data import load_default_data
from .dataset import FER2013, to_model_input
from .errors import ModelError
from .fileio import atomic_target, atomic_write_text
from .labels import IMAGE_SIZE, NUM_CLASSES
from .seeding import set_seed
from .splits import make_split, stratified_sample

__all__ = [
    "RECIPES",
    "PROFILES",
    "TrainingResult",
    "OPTIMIZERS",
    "AugmentedFaces",
    "augment_batch",
    "erase_batch",
    "mix_batch",
    "crop_batch",
    "centre_crop",
    "training_batches",
    "teacher_targets",
    "validation_arrays",
    "balanced_class_weights",
    "TimeBudget",
    "estimate_epoch_seconds",
    "learning_rate_schedule",
    "train",
    "finalize",
    "average_weights",
    "reestimate_batch_norm",
    "evaluate_accuracy",
    "default_run_dir",
]

#: Per-model training recipe. ``seed_cnn`` keeps the tutorial's: Adam 1e-3, no augmentation.
RECIPES: dict[str, dict[str, Any]] = {
    "seed_cnn": {"augment": False, "schedule": "constant", "learning_rate": 1e-3, "flip_tta": False},
    "fer_net": {"augment": True, "schedule": "cosine", "learning_rate": 2e-3, "flip_tta": "auto"},
    "fer_net_small": {"augment": True, "schedule": "cosine", "learning_rate": 2e-3, "flip_tta": "auto"},
    "fer_resnet": {"augment": True, "schedule": "cosine", "learning_rate": 2e-3, "flip_tta": "auto"},
}

#: ``optimizer=`` choices of :func:`train` -> the peak learning rate used when none is given.
#: ``"adamw"`` keeps each recipe's own rate; SGD with Nesterov momentum needs a larger one.
OPTIMIZERS: dict[str, float | None] = {"adamw": None, "sgd": 0.05}

#: Named budgets for ``make train`` / ``python -m fer_lib train --profile``.
PROFILES: dict[str, dict[str, Any]] = {
    # A quick check that everything runs: minutes.
    "smoke": {"model_name": "fer_net_small", "epochs": 2, "sample_size": 2000},
    # What a student can run in minutes on 2 CPU cores: 6 min on a quiet machine, 61.7% PublicTest
    # (results/fer_net_small_default.json).
    "default": {"model_name": "fer_net_small", "epochs": 12},
    # The recipe that produced models/default.keras (see its model card): the recipe study's best change
    # (random erasing) on a long cosine schedule.
    "full": {"model_name": "fer_net", "epochs": 72, "random_erasing": 0.5},
}


@dataclasses.dataclass
class TrainingResult:
    """What :func:`train` and :func:`finalize` return: the trained model, its history, card and files.

    Parameters
    ----------
    model : keras.Model
        The final model, without optimiser state (wrapped in flip averaging when the card says so).
    history : pandas.DataFrame
        One row per epoch: ``epoch``, losses, accuracies, ``learning_rate``, ``seconds``.
    card : dict
        The model card (:meth:`fer_lib.cards.ModelCard.to_dict`), as saved beside the model.
    run_dir : Path
        The run's checkpoint folder.
    output : Path or None
        The saved ``.keras`` file, if one was asked for.
    """

    model: keras.Model
    history: pd.DataFrame
    card: dict
    run_dir: Path
    output: Path | None


# --------------------------------------------------------------------------------------
# Data pipeline
# --------------------------------------------------------------------------------------


def augment_batch(images: np.ndarray, rng: np.random.Generator, *, max_rotation: float = 10.0,
                  max_shift: float = 0.1, max_zoom: float = 0.1, flip: bool = True) -> np.ndarray:
    """Randomly mirror, rotate, shift and zoom a batch of 48x48 faces (uint8 or float).

    Each face gets its own affine warp (OpenCV, reflecting borders), so a batch
    of 64 costs about a millisecond.

    Parameters
    ----------
    images : ndarray of shape (n, 48, 48), uint8 or float32
    rng : numpy.random.Generator
        Draws every face's warp (the same generator state gives the same batch).
    max_rotation : float, default 10.0
        Degrees, either way.
    max_shift : float, default 0.1
        Fraction of the side, in each direction.
    max_zoom : float, default 0.1
        Scale drawn from ``1 - max_zoom`` to ``1 + max_zoom``.
    flip : bool, default True
        Mirror half of the faces left to right.

    Returns
    -------
    ndarray
        The same shape and dtype as ``images``.

    Examples
    --------
    >>> faces = np.zeros((2, 48, 48), np.uint8)
    >>> augment_batch(faces, np.random.default_rng(0)).shape
    (2, 48, 48)
    """
    out = np.empty_like(images)
    center = (IMAGE_SIZE / 2 - 0.5, IMAGE_SIZE / 2 - 0.5)
    for i, image in enumerate(images):
        angle = rng.uniform(-max_rotation, max_rotation)
        scale = rng.uniform(1 - max_zoom, 1 + max_zoom)
        matrix = cv2.getRotationMatrix2D(center, angle, scale)
        matrix[:, 2] += rng.uniform(-max_shift, max_shift, size=2) * IMAGE_SIZE
        warped = cv2.warpAffine(image, matrix, (IMAGE_SIZE, IMAGE_SIZE), flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_REFLECT_101)
        out[i] = warped[:, ::-1] if flip and rng.random() < 0.5 else warped
    return out


def erase_batch(images: np.ndarray, rng: np.random.Generator, *, probability: float = 0.5,
                area: tuple[float, float] = (0.02, 0.25), aspect: tuple[float, float] = (0.3, 3.3)) -> np.ndarray:
    """Random erasing: replace a random rectangle of some faces with uniform noise (Zhong et al., 2020).

    Parameters
    ----------
    images : ndarray of shape (n, 48, 48), uint8 or float32 holding 0..255
    rng : numpy.random.Generator
        Draws which faces are erased and where.
    probability : float, default 0.5
        Chance that a face gets a rectangle (0: none).
    area : (float, float), default (0.02, 0.25)
        Range of the rectangle's share of the face.
    aspect : (float, float), default (0.3, 3.3)
        Range of its height-to-width ratio (drawn on a log scale).

    Returns
    -------
    ndarray
        A copy of ``images``, same shape and dtype.

    Raises
    ------
    ValueError
        For a probability outside [0, 1].

    Examples
    --------
    >>> faces = np.zeros((4, 48, 48), np.uint8)
    >>> erased = erase_batch(faces, np.random.default_rng(0), probability=1.0)
    >>> bool((erased > 0).any(axis=(1, 2)).all())
    True
    """
    if not 0.0 <= probability <= 1.0:
        raise ValueError(f"random erasing probability must lie in [0, 1]; got {probability}")
    out = images.copy()
    side = images.shape[1]
    for i in range(len(images)):
        if rng.random() >= probability:
            continue
        share = rng.uniform(*area)
        ratio = math.exp(rng.uniform(math.log(aspect[0]), math.log(aspect[1])))
        height = min(side, max(1, round(math.sqrt(share * side * side * ratio))))
        width = min(side, max(1, round(math.sqrt(share * side * side / ratio))))
        top, left = rng.integers(0, side - height + 1), rng.integers(0, side - width + 1)
        out[i, top:top + height, left:left + width] = rng.integers(0, 256, size=(height, width)).astype(images.dtype)
    return out


def crop_batch(images: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    """A random ``size`` x ``size`` window of each face (training on crops, testing on ten of them).

    Parameters
    ----------
    images : ndarray of shape (n, 48, 48, 1)
        Model input (:func:`fer_lib.dataset.to_model_input`).
    rng : numpy.random.Generator
    size : int
        Side of the windows, at most the faces' side.

    Returns
    -------
    ndarray of shape (n, size, size, 1)

    Raises
    ------
    ValueError
        For a window larger than the faces or not positive.

    Examples
    --------
    >>> crop_batch(np.zeros((2, 48, 48, 1), np.float32), np.random.default_rng(0), 44).shape
    (2, 44, 44, 1)
    """
    side = images.shape[1]
    if not 0 < size <= side:
        raise ValueError(f"a crop must be 1 to {side} pixels; got {size}")
    tops, lefts = rng.integers(0, side - size + 1, size=(2, len(images)))
    return np.stack([face[top:top + size, left:left + size] for face, top, left in zip(images, tops, lefts)])


def centre_crop(images: np.ndarray, size: int | None) -> np.ndarray:
    """The centre ``size`` x ``size`` window of each face; ``None`` keeps the faces whole.

    Parameters
    ----------
    images : ndarray of shape (n, 48, 48, 1)
    size : int or None

    Returns
    -------
    ndarray of shape (n, size, size, 1)

    Examples
    --------
    >>> centre_crop(np.zeros((1, 48, 48, 1)), 44).shape
    (1, 44, 44, 1)
    """
    if size is None:
        return images
    start = (images.shape[1] - size) // 2
    return images[:, start:start + size, start:start + size]


def mix_batch(images: np.ndarray, targets: np.ndarray, rng: np.random.Generator, *, mixup: float = 0.0,
              cutmix: float = 0.0, weights: np.ndarray | None = None):
    """Mixup or CutMix a batch with a shuffled copy of itself; the targets become soft labels.

    Mixup blends whole faces, ``lam * a + (1 - lam) * b``; CutMix pastes a
    rectangle of ``b`` into ``a`` and weights the labels by the pasted area. ``lam``
    is drawn from Beta(alpha, alpha), once per batch. With both on, each batch
    uses one of them, chosen at random.

    Parameters
    ----------
    images : ndarray of shape (n, 48, 48) or (n, 48, 48, 1), float32
    targets : ndarray of shape (n, 7), float32
        One-hot (or already soft) labels; categorical cross-entropy accepts the mixed ones.
    rng : numpy.random.Generator
    mixup, cutmix : float, default 0.0
        Beta's alpha for each method (0: off). Common values: mixup 0.2, CutMix 1.0.
    weights : ndarray of shape (n,), optional
        Per-face loss weights (class weighting), mixed like the labels.

    Returns
    -------
    tuple
        ``(images, targets)``, or ``(images, targets, weights)`` when ``weights`` is given.

    Raises
    ------
    ValueError
        For a negative alpha.

    Examples
    --------
    >>> faces = np.stack([np.zeros((48, 48)), np.full((48, 48), 255.0)]).astype(np.float32)
    >>> mixed, soft = mix_batch(faces, np.eye(7, dtype=np.float32)[[0, 1]], np.random.default_rng(0), mixup=0.2)
    >>> soft.sum(axis=1).round(6).tolist()
    [1.0, 1.0]
    """
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
    """Per-class loss weights inversely proportional to class frequency (scikit-learn's ``"balanced"``).

    ``n / (7 * count)``, so every class carries the same total weight; an absent class gets 0.

    Parameters
    ----------
    labels : ndarray of shape (n,), int

    Returns
    -------
    ndarray of shape (7,), float32

    Examples
    --------
    >>> [round(float(w), 2) for w in balanced_class_weights(np.array([0, 0, 0, 1, 2, 3, 4, 5, 6, 6]))]
    [0.48, 1.43, 1.43, 1.43, 1.43, 1.43, 0.71]
    """
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=NUM_CLASSES).astype(np.float64)
    weights = np.divide(len(labels), NUM_CLASSES * counts, out=np.zeros(NUM_CLASSES), where=counts > 0)
    return weights.astype(np.float32)


class AugmentedFaces(keras.utils.PyDataset):
    """Batches of ``(faces, one-hot labels)`` for ``model.fit``, reshuffled each epoch.

    Parameters
    ----------
    images : ndarray of shape (n, 48, 48), uint8
    labels : ndarray of shape (n,), int
    batch_size : int, default 64
    augment : bool, default True
        Apply :func:`augment_batch` to every batch.
    seed : int, default 0
        Seeds the shuffling and augmentation, together with the epoch and batch index.
    shuffle : bool, default True
        A new order every epoch; ``False`` keeps the rows' order.
    random_erasing : float, default 0.0
        Probability that :func:`erase_batch` erases a rectangle of a face (after ``augment``).
    mixup, cutmix : float, default 0.0
        Beta alphas for :func:`mix_batch` (0: off); the labels become soft.
    class_weight : ndarray of shape (7,), optional
        Loss weight per class (:func:`balanced_class_weights`); batches then carry
        per-face sample weights as a third element.
    crop : int, optional
        Train on a random window of this side of each face (:func:`crop_batch`, last).
    targets : ndarray of shape (n, 7), optional
        Soft targets to fit instead of the one-hot labels (distillation's,
        :func:`fer_lib.distillation.soft_targets`); the labels still set class weights.
    """

    def __init__(self, images: np.ndarray, labels: np.ndarray, *, batch_size: int = 64,
                 augment: bool = True, seed: int = 0, shuffle: bool = True, random_erasing: float = 0.0,
                 mixup: float = 0.0, cutmix: float = 0.0, class_weight: np.ndarray | None = None,
                 crop: int | None = None, targets: np.ndarray | None = None):
        super().__init__()
        self.images = images
        if targets is None:
            targets = keras.utils.to_categorical(labels, NUM_CLASSES)
        elif np.shape(targets) != (len(images), NUM_CLASSES):
            raise ValueError(f"targets need one row of {NUM_CLASSES} per face; got {np.shape(targets)} "
                             f"for {len(images)} faces")
        self.targets = np.asarray(targets, np.float32)
        self.batch_size = batch_size
        self.augment = augment
        self.shuffle = shuffle
        self.seed = seed
        self.random_erasing = random_erasing
        self.mixup = mixup
        self.cutmix = cutmix
        self.crop = crop
        self.sample_weights = (None if class_weight is None
                               else np.asarray(class_weight, np.float32)[np.asarray(labels, np.int64)])
        self.epoch = 0
        self._order = self._make_order()

    def _make_order(self) -> np.ndarray:
        if not self.shuffle:
            return np.arange(len(self.images))
        return np.random.default_rng((self.seed, self.epoch)).permutation(len(self.images))

    def set_epoch(self, epoch: int) -> None:
        """Jump to ``epoch``'s order (used when a run resumes).

        Parameters
        ----------
        epoch : int
            Zero-based epoch whose shuffling and augmentation to use.
        """
        self.epoch = epoch
        self._order = self._make_order()

    def __len__(self) -> int:
        return math.ceil(len(self.images) / self.batch_size)

    def __getitem__(self, index: int):
        rows = self._order[index * self.batch_size : (index + 1) * self.batch_size]
        faces = self.images[rows]
        rng = np.random.default_rng((self.seed, self.epoch, index))
        if self.augment:
            faces = augment_batch(faces, rng)
        if self.random_erasing:
            faces = erase_batch(faces, rng, probability=self.random_erasing)
        weights = None if self.sample_weights is None else self.sample_weights[rows]
        batch = mix_batch(to_model_input(faces), self.targets[rows], rng, mixup=self.mixup, cutmix=self.cutmix,
                          weights=weights)
        if self.crop:
            batch = (crop_batch(batch[0], rng, self.crop), *batch[1:])
        return batch

    def on_epoch_end(self) -> None:
        self.set_epoch(self.epoch + 1)


def training_batches(train_part: FER2013, config: dict, *, targets: np.ndarray | None = None) -> AugmentedFaces:
    """The batches a run with ``config`` trains on.

    Parameters
    ----------
    train_part : FER2013
        The faces to train on.
    config : dict
        A run's configuration as :func:`train` records it: ``batch_size``, ``augment``,
        ``seed``, and the options it holds only when not at their default
        (``random_erasing``, ``mixup``, ``cutmix``, ``class_weight``, ``crop``).
    targets : ndarray of shape (n, 7), optional
        Soft targets instead of the labels (a distilled run's, :func:`teacher_targets`).

    Returns
    -------
    AugmentedFaces
    """
    return AugmentedFaces(train_part.images, train_part.labels, batch_size=config["batch_size"],
                          augment=bool(config.get("augment", True)), seed=config["seed"],
                          random_erasing=config.get("random_erasing", 0.0), mixup=config.get("mixup", 0.0),
                          cutmix=config.get("cutmix", 0.0), crop=config.get("crop"), targets=targets,
                          class_weight=balanced_class_weights(train_part.labels) if config.get("class_weight") else None)


def teacher_targets(run_dir: Path, train_part: FER2013, config: dict,
                    teachers: Sequence[str | os.PathLike] | None = None) -> np.ndarray | None:
    """A distilled run's soft targets, from its teachers scored once and kept in ``run_dir``.

    The teachers' probabilities for the training faces are saved as
    ``teacher_probabilities-<teachers' fingerprint>.npy`` the first time, so a resumed run (or
    :func:`average_weights` on it) needs neither the teachers' files nor their time again.

    Parameters
    ----------
    run_dir : Path
        The run's checkpoint folder.
    train_part : FER2013
        The faces the run trains on.
    config : dict
        The run's configuration; ``teachers`` (SHA-256 of each file), ``distillation``
        and ``temperature`` when it is distilled.
    teachers : sequence of paths, optional
        The teacher files, needed only when their probabilities are not saved yet
        (checked against the SHA-256 in ``config``).

    Returns
    -------
    ndarray of shape (n, 7) or None
        :func:`fer_lib.distillation.soft_targets`; ``None`` for a run without teachers.

    Raises
    ------
    ModelError
        When the probabilities are not saved and no teacher files (or other ones) are given.
    """
    if not config.get("teachers"):
        return None
    saved = run_dir / f"teacher_probabilities-{_fingerprint(config['teachers'])}.npy"
    if saved.is_file():
        probabilities = np.load(saved)
    else:
        if not teachers:
            raise ModelError(f"{run_dir} is a distilled run whose teachers' probabilities are not saved; "
                             "pass the teacher model files again (teachers=, or --teacher).")
        teacher, sha256 = distillation_module.load_teachers(teachers)
        if sha256 != config["teachers"]:
            raise ModelError(f"the teacher files given ({', '.join(str(t) for t in teachers)}) are not the ones "
                             f"this run was started with; pass the same files in the same order.")
        probabilities = distillation_module.teacher_probabilities(teacher, train_part.images)
        with atomic_target(saved) as partial:
            with open(partial, "wb") as handle:
                np.save(handle, probabilities)
    if probabilities.shape != (len(train_part), NUM_CLASSES):
        raise ModelError(f"{saved} holds {probabilities.shape[0]} faces' probabilities, not {len(train_part)}; "
                         "delete it and pass the teacher files again.")
    return distillation_module.soft_targets(train_part.labels, probabilities, weight=config["distillation"],
                                            temperature=config["temperature"])


def validation_arrays(validation: FER2013, config: dict) -> tuple[np.ndarray, np.ndarray]:
    """``(faces, one-hot labels)`` that ``fit`` validates a run with ``config`` on (centre crops if it trains on crops).

    Parameters
    ----------
    validation : FER2013
        The validation part.
    config : dict
        A run's configuration (its ``crop``, if any, is used).

    Returns
    -------
    tuple of ndarray
    """
    return (centre_crop(to_model_input(validation.images), config.get("crop")),
            keras.utils.to_categorical(validation.labels, NUM_CLASSES))

# --------------------------------------------------------------------------------------
# Checkpoints
# --------------------------------------------------------------------------------------


def default_run_dir(name: str) -> Path:
    """Checkpoint folder for run ``name``: ``$FER_LIB_RUNS_DIR`` or ``~/.cache/fer_lib/runs``.

    Parameters
    ----------
    name : str
        The run's folder name (:func:`train` uses ``<model>-<fingerprint>``).

    Returns
    -------
    Path
        Not created here.
    """
    root = os.environ.get("FER_LIB_RUNS_DIR")
    return (Path(root) if root else Path.home() / ".cache" / "fer_lib" / "runs") / name


def _atomic_save_model(model: keras.Model, path: Path) -> None:
    with atomic_target(path) as temporary:
        model.save(temporary)


class _EpochCheckpoint(keras.callbacks.Callback):
    """After every epoch: save the model (with optimiser state), the best model, the history."""

    def __init__(self, run_dir: Path, state: dict, dataset: AugmentedFaces):
        super().__init__()
        self.run_dir = run_dir
        self.state = state
        self.dataset = dataset
        self._started = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self.dataset.set_epoch(epoch)
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs = {k: float(v) for k, v in (logs or {}).items()}
        seconds = time.perf_counter() - self._started
        row = {"epoch": epoch + 1, **logs, "learning_rate": _current_learning_rate(self.model), "seconds": seconds}
        self.state["history"] = [r for r in self.state["history"] if r["epoch"] <= epoch] + [row]
        self.state["epoch"] = epoch + 1
        self.state["seconds"] = self.state.get("seconds", 0.0) + seconds
        val = logs.get("val_accuracy", -1.0)
        if val > self.state.get("best_val_accuracy", -1.0):
            self.state["best_val_accuracy"] = val
            self.state["best_epoch"] = epoch + 1
            _atomic_save_model(self.model, self.run_dir / "best.keras")
        _atomic_save_model(self.model, self.run_dir / "checkpoint.keras")
        atomic_write_text(self.run_dir / "history.csv", pd.DataFrame(self.state["history"]).to_csv(index=False))
        atomic_write_text(self.run_dir / "state.json", json.dumps(self.state, indent=2))


class TimeBudget(keras.callbacks.Callback):
    """Stop training once a budget of minutes is spent (checked after every batch).

    The epoch under way when the budget runs out ends early, is validated and
    checkpointed like any other (its history row is then a partial epoch).

    Parameters
    ----------
    minutes : float
        The budget for the whole run.
    spent_seconds : float, default 0.0
        Seconds already spent on the run before this ``fit`` (a resumed run).
    clock : callable, default time.perf_counter
        Seconds, increasing (tests pass a fake clock).

    Raises
    ------
    ValueError
        For a budget that is not positive.

    Examples
    --------
    >>> budget = TimeBudget(1.0, spent_seconds=30.0)
    >>> budget.remaining_seconds
    30.0
    """

    def __init__(self, minutes: float, *, spent_seconds: float = 0.0, clock=time.perf_counter):
        super().__init__()
        if not minutes > 0:
            raise ValueError(f"a time budget needs a positive number of minutes; got {minutes}")
        self.minutes = float(minutes)
        self.spent_seconds = float(spent_seconds)
        self.clock = clock
        self.stopped_at: tuple[int, int] | None = None  # (epoch, batch), 1-based epoch
        self._epoch = 0
        self._started = None

    @property
    def remaining_seconds(self) -> float:
        """Seconds left of the budget (negative once it is overspent)."""
        elapsed = 0.0 if self._started is None else self.clock() - self._started
        return self.minutes * 60 - self.spent_seconds - elapsed

    def on_train_begin(self, logs=None):
        self._started = self.clock()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.remaining_seconds <= 0 and not self.model.stop_training:
            self.model.stop_training = True
            self.stopped_at = (self._epoch + 1, batch + 1)


def estimate_epoch_seconds(model: keras.Model, dataset: AugmentedFaces, *, validation=None, batches: int = 5,
                           clock=time.perf_counter) -> float:
    """Seconds one epoch of ``model.fit`` on ``dataset`` will take, from a few timed batches.

    Trains ``batches`` batches (after one untimed warm-up batch that compiles the
    step) with ``train_on_batch``, so **the model's weights change**: pass a
    throwaway copy built the same way. Batches include the dataset's augmentation.
    With ``validation``, a prediction pass over up to 512 of its faces is timed
    and scaled to the whole validation set.

    Parameters
    ----------
    model : keras.Model
        A compiled model to time (it is trained a little).
    dataset : AugmentedFaces
        The training batches (its length is the number of batches per epoch).
    validation : tuple of (ndarray, ndarray), optional
        ``(faces, one-hot labels)`` evaluated at the end of every epoch.
    batches : int, default 5
        Timed batches.
    clock : callable, default time.perf_counter

    Returns
    -------
    float
        Estimated seconds per epoch, validation included.

    Raises
    ------
    ValueError
        When ``batches`` is below 1.
    """
    if batches < 1:
        raise ValueError(f"batches must be at least 1; got {batches}")
    count = min(batches, len(dataset))
    model.train_on_batch(*dataset[0])
    started = clock()
    for index in range(count):
        model.train_on_batch(*dataset[index % len(dataset)])
    seconds = (clock() - started) / count * len(dataset)
    if validation is not None and len(validation[0]):
        faces = validation[0][:512]
        model.predict(faces[:64], verbose=0)  # compile the prediction step
        started = clock()
        model.evaluate(faces, validation[1][:512], batch_size=256, verbose=0)
        seconds += (clock() - started) * len(validation[0]) / len(faces)
    return float(seconds)


def _current_learning_rate(model: keras.Model) -> float:
    optimizer = model.optimizer
    rate = optimizer.learning_rate
    try:
        return float(keras.ops.convert_to_numpy(rate))
    except Exception:  # a schedule object: evaluate it at the current step
        return float(keras.ops.convert_to_numpy(rate(optimizer.iterations)))


def _fingerprint(config: dict) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:16]


# --------------------------------------------------------------------------------------
# Evaluation helpers used for the model card
# --------------------------------------------------------------------------------------


def evaluate_accuracy(model: keras.Model, data: FER2013, *, batch_size: int = 256) -> dict:
    """Overall and per-class accuracy of ``model`` on ``data`` (through :func:`fer_lib.evaluation.evaluate`).

    Parameters
    ----------
    model : keras.Model
        A fer_lib model (it normalises raw 0..255 faces itself).
    data : FER2013
        The faces and labels to score.
    batch_size : int, default 256
        Faces per compiled prediction call.

    Returns
    -------
    dict
        ``accuracy`` (a fraction, NaN when ``data`` is empty), ``per_class`` (emotion name ->
        accuracy on the faces with that label, NaN for an absent class), ``macro_f1``
        (:attr:`fer_lib.evaluation.Evaluation.macro_f1`, NaN when empty) and ``n`` (faces scored).
    """
    if len(data) == 0:
        return {"accuracy": float("nan"), "per_class": {}, "macro_f1": float("nan"), "n": 0}
    scored = evaluation.evaluate(model, data, batch_size=batch_size)
    return {"accuracy": scored.accuracy, "per_class": scored.per_class_accuracy, "macro_f1": scored.macro_f1,
            "n": int(len(data))}


# --------------------------------------------------------------------------------------
# train()
# --------------------------------------------------------------------------------------


def learning_rate_schedule(schedule: str, base: float, steps_per_epoch: int, epochs: int):
    """The learning rate ``train`` gives the optimiser: a constant, or warm-up then cosine decay.

    ``"cosine"``: one epoch rising linearly from ``base / 10`` to ``base`` (large steps
    on a freshly initialised network are unstable), then half a cosine down to zero at
    the last step, so the final epochs take small steps and settle.

    Parameters
    ----------
    schedule : {"constant", "cosine"}
    base : float
        The peak learning rate.
    steps_per_epoch : int
        Batches per epoch.
    epochs : int
        The schedule's length.

    Returns
    -------
    float or keras.optimizers.schedules.LearningRateSchedule
        A schedule is called with the step number: ``float(schedule(step))``.

    Raises
    ------
    ValueError
        For an unknown schedule.

    Examples
    --------
    >>> rate = learning_rate_schedule("cosine", 2e-3, steps_per_epoch=10, epochs=5)
    >>> [round(float(rate(step)), 5) for step in (0, 10, 30, 50)]
    [0.0002, 0.002, 0.001, 0.0]
    """
    if schedule == "constant":
        return base
    if schedule == "cosine":
        warmup = steps_per_epoch  # one epoch of linear warm-up, then cosine to zero
        return keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=base / 10, decay_steps=max(steps_per_epoch * epochs - warmup, 1),
            warmup_target=base, warmup_steps=warmup, alpha=0.0,
        )
    raise ValueError(f"unknown schedule {schedule!r}; expected 'constant' or 'cosine'")


def train(
    model_name: str = "fer_net",
    data: FER2013 | str | os.PathLike | None = None,
    *,
    protocol: str = "official",
    validation_fraction: float = 0.1,
    sample_size: int | None = None,
    epochs: int = 24,
    batch_size: int = 64,
    learning_rate: float | None = None,
    schedule: str | None = None,
    augment: bool | None = None,
    flip_tta: bool | str | None = None,
    model_options: dict[str, Any] | None = None,
    optimizer: str = "adamw",
    mixup: float = 0.0,
    cutmix: float = 0.0,
    random_erasing: float = 0.0,
    class_weight: str | None = None,
    crop: int | None = None,
    teachers: Sequence[str | os.PathLike] | None = None,
    distillation: float = 0.5,
    temperature: float = 2.0,
    max_minutes: float | None = None,
    average_epochs: int = 0,
    seed: int = 0,
    early_stopping: int | None = None,
    reduce_lr: int | None = None,
    run_dir: str | os.PathLike | None = None,
    resume: bool = True,
    output: str | os.PathLike | None = None,
    callbacks: list | None = None,
    verbose: int | str = "auto",
) -> TrainingResult:
    """Train a registered model on a FER2013 split, with checkpoints, history and a model card.

    Parameters
    ----------
    model_name : str
        A key of :data:`fer_lib.models.MODEL_BUILDERS` (``"seed_cnn"``, ``"fer_net"``, ...).
    data : FER2013, path or None
        Data set or file; ``None`` uses :func:`fer_lib.data.load_default_data`.
    protocol : {"official", "tutorial"}
        ``official``: train/validation from Training, test = PublicTest.
        ``tutorial``: the tutorial's random 81/9/10 split.
    validation_fraction : float, default 0.1
        Share of the training rows carved out (stratified) for validation.
    sample_size : int, optional
        Use a stratified random subset of this many training faces (for quick runs).
    epochs, batch_size, seed : int
        Defaults 24, 64 and 0.
    learning_rate, schedule, augment, flip_tta : optional
        Override the model's recipe in :data:`RECIPES`. ``flip_tta="auto"`` keeps
        test-time flip averaging only if it improves validation accuracy.
    model_options : dict, optional
        Extra keyword arguments for the model builder, e.g.
        ``{"conv_dropout": 0.6}`` for :func:`fer_lib.models.seed_cnn`. They are part
        of the run's identity (checkpoint folder, model card).
    optimizer : {"adamw", "sgd"}, default "adamw"
        ``"sgd"``: SGD with Nesterov momentum 0.9 (same weight decay), peak learning rate
        :data:`OPTIMIZERS` ``["sgd"]`` unless ``learning_rate`` is given. Not for ``seed_cnn``.
    mixup, cutmix : float, default 0.0
        Beta alphas of :func:`mix_batch` (0: off), e.g. 0.2 and 1.0; the labels become soft.
    random_erasing : float, default 0.0
        Probability of erasing a random rectangle of each training face (:func:`erase_batch`).
    class_weight : {None, "balanced"}
        ``"balanced"`` weights each face's loss by :func:`balanced_class_weights` of the
        training labels, so rare Disgust and Fear count as much as Happy in total.
    crop : int, optional
        Train on random ``crop`` x ``crop`` windows of the faces (e.g. 44) and test on ten
        crops (:func:`fer_lib.models.with_crop_averaging`) if they beat the centre crop on
        validation. For the ``fer_net`` models.
    teachers : sequence of paths, optional
        Distil these saved models (averaged, :mod:`fer_lib.distillation`): fit
        :func:`fer_lib.distillation.soft_targets` of their probabilities for the
        training faces instead of the plain labels. The files' SHA-256 are part of the
        run's identity; their probabilities are saved in ``run_dir`` the first time.
    distillation : float, default 0.5
        The teachers' share of the targets, in [0, 1] (with ``teachers`` only).
    temperature : float, default 2.0
        Temperature that softens the teachers' probabilities (with ``teachers`` only).
    max_minutes : float, optional
        Stop when this many minutes of training are spent (:class:`TimeBudget`, checked
        after every batch, counted across resumed calls); a resumed run whose budget is
        spent trains no further. Plan ``epochs`` with :func:`estimate_epoch_seconds` so a
        cosine schedule ends near the budget.
        Like the other knobs here, these enter the run's identity only when not at their default.
    average_epochs : int, default 0
        Then train this many epochs more with :func:`average_weights` (at its defaults) and
        return its model. Not part of the run's identity: the averaging keeps its own
        checkpoints inside ``run_dir``.
    early_stopping, reduce_lr : int, optional
        Patience (epochs) for early stopping on validation accuracy (restoring the
        best weights) and for halving a constant learning rate on a plateau.
    run_dir : path, optional
        Checkpoint folder; default ``~/.cache/fer_lib/runs/<model>-<fingerprint>``.
    resume : bool, default True
        Continue from the checkpoint in ``run_dir`` when there is one.
    output : path, optional
        Where to save the final ``.keras`` model; its card goes beside it as ``.json``.
    callbacks : list of keras.callbacks.Callback, optional
        Extra callbacks, e.g. :func:`fer_lib.plots.LiveCurves` in a notebook.
    verbose : int or str, default "auto"
        Keras' progress output (0 silent, 1 bars, 2 a line per epoch); also our own lines.

    Returns
    -------
    TrainingResult

    Raises
    ------
    ModelError
        For an unknown model, schedule, optimizer or class weighting, an augmentation
        strength out of range, ``reduce_lr`` with a schedule, a split too small
        for one batch, a teacher file that is missing (or not the resumed run's), or a
        checkpoint in ``run_dir`` that belongs to another run.
    DataError
        When the data cannot be split by ``protocol`` (no ``Training`` rows, say).
    """
    if model_name not in _models.MODEL_BUILDERS:
        raise ModelError(
            f"unknown model {model_name!r}; choose one of {', '.join(sorted(_models.MODEL_BUILDERS))}"
        )
    if optimizer not in OPTIMIZERS:
        raise ModelError(f"unknown optimizer {optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")
    if optimizer != "adamw" and model_name == "seed_cnn":
        raise ModelError("seed_cnn keeps the tutorial's Adam; optimizer= works with the fer_net models only")
    if class_weight not in (None, "balanced"):
        raise ModelError(f"class_weight must be None or 'balanced'; got {class_weight!r}")
    if mixup < 0 or cutmix < 0 or not 0.0 <= random_erasing <= 1.0:
        raise ModelError(f"mixup and cutmix are Beta alphas (0 or more) and random_erasing a probability in [0, 1]; "
                         f"got mixup={mixup}, cutmix={cutmix}, random_erasing={random_erasing}")
    if max_minutes is not None and not max_minutes > 0:
        raise ModelError(f"max_minutes must be positive (or None for no budget); got {max_minutes}")
    if crop is not None and not (model_name in ("fer_net", "fer_net_small") and 24 <= crop < IMAGE_SIZE):
        raise ModelError(f"crop takes 24 to {IMAGE_SIZE - 1} pixels, for fer_net and fer_net_small; "
                         f"got {crop!r} for {model_name}")
    if not (isinstance(average_epochs, int) and average_epochs >= 0) or (average_epochs and model_name == "seed_cnn"):
        raise ModelError(f"average_epochs must be a whole number of epochs (0: no averaging), for the fer_net "
                         f"models only; got {average_epochs!r} for {model_name}")
    if not (0.0 <= distillation <= 1.0 and temperature > 0):
        raise ModelError(f"distillation is the teachers' share of the targets, in [0, 1], and temperature "
                         f"is positive; got distillation={distillation}, temperature={temperature}")
    teacher_files = list(teachers or [])
    if teacher_files and model_name == "seed_cnn":
        raise ModelError("seed_cnn keeps the tutorial's recipe; distil into the fer_net models")
    recipe = dict(RECIPES.get(model_name, RECIPES["fer_net"]))
    if OPTIMIZERS[optimizer] is not None:
        recipe["learning_rate"] = OPTIMIZERS[optimizer]
    for key, value in (("learning_rate", learning_rate), ("schedule", schedule), ("augment", augment),
                       ("flip_tta", flip_tta)):
        if value is not None:
            recipe[key] = value
    if recipe["schedule"] not in ("constant", "cosine"):
        raise ModelError(f"unknown schedule {recipe['schedule']!r}; expected 'constant' or 'cosine'")
    if reduce_lr and recipe["schedule"] != "constant":
        raise ModelError(f"reduce_lr works with schedule='constant' only; this run uses {recipe['schedule']!r}, "
                         "which already sets the rate. Pass schedule='constant' or drop reduce_lr.")

    set_seed(seed)
    if not isinstance(data, FER2013):
        data = load_default_data(data)
    split = make_split(data, protocol, validation_fraction=validation_fraction, seed=seed)
    train_part = split.train
    if sample_size is not None:
        train_part = stratified_sample(train_part, sample_size, seed=seed)
    if len(train_part) < batch_size or len(split.validation) == 0:
        raise ModelError(
            f"{data.source}: the {protocol} split leaves {len(train_part)} training and "
            f"{len(split.validation)} validation faces; need at least one batch ({batch_size}) "
            "and one validation face. Use a larger file or sample_size."
        )

    # Through JSON so tuples and lists compare equal when a run resumes from its saved state.
    model_options = json.loads(json.dumps(model_options or {}))
    config = {
        "model_name": model_name, "protocol": protocol, "validation_fraction": validation_fraction,
        "sample_size": sample_size, "epochs": epochs, "batch_size": batch_size, "seed": seed,
        "data_sha256": data.sha256, "synthetic": data.synthetic, **recipe,
    }
    if model_options:  # only when given, so runs without options keep their checkpoint folders
        config["model_options"] = model_options
    knobs = {"optimizer": (optimizer, "adamw"), "mixup": (mixup, 0.0), "cutmix": (cutmix, 0.0),
             "random_erasing": (random_erasing, 0.0), "class_weight": (class_weight, None),
             "crop": (crop, None), "max_minutes": (max_minutes, None)}
    config.update({key: value for key, (value, default) in knobs.items() if value != default})
    if teacher_files:
        config.update(teachers=distillation_module.teacher_sha256(teacher_files), distillation=distillation,
                      temperature=temperature)
    # A constant learning rate lets a finished run be extended; a schedule ties the run to its length.
    fingerprint = _fingerprint({k: v for k, v in config.items()
                                if not (k == "epochs" and recipe["schedule"] == "constant")})
    run_dir = Path(run_dir) if run_dir is not None else default_run_dir(f"{model_name}-{fingerprint}")
    run_dir.mkdir(parents=True, exist_ok=True)

    state_path = run_dir / "state.json"
    checkpoint = run_dir / "checkpoint.keras"
    state = {"config": config, "fingerprint": fingerprint, "epoch": 0, "history": [], "seconds": 0.0}
    resuming = resume and state_path.is_file() and checkpoint.is_file()
    if resuming:  # refuse another run's checkpoint before any work (a distilled run's teachers take minutes)
        saved = json.loads(state_path.read_text())
        if saved.get("fingerprint") != fingerprint:
            differing = sorted(k for k in set(config) | set(saved.get("config", {}))
                               if config.get(k) != saved.get("config", {}).get(k))
            raise ModelError(
                f"checkpoint {checkpoint} belongs to another run (differs in: {', '.join(differing)}; "
                f"it was {saved.get('config', {}).get('model_name')!r}). Use another run_dir, or resume=False to start over."
            )
        state = saved

    if verbose and teacher_files:
        print(f"distilling {len(teacher_files)} teacher(s) into {model_name}: teachers' share {distillation:g}, "
              f"temperature {temperature:g}")
    dataset = training_batches(train_part, config, targets=teacher_targets(run_dir, train_part, config, teacher_files))
    validation = validation_arrays(split.validation, config)

    if resuming:
        model = load_saved_model(checkpoint)
        if verbose:
            print(f"resuming {model_name} from {checkpoint} after epoch {state['epoch']}")
    else:
        options: dict[str, Any] = dict(model_options)
        if model_name == "seed_cnn":
            options["normalization_data"] = to_model_input(train_part.images)
        else:
            options["learning_rate"] = learning_rate_schedule(recipe["schedule"], recipe["learning_rate"], len(dataset), epochs)
            if optimizer != "adamw":
                options["optimizer"] = optimizer
            if crop is not None:
                options["input_size"] = crop
        model = _models.build_model(model_name, **options)

    callbacks = [_EpochCheckpoint(run_dir, state, dataset), *(callbacks or [])]
    if early_stopping:
        callbacks.append(keras.callbacks.EarlyStopping(monitor="val_accuracy", mode="max",
                                                       patience=early_stopping, restore_best_weights=True))
    if reduce_lr:
        callbacks.append(keras.callbacks.ReduceLROnPlateau(monitor="val_accuracy", mode="max", factor=0.5,
                                                           patience=reduce_lr, min_lr=1e-5))
    budget = None
    if max_minutes is not None:
        budget = TimeBudget(max_minutes, spent_seconds=state["seconds"])
        callbacks.append(budget)
    started = time.perf_counter()
    if state["epoch"] < epochs and (budget is None or budget.remaining_seconds > 0):
        dataset.set_epoch(state["epoch"])
        model.fit(dataset, validation_data=validation, epochs=epochs, initial_epoch=state["epoch"],
                  callbacks=callbacks, verbose=verbose)
    if budget is not None and budget.stopped_at is not None:
        epoch, batch = budget.stopped_at
        state["stopped"] = f"time budget ({max_minutes:g} min) spent after batch {batch} of {len(dataset)} of epoch {epoch}"
        atomic_write_text(state_path, json.dumps(state, indent=2))
        if verbose:
            print(state["stopped"])
    if verbose:
        print(f"trained {state['epoch']} epoch(s); {time.perf_counter() - started:.0f} s in this call")
    if average_epochs:
        return average_weights(run_dir, epochs=average_epochs, data=data, output=output, verbose=verbose)
    return _finish(model, state=state, data=data, split=split, train_part=train_part, recipe=recipe,
                   config=config, run_dir=run_dir, output=output, verbose=verbose, weights="last epoch")


def finalize(run_dir: str | os.PathLike, *, data: FER2013 | str | os.PathLike | None = None,
             output: str | os.PathLike | None = None, weights: str = "best", verbose: int | str = 1) -> TrainingResult:
    """Turn a run's checkpoint into a model and card without training further.

    For a run stopped before its planned last epoch (out of time, say): takes
    the best-validation checkpoint (``weights="best"``) or the last one
    (``"last"``), evaluates it like :func:`train` does and says in the card how
    many of the planned epochs were trained.

    Parameters
    ----------
    run_dir : str or path
        The run's checkpoint folder (with ``state.json``).
    data : FER2013, path or None
        The data the run was trained on (checked by SHA-256); ``None``: discovery.
    output : str or path, optional
        Where to save the ``.keras`` model; its card goes beside it as ``.json``.
    weights : {"best", "last"}, default "best"
        The best-validation checkpoint or the last epoch's.
    verbose : int or str, default 1
        Progress of data loading and a line naming the saved files.

    Returns
    -------
    TrainingResult

    Raises
    ------
    ModelError
        When ``run_dir`` holds no run, ``weights`` is neither ``"best"`` nor ``"last"``,
        or ``data`` is not the file the run was trained on.
    """
    if weights not in ("best", "last"):
        raise ModelError(f"weights must be 'best' or 'last'; got {weights!r}")
    run_dir = Path(run_dir)
    state, data, split, train_part = _open_run(run_dir, data, verbose=verbose)
    config = state["config"]
    file = {"best": "best.keras", "last": "checkpoint.keras"}[weights]
    model = load_saved_model(run_dir / file)
    recipe = {key: config[key] for key in RECIPES["fer_net"] if key in config}
    label = f"best validation epoch ({state.get('best_epoch')})" if weights == "best" else "last epoch"
    return _finish(model, state=state, data=data, split=split, train_part=train_part, recipe=recipe,
                   config=config, run_dir=run_dir, output=output, verbose=verbose, weights=label)


def _open_run(run_dir: Path, data: FER2013 | str | os.PathLike | None, *, verbose: int | str):
    """A run's saved state, its data (checked by SHA-256), split and training part."""
    state_path = run_dir / "state.json"
    if not state_path.is_file():
        raise ModelError(f"{run_dir} holds no training run (no state.json); train one with `make train`.")
    state = json.loads(state_path.read_text())
    config = state["config"]
    if not isinstance(data, FER2013):
        data = load_default_data(data, verbose=bool(verbose))
    if data.sha256 != config["data_sha256"]:
        raise ModelError(f"{run_dir} was trained on another data file (sha256 {config['data_sha256'][:12]}...); "
                         f"pass the same file as data=.")
    split = make_split(data, config["protocol"], validation_fraction=config["validation_fraction"], seed=config["seed"])
    train_part = split.train
    if config["sample_size"] is not None:
        train_part = stratified_sample(train_part, config["sample_size"], seed=config["seed"])
    return state, data, split, train_part


def average_weights(run_dir: str | os.PathLike, *, epochs: int = 10, learning_rate: float = 3e-4,
                    ema_momentum: float = 0.999, data: FER2013 | str | os.PathLike | None = None,
                    output: str | os.PathLike | None = None, verbose: int | str = "auto") -> TrainingResult:
    """Train a run ``epochs`` more at a small constant rate and keep the moving average of its weights.

    A cosine schedule ends in one sharp point of the loss surface; averaging the
    weights the optimiser visits while it wanders around that point at a small
    constant rate (Polyak averaging, as in stochastic weight averaging) usually
    lands nearer the middle of the wide region, which generalises better. Keras
    keeps the average itself (``use_ema`` of the optimiser). Batch normalisation's
    statistics belong to the weights they were measured with, so they are measured
    again for the averaged weights (:func:`reestimate_batch_norm`). Then the model is
    scored and written like :func:`train` does; the card's history and epoch count
    include the extra epochs, its recipe the averaging.

    The extra epochs are checkpointed in a folder inside ``run_dir`` named after
    their options, so an interrupted call resumes and a finished one is not repeated.

    Parameters
    ----------
    run_dir : str or path
        A run of :func:`train` (its last checkpoint is the starting point).
    epochs : int, default 10
        Extra epochs, with the run's own augmentation.
    learning_rate : float, default 3e-4
        The constant rate (the shipped recipe's peak is 2e-3).
    ema_momentum : float, default 0.999
        Momentum of the weights' moving average (about the last 1000 batches).
    data : FER2013, path or None
        The data the run was trained on (checked by SHA-256); ``None``: discovery.
    output : str or path, optional
        Where to save the ``.keras`` model; its card goes beside it as ``.json``.
    verbose : int or str, default "auto"
        Keras' progress output; also our own lines.

    Returns
    -------
    TrainingResult

    Raises
    ------
    ModelError
        When ``run_dir`` holds no run, ``data`` is not its file, the run is of
        ``seed_cnn`` (the tutorial's recipe, kept as it is), or an option is out of range.
    """
    if not (isinstance(epochs, int) and epochs > 0 and learning_rate > 0 and 0.0 < ema_momentum < 1.0):
        raise ModelError(f"average_weights needs epochs > 0, learning_rate > 0 and 0 < ema_momentum < 1; "
                         f"got {epochs}, {learning_rate}, {ema_momentum}")
    run_dir = Path(run_dir)
    main, data, split, train_part = _open_run(run_dir, data, verbose=verbose)
    if main["config"]["model_name"] == "seed_cnn":
        raise ModelError("average_weights works with the fer_net models; seed_cnn keeps the tutorial's recipe")
    averaging = {"epochs": epochs, "learning_rate": learning_rate, "ema_momentum": ema_momentum,
                 "after_epoch": main["epoch"]}
    config = {**main["config"], "weight_averaging": averaging}
    folder = run_dir / f"average-{_fingerprint(averaging)}"
    folder.mkdir(exist_ok=True)
    state_path, checkpoint = folder / "state.json", folder / "checkpoint.keras"
    if state_path.is_file() and checkpoint.is_file():
        state = json.loads(state_path.read_text())
        model = load_saved_model(checkpoint)
        if verbose:
            print(f"resuming weight averaging from {checkpoint} after epoch {state['epoch']}")
    else:  # the main run's history, time and best epoch carry on, so the card counts them all
        state = {**main, "config": config, "fingerprint": _fingerprint(config)}
        model = load_saved_model(run_dir / "checkpoint.keras")
        options = config.get("model_options", {})
        _models.compile_model(model, optimizer=config.get("optimizer", "adamw"), learning_rate=learning_rate,
                              ema_momentum=ema_momentum,
                              **{k: options[k] for k in ("weight_decay", "label_smoothing") if k in options})
    dataset = training_batches(train_part, config, targets=teacher_targets(run_dir, train_part, config))
    validation = validation_arrays(split.validation, config)
    last_epoch = main["epoch"] + epochs
    if state["epoch"] < last_epoch:
        dataset.set_epoch(state["epoch"])
        model.fit(dataset, validation_data=validation, epochs=last_epoch, initial_epoch=state["epoch"],
                  callbacks=[_EpochCheckpoint(folder, state, dataset)], verbose=verbose)
    # fit swaps the average in when it ends; a resumed call with nothing left to train must do it itself
    model.optimizer.finalize_variable_values(model.trainable_variables)
    reestimate_batch_norm(model, train_part.images)
    recipe = {key: config[key] for key in RECIPES["fer_net"] if key in config}
    label = (f"moving average (momentum {ema_momentum:g}) of epochs {main['epoch'] + 1}-{last_epoch} "
             f"at learning rate {learning_rate:g}, batch normalisation re-estimated")
    return _finish(model, state=state, data=data, split=split, train_part=train_part, recipe=recipe,
                   config=config, run_dir=folder, output=output, verbose=verbose, weights=label)


def reestimate_batch_norm(model: keras.Model, images: np.ndarray, *, batch_size: int = 256) -> None:
    """Measure every batch-normalisation layer's statistics again, for the weights ``model`` has now.

    One pass over ``images`` in training mode, each layer's moving mean and variance
    becoming the plain average over the batches (as PyTorch's ``update_bn`` does for
    stochastic weight averaging). The layers' momentum is restored afterwards.

    Parameters
    ----------
    model : keras.Model
    images : ndarray of shape (n, 48, 48), uint8
        Faces, un-augmented (the training faces).
    batch_size : int, default 256
    """
    layers = [layer for layer in _all_layers(model) if isinstance(layer, keras.layers.BatchNormalization)]
    if not layers:
        return
    side = model.input_shape[1]  # a network trained on crops sees their centres
    momenta = [layer.momentum for layer in layers]
    try:
        for count, start in enumerate(range(0, len(images), batch_size)):
            for layer in layers:  # batch k weighs 1/(k+1): a running plain average
                layer.momentum = count / (count + 1)
            faces = to_model_input(images[start:start + batch_size])
            model(centre_crop(faces, None if side == IMAGE_SIZE else side), training=True)
    finally:
        for layer, momentum in zip(layers, momenta):
            layer.momentum = momentum


def _inference_copy(model: keras.Model) -> keras.Model:
    """The same network and weights, uncompiled: a few MB on disk instead of three times that."""
    copy = model.__class__.from_config(model.get_config())  # clone_model would keep the optimiser
    copy.set_weights(model.get_weights())
    # set_weights bypasses load_own_variables, so a layer that derives constants from its
    # variables (the adapted per-pixel Normalization of seed_cnn) must recompute them, as
    # loading a saved file does.
    for layer in _all_layers(copy):
        if hasattr(layer, "finalize_state"):
            layer.finalize_state()
    return copy


def _all_layers(model: keras.Model) -> list:
    """Every layer of ``model``, those of nested models included."""
    found, pending = [], list(model.layers)
    while pending:
        layer = pending.pop()
        found.append(layer)
        pending.extend(getattr(layer, "layers", []))
    return found


def _finish(model: keras.Model, *, state: dict, data: FER2013, split, train_part: FER2013, recipe: dict,
            config: dict, run_dir: Path, output: str | os.PathLike | None, verbose: int | str,
            weights: str) -> TrainingResult:
    """Select flip averaging on validation, score every part once, write the card and the model."""
    # Model selection on validation only: the best epoch (if early stopping) and test-time averaging
    # (over the mirror image; over ten crops for a network trained on crops).
    model = _inference_copy(model)  # the shipped file carries weights only, no optimiser state
    if config.get("crop"):
        plain, averaged = _models.with_crop_averaging(model, crops=1), _models.with_crop_averaging(model, crops=10)
    else:
        plain, averaged = model, _models.with_flip_averaging(model)
    val_plain = evaluate_accuracy(plain, split.validation)
    final_model, tta_used, val_tta = plain, False, None
    if recipe["flip_tta"]:
        val_tta = evaluate_accuracy(averaged, split.validation)
        if recipe["flip_tta"] is True or val_tta["accuracy"] > val_plain["accuracy"]:
            final_model, tta_used = averaged, True
    test = evaluate_accuracy(final_model, split.test)
    card = ModelCard.from_run(
        config=config, state=state, data=data, split=split, train_size=len(train_part),
        parameters=_models.count_parameters(model), flip_tta=tta_used,
        accuracy={
            "train": evaluate_accuracy(final_model, train_part)["accuracy"],
            "validation": val_tta["accuracy"] if tta_used else val_plain["accuracy"],
            "validation_without_flip_tta": val_plain["accuracy"],
            "test": test["accuracy"],
        },
        per_class_test_accuracy=test["per_class"], test_macro_f1=test["macro_f1"], weights=weights,
        history=run_dir / "history.csv",
    )
    card.write(run_dir / "card.json")

    history = pd.DataFrame(state["history"])
    if output is not None:
        output = Path(output)
        # The history goes beside the model, not in the cache.
        card = dataclasses.replace(card, history=output.with_suffix(".history.csv").name)
        _atomic_save_model(final_model, output)
        card.write(output.with_suffix(".json"))
        history.to_csv(output.with_suffix(".history.csv"), index=False)
        if verbose:
            print(f"saved {output} and {output.with_suffix('.json')}")
    return TrainingResult(final_model, history, card.to_dict(), run_dir, output)
