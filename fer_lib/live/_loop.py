"""Frames in, face records out: detect, classify and smooth, frame by frame."""

from __future__ import annotations

import contextlib
import functools
import itertools
from typing import Any, Callable, Iterator

import cv2
import numpy as np

from fer_lib.model._classifier import DEFAULT_MODEL_PATH, EmotionClassifier
from fer_lib.live._detectors import DETECTORS, FaceDetector, make_detector
from fer_lib.live._frames import check_frame, crop_faces, face_record
from fer_lib.live._smoothing import ProbabilitySmoother
from fer_lib.live._sources import open_source

__all__ = ["analyze_frame", "classify_boxes", "default_classifier", "default_detector", "iter_analyzed",
           "run_loop"]


Detector = FaceDetector | str


@functools.lru_cache(maxsize=len(DETECTORS))
def default_detector(name: str = DETECTORS[0]) -> FaceDetector:
    """The shared detector of that name with its measured defaults, created on first use."""
    return make_detector(name)


@functools.lru_cache(maxsize=1)
def default_classifier() -> EmotionClassifier:
    """The shared :class:`EmotionClassifier` of the shipped model, loaded once."""
    return EmotionClassifier(DEFAULT_MODEL_PATH)


def _detector(detector: Detector | None) -> FaceDetector:
    """The detector itself, or the shared one of that name (None: BlazeFace)."""
    named = detector is None or isinstance(detector, str)
    return default_detector(detector or DETECTORS[0]) if named else detector


def analyze_frame(frame: np.ndarray, *, detector: Detector | None = None,
                  classifier: EmotionClassifier | None = None) -> list[dict]:
    """Detect and classify every face of one frame.

    Parameters
    ----------
    frame : ndarray
        Grey, BGR or BGRA uint8.
    detector : FaceDetector or {"blazeface", "haar"}, optional
        Default: the shared BlazeFace.
    classifier : EmotionClassifier, optional
        Default: the shipped model through LiteRT, loaded once.

    Returns
    -------
    list of dict
        ``{"box": (x, y, w, h), "probabilities": [7 floats], "emotion": str}`` per face, left to right.

    Examples
    --------
    >>> import cv2
    >>> records = analyze_frame(cv2.imread("tests/photos/obama.jpg"))
    >>> len(records), sorted(records[0])
    (1, ['box', 'emotion', 'probabilities'])
    """
    frame = check_frame(frame)
    return classify_boxes(frame, _detector(detector).detect(frame), classifier=classifier)


def classify_boxes(frame: np.ndarray, boxes, *, classifier: EmotionClassifier | None = None) -> list[dict]:
    """One record per known box of a frame (no detection)."""
    boxes = np.asarray(boxes, dtype=np.int64).reshape(-1, 4)
    if len(boxes) == 0:
        return []
    classifier = classifier if classifier is not None else default_classifier()
    probabilities = classifier.predict(crop_faces(frame, boxes))
    return [face_record(box, row) for box, row in zip(boxes, probabilities)]


def iter_analyzed(source: Any, *, every: int = 1, detect_every: int = 1,
                  smooth: bool | ProbabilitySmoother = True, max_frames: int | None = None,
                  detector: Detector | None = None, classifier: EmotionClassifier | None = None,
                  capture_factory: Callable[..., Any] = cv2.VideoCapture,
                  read_timeout: float = 2.0) -> Iterator[tuple[np.ndarray, list[dict]]]:
    """Yield ``(BGR frame, faces)`` per frame of a source, released when the loop ends, fails or is closed.

    Parameters
    ----------
    source : int, str, Path, ndarray or iterable
        Anything :func:`open_source` accepts.
    every : int, default 1
        Analyse every ``every``-th frame; frames in between reuse the last records.
    detect_every : int, default 1
        Detect on every ``detect_every``-th analysed frame; the others classify the last boxes again.
    smooth : bool or ProbabilitySmoother, default True
        Smooth probabilities over frames (a fresh ``ProbabilitySmoother()`` when True).
    max_frames : int, optional
    detector, classifier : optional
        As for :func:`analyze_frame`.
    capture_factory, read_timeout
        As for :func:`open_source`.
    """
    for name, value in (("every", every), ("detect_every", detect_every)):
        if int(value) != value or value < 1:
            raise ValueError(f"{name} must be a positive integer; got {value!r}")
    if max_frames is not None and max_frames < 0:
        raise ValueError(f"max_frames must be None or >= 0; got {max_frames!r}")
    smoother = ProbabilitySmoother() if smooth is True else (smooth or None)
    detector = _detector(detector)
    faces: list[dict] = []
    with open_source(source, capture_factory=capture_factory, read_timeout=read_timeout) as frames:
        wanted = frames if max_frames is None else itertools.islice(frames, max_frames)
        for index, frame in enumerate(wanted):
            if index % every == 0:
                if (index // every) % detect_every == 0:
                    faces = analyze_frame(frame, detector=detector, classifier=classifier)
                else:
                    faces = classify_boxes(frame, [face["box"] for face in faces], classifier=classifier)
                if smoother is not None:
                    faces = smoother.update(faces)
            yield frame, faces


def run_loop(source: Any, *, every: int = 1, smooth: bool | ProbabilitySmoother = True,
             on_frame: Callable[[np.ndarray, list[dict]], Any] | None = None, max_frames: int | None = None,
             **options: Any) -> int:
    """Run :func:`iter_analyzed` to the end, calling ``on_frame(frame, faces)`` per frame; returns the count.

    Parameters
    ----------
    source : int, str, Path, ndarray or iterable
    on_frame : callable, optional
        Returning ``False`` stops the loop.
    every, smooth, max_frames, **options
        As for :func:`iter_analyzed`.
    """
    count = 0
    frames = iter_analyzed(source, every=every, smooth=smooth, max_frames=max_frames, **options)
    with contextlib.closing(frames):
        for frame, faces in frames:
            count += 1
            if on_frame is not None and on_frame(frame, faces) is False:
                break
    return count
