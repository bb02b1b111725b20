"""Tests of fer_lib.live._loop: analyze_frame, classify_boxes and the loop (iter_analyzed, run_loop)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from fer_lib.live import _loop as live
from fer_lib.live._detectors import HaarFaceDetector
from fer_lib.labels import EMOTIONS, NUM_CLASSES
from fer_lib.live._loop import analyze_frame, classify_boxes, iter_analyzed, run_loop


class FixedDetector:
    """Finds one face in the middle of every frame (no OpenCV, no media needed)."""

    def detect(self, frame):
        height, width = frame.shape[:2]
        side = max(1, min(height, width) // 2)
        return np.array([[width // 4, height // 4, side, side]])


def _frames(count: int, shape=(60, 80, 3)) -> list[np.ndarray]:
    return [np.full(shape, 10 * i, np.uint8) for i in range(count)]


def _check_record(record: dict, frame_shape) -> None:
    assert set(record) - {"track"} == {"box", "probabilities", "emotion"}  # smoothed records follow a track
    assert "track" not in record or type(record["track"]) is int
    box = record["box"]
    assert isinstance(box, tuple) and len(box) == 4 and all(type(v) is int for v in box)
    x, y, w, h = box
    assert 0 <= x and 0 <= y and x + w <= frame_shape[1] and y + h <= frame_shape[0]
    probabilities = record["probabilities"]
    assert isinstance(probabilities, list) and len(probabilities) == NUM_CLASSES
    assert all(type(p) is float for p in probabilities)
    assert sum(probabilities) == pytest.approx(1.0, abs=1e-5)
    assert record["emotion"] == EMOTIONS[int(np.argmax(probabilities))]


@pytest.mark.parametrize("channels", [None, 1, 3, 4])
def test_analyze_frame_contract(classifier, channels):
    shape = (90, 120) if channels is None else (90, 120, channels)
    frame = np.random.default_rng(3).integers(0, 256, shape, dtype=np.uint8)
    faces = analyze_frame(frame, detector=FixedDetector(), classifier=classifier)
    assert len(faces) == 1
    _check_record(faces[0], frame.shape)


def test_analyze_frame_on_real_photos(media, classifier):
    detector = HaarFaceDetector()
    image = cv2.imread(str(media / "two_people.jpg"))
    faces = analyze_frame(image, detector=detector, classifier=classifier)
    assert len(faces) == 2
    for face in faces:
        _check_record(face, image.shape)
    bgra = cv2.imread(str(media / "alex-lacamoire.png"), cv2.IMREAD_UNCHANGED)
    gray = cv2.cvtColor(bgra, cv2.COLOR_BGRA2GRAY)
    boxes = [
        [face["box"] for face in analyze_frame(frame, detector=detector, classifier=classifier)]
        for frame in (bgra, gray)
    ]
    assert len(boxes[0]) == 1 and boxes[0] == boxes[1]


def test_no_face_gives_empty_list(classifier):
    blank = np.zeros((120, 160, 3), np.uint8)
    assert analyze_frame(blank, detector=HaarFaceDetector(), classifier=classifier) == []


def test_default_detector_is_created_once():
    assert live.default_detector() is live.default_detector()


def test_classify_boxes_one_record_per_box(classifier):
    frame = np.random.default_rng(6).integers(0, 256, (60, 80, 3), dtype=np.uint8)
    faces = classify_boxes(frame, [(0, 0, 20, 20), (40, 10, 30, 30)], classifier=classifier)
    assert [face["box"] for face in faces] == [(0, 0, 20, 20), (40, 10, 30, 30)]
    for face in faces:
        _check_record(face, frame.shape)
    assert classify_boxes(frame, [], classifier=classifier) == []


# --------------------------------------------------------------------------------------
# The loop
# --------------------------------------------------------------------------------------


def test_released_when_analysis_loop_stops_early(classifier, fake_captures):
    make = fake_captures(frames=_frames(10))
    analyzed = iter_analyzed(0, capture_factory=make, detector=FixedDetector(), classifier=classifier)
    next(analyzed)
    analyzed.close()
    assert make.made[0].releases == 1
    make = fake_captures(frames=_frames(10))
    count = run_loop(
        0, capture_factory=make, detector=FixedDetector(), classifier=classifier, on_frame=lambda f, r: False
    )
    assert count == 1 and make.made[0].releases == 1


def test_iter_analyzed_any_size_and_channels(classifier):
    frames = [
        np.zeros((60, 80), np.uint8),
        np.zeros((90, 50, 1), np.uint8),
        np.zeros((120, 160, 3), np.uint8),
        np.zeros((45, 45, 4), np.uint8),
    ]
    results = list(iter_analyzed(frames, detector=FixedDetector(), classifier=classifier))
    assert len(results) == 4
    for (frame, faces), original in zip(results, frames):
        assert frame.shape == original.shape[:2] + (3,)
        assert len(faces) == 1
        _check_record(faces[0], frame.shape)


def test_iter_analyzed_every_and_max_frames(classifier):
    calls = []

    class CountingDetector(FixedDetector):
        def detect(self, frame):
            calls.append(1)
            return super().detect(frame)

    analyzed = iter_analyzed(
        _frames(10), every=3, max_frames=7, smooth=False, detector=CountingDetector(), classifier=classifier
    )
    results = list(analyzed)
    assert len(results) == 7 and len(calls) == 3  # frames 0, 3, 6
    assert results[1][1] is results[0][1]


def test_detect_every_reclassifies_at_the_last_boxes(classifier):
    calls = []

    class CountingDetector(FixedDetector):
        def detect(self, frame):
            calls.append(1)
            return super().detect(frame)

    frames = _frames(7)
    results = list(iter_analyzed(frames, detect_every=3, smooth=False, detector=CountingDetector(),
                                 classifier=classifier))
    assert len(results) == 7 and len(calls) == 3  # detector on frames 0, 3, 6
    for (_, faces), (_, first) in zip(results[1:3], results[:1] * 2):
        assert [f["box"] for f in faces] == [f["box"] for f in first] and faces is not first  # fresh records
    with pytest.raises(ValueError, match="detect_every must be a positive integer"):
        next(iter_analyzed(frames, detect_every=0, classifier=classifier))


def test_run_loop_calls_on_frame(classifier):
    seen = []
    count = run_loop(_frames(4), on_frame=lambda frame, faces: seen.append(len(faces)),
                     detector=FixedDetector(), classifier=classifier)
    assert count == 4 and seen == [1, 1, 1, 1]


def test_iter_analyzed_on_real_video(video_path, classifier):
    analyzed = iter_analyzed(
        video_path, max_frames=5, every=2, detector=HaarFaceDetector(), classifier=classifier
    )
    results = list(analyzed)
    assert len(results) == 5
    for frame, faces in results:
        assert frame.shape == (360, 640, 3)
        for face in faces:
            _check_record(face, frame.shape)


def test_module_exports():
    for name in live.__all__:
        assert hasattr(live, name)
