"""Frames in, emotion records out: classifier, frame sources, the loop, smoothing, drawing.

One record per face, the same everywhere (CLI, notebooks, widgets, CSV/JSON)::

    {"box": (x, y, w, h), "probabilities": [7 floats in EMOTIONS order], "emotion": "Happy"}

Typical use::

    from fer_lib import live
    for frame, faces in live.iter_analyzed("assets/white_house_clip.mp4"):
        shown = live.annotate(frame, faces)

:class:`EmotionClassifier` loads a saved model once and classifies all the faces
of a frame in one compiled call whose batch is padded to a few fixed sizes
(1, 2, 4, ... 64), so the compiled function is traced once per size instead of
once per new face count. Frame sources always release their camera or video
file, also when the consumer stops early or on ``KeyboardInterrupt``, and raise
:class:`~fer_lib.errors.SourceError` instead of waiting forever for a frame.
"""

from __future__ import annotations

import functools
import itertools
import os
import time
from collections import deque
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import cv2
import numpy as np

from .dataset import to_model_input
from .detection import FaceDetector, _check_frame, crop_faces, to_gray
from .errors import ModelError, SourceError
from .labels import EMOTION_COLORS_BGR, EMOTIONS, IMAGE_SHAPE, NUM_CLASSES

__all__ = [
    "DEFAULT_MODEL_PATH",
    "BATCH_BUCKETS",
    "IMAGE_EXTENSIONS",
    "EmotionClassifier",
    "ProbabilitySmoother",
    "FrameSource",
    "default_detector",
    "default_classifier",
    "analyze_frame",
    "classify_boxes",
    "annotate",
    "to_bgr",
    "open_source",
    "iter_analyzed",
    "run_loop",
]

#: The shipped model, loaded by :func:`default_classifier`.
DEFAULT_MODEL_PATH: Path = Path(__file__).resolve().parents[1] / "models" / "default.keras"

#: Batch sizes the compiled prediction is traced for; larger face counts go in chunks of the last.
BATCH_BUCKETS: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64)

#: File suffixes read as still images (anything else is opened as a video).
IMAGE_EXTENSIONS: frozenset[str] = frozenset(
    {".bmp", ".dib", ".jpg", ".jpeg", ".jpe", ".jp2", ".png", ".webp", ".pbm", ".pgm", ".ppm",
     ".pnm", ".tif", ".tiff", ".sr", ".ras"}
)


# --------------------------------------------------------------------------------------
# Classification
# --------------------------------------------------------------------------------------


class EmotionClassifier:
    """A saved emotion model, loaded once, predicting every face of a frame in one call.

    Parameters
    ----------
    model : str, Path or keras.Model, optional
        A ``.keras`` file (default :data:`DEFAULT_MODEL_PATH`) or a model in memory.
        It takes raw grey faces ``(n, 48, 48, 1)`` and ends with a softmax over 7 classes.
    buckets : sequence of int, default :data:`BATCH_BUCKETS`
        Batch sizes the compiled call is padded to.

    Raises
    ------
    ModelError
        If the file is missing or corrupt, or the model's input or output shape is wrong.
    """

    def __init__(self, model: Any = None, *, buckets: Sequence[int] = BATCH_BUCKETS) -> None:
        if model is None:
            model = DEFAULT_MODEL_PATH
        if isinstance(model, (str, os.PathLike)):
            from .training import load_saved_model  # imports Keras: only when a model is needed

            self.path: Path | None = Path(model)
            model = load_saved_model(self.path, compile=False)
        else:
            self.path = None
        self.model = model
        _check_model_shapes(model, self.path)
        buckets = sorted({int(size) for size in buckets})
        if not buckets or buckets[0] < 1:
            raise ValueError(f"buckets must be positive batch sizes; got {buckets!r}")
        self.buckets: tuple[int, ...] = tuple(buckets)
        self._predict = _compiled_predict(model)

    def __repr__(self) -> str:
        where = self.path if self.path is not None else "in memory"
        return f"EmotionClassifier({getattr(self.model, 'name', 'model')!r}, {where})"

    def _bucket(self, count: int) -> int:
        return next((size for size in self.buckets if size >= count), self.buckets[-1])

    def predict(self, faces: np.ndarray) -> np.ndarray:
        """Class probabilities of grey faces, in one compiled call per frame.

        Parameters
        ----------
        faces : ndarray of shape (n, 48, 48) or (n, 48, 48, 1)
            Raw grey levels 0..255, e.g. from :func:`fer_lib.detection.crop_faces`.

        Returns
        -------
        ndarray of shape (n, 7), dtype float32
            Rows in :data:`fer_lib.labels.EMOTIONS` order; ``(0, 7)`` for no face.
        """
        batch = to_model_input(faces)
        count = batch.shape[0]
        if count == 0:
            return np.zeros((0, NUM_CLASSES), np.float32)
        chunks = []
        largest = self.buckets[-1]
        for start in range(0, count, largest):
            chunk = batch[start : start + largest]
            size = self._bucket(chunk.shape[0])
            if size > chunk.shape[0]:
                padding = np.zeros((size - chunk.shape[0],) + chunk.shape[1:], np.float32)
                chunk = np.concatenate([chunk, padding])
            chunks.append(np.asarray(self._predict(chunk))[: min(largest, count - start)])
        return np.concatenate(chunks).astype(np.float32, copy=False)

    def warmup(self, sizes: Sequence[int] = (1,)) -> None:
        """Trace the compiled call for these batch sizes now rather than on the first frames."""
        for size in sizes:
            self.predict(np.zeros((self._bucket(int(size)),) + IMAGE_SHAPE[:2], np.uint8))

    __call__ = predict


def _check_model_shapes(model, path: Path | None) -> None:
    where = f"model file {path}" if path is not None else f"model {getattr(model, 'name', '?')!r}"
    try:
        input_shape = tuple(model.input_shape)
        output_shape = tuple(model.output_shape)
    except (AttributeError, ValueError, TypeError) as exc:
        raise ModelError(f"{where} is not a single-input, single-output Keras model ({exc})") from exc
    if input_shape[1:] != IMAGE_SHAPE or output_shape[1:] != (NUM_CLASSES,):
        raise ModelError(
            f"{where} takes {input_shape} and returns {output_shape}; expected (None, 48, 48, 1) grey "
            f"faces in and (None, {NUM_CLASSES}) probabilities out. Use a model from fer_lib.models."
        )


def _compiled_predict(model) -> Callable[[np.ndarray], Any]:
    """One compiled forward pass: ``tf.function`` on TensorFlow, Keras' compiled predict step elsewhere."""
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        function = tf.function(lambda batch: model(batch, training=False), jit_compile=False)
        return lambda batch: function(tf.convert_to_tensor(batch)).numpy()
    return model.predict_on_batch  # other backends: Keras' own compiled predict step


@functools.lru_cache(maxsize=1)
def default_detector() -> FaceDetector:
    """The shared :class:`FaceDetector` with the measured defaults, created on first use."""
    return FaceDetector()


@functools.lru_cache(maxsize=1)
def default_classifier() -> EmotionClassifier:
    """The shared :class:`EmotionClassifier` of ``models/default.keras``, loaded on first use."""
    return EmotionClassifier(DEFAULT_MODEL_PATH)


def analyze_frame(
    frame: np.ndarray,
    *,
    detector: FaceDetector | None = None,
    classifier: EmotionClassifier | None = None,
) -> list[dict]:
    """Detect and classify every face of one frame.

    Parameters
    ----------
    frame : ndarray of shape (H, W), (H, W, 1), (H, W, 3) BGR or (H, W, 4) BGRA, dtype uint8
    detector, classifier : optional
        Default: :func:`default_detector` and :func:`default_classifier` (created once).

    Returns
    -------
    list of dict
        One ``{"box": (x, y, w, h), "probabilities": [7 floats], "emotion": str}``
        per face, left to right; ``[]`` when there is no face.
    """
    gray = to_gray(frame)
    detector = detector if detector is not None else default_detector()
    return classify_boxes(gray, detector.detect(gray), classifier=classifier)


def classify_boxes(frame: np.ndarray, boxes, *, classifier: EmotionClassifier | None = None) -> list[dict]:
    """Classify the faces at known ``boxes`` of a frame (no detection): one record per box.

    The live loop uses it between detections, re-reading each face from the new
    frame at the box where it was last detected.
    """
    boxes = np.asarray(boxes, dtype=np.int64).reshape(-1, 4)
    if len(boxes) == 0:
        return []
    gray = to_gray(frame)
    classifier = classifier if classifier is not None else default_classifier()
    probabilities = classifier.predict(crop_faces(gray, boxes))
    return [_record(box, row) for box, row in zip(boxes, probabilities)]


def _record(box, probabilities) -> dict:
    probabilities = [float(p) for p in probabilities]
    return {
        "box": tuple(int(v) for v in box),
        "probabilities": probabilities,
        "emotion": EMOTIONS[int(np.argmax(probabilities))],
    }


# --------------------------------------------------------------------------------------
# Drawing
# --------------------------------------------------------------------------------------


def to_bgr(frame: np.ndarray) -> np.ndarray:
    """A BGR uint8 copy of a grey, (H, W, 1), BGR or BGRA uint8 frame.

    Examples
    --------
    >>> to_bgr(np.zeros((2, 3), np.uint8)).shape
    (2, 3, 3)
    """
    array = _check_frame(frame)
    if array.ndim == 2 or array.shape[2] == 1:
        return cv2.cvtColor(np.ascontiguousarray(array.reshape(array.shape[:2])), cv2.COLOR_GRAY2BGR)
    if array.shape[2] == 4:
        return cv2.cvtColor(np.ascontiguousarray(array), cv2.COLOR_BGRA2BGR)
    return np.array(array, copy=True, order="C")


def annotate(frame: np.ndarray, faces: Iterable[dict]) -> np.ndarray:
    """A BGR copy of ``frame`` with a box, the emotion and its confidence drawn per face.

    Parameters
    ----------
    frame : ndarray of shape (H, W), (H, W, 1), (H, W, 3) BGR or (H, W, 4) BGRA, dtype uint8
        Never modified.
    faces : iterable of dict
        Records from :func:`analyze_frame` (``box``, ``probabilities``, ``emotion``).

    Returns
    -------
    ndarray of shape (H, W, 3), dtype uint8
    """
    canvas = to_bgr(frame)
    height, width = canvas.shape[:2]
    font = cv2.FONT_HERSHEY_SIMPLEX
    for face in faces:
        x, y, w, h = (int(v) for v in face["box"])
        emotion = face["emotion"]
        if emotion not in EMOTIONS:
            raise ValueError(f"unknown emotion {emotion!r}; expected one of {', '.join(EMOTIONS)}")
        index = EMOTIONS.index(emotion)
        confidence = float(face["probabilities"][index])
        color = EMOTION_COLORS_BGR[index]
        thickness = max(1, round(min(width, height) / 300))
        cv2.rectangle(canvas, (x, y), (x + w - 1, y + h - 1), color, thickness)
        text = f"{emotion} {confidence:.0%}"
        font_scale = float(np.clip(w / 160, 0.4, 1.2))
        (text_w, text_h), baseline = cv2.getTextSize(text, font, font_scale, 1)
        top = y - text_h - baseline - 4
        if top < 0:  # no room above the box: write inside it, at its top
            top = max(y, 0)
        left = min(max(x, 0), max(width - text_w - 4, 0))
        bottom_right = (left + text_w + 4, top + text_h + baseline + 4)
        cv2.rectangle(canvas, (left, top), bottom_right, color, cv2.FILLED)
        cv2.putText(canvas, text, (left + 2, top + text_h + 2), font, font_scale, (0, 0, 0), 1, cv2.LINE_AA)
    return canvas


# --------------------------------------------------------------------------------------
# Smoothing
# --------------------------------------------------------------------------------------


def _iou(a, b) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    overlap_w = min(ax + aw, bx + bw) - max(ax, bx)
    overlap_h = min(ay + ah, by + bh) - max(ay, by)
    if overlap_w <= 0 or overlap_h <= 0:
        return 0.0
    inter = overlap_w * overlap_h
    return inter / float(aw * ah + bw * bh - inter)


def _centre_distance(a, b) -> float:
    """Distance between box centres, in units of the larger box side."""
    dx = (a[0] + a[2] / 2) - (b[0] + b[2] / 2)
    dy = (a[1] + a[3] / 2) - (b[1] + b[3] / 2)
    return float(np.hypot(dx, dy)) / max(a[2], a[3], b[2], b[3], 1)


class ProbabilitySmoother:
    """Average each face's probabilities over its last ``window`` frames, so labels don't flicker.

    Faces are matched to the previous frames' faces by box overlap (IoU) or,
    failing that, by centre distance; an unmatched face starts a fresh history,
    and a face missing for more than ``max_missed`` frames is forgotten.

    Parameters
    ----------
    window : int, default 5
        Frames averaged per face (1 = no smoothing).
    min_iou : float, default 0.3
        Boxes overlapping at least this much are the same face.
    max_centre_distance : float, default 0.5
        Otherwise, centres closer than this many (larger) box sides are the same face.
    max_missed : int, default 2
        Frames a face may go undetected before its history is dropped.

    Examples
    --------
    >>> smoother = ProbabilitySmoother(window=2)
    >>> face = {"box": (0, 0, 10, 10), "probabilities": [0, 0, 0, 1, 0, 0, 0], "emotion": "Happy"}
    >>> sad = dict(face, probabilities=[0, 0, 0, 0.4, 0.6, 0, 0], emotion="Sad")
    >>> _ = smoother.update([face]); smoother.update([sad])[0]["emotion"]
    'Happy'
    """

    def __init__(
        self,
        window: int = 5,
        *,
        min_iou: float = 0.3,
        max_centre_distance: float = 0.5,
        max_missed: int = 2,
    ) -> None:
        if int(window) != window or window < 1:
            raise ValueError(f"window must be a positive integer; got {window!r}")
        self.window = int(window)
        self.min_iou = float(min_iou)
        self.max_centre_distance = float(max_centre_distance)
        self.max_missed = int(max_missed)
        self._tracks: list[dict] = []

    def reset(self) -> None:
        """Forget every face (e.g. at a scene cut or a new source)."""
        self._tracks = []

    def update(self, faces: Sequence[dict]) -> list[dict]:
        """Smoothed copies of this frame's records (same order, same keys)."""
        candidates = []
        for face_index, face in enumerate(faces):
            for track_index, track in enumerate(self._tracks):
                iou = _iou(face["box"], track["box"])
                distance = _centre_distance(face["box"], track["box"])
                if iou >= self.min_iou or distance <= self.max_centre_distance:
                    candidates.append((-iou, distance, face_index, track_index))
        candidates.sort()
        matched: dict[int, int] = {}
        used_tracks: set[int] = set()
        for _, _, face_index, track_index in candidates:
            if face_index not in matched and track_index not in used_tracks:
                matched[face_index] = track_index
                used_tracks.add(track_index)
        tracks = []
        smoothed = []
        for face_index, face in enumerate(faces):
            if face_index in matched:
                track = self._tracks[matched[face_index]]
            else:
                track = {"history": deque(maxlen=self.window)}
            track["box"] = tuple(face["box"])
            track["missed"] = 0
            track["history"].append(np.asarray(face["probabilities"], np.float64))
            tracks.append(track)
            smoothed.append(_record(face["box"], np.mean(track["history"], axis=0)))
        for track_index, track in enumerate(self._tracks):
            if track_index not in used_tracks and track["missed"] < self.max_missed:
                track["missed"] += 1
                tracks.append(track)
        self._tracks = tracks
        return smoothed

    __call__ = update


# --------------------------------------------------------------------------------------
# Frame sources
# --------------------------------------------------------------------------------------


class FrameSource:
    """BGR frames from a camera, video, image, folder of images or iterable of arrays.

    Made by :func:`open_source`. Iterate it for ``(H, W, 3)`` uint8 BGR frames; use
    it as a context manager (or call :meth:`close`) so a camera or video is always
    released, also when the loop stops early or is interrupted.
    """

    def __init__(self, frames: Iterator[np.ndarray], description: str, release: Callable[[], None] | None):
        self.description = description
        self._frames = frames
        self._release_callback = release

    def __repr__(self) -> str:
        return f"FrameSource({self.description})"

    def __iter__(self) -> FrameSource:
        return self

    def __next__(self) -> np.ndarray:
        return next(self._frames)

    def close(self) -> None:
        """Stop the frames and release the camera or video (safe to call twice)."""
        close = getattr(self._frames, "close", None)
        if close is not None:
            close()
        self._release()

    def _release(self) -> None:
        callback, self._release_callback = self._release_callback, None
        if callback is not None:
            callback()

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self._release()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass


def open_source(
    source: Any,
    *,
    capture_factory: Callable[..., Any] = cv2.VideoCapture,
    read_timeout: float = 2.0,
) -> FrameSource:
    """Open a source of BGR frames.

    Parameters
    ----------
    source : int, str, Path, ndarray, iterable of ndarray or FrameSource
        * ``int`` (or a string of digits that is not a file): a camera index;
        * a video file (anything OpenCV decodes) or stream URL (``rtsp://...``);
        * an image file (one frame);
        * a folder: its images, sorted by name;
        * an ndarray: one frame ``(H, W[, C])`` or a stack ``(n, H, W, C)``;
        * any other iterable of uint8 frames with 1, 3 or 4 channels.
    capture_factory : callable, default cv2.VideoCapture
        Builds the capture for cameras and videos (tests pass a fake one).
    read_timeout : float, default 2.0
        Seconds a camera may fail to deliver a frame before :class:`SourceError`.

    Returns
    -------
    FrameSource
        An iterator and context manager of ``(H, W, 3)`` uint8 BGR frames. A video
        or folder ends after its last frame; a camera runs until closed.

    Raises
    ------
    SourceError
        If the source cannot be opened or, while iterating, yields no frame at all
        (or a camera stops delivering frames for ``read_timeout`` seconds).
    """
    if isinstance(source, FrameSource):
        return source
    if isinstance(source, (bool, np.bool_)):
        raise TypeError(f"expected a camera index, path or frames; got {source!r}")
    if isinstance(source, (int, np.integer)):
        return _open_camera(int(source), capture_factory, read_timeout)
    if isinstance(source, (str, os.PathLike)):
        text = os.fspath(source)
        path = Path(text)
        if "://" in text:
            return _open_video(text, f"stream {text}", capture_factory)
        if path.is_dir():
            return _open_folder(path)
        if path.is_file():
            if path.suffix.lower() in IMAGE_EXTENSIONS:
                return _open_image(path)
            return _open_video(text, f"video {path}", capture_factory)
        if text.strip().isdigit():
            return _open_camera(int(text), capture_factory, read_timeout)
        raise SourceError(
            f"{path} does not exist (looked for a video, image or folder from {Path.cwd()}); "
            "check the path, or pass a camera index such as 0."
        )
    if isinstance(source, np.ndarray):
        frames = [source] if source.ndim in (2, 3) else source
        return FrameSource(_iter_arrays(frames, "array"), "array", None)
    if isinstance(source, Iterable):
        return FrameSource(_iter_arrays(source, type(source).__name__), type(source).__name__, None)
    raise TypeError(
        f"cannot read frames from {type(source).__name__}; pass a camera index, a video, image or "
        "folder path, or an iterable of uint8 frames"
    )


def _releaser(capture) -> Callable[[], None]:
    released = []

    def release() -> None:
        if not released:
            released.append(True)
            capture.release()

    return release


def _open_capture(argument, description: str, capture_factory, advice: str):
    try:
        capture = capture_factory(argument)
    except Exception as exc:
        raise SourceError(f"{description} cannot be opened ({type(exc).__name__}: {exc}); {advice}") from exc
    if not capture.isOpened():
        capture.release()
        raise SourceError(f"{description} cannot be opened; {advice}")
    return capture


def _open_camera(index: int, capture_factory, read_timeout: float) -> FrameSource:
    description = f"camera {index}"
    capture = _open_capture(
        index,
        description,
        capture_factory,
        "check that a camera is connected, not used by another program and allowed for this "
        "user, try another index, or pass a video file such as assets/white_house_clip.mp4",
    )
    release = _releaser(capture)
    return FrameSource(_iter_camera(capture, release, description, read_timeout), description, release)


def _iter_camera(capture, release, description: str, read_timeout: float) -> Iterator[np.ndarray]:
    try:
        delivered = 0
        failing_since = None
        while True:
            ok, frame = capture.read()
            if ok and frame is not None and np.size(frame):
                failing_since = None
                delivered += 1
                yield to_bgr(frame)
                continue
            now = time.monotonic()
            failing_since = now if failing_since is None else failing_since
            if now - failing_since >= read_timeout:
                what = "yielded no frame" if delivered == 0 else f"stopped after {delivered} frames: no frame"
                raise SourceError(
                    f"{description} opened but {what} for {read_timeout:g} s; check that no other "
                    "program uses it and that it is plugged in, or pass a video file instead"
                )
            time.sleep(min(0.01, read_timeout / 10))
    finally:
        release()


def _open_video(argument: str, description: str, capture_factory) -> FrameSource:
    capture = _open_capture(
        argument,
        description,
        capture_factory,
        "OpenCV cannot decode it: check the file, or convert it to H.264 .mp4 (ffmpeg -i IN OUT.mp4)",
    )
    release = _releaser(capture)
    return FrameSource(_iter_video(capture, release, description), description, release)


def _iter_video(capture, release, description: str) -> Iterator[np.ndarray]:
    try:
        delivered = 0
        while True:
            ok, frame = capture.read()
            if not ok or frame is None or not np.size(frame):
                break
            delivered += 1
            yield to_bgr(frame)
        if delivered == 0:
            raise SourceError(
                f"{description} opened but yielded no frame; it is empty or damaged: "
                "check it plays in a video player, or re-encode it to H.264 .mp4"
            )
    finally:
        release()


def _read_image(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise SourceError(
            f"image {path} cannot be read: it is not an image OpenCV decodes or it is damaged; "
            "check or replace the file"
        )
    return image


def _open_image(path: Path) -> FrameSource:
    image = _read_image(path)
    return FrameSource(iter([image]), f"image {path}", None)


def _open_folder(folder: Path) -> FrameSource:
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
    if not files:
        raise SourceError(
            f"folder {folder} holds no images ({', '.join(sorted(IMAGE_EXTENSIONS))}); "
            "put images there or pass a video file or camera index"
        )
    return FrameSource((_read_image(path) for path in files), f"folder {folder}", None)


def _iter_arrays(frames: Iterable, description: str) -> Iterator[np.ndarray]:
    delivered = 0
    for index, frame in enumerate(frames):
        try:
            bgr = to_bgr(frame)
        except ValueError as exc:
            raise ValueError(f"frame {index} of the {description} source: {exc}") from None
        delivered += 1
        yield bgr
    if delivered == 0:
        raise SourceError(f"the {description} source yielded no frame; pass at least one uint8 frame")


# --------------------------------------------------------------------------------------
# The loop
# --------------------------------------------------------------------------------------


def iter_analyzed(
    source: Any,
    *,
    every: int = 1,
    detect_every: int = 1,
    smooth: bool | ProbabilitySmoother = True,
    max_frames: int | None = None,
    detector: FaceDetector | None = None,
    classifier: EmotionClassifier | None = None,
    capture_factory: Callable[..., Any] = cv2.VideoCapture,
    read_timeout: float = 2.0,
) -> Iterator[tuple[np.ndarray, list[dict]]]:
    """Yield ``(frame, faces)`` for every frame of a source.

    Parameters
    ----------
    source
        Anything :func:`open_source` accepts; frames of any size with 1, 3 or 4 channels.
    every : int, default 1
        Analyse every ``every``-th frame; frames in between reuse the last records.
    detect_every : int, default 1
        Run the face detector on every ``detect_every``-th analysed frame only; the
        analysed frames in between classify the faces again, from the new frame, at
        the boxes last detected (the detector is the costly step).
    smooth : bool or ProbabilitySmoother, default True
        Smooth probabilities over frames (a fresh ``ProbabilitySmoother()`` when True).
    max_frames : int, optional
        Stop after this many frames.
    detector, classifier : optional
        Default: the shared ones (:func:`default_detector`, :func:`default_classifier`).

    Yields
    ------
    frame : ndarray of shape (H, W, 3), dtype uint8
        BGR.
    faces : list of dict
        Records as :func:`analyze_frame` returns them.

    The source is released when the loop ends, fails, or the generator is closed.
    """
    for name, value in (("every", every), ("detect_every", detect_every)):
        if int(value) != value or value < 1:
            raise ValueError(f"{name} must be a positive integer; got {value!r}")
    if max_frames is not None and max_frames < 0:
        raise ValueError(f"max_frames must be None or >= 0; got {max_frames!r}")
    smoother = ProbabilitySmoother() if smooth is True else (smooth or None)
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


def run_loop(
    source: Any,
    *,
    every: int = 1,
    smooth: bool | ProbabilitySmoother = True,
    on_frame: Callable[[np.ndarray, list[dict]], Any] | None = None,
    max_frames: int | None = None,
    **options: Any,
) -> int:
    """Run :func:`iter_analyzed` to the end, calling ``on_frame(frame, faces)`` per frame.

    ``on_frame`` returning ``False`` stops the loop. Other keyword options go to
    :func:`iter_analyzed`. Returns the number of frames processed.
    """
    count = 0
    frames = iter_analyzed(source, every=every, smooth=smooth, max_frames=max_frames, **options)
    try:
        for frame, faces in frames:
            count += 1
            if on_frame is not None and on_frame(frame, faces) is False:
                break
    finally:
        frames.close()
    return count
