"""The training loop: :func:`train` chains the steps ``prepare_split``, ``training_batches``,
``build_model_for``, ``model.fit`` and ``write_results`` (research/ runs them one by one, and finalizes runs)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import keras
import numpy as np
import pandas as pd

from fer_lib.data import FER2013, Split, load_default_data, make_split, stratified_sample, to_model_input
from fer_lib.errors import ModelError
from fer_lib.evaluation import evaluate_accuracy
from fer_lib.labels import IMAGE_SIZE
from fer_lib.language import tr
from fer_lib.model import _architectures as architectures
from fer_lib.model._cards import ModelCard
from fer_lib.model._classifier import load_saved_model
from fer_lib.train._augment import AugmentedFaces, training_batches, validation_arrays
from fer_lib.train._config import PRECISIONS, PROFILES, TrainConfig, fingerprint, resolve_precision
from fer_lib.train._runs import (BatchNormStatistics, EpochCheckpoint, Run, TimeBudget, _all_layers, default_run_dir,
                                 open_run, reestimate_batch_norm, save_model)
from fer_lib.train._seeding import set_seed


@dataclasses.dataclass
class TrainingResult:
    """What :func:`train` and :func:`finalize` return.

    Parameters
    ----------
    model : keras.Model
        The final model, without optimiser state, with the card's test-time averaging.
    history : pandas.DataFrame
    card : dict
    run_dir, output : Path
        The run's folder; the saved ``.keras`` file, or None.
    """

    model: keras.Model
    history: pd.DataFrame
    card: dict
    run_dir: Path
    output: Path | None


class Targets(Protocol):
    """The ``targets=`` hook of :func:`train`: ``(faces, run_dir) -> (n, 7)`` soft targets, ``identity``."""

    identity: dict

    def __call__(self, faces: FER2013, run_dir: Path) -> np.ndarray: ...


class Hooks:
    """The ``hooks=`` of :func:`train`: a run's changes beyond :class:`TrainConfig`
    (``research.knobs`` subclasses it); ``identity`` is merged into the run's, as a targets hook's is."""

    identity: dict = {}  # noqa: RUF012 (read, never changed)

    def batches(self, faces: FER2013, config: TrainConfig, targets: np.ndarray | None) -> AugmentedFaces:
        """The run's training batches (``targets``: soft targets instead of the labels)."""
        return training_batches(faces, config, targets=targets)

    def view(self, faces: np.ndarray) -> np.ndarray:
        """Model-input faces as the network in training takes them (validation during ``fit``)."""
        return faces

    def build(self, config: TrainConfig, faces: FER2013, steps_per_epoch: int) -> keras.Model:
        """A new run's compiled network."""
        return build_model_for(config, faces, steps_per_epoch)

    def averaging(self, model: keras.Model, used: bool) -> keras.Model:
        """The trained network as scored and shipped: on whole faces, with test-time averaging if ``used``."""
        return architectures.with_flip_averaging(model) if used else model


def learning_rate_schedule(schedule: str, base: float, steps_per_epoch: int, epochs: int):
    """The learning rate ``train`` gives the optimiser: a constant, or one epoch of linear warm-up from
    ``base / 10`` then half a cosine down to zero.

    Parameters
    ----------
    schedule : {"constant", "cosine"}
    base : float
    steps_per_epoch, epochs : int
    """
    if schedule == "constant":
        return base
    if schedule == "cosine":
        return keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=base / 10, decay_steps=max(steps_per_epoch * (epochs - 1), 1),
            warmup_target=base, warmup_steps=steps_per_epoch, alpha=0.0,
        )
    raise ValueError(f"unknown schedule {schedule!r}; expected 'constant' or 'cosine'")


def prepare_split(config: TrainConfig, data: FER2013 | str | os.PathLike | None = None, *,
                  verbose: bool = True) -> tuple[FER2013, Split, FER2013]:
    """Load ``data`` if needed, split it by ``config.protocol``; return data, split and training faces."""
    if not isinstance(data, FER2013):
        data = load_default_data(data, verbose=verbose)
    split = make_split(data, config.protocol, validation_fraction=config.validation_fraction,
                       seed=config.seed)
    faces = split.train
    if config.sample_size is not None:
        faces = stratified_sample(faces, config.sample_size, seed=config.seed)
    if len(faces) < config.batch_size or len(split.validation) == 0:
        raise ModelError(f"{data.source}: the {config.protocol} split leaves {len(faces)} training and "
                         f"{len(split.validation)} validation faces; need at least one batch ({config.batch_size}) "
                         "and one validation face. Use a larger file or sample_size.")
    return data, split, faces


def build_model_for(config: TrainConfig, faces: FER2013, steps_per_epoch: int, **options) -> keras.Model:
    """The compiled network ``config`` names in its precision (``options``: more builder arguments), its optimiser on
    the recipe's learning-rate schedule (``seed_cnn`` adapts its per-pixel normalisation to the training ``faces``)."""
    options = {**config.model_options, "precision": resolve_precision(config.precision), **options}
    if config.model_name == "seed_cnn":
        options["normalization_data"] = to_model_input(faces.images)
    else:
        options["learning_rate"] = learning_rate_for(config, steps_per_epoch)
    return architectures.build_model(config.model_name, **options)


def learning_rate_for(config: TrainConfig, steps_per_epoch: int):
    """The learning rate (or schedule) of ``config``'s recipe for its epochs of ``steps_per_epoch``."""
    recipe = config.recipe()
    return learning_rate_schedule(recipe["schedule"], recipe["learning_rate"], steps_per_epoch, config.epochs)


def train(config: TrainConfig | str, data: FER2013 | str | os.PathLike | None = None, *,
          model: keras.Model | None = None, targets: Targets | np.ndarray | None = None,
          callbacks: Sequence[keras.callbacks.Callback] = (), hooks: Hooks | None = None,
          run_dir: str | os.PathLike | None = None,
          resume: bool = True, output: str | os.PathLike | None = None,
          verbose: int | str = "auto") -> TrainingResult:
    """Train the network ``config`` describes, with a checkpoint every epoch, a history and a model card.

    Parameters
    ----------
    config : TrainConfig or str
        The run's choices, or the name of one of :data:`fer_lib.train.PROFILES`.
    data : FER2013, path or None
        ``None`` finds one (:func:`fer_lib.data.load_default_data`).
    model : keras.Model, optional
        A hand-built network instead of ``config.model_name``'s (compiled with the recipe if it is not; built in
        your own precision: the card records the config's).
    targets : Targets or ndarray of shape (n, 7), optional
        Soft targets to fit instead of the one-hot labels.
    callbacks : sequence of keras.callbacks.Callback
    hooks : Hooks, optional
        Changes to the batches, network and test-time averaging, recorded in the run's identity (research's).
    run_dir : path, optional
        Checkpoint folder; default ``~/.cache/fer_lib/runs/<model>-<fingerprint>``.
    resume : bool, default True
        Continue from the checkpoint in ``run_dir`` when there is one.
    output : path, optional
        Where to save the final ``.keras`` model; its card (``.json``) and history go beside it.
    verbose : int or str, default "auto"
        Keras' progress (0 silent, 1 bars, 2 a line per epoch) and our own lines.

    Raises
    ------
    ModelError
        When the split is too small for one batch, or ``run_dir`` holds another run's checkpoint.
    DataError
        When the data cannot be split by ``config.protocol``.

    Examples
    --------
    >>> from fer_lib.data import synthetic_fer2013
    >>> from fer_lib.train import TrainConfig, train
    >>> config = TrainConfig("fer_net_small", epochs=1, batch_size=32)
    >>> result = train(config, synthetic_fer2013(400, seed=0), run_dir=getfixture("tmp_path"), verbose=0)
    >>> result.card["epochs_trained"], len(result.history)
    (1, 1)
    """
    if isinstance(config, str):
        if config not in PROFILES:
            raise ModelError(f"unknown profile {config!r}; choose one of {', '.join(PROFILES)} "
                             "or pass a TrainConfig")
        config = PROFILES[config]
    if model is not None and model.dtype_policy.name in PRECISIONS:  # the card says what the network runs in
        config = dataclasses.replace(config, precision=model.dtype_policy.name)
    hooks = hooks or Hooks()
    set_seed(config.seed)
    data, split, faces = prepare_split(config, data, verbose=bool(verbose))
    identity = {**config.identity(data), **hooks.identity}
    if model is not None:
        identity["architecture"] = _architecture_key(model)
    if isinstance(targets, np.ndarray):
        identity["targets_sha256"] = hashlib.sha256(np.ascontiguousarray(targets).tobytes()).hexdigest()[:16]
    elif targets is not None:
        identity.update(targets.identity)
    key = fingerprint(identity)
    run = open_run(run_dir if run_dir is not None else default_run_dir(f"{config.model_name}-{key}"),
                   identity, key, resume=resume)
    if verbose:
        print(tr("run folder: {folder}", folder=run.folder))
    if run.resuming and _finished(run, config):  # before the heavy work: the card is already written
        if verbose:
            print(tr("already trained ({epochs} epochs); nothing to do", epochs=run.state["epoch"]))
        return _finished_result(run, output, verbose, hooks)

    soft = targets(faces, run.folder) if callable(targets) else targets
    batches = hooks.batches(faces, config, soft)
    validation_faces, validation_labels = validation_arrays(split.validation)
    if run.resuming:  # loaded and compiled in the run's precision: mixed_float16 keeps its loss scaling
        with architectures.dtype_policy(resolve_precision(config.precision)):
            model = load_saved_model(run.checkpoint)
        if verbose:
            print(tr("resuming {model} from {checkpoint} after epoch {epoch}", model=config.model_name,
                     checkpoint=run.checkpoint, epoch=run.state["epoch"]))
    elif model is None:
        model = hooks.build(config, faces, len(batches))
    elif getattr(model, "optimizer", None) is None:
        architectures.compile_model(model, learning_rate=learning_rate_for(config, len(batches)))

    callbacks = [BatchNormStatistics(statistics_inputs(faces, config.seed, hooks)), EpochCheckpoint(run, batches),
                 *callbacks]
    if config.early_stopping:
        callbacks.append(keras.callbacks.EarlyStopping(monitor="val_accuracy", mode="max",
                                                       patience=config.early_stopping, restore_best_weights=True))
    if config.reduce_lr:
        callbacks.append(keras.callbacks.ReduceLROnPlateau(monitor="val_accuracy", mode="max", factor=0.5,
                                                           patience=config.reduce_lr, min_lr=1e-5))
    budget = None
    if config.max_minutes is not None:
        budget = TimeBudget(config.max_minutes, spent_seconds=run.state["seconds"])
        callbacks.append(budget)
    started = time.perf_counter()
    if run.state["epoch"] < config.epochs and (budget is None or budget.remaining_seconds > 0):
        batches.set_epoch(run.state["epoch"])
        model.fit(batches, validation_data=(hooks.view(validation_faces), validation_labels), epochs=config.epochs,
                  initial_epoch=run.state["epoch"], callbacks=callbacks, verbose=verbose)
    if budget is not None and budget.stopped_at is not None:
        epoch, batch = budget.stopped_at
        stopped = "time budget ({minutes:g} min) spent after batch {batch} of {batches} of epoch {epoch}"
        values = {"minutes": config.max_minutes, "batch": batch, "batches": len(batches), "epoch": epoch}
        run.state["stopped"] = stopped.format(**values)  # the record is English; the printout, the reader's
        run.save_state()
        if verbose:
            print(tr(stopped, **values))
    if verbose:
        print(tr("trained {epochs} epoch(s); {seconds:.0f} s in this call", epochs=run.state["epoch"],
                 seconds=time.perf_counter() - started))
    return write_results(model, run, data=data, split=split, faces=faces, output=output, verbose=verbose,
                         weights="last epoch", hooks=hooks)


def write_results(model: keras.Model, run: Run, *, data: FER2013, split: Split, faces: FER2013,
                  output: str | os.PathLike | None = None, verbose: int | str = 1,
                  weights: str = "last epoch", hooks: Hooks | None = None) -> TrainingResult:
    """Choose test-time averaging on validation, score every part once, write the card (``weights``: which
    weights these are) and the model."""
    identity, hooks = run.state["config"], hooks or Hooks()
    reestimate_batch_norm(model, statistics_inputs(faces, identity["seed"], hooks))  # the final weights' own
    model = architectures.rebuilt(model)  # the shipped file carries weights only, no optimiser state
    plain, averaged = hooks.averaging(model, False), hooks.averaging(model, True)
    val_plain = evaluate_accuracy(plain, split.validation)
    final_model, tta_used, val_tta = plain, False, None
    if identity["flip_tta"]:
        val_tta = evaluate_accuracy(averaged, split.validation)
        if identity["flip_tta"] is True or val_tta["accuracy"] > val_plain["accuracy"]:
            final_model, tta_used = averaged, True
    test = evaluate_accuracy(final_model, split.test)
    card = ModelCard.from_run(
        config=identity, state=run.state, data=data, split=split, train_size=len(faces),
        parameters=architectures.count_parameters(model), flip_tta=tta_used,
        accuracy={
            "train": evaluate_accuracy(final_model, faces)["accuracy"],
            "validation": val_tta["accuracy"] if tta_used else val_plain["accuracy"],
            "validation_without_flip_tta": val_plain["accuracy"],
            "test": test["accuracy"],
        },
        per_class_test_accuracy=test["per_class"], test_macro_f1=test["macro_f1"], weights=weights,
        history=run.folder / "history.csv",
    )
    card.write(run.folder / "card.json")
    return _result(final_model, card, run, output, verbose)


def _result(model: keras.Model, card: ModelCard, run: Run, output: str | os.PathLike | None,
            verbose: int | str) -> TrainingResult:
    """Save the model, card and history at ``output`` (if given), say where, and return the result."""
    history = pd.DataFrame(run.state["history"])
    if output is not None:
        output = Path(output)
        card = dataclasses.replace(card, history=output.with_suffix(".history.csv").name)
        save_model(model, output)
        card.write(output.with_suffix(".json"))
        history.to_csv(output.with_suffix(".history.csv"), index=False)
    if verbose:
        print(tr("run folder: {folder}; no --output, so no model file saved", folder=run.folder) if output is None
              else tr("run folder: {folder}; model: {model} (card {card})", folder=run.folder, model=output,
                      card=output.with_suffix(".json")))
    return TrainingResult(model, history, card.to_dict(), run.folder, output)


def _architecture_key(model: keras.Model) -> str:
    """A hand-built network's identity: each layer's kind, settings (not its name) and size."""
    if not model.built:
        model.build((None, IMAGE_SIZE, IMAGE_SIZE, 1))
    layers = []
    for layer in _all_layers(model):
        settings = {} if hasattr(layer, "layers") else layer.get_config()
        settings = {key: value for key, value in settings.items() if key != "name"}
        layers.append([type(layer).__name__, settings, int(layer.count_params())])
    return fingerprint(layers)


def _finished(run: Run, config: TrainConfig) -> bool:
    """Whether a resumed run is done and its card is of the last epoch (early stopping restores the best)."""
    if config.early_stopping:
        return False
    card = run.folder / "card.json"
    done = run.state["epoch"] >= config.epochs or "stopped" in run.state
    return done and card.is_file() and json.loads(card.read_text()).get("weights") == "last epoch"


def _finished_result(run: Run, output: str | os.PathLike | None, verbose: int | str, hooks: Hooks) -> TrainingResult:
    """A finished run's result: its card as written, its last weights with the card's averaging."""
    card = ModelCard.read(run.folder / "card.json")
    model = hooks.averaging(architectures.rebuilt(load_saved_model(run.checkpoint)), card.flip_tta)
    return _result(model, card, run, output, verbose)


def statistics_inputs(faces: FER2013, seed: int, hooks: Hooks | None = None, *, count: int = 1024) -> np.ndarray:
    """A fixed sample of ``count`` training faces, unaugmented, as the network takes them: what batch
    normalisation's statistics are measured on before each validation and for the final model."""
    rows = np.sort(np.random.default_rng(seed).permutation(len(faces))[:count])
    return (hooks or Hooks()).view(to_model_input(faces.images[rows]))
