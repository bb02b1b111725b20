"""Tests of fer_lib.live._smoothing: fewer label flips, faces followed by position, lost faces forgotten."""

from __future__ import annotations

import itertools

import pytest

from fer_lib.labels import NUM_CLASSES
from fer_lib.live._smoothing import ProbabilitySmoother


def _face(box, happy: float) -> dict:
    probabilities = [0.0] * NUM_CLASSES
    probabilities[3], probabilities[4] = happy, 1.0 - happy  # Happy vs Sad
    return {"box": box, "probabilities": probabilities, "emotion": "Happy" if happy >= 0.5 else "Sad"}


def _label_changes(labels) -> int:
    return sum(a != b for a, b in zip(labels, labels[1:]))


def test_smoother_reduces_flicker():
    smoother = ProbabilitySmoother(window=5)
    happiness = [0.8 if i % 3 else 0.3 for i in range(30)]  # a Sad blip every third frame
    jitter = itertools.cycle([(0, 0), (3, -2), (-2, 2)])  # the box moves a little
    raw, smoothed = [], []
    for value in happiness:
        dx, dy = next(jitter)
        face = _face((100 + dx, 80 + dy, 60, 60), value)
        raw.append(face["emotion"])
        smoothed.append(smoother.update([face])[0]["emotion"])
    assert _label_changes(raw) >= 15
    assert _label_changes(smoothed) <= 1
    assert smoothed[-1] == "Happy"


def test_smoother_alternating_sequence():
    smoother = ProbabilitySmoother(window=4)
    values = [0.6, 0.45] * 10
    raw = [_face((10, 10, 50, 50), v)["emotion"] for v in values]
    smoothed = [smoother.update([_face((10, 10, 50, 50), v)])[0]["emotion"] for v in values]
    assert _label_changes(smoothed) < _label_changes(raw) // 4


def test_new_face_starts_fresh_and_faces_are_matched_by_position():
    smoother = ProbabilitySmoother(window=5)
    for _ in range(4):
        smoother.update([_face((0, 0, 50, 50), 1.0)])
    first, second = smoother.update([_face((2, 1, 50, 50), 1.0), _face((300, 0, 50, 50), 0.0)])
    assert first["probabilities"][3] == pytest.approx(1.0)
    assert second["probabilities"][3] == pytest.approx(0.0)  # not averaged with the other face
    assert second["emotion"] == "Sad" and second["box"] == (300, 0, 50, 50)


def test_smoother_forgets_lost_faces():
    smoother = ProbabilitySmoother(window=5, max_missed=1)
    smoother.update([_face((0, 0, 50, 50), 1.0)])
    smoother.update([])
    smoother.update([])
    (face,) = smoother.update([_face((0, 0, 50, 50), 0.0)])
    assert face["emotion"] == "Sad"


def test_smoother_window_one_is_identity():
    smoother = ProbabilitySmoother(window=1)
    for value in (0.9, 0.1, 0.7):
        face = _face((5, 5, 40, 40), value)
        assert smoother.update([face]) == [dict(face, box=tuple(face["box"]), track=0)]
    with pytest.raises(ValueError):
        ProbabilitySmoother(window=0)


def test_smoother_reset_forgets_every_face():
    smoother = ProbabilitySmoother(window=5)
    smoother.update([_face((0, 0, 50, 50), 1.0)])
    smoother.reset()
    (face,) = smoother.update([_face((0, 0, 50, 50), 0.0)])
    assert face["emotion"] == "Sad" and face["probabilities"][3] == pytest.approx(0.0)
