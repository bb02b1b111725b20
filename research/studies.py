"""What every study of training variants shares: picking variants by name, saving and reading its table.

Two studies train several variants on equal budgets and keep the result as data in
``results/``: the tutorial's cures for overfitting (:mod:`research.claims`) and the
recipe study (:mod:`research.recipes`). Each table is a CSV written atomically after
every variant, beside a ``.meta.json`` with its provenance (the command, the data's
SHA-256, the budget, the machine), and is read back with a clear error when it is
missing or is not such a table.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from pathlib import Path
from typing import Any, Sequence, TypeVar

import pandas as pd

from fer_lib.model._cards import machine_description
from fer_lib.data._container import FER2013
from fer_lib._fileio import atomic_target, atomic_write_text

__all__ = ["pick_variants", "data_provenance", "save_study"]

V = TypeVar("V")


def pick_variants(wanted: Sequence[Any] | None, known: Sequence[V], *, kind: str = "variant") -> list[V]:
    """The variants asked for: all of ``known`` for ``None``, else each name (or variant object) in turn.

    Parameters
    ----------
    wanted : sequence of str or variant objects, or None
        Names of ``known`` variants (their ``name`` attribute) or variant objects themselves.
    known : sequence
        The study's registered variants, each with a ``name``.
    kind : str, default "variant"
        What a variant is called in the error message.

    Returns
    -------
    list

    Raises
    ------
    ValueError
        For a name that is not a known variant; the message lists the known ones.

    Examples
    --------
    >>> from types import SimpleNamespace as Variant
    >>> known = [Variant(name="baseline"), Variant(name="mixup")]
    >>> [v.name for v in pick_variants(["mixup"], known)]
    ['mixup']
    """
    if wanted is None:
        return list(known)
    by_name = {variant.name: variant for variant in known}
    variant_type = type(known[0]) if known else object
    chosen = []
    for item in wanted:
        if isinstance(item, variant_type) and not isinstance(item, str):
            chosen.append(item)
        elif item in by_name:
            chosen.append(by_name[item])
        else:
            raise ValueError(f"unknown {kind} {item!r}; choose from {', '.join(by_name)}")
    return chosen


def data_provenance(data: FER2013) -> dict[str, str]:
    """The data a study was run on: the file's name (or ``"synthetic"``) and its SHA-256.

    Parameters
    ----------
    data : FER2013

    Returns
    -------
    dict
        ``{"file": ..., "sha256": ...}``.
    """
    return {"file": "synthetic" if data.synthetic else Path(data.source).name, "sha256": data.sha256}


def save_study(table: pd.DataFrame, output: str | os.PathLike, meta: dict[str, Any]) -> Path:
    """Write a study's table and its ``.meta.json`` atomically, adding the time and the machine.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per variant.
    output : str or Path
        The CSV file; the provenance goes to the same name with ``.meta.json``.
    meta : dict
        The study's provenance (command, data, budget, column meanings); ``created`` and
        ``machine`` (:func:`fer_lib.model._cards.machine_description`) are added here.

    Returns
    -------
    Path
        ``output``.
    """
    output = Path(output)
    with atomic_target(output) as temporary:
        table.to_csv(temporary, index=False)
    meta = {"created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"), **meta,
            "machine": machine_description()}
    atomic_write_text(output.with_suffix(".meta.json"), json.dumps(meta, indent=2))
    return output
