"""Weight averaging after a run: a few more epochs at a small constant rate, keeping the
moving average of the weights (Keras' ``use_ema``), batch normalisation re-estimated.

    python -m research average ~/.cache/fer_lib/runs/<run> --epochs 10 --output results/averaged.keras
"""

from __future__ import annotations

import json
import os


from fer_lib.data import FER2013
from fer_lib.errors import ModelError
from fer_lib.model import load_saved_model
from fer_lib.train import TrainConfig, TrainingResult
from fer_lib.train._augment import validation_arrays
from fer_lib.train._loop import write_results
from fer_lib.train._runs import EpochCheckpoint, Run, reestimate_batch_norm
from fer_lib.train._config import fingerprint
from research.distillation import DistillationTargets
from research.knobs import Knobs, compile_with
from research.runs import reopen_run

__all__ = ["average_weights", "reestimate_batch_norm"]

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
    scored and written like :func:`fer_lib.train.train` does; the card's history and epoch count
    include the extra epochs, its recipe the averaging.

    The extra epochs are checkpointed in a folder inside ``run_dir`` named after
    their options, so an interrupted call resumes and a finished one is not repeated.

    Parameters
    ----------
    run_dir : str or path
        A run of :func:`fer_lib.train.train` (its last checkpoint is the starting point).
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
    main, data, split, faces = reopen_run(run_dir, data, verbose=verbose)
    if "targets_sha256" in main.state["config"]:
        raise ModelError(f"{run_dir} was trained on targets passed as an array, which it does not keep; "
                         "average it from Python with the same targets, or train with a targets hook")
    if main.state["config"]["model_name"] == "seed_cnn":
        raise ModelError("average_weights works with the fer_net models; seed_cnn keeps the tutorial's recipe")
    averaging = {"epochs": epochs, "learning_rate": learning_rate, "ema_momentum": ema_momentum,
                 "after_epoch": main.state["epoch"]}
    identity = {**main.state["config"], "weight_averaging": averaging}
    config, knobs = TrainConfig.from_identity(identity), Knobs.from_identity(identity)
    folder = main.folder / f"average-{fingerprint(averaging)}"
    folder.mkdir(exist_ok=True)
    if (folder / "state.json").is_file() and (folder / "checkpoint.keras").is_file():
        run = Run(folder, json.loads((folder / "state.json").read_text()), True)
        model = load_saved_model(run.checkpoint)
        if verbose:
            print(f"resuming weight averaging from {run.checkpoint} after epoch {run.state['epoch']}")
    else:  # the main run's history, time and best epoch carry on, so the card counts them all
        run = Run(folder, {**main.state, "config": identity, "fingerprint": fingerprint(identity)}, False)
        model = load_saved_model(main.checkpoint)
        options = identity.get("model_options", {})
        compile_with(model, knobs.optimizer, learning_rate=learning_rate, ema_momentum=ema_momentum,
                     **{k: options[k] for k in ("weight_decay", "label_smoothing") if k in options})
    targets = None
    if identity.get("teachers"):
        targets = DistillationTargets(share=identity["distillation"], temperature=identity["temperature"],
                                      sha256=identity["teachers"])(faces, main.folder)
    batches = knobs.batches(faces, config, targets)
    validation_faces, validation_labels = validation_arrays(split.validation)
    last_epoch = main.state["epoch"] + epochs
    if run.state["epoch"] < last_epoch:
        batches.set_epoch(run.state["epoch"])
        model.fit(batches, validation_data=(knobs.view(validation_faces), validation_labels), epochs=last_epoch,
                  initial_epoch=run.state["epoch"], callbacks=[EpochCheckpoint(run, batches)],
                  verbose=verbose)
    # fit swaps the average in when it ends; a resumed call with nothing left to train must do it itself
    model.optimizer.finalize_variable_values(model.trainable_variables)
    label = (f"moving average (momentum {ema_momentum:g}) of epochs {main.state['epoch'] + 1}-{last_epoch} "
             f"at learning rate {learning_rate:g}, batch normalisation re-estimated")
    return write_results(model, run, data=data, split=split, faces=faces, output=output, verbose=verbose,
                         weights=label, hooks=knobs)
