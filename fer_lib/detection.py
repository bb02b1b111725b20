"""Face detection on frames of any size, and safe 48x48 crops of the faces found.

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

from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

from .errors import ModelError
from .labels import IMAGE_SIZE

__all__ = [
    "FaceDetector",
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
