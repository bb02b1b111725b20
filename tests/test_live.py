"""Tests of fer_lib.live: classifier, analyze_frame, annotate, smoothing, frame sources, the loop."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

import fer_lib
from fer_lib import live
from fer_lib.detection import FaceDetector
from fer_lib.errors import ModelError, SourceError
from fer_lib.labels import EMOTIONS, IMAGE_SIZE, NUM_CLASSES
from fer_lib.live import (
    EmotionClassifier,
    FrameSource,
    ProbabilitySmoother,
    analyze_frame,
    annotate,
    iter_analyzed,
    open_source,
    run_loop,
)

REPO = Path(fer_lib.__file__).resolve().parents[1]


# --------------------------------------------------------------------------------------
# Fixtures and fakes
# --------------------------------------------------------------------------------------


class FakeCapture:
    """Stands in for cv2.VideoCapture: yields given frames, then fails; counts release()."""

    instances: list["FakeCapture"] = []

    def __init__(self, argument=None, *, frames=(), opened=True, interrupt_after=None):
        self.argument = argument
        self.frames = list(frames)
        self.opened = opened
        self.interrupt_after = interrupt_after
        self.reads = 0
        self.releases = 0
        FakeCapture.instances.append(self)

    def isOpened(self) -> bool:
        return self.opened

    def read(self):
        self.reads += 1
        if self.interrupt_after is not None and self.reads > self.interrupt_after:
            raise KeyboardInterrupt
        if self.frames:
            return True, self.frames.pop(0)
        return False, None

    def release(self) -> None:
        self.releases += 1
        self.opened = False


def factory(**options):
    """A capture factory whose captures are recorded in ``made``."""
    made: list[FakeCapture] = []

    def make(argument):
        capture = FakeCapture(argument, **options)
        made.append(capture)
        return capture

    make.made = made
    return make


class FixedDetector:
    """Finds one face in the middle of every frame (no OpenCV, no media needed)."""

    def detect(self, frame):
        height, width = frame.shape[:2]
        side = max(1, min(height, width) // 2)
        return np.array([[width // 4, height // 4, side, side]])


def _frames(count: int, shape=(60, 80, 3)) -> list[np.ndarray]:
    return [np.full(shape, 10 * i, np.uint8) for i in range(count)]


# --------------------------------------------------------------------------------------
# EmotionClassifier
# --------------------------------------------------------------------------------------


def test_default_model_path_is_in_the_repo():
    assert live.DEFAULT_MODEL_PATH == REPO / "models" / "default.keras"


def test_predict_shapes_and_probabilities(classifier):
    rng = np.random.default_rng(0)
    for count in (0, 1, 3, 5):
        faces = rng.integers(0, 256, (count, IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
        probabilities = classifier.predict(faces)
        assert probabilities.shape == (count, NUM_CLASSES) and probabilities.dtype == np.float32
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


def test_bucket_padding_matches_the_plain_model(classifier):
    faces = np.random.default_rng(1).integers(0, 256, (5, IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    expected = np.asarray(classifier.model(faces[..., None].astype(np.float32), training=False))
    np.testing.assert_allclose(classifier.predict(faces), expected, atol=1e-5)
    np.testing.assert_allclose(classifier.predict(faces[..., None]), expected, atol=1e-5)
    np.testing.assert_allclose(classifier.predict(faces[2:3]), expected[2:3], atol=1e-5)


def test_more_faces_than_the_largest_bucket(classifier):
    small = EmotionClassifier(classifier.model, buckets=(1, 2))
    faces = np.random.default_rng(2).integers(0, 256, (5, IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    np.testing.assert_allclose(small.predict(faces), classifier.predict(faces), atol=1e-5)


def test_predict_rejects_wrong_face_shape(classifier):
    with pytest.raises(ValueError, match="crop_face"):
        classifier.predict(np.zeros((2, 32, 32), np.uint8))


def test_missing_model_file(tmp_path):
    with pytest.raises(ModelError, match="missing.keras"):
        EmotionClassifier(tmp_path / "missing.keras")


def test_corrupt_model_file(tmp_path):
    bad = tmp_path / "corrupt.keras"
    bad.write_bytes(b"not a zip archive")
    with pytest.raises(ModelError, match="corrupt.keras"):
        EmotionClassifier(bad)


def test_model_with_wrong_shapes():
    import keras

    inputs = keras.Input(shape=(10,))
    model = keras.Model(inputs, keras.layers.Dense(3)(inputs))
    with pytest.raises(ModelError, match="expected"):
        EmotionClassifier(model)


# --------------------------------------------------------------------------------------
# analyze_frame and annotate
# --------------------------------------------------------------------------------------


def _check_record(record: dict, frame_shape) -> None:
    assert set(record) == {"box", "probabilities", "emotion"}
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
    detector = FaceDetector()
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
    assert analyze_frame(blank, detector=FaceDetector(), classifier=classifier) == []


def test_default_detector_is_created_once():
    assert live.default_detector() is live.default_detector()


def test_annotate_draws_on_a_copy(classifier):
    frame = np.random.default_rng(4).integers(0, 256, (90, 120, 3), dtype=np.uint8)
    before = frame.copy()
    faces = analyze_frame(frame, detector=FixedDetector(), classifier=classifier)
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
    assert np.array_equal(annotate(frame, []), live.to_bgr(frame))


def test_annotate_rejects_unknown_emotion():
    face = {"box": (0, 0, 20, 20), "probabilities": [1 / 7] * 7, "emotion": "Bored"}
    with pytest.raises(ValueError, match="Bored"):
        annotate(np.zeros((40, 40, 3), np.uint8), [face])


# --------------------------------------------------------------------------------------
# ProbabilitySmoother
# --------------------------------------------------------------------------------------


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
        assert smoother.update([face]) == [dict(face, box=tuple(face["box"]))]
    with pytest.raises(ValueError):
        ProbabilitySmoother(window=0)


# --------------------------------------------------------------------------------------
# Frame sources: bad sources
# --------------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(SourceError, match="nothing.mp4.*does not exist"):
        open_source(tmp_path / "nothing.mp4")


def test_camera_that_does_not_open_is_released():
    make = factory(opened=False)
    with pytest.raises(SourceError, match="camera 7 cannot be opened.*another index"):
        open_source(7, capture_factory=make)
    assert make.made[0].argument == 7 and make.made[0].releases == 1


def test_camera_index_as_digit_string():
    make = factory(frames=_frames(1))
    with open_source("0", capture_factory=make) as frames:
        assert len(list(itertools.islice(frames, 1))) == 1
    assert make.made[0].argument == 0


def test_camera_that_never_yields_a_frame_gives_up_in_bounded_time():
    make = factory(frames=())
    start = time.monotonic()
    with pytest.raises(SourceError, match="camera 0 opened but yielded no frame"):
        for _ in open_source(0, capture_factory=make, read_timeout=0.2):
            pass
    assert time.monotonic() - start < 2.0
    assert make.made[0].releases == 1


def test_camera_that_stops_delivering_raises():
    make = factory(frames=_frames(3))
    frames = open_source(0, capture_factory=make, read_timeout=0.1)
    with pytest.raises(SourceError, match="stopped after 3 frames"):
        list(frames)
    assert make.made[0].releases == 1


def test_video_that_opens_but_yields_no_frame(tmp_path):
    video = tmp_path / "empty.mp4"
    video.write_bytes(b"")
    make = factory(frames=())
    with pytest.raises(SourceError, match="empty.mp4 opened but yielded no frame"):
        list(open_source(video, capture_factory=make))
    assert make.made[0].releases == 1


def test_undecodable_video_with_real_opencv(tmp_path):
    video = tmp_path / "garbage.mp4"
    video.write_bytes(b"\x00garbage" * 100)
    with pytest.raises(SourceError, match="garbage.mp4"):
        list(open_source(video))


def test_empty_folder(tmp_path):
    (tmp_path / "notes.txt").write_text("not an image")
    with pytest.raises(SourceError, match="holds no images"):
        open_source(tmp_path)


def test_unreadable_image(tmp_path):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"definitely not a jpeg")
    with pytest.raises(SourceError, match="broken.jpg cannot be read"):
        open_source(bad)
    good = np.zeros((10, 10, 3), np.uint8)
    cv2.imwrite(str(tmp_path / "a.png"), good)
    frames = open_source(tmp_path)  # a.png then broken.jpg
    assert next(frames).shape == (10, 10, 3)
    with pytest.raises(SourceError, match="broken.jpg"):
        next(frames)


def test_empty_iterable():
    with pytest.raises(SourceError, match="no frame"):
        list(open_source([]))


def test_bad_frame_in_iterable():
    with pytest.raises(ValueError, match="frame 1"):
        list(open_source([np.zeros((4, 4), np.uint8), np.zeros((4, 4), np.float32)]))


@pytest.mark.parametrize("source", [True, 3.5, object()])
def test_unsupported_source_types(source):
    with pytest.raises(TypeError):
        open_source(source)


# --------------------------------------------------------------------------------------
# Frame sources: release on every exit path
# --------------------------------------------------------------------------------------


def test_released_on_early_stop_with_context_manager():
    make = factory(frames=_frames(10))
    with open_source(0, capture_factory=make) as frames:
        for index, _ in enumerate(frames):
            if index == 2:
                break
        assert make.made[0].releases == 0
    assert make.made[0].releases == 1


def test_released_when_closed_before_iterating():
    make = factory(frames=_frames(10))
    frames = open_source(0, capture_factory=make)
    frames.close()
    frames.close()
    assert make.made[0].releases == 1


def test_released_when_generator_is_closed():
    make = factory(frames=_frames(10))
    frames = open_source(0, capture_factory=make)
    next(frames)
    frames.close()
    assert make.made[0].releases == 1


def test_released_on_keyboard_interrupt_in_read():
    make = factory(frames=_frames(10), interrupt_after=2)
    with pytest.raises(KeyboardInterrupt):
        with open_source(0, capture_factory=make) as frames:
            for _ in frames:
                pass
    assert make.made[0].releases == 1


def test_released_on_keyboard_interrupt_in_consumer():
    make = factory(frames=_frames(10))
    with pytest.raises(KeyboardInterrupt):
        with open_source(0, capture_factory=make) as frames:
            for index, _ in enumerate(frames):
                if index == 1:
                    raise KeyboardInterrupt
    assert make.made[0].releases == 1


def test_released_when_analysis_loop_stops_early(classifier):
    make = factory(frames=_frames(10))
    analyzed = iter_analyzed(0, capture_factory=make, detector=FixedDetector(), classifier=classifier)
    next(analyzed)
    analyzed.close()
    assert make.made[0].releases == 1
    make = factory(frames=_frames(10))
    count = run_loop(
        0, capture_factory=make, detector=FixedDetector(), classifier=classifier, on_frame=lambda f, r: False
    )
    assert count == 1 and make.made[0].releases == 1


def test_end_of_video_stops_cleanly(tmp_path):
    video = tmp_path / "three.mp4"
    video.write_bytes(b"")
    make = factory(frames=_frames(3, shape=(20, 30)))  # grey frames become BGR
    with open_source(video, capture_factory=make) as frames:
        got = list(frames)
    assert len(got) == 3 and all(f.shape == (20, 30, 3) and f.dtype == np.uint8 for f in got)
    assert make.made[0].releases == 1


def test_real_video_to_the_end(video_path):
    made = []

    def spy(argument):
        capture = cv2.VideoCapture(argument)
        made.append(capture)
        return capture

    with open_source(video_path, capture_factory=spy) as frames:
        first = next(frames)
        count = 1 + sum(1 for _ in frames)
    assert first.shape == (360, 640, 3) and first.dtype == np.uint8
    assert count > 200
    assert not made[0].isOpened()


# --------------------------------------------------------------------------------------
# Frame sources: the other kinds, and the loop
# --------------------------------------------------------------------------------------


def test_image_and_sorted_folder(tmp_path):
    for name, value in (("b.png", 20), ("a.jpg", 10), ("c.bmp", 30)):
        cv2.imwrite(str(tmp_path / name), np.full((8, 12), value, np.uint8))
    values = [int(frame[0, 0, 0]) for frame in open_source(tmp_path)]
    assert np.allclose(values, [10, 20, 30], atol=2)  # a.jpg is lossy
    (only,) = list(open_source(tmp_path / "c.bmp"))
    assert only.shape == (8, 12, 3)


def test_iterables_and_arrays_give_bgr_frames():
    frames = [np.zeros((5, 6), np.uint8), np.zeros((5, 6, 1), np.uint8), np.zeros((7, 8, 4), np.uint8)]
    shapes = [f.shape for f in open_source(iter(frames))]
    assert shapes == [(5, 6, 3), (5, 6, 3), (7, 8, 3)]
    assert [f.shape for f in open_source(np.zeros((5, 6, 3), np.uint8))] == [(5, 6, 3)]
    assert len(list(open_source(np.zeros((4, 5, 6, 3), np.uint8)))) == 4
    source = open_source(frames)
    assert isinstance(source, FrameSource) and open_source(source) is source


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
        video_path, max_frames=5, every=2, detector=FaceDetector(), classifier=classifier
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
