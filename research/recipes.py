"""A recipe study: which training changes help fer_net, measured on equal time budgets.

Every variant trains for the same number of minutes on the same faces and seed
(the longer-schedule variant for twice as many), its cosine schedule planned to
end with the budget: :func:`estimate_epoch_seconds` times a few
batches first, and the epochs that fit are the schedule's length. The weights
kept are those of the best validation epoch (and test-time flip averaging only
if it helps on validation); PublicTest is scored once, at the end, for the table.
Besides overall accuracy, each row carries macro-F1 and per-class accuracy, since
Disgust (1.5% of the faces) and Fear are the weakest classes.

The table is data (CSV with a ``.meta.json`` of its provenance, like
:mod:`research.claims`); every variant's run is checkpointed under
``~/.cache/fer_lib/runs/``, and a finished variant's row is kept beside its
checkpoint, so an interrupted study resumes where it stopped::

    python -m research recipes --minutes 30 --output results/recipe_study.csv
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from pathlib import Path
from typing import Any, Sequence

import keras
import pandas as pd

from fer_lib.data._loading import load_default_data
from fer_lib.data._container import FER2013
from fer_lib._fileio import atomic_write_text
from fer_lib.data._splits import make_split, stratified_sample
from fer_lib.course._results import load_recipe_study
from research.studies import data_provenance, pick_variants, save_study
from fer_lib.train import TrainConfig, default_run_dir, train
from fer_lib.train._augment import validation_arrays
from research.knobs import Knobs
from research.runs import finalize

__all__ = ["RecipeVariant", "RECIPE_VARIANTS", "run_recipe_study", "load_recipe_study", "plan_epochs"]


@dataclasses.dataclass(frozen=True)
class RecipeVariant:
    """One row of the recipe study: a model and training options, trained for the common budget.

    Parameters
    ----------
    name : str
        Short identifier (``"mixup"``).
    description : str
        What differs from the baseline, for the table.
    model_name : str, default "fer_net"
        A key of :data:`fer_lib.model.MODEL_BUILDERS`.
    model_options : dict
        Keyword arguments for the builder (``{"widths": (48, 96, 192, 384)}``).
    train_options : dict
        Fields of :class:`fer_lib.train.TrainConfig` or :class:`research.knobs.Knobs` (``{"mixup": 0.2}``).
    minutes_factor : float, default 1.0
        Train this many times the study's minutes (the longer schedule).
    """

    name: str
    description: str
    model_name: str = "fer_net"
    model_options: dict = dataclasses.field(default_factory=dict)
    train_options: dict = dataclasses.field(default_factory=dict)
    minutes_factor: float = 1.0


#: The variants, baseline first: the shipped fer_net recipe (AdamW 2e-3, cosine with one epoch of
#: warm-up, flips/rotations/shifts/zoom, label smoothing 0.1), each changing one thing.
RECIPE_VARIANTS: tuple[RecipeVariant, ...] = (
    RecipeVariant("baseline", "the shipped fer_net recipe"),
    RecipeVariant("wider", "fer_net at 1.5x the width (48-96-192-384 filters, 2.6 M parameters)",
                  model_options={"widths": (48, 96, 192, 384)}),
    RecipeVariant("residual", "fer_resnet: the same convolutions with residual shortcuts (1.22 M parameters)",
                  model_name="fer_resnet"),
    RecipeVariant("deeper", "fer_resnet with two residual blocks per stage (2.8 M parameters)",
                  model_name="fer_resnet", model_options={"blocks": 2}),
    RecipeVariant("mixup", "mixup, alpha 0.2", train_options={"mixup": 0.2}),
    RecipeVariant("cutmix", "CutMix, alpha 1.0", train_options={"cutmix": 1.0}),
    RecipeVariant("random_erasing", "random erasing, probability 0.5", train_options={"random_erasing": 0.5}),
    RecipeVariant("sgd", "SGD with Nesterov momentum 0.9, peak learning rate 0.05, instead of AdamW",
                  train_options={"optimizer": "sgd"}),
    RecipeVariant("balanced", "class-balanced loss weights (Disgust about 9x, Happy about 0.6x)",
                  train_options={"class_weight": "balanced"}),
    RecipeVariant("ten_crop", "training on random 44x44 crops, testing on ten crops (corners and centre, mirrored)",
                  train_options={"crop": 44}),
    RecipeVariant("longer", "the baseline with twice the minutes (a cosine schedule twice as long)",
                  minutes_factor=2.0),
)

def plan_epochs(minutes: float, epoch_seconds: float) -> int:
    """Epochs that fit in ``minutes`` at ``epoch_seconds`` each (at least one).

    Parameters
    ----------
    minutes : float
        The budget.
    epoch_seconds : float
        Estimated seconds per epoch (:func:`estimate_epoch_seconds`).

    Returns
    -------
    int

    Raises
    ------
    ValueError
        For a budget or epoch time that is not positive.

    Examples
    --------
    >>> plan_epochs(30, 130.0)
    13
    """
    if not (minutes > 0 and epoch_seconds > 0):
        raise ValueError(f"minutes and epoch_seconds must be positive; got {minutes}, {epoch_seconds}")
    return max(1, math.floor(minutes * 60 / epoch_seconds))


def _identity(variant: RecipeVariant, minutes: float) -> dict:
    # Through JSON so tuples and lists compare equal with what a finished row saved.
    return json.loads(json.dumps({**dataclasses.asdict(variant), "minutes": minutes}))


def _estimate(variant: RecipeVariant, train_part: FER2013, validation: FER2013, *, batch_size: int,
              seed: int) -> float:
    """Seconds per epoch of this variant, timed on a throwaway copy of its network."""
    config, knobs = _config(variant, epochs=1, batch_size=batch_size, seed=seed)
    batches = knobs.batches(train_part, config, None)
    model = knobs.build(config, train_part, len(batches))
    faces, labels = validation_arrays(validation)
    seconds = estimate_epoch_seconds(model, batches, validation=(knobs.view(faces), labels))
    del model
    keras.backend.clear_session()
    return seconds


def _config(variant: RecipeVariant, **options) -> tuple[TrainConfig, Knobs]:
    """The variant's :class:`~fer_lib.train.TrainConfig` and :class:`~research.knobs.Knobs`."""
    knobs = Knobs.from_identity(variant.train_options)
    names = {field.name for field in dataclasses.fields(Knobs)}
    options.update({key: value for key, value in variant.train_options.items() if key not in names})
    config = TrainConfig(variant.model_name, model_options=dict(variant.model_options), **options)
    return knobs.configure(config), knobs


def run_recipe_study(
    data: FER2013 | str | os.PathLike | None = None,
    *,
    minutes: float,
    variants: Sequence[RecipeVariant] | Sequence[str] | None = None,
    seed: int = 0,
    sample_size: int | None = None,
    batch_size: int = 64,
    run_root: str | os.PathLike | None = None,
    output: str | os.PathLike | None = "results/recipe_study.csv",
    verbose: int | str = 2,
) -> pd.DataFrame:
    """Train every variant for the same minutes; return (and save) the study's table.

    Parameters
    ----------
    data : FER2013, path or None
        ``None`` uses :func:`fer_lib.data.load_default_data`.
    minutes : float
        Training minutes per variant (``minutes_factor`` times this for the longer schedule),
        evaluation excluded. Each variant's epochs are planned to fit (:func:`plan_epochs`)
        and a :class:`fer_lib.train.TimeBudget` stops it at the budget regardless.
    variants : sequence of RecipeVariant or names, optional
        Default :data:`RECIPE_VARIANTS`.
    seed : int, default 0
        Same split, initial weights and batch order for every variant.
    sample_size : int, optional
        Train on a stratified subset of the training part (quick checks only; the study
        proper uses all of it).
    batch_size : int, default 64
    run_root : path, optional
        Folder for the runs' checkpoints (default ``~/.cache/fer_lib/runs``).
    output : path or None, default "results/recipe_study.csv"
        CSV rewritten atomically after every variant, with a ``.meta.json`` beside it.
    verbose : int or str, default 2
        Keras' verbosity (2: a line per epoch); 0 also silences the lines announcing each variant.

    Returns
    -------
    pandas.DataFrame
        One row per variant: budget, epochs, parameters, train/validation/PublicTest
        accuracy, PublicTest macro-F1 and per-class accuracy (``test_Disgust``, ...).

    Raises
    ------
    ValueError
        For a budget that is not positive or an unknown variant name.
    """
    if not minutes > 0:
        raise ValueError(f"minutes must be positive; got {minutes}")
    chosen = pick_variants(variants, RECIPE_VARIANTS, kind="recipe variant")
    if not isinstance(data, FER2013):
        data = load_default_data(data)
    root = Path(run_root) if run_root is not None else None
    output = Path(output) if output is not None else None
    split = make_split(data, "official", validation_fraction=0.1, seed=seed)
    train_part = split.train if sample_size is None else stratified_sample(split.train, sample_size, seed=seed)
    earlier = _rows_saved_before(output, data, minutes=minutes, seed=seed, sample_size=sample_size,
                                 batch_size=batch_size)
    rows: list[dict[str, Any]] = []
    for variant in chosen:
        budget = minutes * variant.minutes_factor
        if variant.name in earlier and earlier[variant.name][1] == _identity(variant, minutes):
            if verbose:
                print(f"--- {variant.name}: kept from {output} (same budget, seed and data)", flush=True)
            rows.append(earlier[variant.name][0])
            continue
        name = f"recipes-{variant.name}-m{minutes:g}-n{sample_size or 'all'}-b{batch_size}-s{seed}"
        run_dir = (root / name) if root is not None else default_run_dir(name)
        identity = _identity(variant, minutes)
        finished = run_dir / "recipe_row.json"
        saved = json.loads(finished.read_text()) if finished.is_file() else None
        if saved is not None and saved.get("identity") == identity:
            if verbose:
                print(f"--- {variant.name}: finished before ({finished})", flush=True)
            rows.append(saved["row"])
        else:
            rows.append(_run_variant(variant, data, split, train_part, budget=budget, seed=seed,
                                     sample_size=sample_size, batch_size=batch_size, run_dir=run_dir,
                                     verbose=verbose))
            atomic_write_text(finished, json.dumps({"identity": identity, "row": rows[-1]}, indent=2))
        if output is not None:
            _save(pd.DataFrame(rows), output, data, minutes=minutes, seed=seed, sample_size=sample_size,
                  batch_size=batch_size, names=None if variants is None else [v.name for v in chosen],
                  identities={v.name: _identity(v, minutes) for v in chosen})
    return pd.DataFrame(rows)


def _rows_saved_before(output: Path | None, data: FER2013, *, minutes: float, seed: int,
                       sample_size: int | None, batch_size: int) -> dict[str, tuple[dict[str, Any], dict]]:
    """Rows of an earlier table at ``output`` made under the same budget, seed and data, by variant.

    The table is the study's record; its checkpoints (in ``~/.cache``) may be gone on another
    machine. A row is only reused when the ``.meta.json`` beside it names the same data hash
    and the same budget, and (checked by the caller) the variant's full definition is the
    one it was made with, so a study is never mixed from different conditions.

    Returns
    -------
    dict
        Variant name -> (its row, the variant's identity when the row was made).
    """
    meta_path = output.with_suffix(".meta.json") if output is not None else None
    if meta_path is None or not (output.is_file() and meta_path.is_file()):
        return {}
    try:
        meta = json.loads(meta_path.read_text())
        table = pd.read_csv(output)
    except (OSError, ValueError):
        return {}
    budget = meta.get("budget", {})
    same = (meta.get("data", {}).get("sha256") == data.sha256
            and budget.get("minutes_per_variant") == minutes and budget.get("seed") == seed
            and budget.get("train_faces") == sample_size and budget.get("batch_size") == batch_size)
    identities = meta.get("identities", {})
    if not same or "variant" not in table.columns:
        return {}
    return {row["variant"]: (row, identities.get(row["variant"]))
            for row in json.loads(table.to_json(orient="records"))}


def _run_variant(variant: RecipeVariant, data: FER2013, split, train_part: FER2013, *, budget: float, seed: int,
                 sample_size: int | None, batch_size: int, run_dir: Path, verbose) -> dict[str, Any]:
    state_path = run_dir / "state.json"
    if state_path.is_file():  # a started run keeps the plan it started with
        epochs = json.loads(state_path.read_text())["config"]["epochs"]
        epoch_seconds = None
    else:
        epoch_seconds = _estimate(variant, train_part, split.validation, batch_size=batch_size, seed=seed)
        epochs = plan_epochs(budget, epoch_seconds)
    if verbose:
        planned = f"{epochs} epochs" + (f" at about {epoch_seconds:.0f} s" if epoch_seconds else " (as planned before)")
        print(f"--- {variant.name}: {variant.description}; {budget:g} min, {planned}", flush=True)
    config, knobs = _config(variant, sample_size=sample_size, epochs=epochs, batch_size=batch_size, seed=seed,
                            max_minutes=budget)
    result = train(config, data, hooks=knobs, run_dir=run_dir, verbose=verbose)
    state = json.loads(state_path.read_text())
    if state.get("best_epoch") not in (None, result.card["epochs_trained"]):  # keep the best validation epoch
        result = finalize(run_dir, data=data, weights="best", verbose=0, hooks=knobs)
    card = result.card  # scored once on the test part by train/finalize: accuracy, per class, macro-F1
    accuracy = card["accuracy"]
    row: dict[str, Any] = {
        "variant": variant.name,
        "description": variant.description,
        "model": variant.model_name,
        "parameters": card["parameters"]["total"],
        "train_faces": card["split"]["sizes"]["train"],
        "minutes_budget": round(budget, 2),
        "minutes": round(card["seconds"] / 60, 2),
        "epochs": card["epochs_trained"],
        "epochs_planned": card["epochs_planned"],
        "best_epoch": state.get("best_epoch"),
        "stopped_by_budget": "stopped" in state,
        "flip_tta": card["flip_tta"],
        "train_accuracy": round(accuracy["train"], 4),
        "validation_accuracy": round(accuracy["validation"], 4),
        "test_accuracy": round(accuracy["test"], 4),
        "test_macro_f1": round(card["test_macro_f1"], 4),
    }
    row.update({f"test_{emotion}": round(value, 4) for emotion, value in card["per_class_test_accuracy"].items()})
    return row


def _save(table: pd.DataFrame, output: Path, data: FER2013, *, minutes: float, seed: int, sample_size: int | None,
          batch_size: int, names: list[str] | None, identities: dict[str, dict]) -> None:
    save_study(table, output, {
        "command": f"python -m research recipes --minutes {minutes:g} --seed {seed}"
                   + (f" --sample-size {sample_size}" if sample_size else "")
                   + (f" --batch-size {batch_size}" if batch_size != 64 else "")
                   + (f" --variants {' '.join(names)}" if names else "") + f" --output {output.as_posix()}",
        "data": data_provenance(data),
        "budget": {"minutes_per_variant": minutes, "train_faces": sample_size, "batch_size": batch_size,
                   "seed": seed, "validation": "10% of Training, stratified (selects the epoch and flip TTA)",
                   "test": "PublicTest, scored once per variant at the end"},
        "variants": {row["variant"]: row["description"] for _, row in table.iterrows()},
        # each variant's full definition (model, options, budget factor): what a resumed study compares
        "identities": {name: identities[name] for name in table["variant"] if name in identities},
        "columns": {
            "minutes": "training time on this machine (evaluation excluded); minutes_budget is the allowance",
            "epochs": "epochs trained (the last one partial when stopped_by_budget); epochs_planned: the cosine "
                      "schedule's length, planned from a few timed batches",
            "train_accuracy": "accuracy on the training faces in inference mode (no dropout, no augmentation)",
            "test_macro_f1": "PublicTest F1 averaged over the seven classes (scikit-learn, average='macro')",
            "test_<emotion>": "PublicTest accuracy on the faces of that emotion (its recall)",
        },
    })


def estimate_epoch_seconds(model: keras.Model, dataset: keras.utils.PyDataset, *, validation=None, batches: int = 5,
                           clock=time.perf_counter) -> float:
    """Seconds one epoch of ``model.fit`` on ``dataset`` will take, from a few timed batches."""
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
