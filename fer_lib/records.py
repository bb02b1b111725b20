"""The face record: one dict per face, the same everywhere (CLI, notebooks, widgets, CSV/JSON)::

    {"box": (x, y, w, h), "probabilities": [7 floats in EMOTIONS order], "emotion": "Happy"}

The box is in frame pixels; ``emotion`` is the most probable class. The loop
(:mod:`fer_lib.live`) and the smoother (:mod:`fer_lib.smoothing`) both build
their records with :func:`face_record`.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .labels import EMOTIONS

__all__ = ["face_record"]


def face_record(box: Sequence[float], probabilities: Sequence[float]) -> dict:
    """The record of one face: its box as ints, its probabilities as floats, its top emotion.

    Parameters
    ----------
    box : sequence of 4 numbers
        ``(x, y, w, h)`` in frame pixels.
    probabilities : sequence of 7 numbers
        In :data:`fer_lib.labels.EMOTIONS` order.

    Returns
    -------
    dict
        ``{"box": tuple of 4 int, "probabilities": list of 7 float, "emotion": str}``.

    Examples
    --------
    >>> face_record(np.array([1, 2, 3, 4]), [0, 0, 0, 0.9, 0.1, 0, 0])
    {'box': (1, 2, 3, 4), 'probabilities': [0.0, 0.0, 0.0, 0.9, 0.1, 0.0, 0.0], 'emotion': 'Happy'}
    """
    probabilities = [float(p) for p in probabilities]
    return {
        "box": tuple(int(v) for v in box),
        "probabilities": probabilities,
        "emotion": EMOTIONS[int(np.argmax(probabilities))],
    }
