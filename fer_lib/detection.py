"""Face detection on frames of any size, and safe 48x48 crops of the faces found.

Two detectors with one interface, ``detect(frame) -> (n, 4)`` boxes ``(x, y, w, h)``
in frame pixels, built by name with :func:`make_detector`:

- :class:`BlazeFaceDetector` (``"blazeface"``, the default): Google's BlazeFace
  full-range CNN (shipped in ``fer_lib/detectors/`` with its Apache-2.0 license),
  run with LiteRT: anchors, scores and non-maximum suppression.
- :class:`FaceDetector` (``"haar"``): OpenCV's Haar cascade, the tutorial's
  detector (Viola and Jones' boosted cascade of 2001); it needs nothing but OpenCV.

BlazeFace's crop, calibrated by the classifier's accuracy (``python
benchmarks/calibrate_crop.py``, all 3,589 ``PublicTest`` faces, each enlarged to
144 px inside a 432 px frame whose border repeats its edges, so the true crop is
known). BlazeFace found a face in 2,384 of these scenes (FER2013's crops are so
tight that a third no longer look like a face in a scene), the Haar cascade in
2,402. On the faces found, FER2013's own crops score 66.6% with the model shipped
at the time (the first edition's 16-epoch ``fer_net``, ``results/fer_net_16_epochs.json``).
BlazeFace's raw box is smaller than FER2013's crop: the true crop's side is a
median 1.21 box widths and its centre 0.03 box heights above the box's. Scaling
the box about its centre (rows) and moving it down by a fraction of its height
(columns) gives these accuracies::

    scale    -0.10   -0.05    0.00    0.05    0.10
     0.90    59.56   61.16   62.25   63.17   62.79
     1.00    63.38   64.81   65.06   65.06   64.97
     1.10    65.10   65.27   66.19   66.19   66.15
     1.20    65.86   65.60   66.15   66.11   66.19
     1.30    65.35   65.52   65.56   66.02   65.35
     1.40    64.85   64.56   64.89   64.68   63.84

The default, scale 1.2 with no shift, is the measured geometry and sits on the
plateau (66.2% against 65.1% for the raw box and 66.6% for FER2013's own crops;
differences under a point are noise at this size). The Haar cascade's boxes
already match FER2013's crops (median side ratio 1.01, centre offset 0.01): they
are used as they are (65.7% at scale 1.0, no shift).

:class:`FaceDetector` wraps OpenCV's frontal-face Haar cascade. Frames wider
than ``max_width`` are downscaled before detection (the cascade's cost grows
with the pixel count) and the boxes are mapped back to full-frame pixels, so
callers never see the detection scale.

Default parameters, chosen by measurement (``python benchmarks/detector_grid.py``,
about 2.5 minutes): a grid of scale factor (1.05 to 1.32) x min neighbours (3 to 6)
x max width (full, 640, 480, 320) run on the 8 photos of ``shared/media`` and 8
frames of ``white_house_clip.mp4`` (640x360), scored against hand-drawn boxes of
their 20 faces (a box is a hit at IoU >= 0.3). Face counts alone were misleading:
they credited boxes on the background for missed faces. Measured on 2 CPU cores
shared with a training run, so the times are only comparable with each other::

    setting                          recall  false boxes  ms / video frame  ms / photo
    tutorial: 1.32, 5, full size     12/20   0            35                178
    default:  1.32, 3, 640 px wide   14/20   0            26                 69
    1.1, 5, 640 px wide              15/20   0            67                176
    1.05, any neighbours and width   13-17   2 to 22      48 to 136         115 to 676

Every setting finds the same 9 of the 11 photo faces (the child looking down and
the face cut by the image edge are never found); they differ on the video.
Downscaling to 640 px loses nothing and makes large photos 2.6 times cheaper; a
30-pixel minimum face size skips the costliest scales. Three neighbours instead
of five find two more video faces with no false box (two neighbours: the same;
one: false boxes). A scale factor of 1.1 finds one face more at 2.6 times the
cost; 1.05 adds false boxes. Differences of one or two faces out of 20 are within
noise: the choice is the cheap end of a plateau, not a fit to these files.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

from .errors import ModelError
from .labels import IMAGE_SIZE
from .quiet import hidden_startup_lines

__all__ = [
    "BlazeFaceDetector",
    "FaceDetector",
    "DETECTORS",
    "make_detector",
    "BLAZEFACE_FILE",
    "BLAZEFACE_INPUT",
    "CASCADE_FILE",
    "DEFAULT_SCALE_FACTOR",
    "DEFAULT_MIN_NEIGHBORS",
    "DEFAULT_MIN_SIZE",
    "DEFAULT_MAX_WIDTH",
    "box_iou",
    "check_frame",
    "to_gray",
    "crop_face",
    "crop_faces",
]

#: The Haar cascade file shipped with OpenCV 4.x in ``cv2.data.haarcascades``.
CASCADE_FILE = "haarcascade_frontalface_default.xml"

#: Measured defaults (see the module docstring and ``benchmarks/detector_grid.py``).
DEFAULT_SCALE_FACTOR: float = 1.32
DEFAULT_MIN_NEIGHBORS: int = 3
#: Smallest face reported, in full-frame pixels: smaller faces hold too little
#: detail for a 48x48 classifier, and skipping them saves the costliest scales.
DEFAULT_MIN_SIZE: int = 30
DEFAULT_MAX_WIDTH: int | None = 640

# Side of the grid a face is sampled on before the final area resize: caps the
# memory a huge box can take while keeping 16 source pixels per output pixel.
_MAX_SAMPLES = 16 * IMAGE_SIZE


def _default_cascade_path() -> Path:
    data = getattr(cv2, "data", None)
    folder = getattr(data, "haarcascades", None)
    if folder is None:
        raise ModelError(
            f"this OpenCV ({cv2.__version__}) has no cv2.data.haarcascades folder, so the face "
            f"cascade {CASCADE_FILE} cannot be found. OpenCV 5 dropped the Haar cascades: install "
            "OpenCV 4.x (pip install 'opencv-python-headless>=4.9,<5') or pass cascade_path=..."
        )
    return Path(folder) / CASCADE_FILE


def to_gray(frame: np.ndarray) -> np.ndarray:
    """Grey version of a frame, whatever its channels.

    Parameters
    ----------
    frame : ndarray of shape (H, W), (H, W, 1), (H, W, 3) BGR or (H, W, 4) BGRA, dtype uint8
        Float frames are refused rather than guessed at (0..1 or 0..255?):
        convert them first, e.g. ``(frame * 255).round().astype(np.uint8)``.

    Returns
    -------
    ndarray of shape (H, W), dtype uint8
        ``frame`` itself when it is already a 2-D uint8 array.

    Raises
    ------
    ValueError
        For another dtype, another number of channels, or an empty frame.

    Examples
    --------
    >>> to_gray(np.zeros((4, 6, 3), np.uint8)).shape
    (4, 6)
    """
    array = check_frame(frame)
    if array.ndim == 2:
        return array
    channels = array.shape[2]
    if channels == 1:
        return np.ascontiguousarray(array[..., 0])
    code = cv2.COLOR_BGR2GRAY if channels == 3 else cv2.COLOR_BGRA2GRAY
    return cv2.cvtColor(np.ascontiguousarray(array), code)


def check_frame(frame) -> np.ndarray:
    """``frame`` as an array, after checking that it is a non-empty uint8 grey, BGR or BGRA frame.

    Parameters
    ----------
    frame : array-like of shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), dtype uint8

    Returns
    -------
    ndarray
        ``np.asarray(frame)``, not copied.

    Raises
    ------
    ValueError
        For another dtype (floats are refused rather than guessed at), another
        number of channels, or an empty frame; the message says how to convert.

    Examples
    --------
    >>> check_frame(np.zeros((2, 3, 4), np.uint8)).shape
    (2, 3, 4)
    """
    array = np.asarray(frame)
    if array.dtype != np.uint8:
        raise ValueError(
            f"expected a uint8 frame (grey levels 0..255); got dtype {array.dtype}. "
            "Convert it first, e.g. (frame * 255).round().astype(np.uint8) for 0..1 floats."
        )
    valid_shape = array.ndim == 2 or (array.ndim == 3 and array.shape[2] in (1, 3, 4))
    if not valid_shape:
        raise ValueError(
            f"expected a frame of shape (H, W), (H, W, 1), (H, W, 3) BGR or (H, W, 4) BGRA; "
            f"got shape {array.shape}"
        )
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"expected a non-empty frame; got shape {array.shape}")
    return array


def box_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two ``(x, y, w, h)`` boxes: 0 (apart) to 1 (the same box).

    Parameters
    ----------
    a, b : sequence of 4 numbers
        ``(x, y, w, h)`` in the same pixels.

    Returns
    -------
    float

    Examples
    --------
    >>> box_iou((0, 0, 10, 10), (5, 0, 10, 10))
    0.3333333333333333
    >>> box_iou((0, 0, 10, 10), (20, 0, 10, 10))
    0.0
    """
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    overlap_w = min(ax + aw, bx + bw) - max(ax, bx)
    overlap_h = min(ay + ah, by + bh) - max(ay, by)
    if overlap_w <= 0 or overlap_h <= 0:
        return 0.0
    inter = overlap_w * overlap_h
    return float(inter / (aw * ah + bw * bh - inter))


class FaceDetector:
    """OpenCV Haar-cascade face detector that works on frames of any size.

    Parameters
    ----------
    scale_factor : float, default 1.32
        Step between the cascade's scales; smaller finds more faces, slower.
    min_neighbors : int, default 3
        Overlapping raw detections a box needs to be kept; larger, fewer false boxes.
    min_size : int, (int, int) or None, default 30
        Smallest face (width, height) reported, in full-frame pixels; ``None``:
        the cascade's own window (24 pixels at the detection scale).
    max_width : int or None, default 640
        Frames wider than this are downscaled to this width for detection; the
        boxes are mapped back to full-frame pixels. ``None`` never downscales.
    cascade_path : str or Path, optional
        Another cascade file; default OpenCV's ``haarcascade_frontalface_default.xml``.

    Raises
    ------
    ModelError
        If the cascade file is missing (OpenCV 5 dropped it) or cannot be loaded.

    Examples
    --------
    >>> FaceDetector().detect(np.zeros((120, 160), np.uint8)).shape
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
                "OpenCV 4.x (pip install 'opencv-python-headless>=4.9,<5') or pass cascade_path=..."
            )
        self.cascade_path = path
        problem = f"face cascade {path} cannot be loaded: it is not an OpenCV cascade XML file. " + (
            "Reinstall opencv-python-headless 4.x or pass another cascade_path."
        )
        try:
            self._cascade = cv2.CascadeClassifier(str(path))
        except (cv2.error, SystemError) as exc:  # OpenCV raises on a malformed file
            raise ModelError(problem) from exc
        if self._cascade.empty():
            raise ModelError(problem)

    def __repr__(self) -> str:
        return (
            f"FaceDetector(scale_factor={self.scale_factor}, min_neighbors={self.min_neighbors}, "
            f"min_size={self.min_size}, max_width={self.max_width})"
        )

    def detect(self, frame: np.ndarray) -> np.ndarray:
        """Boxes of the faces in ``frame``.

        Parameters
        ----------
        frame : ndarray of shape (H, W), (H, W, 1), (H, W, 3) BGR or (H, W, 4) BGRA, dtype uint8
            Any size. Float frames raise ``ValueError`` (see :func:`to_gray`).

        Returns
        -------
        ndarray of shape (n, 4), dtype int64
            ``(x, y, w, h)`` per face in full-frame pixels, inside the frame,
            sorted left to right (then top to bottom).
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


def _box_ints(box: Sequence[float]) -> tuple[int, int, int, int]:
    try:
        values = np.asarray(box, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        values = np.zeros(0)
    if values.shape != (4,) or not np.all(np.isfinite(values)):
        raise ValueError(f"expected a box (x, y, w, h) of 4 finite numbers; got {box!r}")
    x, y, w, h = (int(round(v)) for v in values)
    if w <= 0 or h <= 0:
        raise ValueError(f"box {box!r} is empty: width and height must be positive")
    return x, y, w, h


def _sample_positions(start: int, size: int, pad_before: int, pad_after: int, limit: int) -> np.ndarray:
    """Source indices along one axis: the box ``[start, start+size)``, padded by repeating its
    own edge rows, then clipped to the frame ``[0, limit)`` (edge replication outside it)."""
    total = size + pad_before + pad_after
    count = min(total, _MAX_SAMPLES)
    steps = np.floor((np.arange(count) + 0.5) * (total / count)).astype(np.int64)
    positions = start - pad_before + steps
    positions = np.clip(positions, start, start + size - 1)  # pad to square with the crop's edge
    return np.clip(positions, 0, limit - 1)  # outside the frame: the frame's edge


def crop_face(gray: np.ndarray, box: Sequence[float], *, margin: float = 0.0) -> np.ndarray:
    """A ``(48, 48)`` grey face cut from a frame, safe at the frame's edges.

    Takes rows ``y:y+h`` and columns ``x:x+w`` (the tutorial swapped the two).
    Parts of the box outside the frame repeat the frame's edge pixels; a
    non-square box is padded to a square by repeating its own edge rows or
    columns, so the face is never stretched; the square is then resized with
    ``cv2.INTER_AREA``.

    Parameters
    ----------
    gray : ndarray of shape (H, W), dtype uint8
        The frame (BGR, BGRA and (H, W, 1) frames are converted with :func:`to_gray`).
    box : (x, y, w, h)
        In frame pixels; may reach outside the frame but must overlap it.
    margin : float, default 0.0
        Widen the box by this fraction of its width (height) on each side first.

    Returns
    -------
    ndarray of shape (48, 48), dtype uint8

    Raises
    ------
    ValueError
        If the box is empty, malformed or entirely outside the frame.

    Examples
    --------
    >>> crop_face(np.zeros((10, 20), np.uint8), (15, -3, 10, 6)).shape
    (48, 48)
    """
    gray = to_gray(gray)
    height, width = gray.shape
    x, y, w, h = _box_ints(box)
    if not np.isfinite(margin) or margin < 0:
        raise ValueError(f"margin must be a non-negative fraction of the box; got {margin!r}")
    if margin:
        dx, dy = int(round(margin * w)), int(round(margin * h))
        x, y, w, h = x - dx, y - dy, w + 2 * dx, h + 2 * dy
    if x >= width or y >= height or x + w <= 0 or y + h <= 0:
        raise ValueError(
            f"box {tuple(box)!r} lies entirely outside the {width}x{height} frame; "
            "boxes are (x, y, w, h) in frame pixels"
        )
    side = max(w, h)
    rows = _sample_positions(y, h, (side - h) // 2, side - h - (side - h) // 2, height)
    cols = _sample_positions(x, w, (side - w) // 2, side - w - (side - w) // 2, width)
    square = gray[rows[:, None], cols[None, :]]
    return cv2.resize(square, (IMAGE_SIZE, IMAGE_SIZE), interpolation=cv2.INTER_AREA)


def crop_faces(gray: np.ndarray, boxes: np.ndarray, *, margin: float = 0.0) -> np.ndarray:
    """:func:`crop_face` for every box: ``(n, 48, 48)`` uint8 (``(0, 48, 48)`` for no box).

    Parameters
    ----------
    gray : ndarray of shape (H, W), dtype uint8
        The frame (BGR, BGRA and (H, W, 1) frames are converted with :func:`to_gray`).
    boxes : array-like of shape (n, 4)
        ``(x, y, w, h)`` per face in frame pixels, as for :func:`crop_face`.
    margin : float, default 0.0
        Widen each box by this fraction of its width (height) on each side first.

    Examples
    --------
    >>> crop_faces(np.zeros((30, 30), np.uint8), [(0, 0, 10, 10), (5, 5, 20, 10)]).shape
    (2, 48, 48)
    """
    gray = to_gray(gray)
    boxes = np.asarray(boxes, dtype=np.float64)
    if boxes.size == 0:
        return np.zeros((0, IMAGE_SIZE, IMAGE_SIZE), np.uint8)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"expected boxes of shape (n, 4) as (x, y, w, h); got shape {boxes.shape}")
    return np.stack([crop_face(gray, box, margin=margin) for box in boxes])


#: The BlazeFace model shipped with fer_lib (Apache-2.0; credit in ``fer_lib/detectors/README.md``).
BLAZEFACE_FILE = Path(__file__).resolve().parent / "detectors" / "face_detection_full_range.tflite"
#: Side of BlazeFace's square input, and of its grid of anchors (one per cell).
BLAZEFACE_INPUT = 192
_BLAZEFACE_GRID = 48
#: Measured defaults of :class:`BlazeFaceDetector` (see the module docstring).
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

    A small convolutional network (Bazarevsky et al., 2019) that scores 2,304
    anchors, one per cell of a 48x48 grid laid over its 192x192 input, and
    regresses a box from each. The frame is letterboxed to that square (aspect
    kept, black padding), boxes scoring at least ``score_threshold`` go through
    non-maximum suppression, and the survivors are mapped back to frame pixels
    and turned into face crops (``crop_scale``, ``crop_shift``).

    Parameters
    ----------
    score_threshold : float, default 0.5
        Smallest face probability kept.
    iou_threshold : float, default 0.3
        A box overlapping a better one by more than this (intersection over
        union) is dropped.
    crop_scale : float, default 1.2
        The detected box is scaled about its centre by this factor ...
    crop_shift : float, default 0.0
        ... and moved down by this fraction of its height: the crop the
        emotion classifier sees (measured defaults: module docstring).
    tiles : bool, default False
        Also run on overlapping square tiles (half the frame's shorter side,
        at least 192 px, overlapping by a quarter), which finds faces smaller
        than about 15 px at the 192 input: for large group photos, at about
        3 ms a tile.
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
        """Face crops found in ``frame``.

        Parameters
        ----------
        frame : ndarray of shape (H, W, 3) BGR, (H, W, 4) BGRA, (H, W) or (H, W, 1) grey, dtype uint8
            Any size; colour helps (the network was trained on colour photos).

        Returns
        -------
        ndarray of shape (n, 4), dtype int64
            ``(x, y, w, h)`` per face in full-frame pixels, inside the frame,
            sorted left to right (then top to bottom).
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


def make_detector(name: str = "blazeface", **options) -> BlazeFaceDetector | FaceDetector:
    """A face detector by name: ``"blazeface"`` (the default) or ``"haar"`` (the tutorial's).

    Parameters
    ----------
    name : {"blazeface", "haar"}
    **options
        Keyword arguments of :class:`BlazeFaceDetector` or :class:`FaceDetector`.

    Returns
    -------
    BlazeFaceDetector or FaceDetector
        Either has ``detect(frame) -> (n, 4) int64 boxes``.

    Raises
    ------
    ValueError
        For another name.

    Examples
    --------
    >>> make_detector("haar")
    FaceDetector(scale_factor=1.32, min_neighbors=3, min_size=(30, 30), max_width=640)
    """
    if name == "blazeface":
        return BlazeFaceDetector(**options)
    if name == "haar":
        return FaceDetector(**options)
    raise ValueError(f"unknown detector {name!r}; choose one of {', '.join(DETECTORS)}")
