"""The face record: one dict per face, the same everywhere (CLI, notebooks, widgets, CSV/JSON)::

    {"box": (x, y, w, h), "probabilities": [7 floats in EMOTIONS order], "emotion": "Happy"}

The box is in frame pixels; ``emotion`` is the most probable class. The loop
(:mod:`fer_lib.live._loop`) and the smoother (:mod:`fer_lib.live._smoothing`) both build
their records with :func:`face_record`.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from fer_lib.labels import EMOTIONS

__all__ = ["face_record"]


def face_record(box: Sequence[float], probabilities: Sequence[float]) -> dict:
    """The record of one face: its box as ints, its probabilities as floats, its top emotion."""
    probabilities = [float(p) for p in probabilities]
    return {
        "box": tuple(int(v) for v in box),
        "probabilities": probabilities,
        "emotion": EMOTIONS[int(np.argmax(probabilities))],
    }
