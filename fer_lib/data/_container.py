"""The FER2013 container: faces, labels and usage as arrays, and the one path to model input (no Keras)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from fer_lib.labels import EMOTIONS, IMAGE_SIZE, NUM_CLASSES

__all__ = ["FER2013", "to_model_input"]


@dataclasses.dataclass(frozen=True, eq=False)
class FER2013:
    """FER2013 faces as arrays.

    Parameters
    ----------
    images : ndarray of shape (n, 48, 48), uint8
    labels : ndarray of shape (n,), int64
        Emotion labels 0..6 in :data:`fer_lib.labels.EMOTIONS` order.
    usage : ndarray of shape (n,), str
        ``Training``, ``PublicTest``, ``PrivateTest`` or ``Unassigned`` (file without ``Usage``).
    source, sha256 : str
        The file the rows came from (or ``"synthetic"``) and its SHA-256 (empty for synthetic data).
    skipped, skip_reasons : int and dict of SkipReason to int
        Rows dropped by ``on_error="skip"``, in all and per reason (``skip_reasons["label"]`` works).
    synthetic : bool
    files : ndarray of shape (n,), str, optional
        Each face's file inside an image folder; None for a CSV.
    """

    images: np.ndarray
    labels: np.ndarray
    usage: np.ndarray
    source: str = ""
    sha256: str = ""
    skipped: int = 0
    skip_reasons: dict = dataclasses.field(default_factory=dict)
    synthetic: bool = False
    files: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def __repr__(self) -> str:
        kind = "synthetic" if self.synthetic else Path(self.source).name  # the file, not the user's folders
        return f"FER2013(n={len(self)}, source={kind!r}, skipped={self.skipped})"

    def subset(self, index: np.ndarray | Sequence[int]) -> "FER2013":
        """The rows a boolean mask or an integer index selects, with this set's provenance.

        Parameters
        ----------
        index : array of bool or int
        """
        index = np.asarray(index)
        files = None if self.files is None else self.files[index]
        return dataclasses.replace(self, images=self.images[index], labels=self.labels[index],
                                   usage=self.usage[index], files=files)

    def class_counts(self) -> pd.Series:
        """Number of faces per emotion: a ``pandas.Series`` named ``faces``, indexed by all seven emotions."""
        counts = np.bincount(self.labels, minlength=NUM_CLASSES)
        return pd.Series(counts, index=list(EMOTIONS), name="faces")


def to_model_input(images: np.ndarray) -> np.ndarray:
    """Shape raw grey faces for a model: ``(n, 48, 48, 1)`` float32 holding 0..255 (models normalise).

    Parameters
    ----------
    images : array of shape (48, 48), (n, 48, 48) or (n, 48, 48, 1)
    """
    array = np.asarray(images)
    if array.ndim == 2:
        array = array[None]
    if array.ndim == 4 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim != 3 or array.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise ValueError(f"expected grey faces of shape (n, {IMAGE_SIZE}, {IMAGE_SIZE}); got "
                         f"{np.shape(images)}. Crop and resize faces with fer_lib.live.crop_face first.")
    return array.astype(np.float32, copy=False)[..., None]
