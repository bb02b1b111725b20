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
from pathlib import Path
from typing import Any

import cv2
import keras
import numpy as np
import pandas as pd

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
    "AugmentedFaces",
    "augment_batch",
    "train",
    "finalize",
    "evaluate_accuracy",
    "default_run_dir",
]

#: Per-model training recipe. ``seed_cnn`` keeps the tutorial's: Adam 1e-3, no augmentation.
RECIPES: dict[str, dict[str, Any]] = {
    "seed_cnn": {"augment": False, "schedule": "constant", "learning_rate": 1e-3, "flip_tta": False},
    "fer_net": {"augment": True, "schedule": "cosine", "learning_rate": 2e-3, "flip_tta": "auto"},
    "fer_net_small": {"augment": True, "schedule": "cosine", "learning_rate": 2e-3, "flip_tta": "auto"},
}

#: Named budgets for ``make train`` / ``python -m fer_lib train --profile``.
PROFILES: dict[str, dict[str, Any]] = {
    # A quick check that everything runs: minutes.
    "smoke": {"model_name": "fer_net_small", "epochs": 2, "sample_size": 2000},
    # What a student can run in under an hour on 2 CPU cores: 43 min, 60.2% PublicTest
    # (results/fer_net_small_default.json).
    "default": {"model_name": "fer_net_small", "epochs": 12},
    # The recipe that produced models/default.keras (see its model card).
    "full": {"model_name": "fer_net", "epochs": 16},
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
    """

    def __init__(self, images: np.ndarray, labels: np.ndarray, *, batch_size: int = 64,
                 augment: bool = True, seed: int = 0, shuffle: bool = True):
        super().__init__()
        self.images = images
        self.targets = keras.utils.to_categorical(labels, NUM_CLASSES).astype(np.float32)
        self.batch_size = batch_size
        self.augment = augment
        self.shuffle = shuffle
        self.seed = seed
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
        if self.augment:
            faces = augment_batch(faces, np.random.default_rng((self.seed, self.epoch, index)))
        return to_model_input(faces), self.targets[rows]

    def on_epoch_end(self) -> None:
        self.set_epoch(self.epoch + 1)


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
        accuracy on the faces with that label, NaN for an absent class) and ``n`` (faces scored).
    """
    if len(data) == 0:
        return {"accuracy": float("nan"), "per_class": {}, "n": 0}
    scored = evaluation.evaluate(model, data, batch_size=batch_size)
    return {"accuracy": scored.accuracy, "per_class": scored.per_class_accuracy, "n": int(len(data))}


# --------------------------------------------------------------------------------------
# train()
# --------------------------------------------------------------------------------------


def _learning_rate(schedule: str, base: float, steps_per_epoch: int, epochs: int):
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
        For an unknown model or schedule, ``reduce_lr`` with a schedule, a split too small
        for one batch, or a checkpoint in ``run_dir`` that belongs to another run.
    DataError
        When the data cannot be split by ``protocol`` (no ``Training`` rows, say).
    """
    if model_name not in _models.MODEL_BUILDERS:
        raise ModelError(
            f"unknown model {model_name!r}; choose one of {', '.join(sorted(_models.MODEL_BUILDERS))}"
        )
    recipe = dict(RECIPES.get(model_name, RECIPES["fer_net"]))
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
    # A constant learning rate lets a finished run be extended; a schedule ties the run to its length.
    fingerprint = _fingerprint({k: v for k, v in config.items()
                                if not (k == "epochs" and recipe["schedule"] == "constant")})
    run_dir = Path(run_dir) if run_dir is not None else default_run_dir(f"{model_name}-{fingerprint}")
    run_dir.mkdir(parents=True, exist_ok=True)

    dataset = AugmentedFaces(train_part.images, train_part.labels, batch_size=batch_size,
                             augment=bool(recipe["augment"]), seed=seed)
    validation = (to_model_input(split.validation.images),
                  keras.utils.to_categorical(split.validation.labels, NUM_CLASSES))

    state_path = run_dir / "state.json"
    checkpoint = run_dir / "checkpoint.keras"
    state = {"config": config, "fingerprint": fingerprint, "epoch": 0, "history": [], "seconds": 0.0}
    if resume and state_path.is_file() and checkpoint.is_file():
        saved = json.loads(state_path.read_text())
        if saved.get("fingerprint") != fingerprint:
            differing = sorted(k for k in set(config) | set(saved.get("config", {}))
                               if config.get(k) != saved.get("config", {}).get(k))
            raise ModelError(
                f"checkpoint {checkpoint} belongs to another run (differs in: {', '.join(differing)}; "
                f"it was {saved.get('config', {}).get('model_name')!r}). Use another run_dir, or resume=False to start over."
            )
        model = load_saved_model(checkpoint)
        state = saved
        if verbose:
            print(f"resuming {model_name} from {checkpoint} after epoch {state['epoch']}")
    else:
        options: dict[str, Any] = dict(model_options)
        if model_name == "seed_cnn":
            options["normalization_data"] = to_model_input(train_part.images)
        else:
            options["learning_rate"] = _learning_rate(recipe["schedule"], recipe["learning_rate"], len(dataset), epochs)
        model = _models.build_model(model_name, **options)

    callbacks = [_EpochCheckpoint(run_dir, state, dataset), *(callbacks or [])]
    if early_stopping:
        callbacks.append(keras.callbacks.EarlyStopping(monitor="val_accuracy", mode="max",
                                                       patience=early_stopping, restore_best_weights=True))
    if reduce_lr:
        callbacks.append(keras.callbacks.ReduceLROnPlateau(monitor="val_accuracy", mode="max", factor=0.5,
                                                           patience=reduce_lr, min_lr=1e-5))
    started = time.perf_counter()
    if state["epoch"] < epochs:
        dataset.set_epoch(state["epoch"])
        model.fit(dataset, validation_data=validation, epochs=epochs, initial_epoch=state["epoch"],
                  callbacks=callbacks, verbose=verbose)
    if verbose:
        print(f"trained {state['epoch']} epoch(s); {time.perf_counter() - started:.0f} s in this call")

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
    file = {"best": "best.keras", "last": "checkpoint.keras"}[weights]
    model = load_saved_model(run_dir / file)
    recipe = {key: config[key] for key in RECIPES["fer_net"] if key in config}
    label = f"best validation epoch ({state.get('best_epoch')})" if weights == "best" else "last epoch"
    return _finish(model, state=state, data=data, split=split, train_part=train_part, recipe=recipe,
                   config=config, run_dir=run_dir, output=output, verbose=verbose, weights=label)


def _inference_copy(model: keras.Model) -> keras.Model:
    """The same network and weights, uncompiled: a few MB on disk instead of three times that."""
    copy = model.__class__.from_config(model.get_config())  # clone_model would keep the optimiser
    copy.set_weights(model.get_weights())
    # set_weights bypasses load_own_variables, so a layer that derives constants from its
    # variables (the adapted per-pixel Normalization of seed_cnn) must recompute them, as
    # loading a saved file does.
    pending = list(copy.layers)
    while pending:
        layer = pending.pop()
        pending.extend(getattr(layer, "layers", []))
        if hasattr(layer, "finalize_state"):
            layer.finalize_state()
    return copy


def _finish(model: keras.Model, *, state: dict, data: FER2013, split, train_part: FER2013, recipe: dict,
            config: dict, run_dir: Path, output: str | os.PathLike | None, verbose: int | str,
            weights: str) -> TrainingResult:
    """Select flip averaging on validation, score every part once, write the card and the model."""
    # Model selection on validation only: the best epoch (if early stopping) and flip averaging.
    val_plain = evaluate_accuracy(model, split.validation)
    model = _inference_copy(model)  # the shipped file carries weights only, no optimiser state
    final_model, tta_used, val_tta = model, False, None
    if recipe["flip_tta"]:
        flipped = _models.with_flip_averaging(model)
        val_tta = evaluate_accuracy(flipped, split.validation)
        if recipe["flip_tta"] is True or val_tta["accuracy"] > val_plain["accuracy"]:
            final_model, tta_used = flipped, True
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
        per_class_test_accuracy=test["per_class"], weights=weights, history=run_dir / "history.csv",
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
