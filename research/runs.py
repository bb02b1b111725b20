"""Reopening a run of :func:`fer_lib.train.train` after it stopped: :func:`finalize` scores its best or last
checkpoint without training further; :func:`reopen_run` gives a run back with its data and split.

    python -m research finalize ~/.cache/fer_lib/runs/<run> --weights best --output model.keras
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from fer_lib.data import FER2013, Split, load_default_data
from fer_lib.errors import ModelError
from fer_lib.model import load_saved_model
from fer_lib.train import TrainConfig, TrainingResult
from fer_lib.train._loop import Hooks, prepare_split, write_results
from fer_lib.train._runs import Run
from research.knobs import knobs_of_run

__all__ = ["finalize", "reopen_run"]


def finalize(run_dir: str | os.PathLike, *, data: FER2013 | str | os.PathLike | None = None,
             output: str | os.PathLike | None = None, weights: str = "best",
             verbose: int | str = 1, hooks: Hooks | None = None) -> TrainingResult:
    """Turn a run's checkpoint into a model and card without training further (a run stopped early).

    Parameters
    ----------
    run_dir : str or path
    data : FER2013, path or None
        The data the run was trained on; ``None``: discovery.
    output : str or path, optional
    weights : {"best", "last"}, default "best"
    verbose : int or str, default 1
    hooks : fer_lib.train._loop.Hooks, optional
        The run's hooks, as :func:`fer_lib.train.train` had them; default the knobs its identity records
        (:func:`research.knobs.knobs_of_run`).

    Raises
    ------
    ModelError
        When ``run_dir`` holds no run, ``weights`` is unknown, or ``data`` is not the run's file.
    """
    if weights not in ("best", "last"):
        raise ModelError(f"weights must be 'best' or 'last'; got {weights!r}")
    run, data, split, faces = reopen_run(run_dir, data, verbose=verbose)
    model = load_saved_model(run.folder / {"best": "best.keras", "last": "checkpoint.keras"}[weights])
    label = f"best validation epoch ({run.state.get('best_epoch')})" if weights == "best" else "last epoch"
    hooks = hooks if hooks is not None else knobs_of_run(run.folder)
    return write_results(model, run, data=data, split=split, faces=faces, output=output, verbose=verbose,
                         weights=label, hooks=hooks)


def reopen_run(run_dir: str | os.PathLike, data: FER2013 | str | os.PathLike | None = None, *,
               verbose: int | str = 1) -> tuple[Run, FER2013, Split, FER2013]:
    """A finished or stopped run, its data (checked by SHA-256), split and training faces."""
    run_dir = Path(run_dir)
    state_path = run_dir / "state.json"
    if not state_path.is_file():
        raise ModelError(f"{run_dir} holds no training run (no state.json); train one with "
                         "`python -m fer_lib train`.")
    state = json.loads(state_path.read_text())
    identity = state["config"]
    if not isinstance(data, FER2013):
        data = load_default_data(data, verbose=bool(verbose))
    if data.sha256 != identity["data_sha256"]:
        raise ModelError(f"{run_dir} was trained on another data file "
                         f"(sha256 {identity['data_sha256'][:12]}...); pass the same file as data=.")
    _, split, faces = prepare_split(TrainConfig.from_identity(identity), data)
    return Run(run_dir, state, True), data, split, faces
