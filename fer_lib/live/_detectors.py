"""Face detectors returning ``(x, y, w, h)`` boxes: BlazeFace (LiteRT, default) and OpenCV's Haar cascade."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Protocol, runtime_checkable

import cv2
import numpy as np

from fer_lib.errors import ModelError
from fer_lib.live._frames import to_bgr, to_gray
from fer_lib.quiet import hidden_startup_lines

__all__ = ["BLAZEFACE_FILE", "DEFAULT_CROP_SCALE", "DEFAULT_CROP_SHIFT", "DETECTORS", "BlazeFaceDetector",
           "FaceDetector", "HaarFaceDetector", "make_detector"]

_NO_CASCADE = "OpenCV 5 dropped the Haar cascades: install OpenCV 4.x (pip install 'opencv-python>=4.9,<5')"


@runtime_checkable
class FaceDetector(Protocol):
    """What the live loop needs of a detector: ``detect(frame)`` returning ``(n, 4)`` int ``(x, y, w, h)``."""

    def detect(self, frame: np.ndarray) -> np.ndarray:
        """Boxes of the faces in ``frame``, in frame pixels.

        Parameters
        ----------
        frame : ndarray of grey, BGR or BGRA uint8
        """
        ...


class HaarFaceDetector:
    """OpenCV Haar-cascade face detector for frames of any size; ModelError if the cascade is missing or bad.

    Parameters
    ----------
    scale_factor : float, default 1.32
        Step between the cascade's scales; smaller finds more faces, slower.
    min_neighbors : int, default 3
        Overlapping raw detections a box needs to be kept; larger, fewer false boxes.
    min_size : int, (int, int) or None, default 30
        Smallest face (width, height) in frame pixels; ``None``: the cascade's 24-pixel window.
    max_width : int or None, default 640
        Wider frames are downscaled to this width for detection; ``None`` never downscales.
    cascade_path : str or Path, optional
        Default: OpenCV's ``haarcascade_frontalface_default.xml`` (OpenCV 5 dropped it).
    """

    def __init__(self, *, scale_factor: float = 1.32, min_neighbors: int = 3,
                 min_size: int | tuple[int, int] | None = 30, max_width: int | None = 640,
                 cascade_path: str | Path | None = None) -> None:
        if not float(scale_factor) > 1.0:
            raise ValueError(f"scale_factor must be greater than 1; got {scale_factor!r}")
        if int(min_neighbors) != min_neighbors or min_neighbors < 0:
            raise ValueError(f"min_neighbors must be a non-negative integer; got {min_neighbors!r}")
        if min_size is None or np.isscalar(min_size):
            min_size = (min_size or 0, min_size or 0)
        min_size = tuple(int(side) for side in min_size)
        if len(min_size) != 2 or min(min_size) < 0:
            raise ValueError(f"min_size must be a non-negative int or (width, height); got {min_size!r}")
        if max_width is not None and int(max_width) < 24:
            raise ValueError(f"max_width must be None or at least 24 pixels (the cascade's window); "
                             f"got {max_width!r}")
        self.scale_factor, self.min_neighbors = float(scale_factor), int(min_neighbors)
        self.min_size, self.max_width = min_size, None if max_width is None else int(max_width)
        if cascade_path is None:
            folder = getattr(getattr(cv2, "data", None), "haarcascades", None)
            if folder is None:
                raise ModelError(f"this OpenCV ({cv2.__version__}) has no cv2.data.haarcascades folder, so "
                                 f"the face cascade cannot be found. {_NO_CASCADE} or pass cascade_path=...")
            cascade_path = Path(folder) / "haarcascade_frontalface_default.xml"
        self.cascade_path = path = Path(cascade_path)
        if not path.is_file():
            raise ModelError(f"face cascade {path} does not exist. {_NO_CASCADE} or pass cascade_path=...")
        problem = (f"face cascade {path} cannot be loaded: it is not an OpenCV cascade XML file. "
                   "Reinstall opencv-python 4.x or pass another cascade_path.")
        try:
            self._cascade = cv2.CascadeClassifier(str(path))
        except (cv2.error, SystemError) as exc:  # OpenCV raises on a malformed file
            raise ModelError(problem) from exc
        if self._cascade.empty():
            raise ModelError(problem)

    def __repr__(self) -> str:
        return (f"HaarFaceDetector(scale_factor={self.scale_factor}, min_neighbors={self.min_neighbors}, "
                f"min_size={self.min_size}, max_width={self.max_width})")

    def detect(self, frame: np.ndarray) -> np.ndarray:
        """Face boxes in ``frame``: ``(n, 4)`` int64 ``(x, y, w, h)`` inside it, left to right, then top down.

        Parameters
        ----------
        frame : ndarray of grey, BGR or BGRA uint8
        """
        gray = to_gray(frame)
        height, width = gray.shape
        scale = 1.0
        if self.max_width is not None and width > self.max_width:
            scale = self.max_width / width
            size = (self.max_width, max(1, round(height * scale)))
            gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
        min_size = tuple(round(side * scale) for side in self.min_size)
        found = self._cascade.detectMultiScale(gray, scaleFactor=self.scale_factor,
                                               minNeighbors=self.min_neighbors, minSize=min_size)
        return _clip_sort(np.asarray(found, dtype=np.float64).reshape(-1, 4) / scale, width, height)[0]

    __call__ = detect


#: The BlazeFace model shipped with fer_lib (Apache-2.0; credit in ``fer_lib/live/detectors/README.md``).
BLAZEFACE_FILE = Path(__file__).resolve().parent / "detectors" / "face_detection_full_range.tflite"
#: Side of BlazeFace's square input; its 48x48 grid has one anchor per cell.
_INPUT, _GRID = 192, 48
#: Measured crop of :class:`BlazeFaceDetector` (``benchmarks/calibrate_crop.py``).
DEFAULT_CROP_SCALE: float = 1.2
DEFAULT_CROP_SHIFT: float = 0.0


class BlazeFaceDetector:
    """Google's BlazeFace (full range) CNN face detector, run with LiteRT on a 192x192 letterbox.

    Parameters
    ----------
    score_threshold : float, default 0.5
        Smallest face probability kept.
    iou_threshold : float, default 0.3
        Non-maximum suppression: a box overlapping a better one by more is dropped.
    crop_scale, crop_shift : float, default 1.2 and 0.0
        The crop: the box scaled about its centre, then moved down by this fraction of its height.
    tiles : bool, default False
        Also run on overlapping square tiles: finds smaller faces in large group photos.
    model_path : str or Path, optional
        Another BlazeFace full-range ``.tflite`` (else ModelError); default :data:`BLAZEFACE_FILE`.
    num_threads : int, default 2
    """

    def __init__(self, *, score_threshold: float = 0.5, iou_threshold: float = 0.3,
                 crop_scale: float = DEFAULT_CROP_SCALE, crop_shift: float = DEFAULT_CROP_SHIFT,
                 tiles: bool = False, model_path: str | Path | None = None, num_threads: int = 2) -> None:
        for name, value in (("score_threshold", score_threshold), ("iou_threshold", iou_threshold)):
            if not 0.0 < float(value) < 1.0:
                raise ValueError(f"{name} must lie strictly between 0 and 1; got {value!r}")
        if not float(crop_scale) > 0.0 or not np.isfinite(crop_shift):
            raise ValueError(f"crop_scale must be positive and crop_shift finite; got {crop_scale!r} and "
                             f"{crop_shift!r}")
        if int(num_threads) < 1:
            raise ValueError(f"num_threads must be at least 1; got {num_threads!r}")
        self.score_threshold, self.iou_threshold = float(score_threshold), float(iou_threshold)
        self.crop_scale, self.crop_shift, self.tiles = float(crop_scale), float(crop_shift), bool(tiles)
        self.model_path = path = Path(model_path) if model_path is not None else BLAZEFACE_FILE
        if not path.is_file():
            raise ModelError(f"model file {path} does not exist; reinstall fer_lib or pass model_path=...")
        from ai_edge_litert.interpreter import Interpreter  # in requirements.txt

        try:
            with hidden_startup_lines():
                self._interpreter = Interpreter(model_path=str(path), num_threads=int(num_threads))
                self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"{path} is not a LiteRT (.tflite) model LiteRT can load: {exc}") from exc
        self._input = self._interpreter.get_input_details()[0]
        outputs = {tuple(out["shape"][1:]): out["index"] for out in self._interpreter.get_output_details()}
        shape, anchors = tuple(self._input["shape"]), _GRID * _GRID
        if shape != (1, _INPUT, _INPUT, 3) or not {(anchors, 16), (anchors, 1)} <= outputs.keys():
            raise ModelError(f"{self.model_path} is not the full-range BlazeFace model (input {shape}): "
                             f"expected input (1, {_INPUT}, {_INPUT}, 3) and outputs ({anchors}, 16) and "
                             f"({anchors}, 1)")
        self._regressors, self._scores = outputs[(anchors, 16)], outputs[(anchors, 1)]
        centres = (np.arange(_GRID) + 0.5) / _GRID
        anchor_x, anchor_y = np.meshgrid(centres, centres)
        self._anchors = np.stack([anchor_x.ravel(), anchor_y.ravel()], axis=1) * _INPUT
        self._canvas = np.zeros((1, _INPUT, _INPUT, 3), np.float32)
        # A LiteRT interpreter runs one call at a time: LiveView's thread and a BrowserCamera may share it.
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return (f"BlazeFaceDetector(score_threshold={self.score_threshold}, "
                f"iou_threshold={self.iou_threshold}, crop_scale={self.crop_scale}, "
                f"crop_shift={self.crop_shift}, tiles={self.tiles})")

    def detect(self, frame: np.ndarray) -> np.ndarray:
        """Face crops in ``frame``: ``(n, 4)`` int64 ``(x, y, w, h)`` inside it, left to right, then top down.

        Parameters
        ----------
        frame : ndarray of BGR, BGRA or grey uint8 (colour helps)
        """
        return self.detect_scored(frame)[0]

    __call__ = detect

    def detect_scored(self, frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Like :meth:`detect`, with each box's face probability: ``(boxes, scores)``.

        Parameters
        ----------
        frame : ndarray
        """
        rgb = cv2.cvtColor(to_bgr(frame), cv2.COLOR_BGR2RGB)
        height, width = rgb.shape[:2]
        found = [self._detect_square(rgb, 0, 0, max(height, width))]
        if self.tiles:  # squares of half the shorter side (at least the input), overlapping by a quarter
            side = max(_INPUT, min(height, width) // 2)
            for top in _tile_starts(height, side):
                for left in _tile_starts(width, side):
                    square = rgb[top : top + side, left : left + side]
                    found.append(self._detect_square(square, left, top, side))
        boxes, scores = (np.concatenate(parts) for parts in zip(*found))
        keep = cv2.dnn.NMSBoxes(boxes.tolist(), scores.tolist(), self.score_threshold, self.iou_threshold)
        keep = np.asarray(keep, np.int64).reshape(-1)
        boxes, scores = boxes[keep], scores[keep]
        centres = boxes[:, :2] + boxes[:, 2:] / 2  # the crop: scaled about the centre, moved down
        centres[:, 1] += self.crop_shift * boxes[:, 3]
        sizes = boxes[:, 2:] * self.crop_scale
        crops, order = _clip_sort(np.concatenate([centres - sizes / 2, sizes], axis=1), width, height)
        return crops, scores[order].astype(np.float32)

    def _detect_square(self, rgb: np.ndarray, left: int, top: int, side: int):
        """Raw boxes (frame pixels, float) and scores above the threshold in one letterboxed square."""
        height, width = rgb.shape[:2]
        scale = _INPUT / side
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        with self._lock:
            canvas = self._canvas
            canvas.fill(-1.0)  # black, in the network's [-1, 1] scale
            canvas[0, : size[1], : size[0]] = small * np.float32(2 / 255) - 1
            self._interpreter.set_tensor(self._input["index"], canvas)
            self._interpreter.invoke()
            logits = self._interpreter.get_tensor(self._scores)[0, :, 0]
            regressors = self._interpreter.get_tensor(self._regressors)[0]
        scores = 1.0 / (1.0 + np.exp(-np.clip(logits, -100.0, 100.0)))
        keep = np.flatnonzero(scores >= self.score_threshold)
        centres, sizes = self._anchors[keep] + regressors[keep, :2], regressors[keep, 2:4]
        return np.concatenate([centres - sizes / 2, sizes], axis=1) / scale + [left, top, 0, 0], scores[keep]


def _tile_starts(length: int, side: int) -> list[int]:
    """Starts of tiles of ``side`` pixels covering ``[0, length)``, overlapping by at least a quarter."""
    if length <= side:
        return [0]
    count = int(np.ceil((length - side) / (0.75 * side))) + 1
    return [round(i * (length - side) / (count - 1)) for i in range(count)]


def _clip_sort(boxes: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Float boxes rounded, clipped into the frame and sorted left to right; and the sorting order."""
    x0 = np.clip(np.round(boxes[:, 0]), 0, width - 1)
    y0 = np.clip(np.round(boxes[:, 1]), 0, height - 1)
    x1 = np.clip(np.round(boxes[:, 0] + boxes[:, 2]), x0 + 1, width)
    y1 = np.clip(np.round(boxes[:, 1] + boxes[:, 3]), y0 + 1, height)
    clipped = np.stack([x0, y0, x1 - x0, y1 - y0], axis=1).astype(np.int64)
    order = np.lexsort((clipped[:, 1], clipped[:, 0]))
    return clipped[order], order


#: The detectors :func:`make_detector` builds, by name; the first is the default.
DETECTORS: tuple[str, ...] = ("blazeface", "haar")


def make_detector(name: str = "blazeface", **options) -> FaceDetector:
    """A face detector by name: ``"blazeface"`` (the default) or ``"haar"`` (the tutorial's).

    Parameters
    ----------
    name : {"blazeface", "haar"}
    **options
        The detector's keyword arguments.

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
