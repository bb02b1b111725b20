"""Tests of fer_lib.live.face_record: the one shape of a face record."""

from __future__ import annotations

import numpy as np
import pytest

from fer_lib.labels import EMOTIONS, NUM_CLASSES
from fer_lib.live._frames import face_record


def test_face_record_has_plain_python_types():
    record = face_record(np.array([1, 2, 30, 40], np.int64), np.float32([0.1, 0, 0, 0, 0, 0.7, 0.2]))
    assert set(record) == {"box", "probabilities", "emotion"}
    assert record["box"] == (1, 2, 30, 40) and all(type(v) is int for v in record["box"])
    assert len(record["probabilities"]) == NUM_CLASSES and all(type(p) is float for p in record["probabilities"])
    assert record["emotion"] == "Surprise" == EMOTIONS[5]
    assert record["probabilities"][5] == pytest.approx(0.7)
