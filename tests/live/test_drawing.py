"""Tests of fer_lib.live._drawing: annotate draws on a BGR copy, whatever the frame's channels."""

from __future__ import annotations

import numpy as np
import pytest

from fer_lib.live import annotate, to_bgr
from fer_lib.live._frames import face_record


def test_annotate_draws_on_a_copy():
    frame = np.random.default_rng(4).integers(0, 256, (90, 120, 3), dtype=np.uint8)
    before = frame.copy()
    faces = [face_record((30, 22, 45, 45), [0.1, 0, 0, 0.6, 0.3, 0, 0])]
    shown = annotate(frame, faces)
    np.testing.assert_array_equal(frame, before)
    assert shown.shape == frame.shape and shown.dtype == np.uint8
    assert not np.array_equal(shown, frame)
    assert shown is not frame


@pytest.mark.parametrize("shape", [(50, 70), (50, 70, 1), (50, 70, 4)])
def test_annotate_returns_bgr_for_any_channels(shape):
    frame = np.full(shape, 200, np.uint8)
    before = frame.copy()
    face = {"box": (0, 0, 20, 20), "probabilities": [0, 0, 0, 0.9, 0.1, 0, 0], "emotion": "Happy"}
    edge = {"box": (60, 40, 30, 30), "probabilities": [1 / 7] * 7, "emotion": "Angry"}  # past the corner
    shown = annotate(frame, [face, edge])
    assert shown.shape == (50, 70, 3) and shown.dtype == np.uint8
    np.testing.assert_array_equal(frame, before)
    assert np.array_equal(annotate(frame, []), to_bgr(frame))


def test_annotate_rejects_unknown_emotion():
    face = {"box": (0, 0, 20, 20), "probabilities": [1 / 7] * 7, "emotion": "Bored"}
    with pytest.raises(ValueError, match="Bored"):
        annotate(np.zeros((40, 40, 3), np.uint8), [face])


@pytest.mark.parametrize("shape", [(4, 5), (4, 5, 1), (4, 5, 3), (4, 5, 4)])
def test_to_bgr_is_a_bgr_copy(shape):
    frame = np.full(shape, 7, np.uint8)
    bgr = to_bgr(frame)
    assert bgr.shape == (4, 5, 3) and bgr.dtype == np.uint8 and bgr.flags.c_contiguous
    assert not np.shares_memory(bgr, frame) and np.all(bgr == 7)


def test_to_bgr_rejects_float_frames():
    with pytest.raises(ValueError, match=r"uint8 .*\(frame \* 255\)"):
        to_bgr(np.zeros((4, 5, 3), np.float32))
