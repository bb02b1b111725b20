"""Train, validation and test parts: FER2013's own split (never ``PrivateTest``) and the tutorial's."""

from __future__ import annotations

import dataclasses
import math
import os
import zipfile
from pathlib import Path

import numpy as np

from fer_lib.data._container import FER2013
from fer_lib.errors import DataError, DataNotFoundError
from fer_lib._fileio import atomic_target
from fer_lib.labels import NUM_CLASSES, USAGE_UNASSIGNED

__all__ = ["Split", "make_split", "official_split", "tutorial_split", "stratified_sample",
           "save_split", "load_split"]


@dataclasses.dataclass(frozen=True)
class Split:
    """Train, validation and test parts of a data set, and how they were made.

    Parameters
    ----------
    train, validation, test : FER2013
        The three parts; no face is in two of them.
    protocol : {"official", "tutorial"}
    seed : int or None
        Seed of the validation draw (``None`` for the tutorial's fixed seeds).
    """

    train: FER2013
    validation: FER2013
    test: FER2013
    protocol: str
    seed: int | None = None

    def sizes(self) -> dict[str, int]:
        """Number of faces in each part, keyed ``train``, ``validation`` and ``test``."""
        return {"train": len(self.train), "validation": len(self.validation), "test": len(self.test)}


def official_split(data: FER2013, *, validation_fraction: float = 0.1, seed: int = 0) -> Split:
    """FER2013's own split: validation carved (stratified) from ``Training``, test = ``PublicTest``."""
    usage = data.usage
    if not np.any(usage == "Training"):
        no_usage = " (the file has no Usage column; use protocol='tutorial')"
        hint = no_usage if np.all(usage == USAGE_UNASSIGNED) else ""
        raise DataError(f"{data.source}: no 'Training' rows, so the official split is impossible{hint}.")
    if not np.any(usage == "PublicTest"):
        raise DataError(f"{data.source}: no 'PublicTest' rows to test on; use protocol='tutorial'.")
    if not 0 < validation_fraction < 1:
        raise ValueError(f"validation fraction must be between 0 and 1; got {validation_fraction}")
    training = data.subset(usage == "Training")
    share = validation_fraction * len(training)
    train, validation = _draw(training, len(training) - math.ceil(share), seed, stratify=share >= NUM_CLASSES)
    return Split(training.subset(train), training.subset(validation), data.subset(usage == "PublicTest"),
                 "official", seed)


def tutorial_split(data: FER2013) -> Split:
    """The tutorial's random split over all rows, regardless of ``Usage``."""
    from sklearn.model_selection import train_test_split

    index = np.arange(len(data))
    if len(index) < 20:
        raise DataError(f"{data.source}: {len(index)} rows are too few for the tutorial split (need 20).")
    rest, test = train_test_split(index, test_size=0.1, random_state=42)
    train, validation = train_test_split(rest, test_size=0.1, random_state=41)
    return Split(data.subset(train), data.subset(validation), data.subset(test), "tutorial", None)


def stratified_sample(data: FER2013, size: int, *, seed: int = 0) -> FER2013:
    """A random subset of exactly ``size`` faces, classes in their original proportions and rows in order.

    Parameters
    ----------
    data : FER2013
    size, seed : int
        Faces wanted (``data`` itself when it has no more) and the draw's seed (default 0).
    """
    if size >= len(data):
        return data
    if size < 1:
        raise ValueError(f"sample size must be a positive number of faces; got {size}")
    return data.subset(_draw(data, size, seed, stratify=min(size, len(data) - size) >= NUM_CLASSES)[0])


def _draw(data: FER2013, size: int, seed: int, *, stratify: bool) -> tuple[np.ndarray, np.ndarray]:
    """Sorted indices of ``size`` drawn faces and of the rest; stratified if asked and every class can be."""
    from sklearn.model_selection import train_test_split

    counts = np.bincount(data.labels, minlength=NUM_CLASSES)
    stratify = stratify and counts[counts > 0].min() >= 2
    chosen, rest = train_test_split(np.arange(len(data)), train_size=size, random_state=seed,
                                    stratify=data.labels if stratify else None)
    return np.sort(chosen), np.sort(rest)


def make_split(data: FER2013, protocol: str = "official", *, validation_fraction: float = 0.1,
               seed: int = 0) -> Split:
    """Split ``data`` by ``protocol``: ``"official"`` (Usage column) or ``"tutorial"`` (random).

    Parameters
    ----------
    data : FER2013
    protocol : {"official", "tutorial"}, default "official"
    validation_fraction, seed : float and int, default 0.1 and 0
        Share of ``Training`` drawn as validation, and the draw's seed (official protocol only).

    Raises
    ------
    DataError
        ``data`` cannot be split that way (no ``Training`` or ``PublicTest`` rows, or too few rows).
    """
    if protocol == "official":
        return official_split(data, validation_fraction=validation_fraction, seed=seed)
    if protocol == "tutorial":
        return tutorial_split(data)
    raise ValueError(f"unknown split protocol {protocol!r}; expected 'official' or 'tutorial'")


def save_split(split: Split, path: str | os.PathLike) -> Path:
    """Write a split's arrays to one ``.npz`` file, atomically (never half-written); return ``path``.

    Parameters
    ----------
    split : Split
    path : str or path-like
        Target ``.npz`` file; missing folders are created.
    """
    path = Path(path)
    arrays = {"protocol": split.protocol, "seed": -1 if split.seed is None else split.seed,
              "source": split.train.source, "sha256": split.train.sha256, "synthetic": split.train.synthetic}
    for part in ("train", "validation", "test"):
        data = getattr(split, part)
        arrays |= {f"{part}_images": data.images, f"{part}_labels": data.labels,
                   f"{part}_usage": data.usage.astype(str)}
    with atomic_target(path) as temporary:
        np.savez(temporary, **arrays)
    return path


def load_split(path: str | os.PathLike) -> Split:
    """Read a split written by :func:`save_split`.

    Parameters
    ----------
    path : str or path-like

    Raises
    ------
    DataNotFoundError
        The file does not exist (the message says which notebook writes it).
    DataError
        The file is not a split written by :func:`save_split`.
    """
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"prepared split {path} does not exist; run notebooks/02_prepare_data.ipynb "
                                "(or fer_lib.data.save_split) first.")
    try:
        with np.load(path, allow_pickle=False) as stored:
            arrays = {key: stored[key] for key in stored.files}
        common = {"source": str(arrays["source"]), "sha256": str(arrays["sha256"]),
                  "synthetic": bool(arrays["synthetic"])}
        parts = [FER2013(arrays[f"{part}_images"], arrays[f"{part}_labels"].astype(np.int64),
                         arrays[f"{part}_usage"].astype(str), **common)
                 for part in ("train", "validation", "test")]
    except (KeyError, OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        message = f"{path}: not a split written by fer_lib.data.save_split ({exc}); write it again."
        raise DataError(message) from exc
    seed = int(arrays["seed"])
    return Split(*parts, str(arrays["protocol"]), None if seed < 0 else seed)
