"""Readers of the results tables the notebooks show (written by the studies in ``research/``)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from fer_lib.labels import EMOTIONS
from fer_lib.language import tr

__all__ = ["NOISE_POINTS", "load_claims", "verdicts", "load_recipe_study"]

#: Changes under this many accuracy points are noise: on 5,000 faces at a constant learning rate, validation
#: accuracy swings 3 to 8 points between epochs (one standard error near 40% on 2,871 faces is 0.9 points).
NOISE_POINTS = 3.0


def _read_study(path: str | os.PathLike, columns: set[str], *, kind: str, how_to_make: str) -> pd.DataFrame:
    """Read a study's CSV; clear errors when it is missing or not that study's table."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no {kind}. Make one with {how_to_make}.")
    table = pd.read_csv(path)
    if missing := set(columns) - set(table.columns):
        raise ValueError(f"{path}: not a {kind} (missing columns {', '.join(sorted(missing))})")
    return table


def load_claims(path: str | os.PathLike) -> pd.DataFrame:
    """Read a claims table written by ``python -m research claims`` (the error for a missing one says how).

    Parameters
    ----------
    path : str or path
        The CSV file (``results/claims.csv``), one row per variant.
    """
    columns = {"variant", "train_accuracy", "validation_accuracy", "test_accuracy", "gap"}
    return _read_study(path, columns, kind="claims table",
                       how_to_make=f"`python -m research claims --output {Path(path)}` (an hour on a 2-core CPU)")


def verdicts(table: pd.DataFrame, *, noise: float = NOISE_POINTS) -> pd.DataFrame:
    """Compare every variant with the baseline row and say, in plain words, whether it cured overfitting.

    A cure shrinks the train-minus-validation gap *and* raises validation accuracy (``validation_last3``, the mean
    of the last three epochs, when the table has it). Columns: ``variant``, ``claim`` and ``verdict`` (in the
    current language), ``gap_change`` and ``validation_change`` (points, variant minus baseline).

    Parameters
    ----------
    table : pandas.DataFrame
        A claims table (:func:`load_claims`) with a ``baseline`` row.
    noise : float, default NOISE_POINTS
        Changes under this many accuracy points count as none.
    """
    if "baseline" not in set(table["variant"]):
        raise ValueError("the claims table has no 'baseline' row to compare with")
    base = table.set_index("variant").loc["baseline"]
    accuracy = "validation_last3" if "validation_last3" in table.columns else "validation_accuracy"
    out = []
    for _, row in table[table["variant"] != "baseline"].iterrows():
        gap = 100 * (row["gap"] - base["gap"])
        val = 100 * (row[accuracy] - base[accuracy])
        out.append({"variant": row["variant"], "claim": tr(row.get("claim", row["variant"])),
                    "gap_change": round(gap, 1), "validation_change": round(val, 1),
                    "verdict": _verdict(gap, val, noise)})
    return pd.DataFrame(out)


def _verdict(gap: float, val: float, noise: float) -> str:
    """The verdict sentence for a change of ``gap`` and ``val`` points, in the current language."""
    narrows = gap <= -noise
    gap_text = (tr("shrinks the overfitting gap by {points:.1f} points", points=-gap) if narrows else
                tr("widens the overfitting gap by {points:.1f} points", points=gap) if gap >= noise else
                tr("leaves the overfitting gap about where it was"))
    val_text = tr("raises validation accuracy" if val >= noise else "lowers validation accuracy" if val <= -noise
                  else "does not change validation accuracy")
    head = ("Cures overfitting" if narrows and val >= noise else
            "Narrows the gap, but the network does not generalise better" if narrows and val > -noise else
            "Narrows the gap only by losing accuracy" if narrows else
            "Helps accuracy but not through less overfitting" if val >= noise else "Does not cure overfitting")
    return tr("{head}: {gap} and {validation} ({change:+.1f} points).", head=tr(head), gap=gap_text,
              validation=val_text, change=val)


def load_recipe_study(path: str | os.PathLike) -> pd.DataFrame:
    """Read a table written by ``python -m research recipes`` (the error for a missing one says how).

    Parameters
    ----------
    path : str or path
        The CSV file (``results/recipe_study.csv``).
    """
    columns = {"variant", "minutes_budget", "epochs", "validation_accuracy", "test_accuracy", "test_macro_f1",
               *(f"test_{emotion}" for emotion in EMOTIONS)}  # and the per-class accuracies
    return _read_study(path, columns, kind="recipe study",
                       how_to_make=f"`python -m research recipes --minutes 30 --output {Path(path)}` (hours on 2 cores)")
