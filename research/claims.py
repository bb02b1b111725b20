"""The tutorial's cures for overfitting, put to the test on equal budgets.

The tutorial trains its CNN to about 90% training and 65% test accuracy, calls
the gap overfitting, and says it can be cured by *more epochs*, *a smaller
stride* or *more dropout*. This module trains one base network once per claim,
changing only what the claim names, on the same faces, seed, optimiser
(constant learning rate 1e-3) and number of epochs, and records for each
variant: training accuracy (measured cleanly, without dropout or augmentation),
validation accuracy, PublicTest accuracy, the train-minus-validation gap and the
training time. Data augmentation, the cure the tutorial does not try, runs under
the same budget.

The base is ``fer_net_small`` by default, because the tutorial's own network does
not even reach the majority-class prior within a CPU budget (see
:func:`run_claims`); ``base="seed_cnn"`` runs the same table on the tutorial's
network for whoever has the hours or a GPU.

The table is data (CSV), so the evaluation notebook reads it rather than
retraining; :func:`verdicts` turns it into plain-language conclusions.

    python -m research claims --sample-size 5000 --epochs 10 --base fer_net_small --output results/claims.csv
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from fer_lib.data._loading import load_default_data
from fer_lib.data._container import FER2013
from fer_lib.errors import ModelError
from fer_lib.course._results import NOISE_POINTS, load_claims, verdicts
from research.studies import data_provenance, pick_variants, save_study
from fer_lib.train import TrainConfig, default_run_dir, train

__all__ = ["Variant", "VARIANTS", "BASES", "run_claims", "verdicts", "load_claims", "NOISE_POINTS"]

@dataclasses.dataclass(frozen=True)
class Variant:
    """One row of the claims table: the base network with one thing changed.

    Parameters
    ----------
    name : str
        Short identifier (``"more_dropout"``).
    claim : str
        The cure being tested, in the tutorial's words.
    change : str
        What differs from the baseline, for the table.
    options : dict
        Per base model name, the keyword arguments for its builder that make the change.
    augment : bool
        Random flips, rotations, shifts and zoom of the training faces.
    epochs_factor : int
        Train this many times the budget's epochs.
    extends : str, optional
        Continue the named variant's finished run instead of starting afresh
        (``more_epochs`` continues the baseline, so its first epochs are the
        baseline's exactly).
    """

    name: str
    claim: str
    change: str
    options: dict = dataclasses.field(default_factory=dict)
    augment: bool = False
    epochs_factor: int = 1
    extends: str | None = None


#: Networks the claims can be tested on. ``fer_net_small`` learns within a CPU
#: budget; the tutorial's ``seed_cnn`` needs far more (see :func:`run_claims`).
BASES = ("fer_net_small", "seed_cnn")

#: The variants, baseline first. Every variant keeps the tutorial's optimiser
#: settings (Adam-style, constant learning rate 1e-3), batch 64 and the base's loss.
VARIANTS: tuple[Variant, ...] = (
    Variant("baseline", "(no cure: the base recipe without augmentation)", "nothing"),
    Variant("more_epochs", "more epochs", "twice the epochs (continues the baseline run)",
            epochs_factor=2, extends="baseline"),
    Variant("smaller_stride", "a smaller stride",
            "last max-pooling at stride 1 instead of 2 (the convolutions already use stride 1)",
            options={"fer_net_small": {"pool_strides": (2, 2, 1)}, "seed_cnn": {"pool_strides": (2, 2, 2, 1)}}),
    Variant("more_dropout", "more dropout",
            "fer_net_small: dropout 0.25 after every pooling layer and 0.6 before the classifier (was 0.4 there "
            "only); seed_cnn: 0.6 everywhere (was 0.5 / 0.4-0.5)",
            options={"fer_net_small": {"block_dropout": 0.25, "dropout": 0.6},
                     "seed_cnn": {"conv_dropout": 0.6, "dense_dropout": (0.6, 0.6, 0.6)}}),
    Variant("augmentation", "data augmentation (not in the tutorial)",
            "random mirror, rotation up to 10 degrees, shift and zoom up to 10%", augment=True),
)


def _run_dir(root: Path | None, variant: Variant, base: str, width: int, sample_size: int | None, epochs: int,
             seed: int) -> Path:
    label = base if base != "seed_cnn" else f"seed_cnn-w{width}"
    name = f"claims-{label}-{variant.name}-n{sample_size or 'all'}-e{epochs}-s{seed}"
    return (root / name) if root is not None else default_run_dir(name)


def run_claims(
    data: FER2013 | str | os.PathLike | None = None,
    *,
    sample_size: int | None = 5000,
    epochs: int = 10,
    seed: int = 0,
    base: str = "fer_net_small",
    width: int = 16,
    variants: Sequence[Variant] | Sequence[str] | None = None,
    run_root: str | os.PathLike | None = None,
    output: str | os.PathLike | None = None,
    verbose: int | str = 2,
) -> pd.DataFrame:
    """Train every variant on the same faces and budget; return (and save) the claims table.

    Parameters
    ----------
    data : FER2013, path or None
        ``None`` uses :func:`fer_lib.data.load_default_data`.
    sample_size : int or None, default 5000
        Train on a stratified subset of this many faces from the official
        training part (``None``: all of it). Validation and PublicTest stay whole.
    epochs : int, default 10
        Epochs per variant (``more_epochs`` gets twice as many).
    seed : int
        Same split, subset, initial weights and batch order for every variant.
    base : {"fer_net_small", "seed_cnn"}
        The network every variant changes. The tutorial's ``seed_cnn`` is the
        natural subject, but on a 2-core CPU it does not leave the majority-class
        prior within any affordable budget (measured: width 16, 5,000 faces, 6
        epochs, validation accuracy still 25.2%), and a network that has not fitted
        cannot overfit. ``fer_net_small`` (0.3 M parameters) fits 5,000 faces in
        minutes, so the cures can be seen working or not.
    width : int, default 16
        Width of ``seed_cnn`` when it is the base (see :func:`fer_lib.model.seed_cnn`;
        64 is the tutorial's own).
    variants : sequence of Variant or names, optional
        Default :data:`VARIANTS`. A variant that ``extends`` another needs it earlier in the list.
    run_root : path, optional
        Folder for the runs' checkpoints (default ``~/.cache/fer_lib/runs``). Each
        run resumes from its checkpoint, so an interrupted table continues where it stopped.
    output : path, optional
        CSV to write (atomically, rewritten after every variant so finished rows are
        never lost); a ``.meta.json`` beside it records data, budget and machine.
    verbose : int or str, default 2
        Keras' verbosity for each run (2: one line per epoch); 0 also silences the
        line announcing each variant.

    Returns
    -------
    pandas.DataFrame
        One row per variant; accuracies are fractions, ``gap`` = train - validation.

    Raises
    ------
    ValueError
        For ``epochs`` below 1, an unknown ``base`` or an unknown variant name.
    ModelError
        When a variant extends one that is not run before it.
    """
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1; got {epochs}")
    if base not in BASES:
        raise ValueError(f"unknown base {base!r}; choose one of {', '.join(BASES)}")
    chosen = pick_variants(variants, VARIANTS)
    if not isinstance(data, FER2013):
        data = load_default_data(data)
    root = Path(run_root) if run_root is not None else None
    output = Path(output) if output is not None else None
    rows: list[dict[str, Any]] = []
    finished: dict[str, Path] = {}
    for variant in chosen:
        run_dir = _run_dir(root, variant, base, width, sample_size, epochs, seed)
        options = dict(variant.options.get(base, {}))
        if base == "seed_cnn" and width != 64:
            options["width"] = width
        if variant.extends is not None and not (run_dir / "state.json").is_file():
            if variant.extends not in finished:
                raise ModelError(f"variant {variant.name!r} extends {variant.extends!r}, which must run before it")
            shutil.copytree(finished[variant.extends], run_dir, dirs_exist_ok=True)
        if verbose:
            print(f"--- {variant.name}: {variant.change}", flush=True)
        config = TrainConfig(base, sample_size=sample_size, epochs=epochs * variant.epochs_factor,
                             augment=variant.augment, schedule="constant", learning_rate=1e-3, flip_tta=False,
                             model_options=options, seed=seed)
        result = train(config, data, run_dir=run_dir, verbose=verbose)
        finished[variant.name] = run_dir
        rows.append(_row(variant, result.card, result.history, width))
        table = pd.DataFrame(rows)
        if output is not None:
            _save(table, output, data, sample_size, epochs, seed, base, width,
                  None if variants is None else [v.name for v in chosen])
    return pd.DataFrame(rows)


def _row(variant: Variant, card: dict, history: pd.DataFrame, width: int) -> dict[str, Any]:
    accuracy = card["accuracy"]
    model = card["architecture"] + (f" (width {width})" if card["architecture"] == "seed_cnn" else "")
    return {
        "variant": variant.name,
        "claim": variant.claim,
        "change": variant.change,
        "model": model,
        "parameters": card["parameters"]["trainable"],
        "train_faces": card["split"]["sizes"]["train"],
        "epochs": card["epochs_trained"],
        "train_accuracy": round(accuracy["train"], 4),
        "fit_train_accuracy": round(float(history["accuracy"].iloc[-1]), 4),
        "validation_accuracy": round(accuracy["validation"], 4),
        "validation_last3": round(float(history["val_accuracy"].tail(3).mean()), 4),
        "test_accuracy": round(accuracy["test"], 4),
        "gap": round(accuracy["train"] - accuracy["validation"], 4),
        "minutes": round(card["seconds"] / 60, 1),
    }


def _save(table: pd.DataFrame, output: Path, data: FER2013, sample_size, epochs, seed, base, width,
          names: list[str] | None) -> None:
    save_study(table, output, {
        "command": f"python -m research claims --sample-size {sample_size or 0} --epochs {epochs} "
                   f"--seed {seed} --base {base}" + (f" --width {width}" if base == "seed_cnn" else "")
                   + (f" --variants {' '.join(names)}" if names else "") + f" --output {output.as_posix()}",
        "data": data_provenance(data),
        "budget": {"train_faces": sample_size, "epochs": epochs, "seed": seed, "base": base,
                   "seed_cnn_width": width if base == "seed_cnn" else None,
                   "validation": "10% of Training, stratified", "test": "PublicTest"},
        "columns": {
            "train_accuracy": "accuracy on the training faces in inference mode (no dropout, no augmentation)",
            "fit_train_accuracy": "Keras' running accuracy during the last epoch (with dropout/augmentation), "
                                  "the number the tutorial reports as training accuracy",
            "gap": "train_accuracy - validation_accuracy",
            "validation_last3": "mean validation accuracy of the last three epochs (less noisy than one epoch)",
            "minutes": "training time on this machine (evaluation excluded)",
        },
    })
