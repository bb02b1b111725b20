"""Face detectors: one interface, ``detect(frame) -> (n, 4)`` boxes ``(x, y, w, h)`` in frame pixels.

- :class:`BlazeFaceDetector` (``"blazeface"``, the default): Google's BlazeFace full-range
  CNN (shipped in ``fer_lib/live/detectors/`` with its Apache-2.0 license), run with LiteRT.
- :class:`HaarFaceDetector` (``"haar"``): OpenCV's Haar cascade, the tutorial's detector.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Protocol, runtime_checkable

import cv2
import numpy as np

from fer_lib.errors import ModelError
from fer_lib.live._frames import check_frame, to_gray
from fer_lib.quiet import hidden_startup_lines

__all__ = ["FaceDetector", "BlazeFaceDetector", "HaarFaceDetector", "DETECTORS", "make_detector", "BLAZEFACE_FILE",
           "BLAZEFACE_INPUT", "CASCADE_FILE", "DEFAULT_SCALE_FACTOR", "DEFAULT_MIN_NEIGHBORS", "DEFAULT_MIN_SIZE",
           "DEFAULT_MAX_WIDTH"]

#: The Haar cascade file shipped with OpenCV 4.x in ``cv2.data.haarcascades``.
CASCADE_FILE = "haarcascade_frontalface_default.xml"

#: Measured defaults (``benchmarks/detector_grid.py``).
DEFAULT_SCALE_FACTOR: float = 1.32
DEFAULT_MIN_NEIGHBORS: int = 3
#: Smallest face reported, in full-frame pixels: smaller faces hold too little
#: detail for a 48x48 classifier, and skipping them saves the costliest scales.
DEFAULT_MIN_SIZE: int = 30
DEFAULT_MAX_WIDTH: int | None = 640



def _default_cascade_path() -> Path:
    data = getattr(cv2, "data", None)
    folder = getattr(data, "haarcascades", None)
    if folder is None:
        raise ModelError(
            f"this OpenCV ({cv2.__version__}) has no cv2.data.haarcascades folder, so the face "
            f"cascade {CASCADE_FILE} cannot be found. OpenCV 5 dropped the Haar cascades: install "
            "OpenCV 4.x (pip install 'opencv-python>=4.9,<5') or pass cascade_path=..."
        )
    return Path(folder) / CASCADE_FILE


@runtime_checkable
class FaceDetector(Protocol):
    """What the live loop needs of a detector: ``detect(frame)`` returning ``(n, 4)`` int ``(x, y, w, h)``."""

    def detect(self, frame: np.ndarray) -> np.ndarray:
        """Boxes of the faces in ``frame``, in frame pixels.

        Parameters
        ----------
        frame : ndarray
            Any size, grey, BGR or BGRA, uint8.
        """
        ...


class HaarFaceDetector:
    """OpenCV Haar-cascade face detector that works on frames of any size.

    Parameters
    ----------
    scale_factor : float, default 1.32
        Step between the cascade's scales; smaller finds more faces, slower.
    min_neighbors : int, default 3
        Overlapping raw detections a box needs to be kept; larger, fewer false boxes.
    min_size : int, (int, int) or None, default 30
        Smallest face (width, height) reported, in full-frame pixels; ``None``: the cascade's 24-pixel window.
    max_width : int or None, default 640
        Wider frames are downscaled to this width for detection (boxes mapped back); ``None`` never does.
    cascade_path : str or Path, optional
        Another cascade file; default OpenCV's ``haarcascade_frontalface_default.xml``.

    Raises
    ------
    ModelError
        If the cascade file is missing (OpenCV 5 dropped it) or cannot be loaded.

    Examples
    --------
    >>> HaarFaceDetector().detect(np.zeros((120, 160), np.uint8)).shape
    (0, 4)
    """

    def __init__(
        self,
        *,
        scale_factor: float = DEFAULT_SCALE_FACTOR,
        min_neighbors: int = DEFAULT_MIN_NEIGHBORS,
        min_size: int | tuple[int, int] | None = DEFAULT_MIN_SIZE,
        max_width: int | None = DEFAULT_MAX_WIDTH,
        cascade_path: str | Path | None = None,
    ) -> None:
        if not float(scale_factor) > 1.0:
            raise ValueError(f"scale_factor must be greater than 1; got {scale_factor!r}")
        if int(min_neighbors) != min_neighbors or min_neighbors < 0:
            raise ValueError(f"min_neighbors must be a non-negative integer; got {min_neighbors!r}")
        if min_size is None:
            min_size = (0, 0)
        elif np.isscalar(min_size):
            min_size = (int(min_size), int(min_size))
        min_size = tuple(int(side) for side in min_size)
        if len(min_size) != 2 or min(min_size) < 0:
            raise ValueError(f"min_size must be a non-negative int or (width, height); got {min_size!r}")
        if max_width is not None and int(max_width) < 24:
            raise ValueError(
                f"max_width must be None or at least 24 pixels (the cascade's window); got {max_width!r}"
            )
        self.scale_factor = float(scale_factor)
        self.min_neighbors = int(min_neighbors)
        self.min_size = min_size
        self.max_width = None if max_width is None else int(max_width)
        path = Path(cascade_path) if cascade_path is not None else _default_cascade_path()
        if not path.is_file():
            raise ModelError(
                f"face cascade {path} does not exist. OpenCV 5 dropped the Haar cascades: install "
                "OpenCV 4.x (pip install 'opencv-python>=4.9,<5') or pass cascade_path=..."
            )
        self.cascade_path = path
        problem = f"face cascade {path} cannot be loaded: it is not an OpenCV cascade XML file. " + (
            "Reinstall opencv-python 4.x or pass another cascade_path."
        )
        try:
            self._cascade = cv2.CascadeClassifier(str(path))
        except (cv2.error, SystemError) as exc:  # OpenCV raises on a malformed file
            raise ModelError(problem) from exc
        if self._cascade.empty():
            raise ModelError(problem)

    def __repr__(self) -> str:
        return (
            f"HaarFaceDetector(scale_factor={self.scale_factor}, min_neighbors={self.min_neighbors}, "
            f"min_size={self.min_size}, max_width={self.max_width})"
        )

    def detect(self, frame: np.ndarray) -> np.ndarray:
        """Face boxes in ``frame``: ``(n, 4)`` int64 ``(x, y, w, h)`` inside it, left to right, then top down.

        Parameters
        ----------
        frame : ndarray of shape (H, W), (H, W, 1), (H, W, 3) BGR or (H, W, 4) BGRA, dtype uint8
            Any size. Float frames raise ``ValueError`` (see :func:`to_gray`).
        """
        gray = to_gray(frame)
        height, width = gray.shape
        scale = 1.0
        if self.max_width is not None and width > self.max_width:
            scale = self.max_width / width
            size = (self.max_width, max(1, round(height * scale)))
            gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
        min_size = tuple(int(round(side * scale)) for side in self.min_size)
        found = self._cascade.detectMultiScale(
            gray, scaleFactor=self.scale_factor, minNeighbors=self.min_neighbors, minSize=min_size
        )
        boxes = np.asarray(found, dtype=np.float64).reshape(-1, 4)
        if boxes.shape[0] == 0:
            return np.zeros((0, 4), np.int64)
        if scale != 1.0:
            boxes = boxes / scale
        boxes = np.round(boxes).astype(np.int64)
        boxes[:, 0] = np.clip(boxes[:, 0], 0, width - 1)
        boxes[:, 1] = np.clip(boxes[:, 1], 0, height - 1)
        boxes[:, 2] = np.clip(boxes[:, 2], 1, width - boxes[:, 0])
        boxes[:, 3] = np.clip(boxes[:, 3], 1, height - boxes[:, 1])
        order = np.lexsort((boxes[:, 1], boxes[:, 0]))
        return boxes[order]

    __call__ = detect


#: The BlazeFace model shipped with fer_lib (Apache-2.0; credit in ``fer_lib/live/detectors/README.md``).
BLAZEFACE_FILE = Path(__file__).resolve().parent / "detectors" / "face_detection_full_range.tflite"
#: Side of BlazeFace's square input, and of its grid of anchors (one per cell).
BLAZEFACE_INPUT = 192
_BLAZEFACE_GRID = 48
#: Measured defaults of :class:`BlazeFaceDetector` (``benchmarks/README.md``).
DEFAULT_SCORE_THRESHOLD: float = 0.5
DEFAULT_IOU_THRESHOLD: float = 0.3
DEFAULT_CROP_SCALE: float = 1.2
DEFAULT_CROP_SHIFT: float = 0.0


def _litert_interpreter(path: Path, num_threads: int):
    """A LiteRT interpreter for ``path`` with its tensors allocated, or a ModelError saying why not."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as exc:  # pragma: no cover - ai-edge-litert is in requirements.txt
        raise ModelError(
            f"LiteRT is not installed, so {path.name} cannot run: pip install ai-edge-litert "
            "(or use detector='haar', which needs only OpenCV)"
        ) from exc
    if not path.is_file():
        raise ModelError(f"model file {path} does not exist; reinstall fer_lib or pass model_path=...")
    try:
        with hidden_startup_lines():
            interpreter = Interpreter(model_path=str(path), num_threads=num_threads)
            interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as exc:
        raise ModelError(f"{path} is not a LiteRT (.tflite) model LiteRT can load: {exc}") from exc
    return interpreter


class BlazeFaceDetector:
    """Google's BlazeFace (full range) CNN face detector, run with LiteRT.

    A small CNN (Bazarevsky et al., 2019) that scores 2,304 anchors, one per cell of a 48x48 grid over its
    192x192 input, and regresses a box from each. The frame is letterboxed to that square (black padding);
    boxes scoring at least ``score_threshold`` go through non-maximum suppression, and the survivors are
    mapped back to frame pixels as face crops (``crop_scale``, ``crop_shift``).

    Parameters
    ----------
    score_threshold : float, default 0.5
        Smallest face probability kept.
    iou_threshold : float, default 0.3
        A box overlapping a better one by more than this (intersection over union) is dropped.
    crop_scale, crop_shift : float, default 1.2 and 0.0
        The crop the classifier sees: the box scaled about its centre by ``crop_scale``, then moved down
        by ``crop_shift`` of its height (measured defaults: ``benchmarks/README.md``).
    tiles : bool, default False
        Also run on square tiles (half the shorter side, at least 192 px, overlapping by a quarter), which
        finds faces under about 15 px at the 192 input: for large group photos, about 3 ms a tile.
    model_path : str or Path, optional
        Another BlazeFace full-range ``.tflite``; default :data:`BLAZEFACE_FILE`.
    num_threads : int, default 2
        CPU threads LiteRT may use.

    Raises
    ------
    ValueError
        For thresholds outside (0, 1) or a non-positive crop scale.
    ModelError
        If the model file is missing or is not a LiteRT model.

    Examples
    --------
    >>> BlazeFaceDetector().detect(np.zeros((120, 160, 3), np.uint8)).shape
    (0, 4)
    """

    def __init__(
        self,
        *,
        score_threshold: float = DEFAULT_SCORE_THRESHOLD,
        iou_threshold: float = DEFAULT_IOU_THRESHOLD,
        crop_scale: float = DEFAULT_CROP_SCALE,
        crop_shift: float = DEFAULT_CROP_SHIFT,
        tiles: bool = False,
        model_path: str | Path | None = None,
        num_threads: int = 2,
    ) -> None:
        for name, value in (("score_threshold", score_threshold), ("iou_threshold", iou_threshold)):
            if not 0.0 < float(value) < 1.0:
                raise ValueError(f"{name} must lie strictly between 0 and 1; got {value!r}")
        if not float(crop_scale) > 0.0 or not np.isfinite(crop_shift):
            raise ValueError(
                f"crop_scale must be positive and crop_shift finite; got {crop_scale!r} and {crop_shift!r}"
            )
        if int(num_threads) < 1:
            raise ValueError(f"num_threads must be at least 1; got {num_threads!r}")
        self.score_threshold = float(score_threshold)
        self.iou_threshold = float(iou_threshold)
        self.crop_scale = float(crop_scale)
        self.crop_shift = float(crop_shift)
        self.tiles = bool(tiles)
        self.model_path = Path(model_path) if model_path is not None else BLAZEFACE_FILE
        self._interpreter = _litert_interpreter(self.model_path, int(num_threads))
        self._input = self._interpreter.get_input_details()[0]
        if tuple(self._input["shape"]) != (1, BLAZEFACE_INPUT, BLAZEFACE_INPUT, 3):
            raise ModelError(
                f"{self.model_path} takes input of shape {tuple(self._input['shape'])}; expected "
                f"(1, {BLAZEFACE_INPUT}, {BLAZEFACE_INPUT}, 3): use the full-range BlazeFace model"
            )
        outputs = {tuple(detail["shape"][1:]): detail["index"] for detail in self._interpreter.get_output_details()}
        anchors = _BLAZEFACE_GRID * _BLAZEFACE_GRID
        if (anchors, 16) not in outputs or (anchors, 1) not in outputs:
            raise ModelError(
                f"{self.model_path} does not give BlazeFace's outputs ({anchors}, 16) and ({anchors}, 1)"
            )
        self._regressors, self._scores = outputs[(anchors, 16)], outputs[(anchors, 1)]
        centres = (np.arange(_BLAZEFACE_GRID) + 0.5) / _BLAZEFACE_GRID
        anchor_x, anchor_y = np.meshgrid(centres, centres)
        self._anchors = np.stack([anchor_x.ravel(), anchor_y.ravel()], axis=1) * BLAZEFACE_INPUT
        self._canvas = np.zeros((1, BLAZEFACE_INPUT, BLAZEFACE_INPUT, 3), np.float32)
        # A LiteRT interpreter runs one call at a time: LiveView's thread and a BrowserCamera may share it.
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"BlazeFaceDetector(score_threshold={self.score_threshold}, iou_threshold={self.iou_threshold}, "
            f"crop_scale={self.crop_scale}, crop_shift={self.crop_shift}, tiles={self.tiles})"
        )

    def detect(self, frame: np.ndarray) -> np.ndarray:
        """Face crops in ``frame``: ``(n, 4)`` int64 ``(x, y, w, h)`` inside it, left to right, then top down.

        Parameters
        ----------
        frame : ndarray of shape (H, W, 3) BGR, (H, W, 4) BGRA, (H, W) or (H, W, 1) grey, dtype uint8
            Any size; colour helps (the network was trained on colour photos).
        """
        boxes, _ = self.detect_scored(frame)
        return boxes

    __call__ = detect

    def detect_scored(self, frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Like :meth:`detect`, with each box's face probability: ``(boxes, scores)``.

        Parameters
        ----------
        frame : ndarray of shape (H, W, 3) BGR, (H, W, 4) BGRA, (H, W) or (H, W, 1) grey, dtype uint8
            Any size, as for :meth:`detect`.
        """
        rgb = _to_rgb(check_frame(frame))
        height, width = rgb.shape[:2]
        boxes, scores = self._detect_square(rgb, 0, 0, max(height, width))
        if self.tiles:
            side = max(BLAZEFACE_INPUT, min(height, width) // 2)
            found = [(boxes, scores)]
            for top in _tile_starts(height, side):
                for left in _tile_starts(width, side):
                    found.append(self._detect_square(rgb[top : top + side, left : left + side], left, top, side))
            boxes = np.concatenate([part[0] for part in found])
            scores = np.concatenate([part[1] for part in found])
        keep = _non_maximum_suppression(boxes, scores, self.score_threshold, self.iou_threshold)
        boxes, scores = boxes[keep], scores[keep]
        crops = _scale_boxes(boxes, self.crop_scale, self.crop_shift)
        return _clip_sort(crops, scores, width, height)

    def _detect_square(self, rgb: np.ndarray, left: int, top: int, side: int) -> tuple[np.ndarray, np.ndarray]:
        """Raw boxes (frame pixels, float) and scores above the threshold in one letterboxed square."""
        height, width = rgb.shape[:2]
        scale = BLAZEFACE_INPUT / side
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        with self._lock:
            canvas = self._canvas
            canvas.fill(-1.0)  # black, in the network's [-1, 1] scale
            canvas[0, : size[1], : size[0]] = small * np.float32(2 / 255) - 1
            self._interpreter.set_tensor(self._input["index"], canvas)
            self._interpreter.invoke()
            logits = self._interpreter.get_tensor(self._scores)[0, :, 0]
            all_regressors = self._interpreter.get_tensor(self._regressors)[0]
        scores = 1.0 / (1.0 + np.exp(-np.clip(logits, -100.0, 100.0)))
        keep = np.flatnonzero(scores >= self.score_threshold)
        regressors = all_regressors[keep, :4]
        centres = self._anchors[keep] + regressors[:, :2]
        sizes = regressors[:, 2:4]
        boxes = np.concatenate([centres - sizes / 2, sizes], axis=1) / scale
        boxes[:, 0] += left
        boxes[:, 1] += top
        return boxes, scores[keep]


def _to_rgb(frame: np.ndarray) -> np.ndarray:
    """RGB version of a checked uint8 frame (grey frames are repeated over three channels)."""
    if frame.ndim == 2 or frame.shape[2] == 1:
        return cv2.cvtColor(np.ascontiguousarray(frame.reshape(frame.shape[:2])), cv2.COLOR_GRAY2RGB)
    code = cv2.COLOR_BGR2RGB if frame.shape[2] == 3 else cv2.COLOR_BGRA2RGB
    return cv2.cvtColor(np.ascontiguousarray(frame), code)


def _tile_starts(length: int, side: int) -> list[int]:
    """Starts of tiles of ``side`` pixels covering ``[0, length)``, overlapping by at least a quarter."""
    if length <= side:
        return [0]
    count = int(np.ceil((length - side) / (0.75 * side))) + 1
    return [round(i * (length - side) / (count - 1)) for i in range(count)]


def _non_maximum_suppression(boxes: np.ndarray, scores: np.ndarray, score: float, iou: float) -> np.ndarray:
    """Indices of the boxes kept by OpenCV's non-maximum suppression, best first."""
    if len(boxes) == 0:
        return np.zeros(0, np.int64)
    keep = cv2.dnn.NMSBoxes(boxes.tolist(), scores.tolist(), score, iou)
    return np.asarray(keep, dtype=np.int64).reshape(-1)


def _scale_boxes(boxes: np.ndarray, scale: float, shift: float) -> np.ndarray:
    """Boxes scaled about their centres by ``scale`` and moved down by ``shift`` of their height."""
    centres = boxes[:, :2] + boxes[:, 2:] / 2
    centres[:, 1] += shift * boxes[:, 3]
    sizes = boxes[:, 2:] * scale
    return np.concatenate([centres - sizes / 2, sizes], axis=1)


def _clip_sort(boxes: np.ndarray, scores: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Integer boxes clipped into the frame and sorted left to right, with their scores."""
    if len(boxes) == 0:
        return np.zeros((0, 4), np.int64), np.zeros(0, np.float32)
    x0 = np.clip(np.round(boxes[:, 0]), 0, width - 1)
    y0 = np.clip(np.round(boxes[:, 1]), 0, height - 1)
    x1 = np.clip(np.round(boxes[:, 0] + boxes[:, 2]), x0 + 1, width)
    y1 = np.clip(np.round(boxes[:, 1] + boxes[:, 3]), y0 + 1, height)
    clipped = np.stack([x0, y0, x1 - x0, y1 - y0], axis=1).astype(np.int64)
    order = np.lexsort((clipped[:, 1], clipped[:, 0]))
    return clipped[order], scores[order].astype(np.float32)


#: The detectors :func:`make_detector` builds, by name; the first is the default.
DETECTORS: tuple[str, ...] = ("blazeface", "haar")


def make_detector(name: str = "blazeface", **options) -> FaceDetector:
    """A face detector by name: ``"blazeface"`` (the default) or ``"haar"`` (the tutorial's).

    Parameters
    ----------
    name : {"blazeface", "haar"}
    **options
        Keyword arguments of :class:`BlazeFaceDetector` or :class:`HaarFaceDetector`, whichever is made.

    Raises
    ------
    ValueError
        For another name.

    Examples
    --------
    >>> make_detector("haar")
    HaarFaceDetector(scale_factor=1.32, min_neighbors=3, min_size=(30, 30), max_width=640)
    """
    if name == "blazeface":
        return BlazeFaceDetector(**options)
    if name == "haar":
        return HaarFaceDetector(**options)
    raise ValueError(f"unknown detector {name!r}; choose one of {', '.join(DETECTORS)}")
