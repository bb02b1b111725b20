"""Frame checks, colour conversions, box overlap, safe 48x48 crops and the face record, one dict per face
everywhere: ``{"box": (x, y, w, h), "probabilities": [7 floats in EMOTIONS order], "emotion": "Happy"}``."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from fer_lib.labels import EMOTIONS, IMAGE_SIZE

__all__ = ["box_iou", "check_frame", "crop_face", "crop_faces", "face_record", "to_bgr", "to_gray"]

# Side of the grid a face is sampled on before the final area resize: caps the memory a huge box takes.
_MAX_SAMPLES = 16 * IMAGE_SIZE


def to_gray(frame: np.ndarray) -> np.ndarray:
    """An ``(H, W)`` uint8 grey version of a frame (``frame`` itself when it is already one).

    Parameters
    ----------
    frame : ndarray
        Grey, (H, W, 1), BGR or BGRA uint8; float frames are refused rather than guessed at.
    """
    array = check_frame(frame)
    if array.ndim == 2:
        return array
    if array.shape[2] == 1:
        return np.ascontiguousarray(array[..., 0])
    code = cv2.COLOR_BGR2GRAY if array.shape[2] == 3 else cv2.COLOR_BGRA2GRAY
    return cv2.cvtColor(np.ascontiguousarray(array), code)


def check_frame(frame) -> np.ndarray:
    """``frame`` as an array, checked to be a non-empty uint8 grey, BGR or BGRA frame."""
    array = np.asarray(frame)
    if array.dtype != np.uint8:
        raise ValueError(f"expected a uint8 frame (grey levels 0..255); got dtype {array.dtype}. Convert it "
                         "first, e.g. (frame * 255).round().astype(np.uint8) for 0..1 floats.")
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] in (1, 3, 4))):
        raise ValueError(f"expected a frame of shape (H, W), (H, W, 1), (H, W, 3) BGR or (H, W, 4) BGRA; "
                         f"got shape {array.shape}")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"expected a non-empty frame; got shape {array.shape}")
    return array


def box_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two ``(x, y, w, h)`` boxes: 0 (apart) to 1 (the same box).

    Parameters
    ----------
    a, b : sequence of 4 numbers

    Examples
    --------
    >>> box_iou((0, 0, 10, 10), (5, 0, 10, 10))
    0.3333333333333333
    """
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    overlap_w = min(ax + aw, bx + bw) - max(ax, bx)
    overlap_h = min(ay + ah, by + bh) - max(ay, by)
    if overlap_w <= 0 or overlap_h <= 0:
        return 0.0
    inter = overlap_w * overlap_h
    return float(inter / (aw * ah + bw * bh - inter))


def to_bgr(frame: np.ndarray) -> np.ndarray:
    """A BGR uint8 copy of a grey, (H, W, 1), BGR or BGRA uint8 frame."""
    array = check_frame(frame)
    if array.ndim == 2 or array.shape[2] == 1:
        return cv2.cvtColor(np.ascontiguousarray(array.reshape(array.shape[:2])), cv2.COLOR_GRAY2BGR)
    if array.shape[2] == 4:
        return cv2.cvtColor(np.ascontiguousarray(array), cv2.COLOR_BGRA2BGR)
    return np.array(array, copy=True, order="C")


def _sample_positions(start: int, size: int, pad_before: int, pad_after: int, limit: int) -> np.ndarray:
    """Source indices along one axis: the box padded with its own edge, then clipped to ``[0, limit)``."""
    total = size + pad_before + pad_after
    count = min(total, _MAX_SAMPLES)
    steps = np.floor((np.arange(count) + 0.5) * (total / count)).astype(np.int64)
    positions = np.clip(start - pad_before + steps, start, start + size - 1)  # pad to square: the crop's edge
    return np.clip(positions, 0, limit - 1)  # outside the frame: the frame's edge


def crop_face(gray: np.ndarray, box: Sequence[float], *, margin: float = 0.0) -> np.ndarray:
    """A ``(48, 48)`` grey face cut from a frame, safe at the frame's edges."""
    gray = to_gray(gray)
    height, width = gray.shape
    try:
        x, y, w, h = (round(v) for v in np.asarray(box, dtype=np.float64).reshape(4))
    except (TypeError, ValueError, OverflowError):  # not 4 numbers, or NaN or infinity
        raise ValueError(f"expected a box (x, y, w, h) of 4 finite numbers; got {box!r}") from None
    if w <= 0 or h <= 0:
        raise ValueError(f"box {box!r} is empty: width and height must be positive")
    if not np.isfinite(margin) or margin < 0:
        raise ValueError(f"margin must be a non-negative fraction of the box; got {margin!r}")
    dx, dy = round(margin * w), round(margin * h)
    x, y, w, h = x - dx, y - dy, w + 2 * dx, h + 2 * dy
    if x >= width or y >= height or x + w <= 0 or y + h <= 0:
        raise ValueError(f"box {tuple(box)!r} lies entirely outside the {width}x{height} frame; "
                         "boxes are (x, y, w, h) in frame pixels")
    side = max(w, h)
    rows = _sample_positions(y, h, (side - h) // 2, side - h - (side - h) // 2, height)
    cols = _sample_positions(x, w, (side - w) // 2, side - w - (side - w) // 2, width)
    square = gray[rows[:, None], cols[None, :]]
    return cv2.resize(square, (IMAGE_SIZE, IMAGE_SIZE), interpolation=cv2.INTER_AREA)


def crop_faces(gray: np.ndarray, boxes: np.ndarray, *, margin: float = 0.0) -> np.ndarray:
    """A ``(n, 48, 48)`` uint8 grey face per box, squared with the box's own edge, safe at the frame's edges.

    Parameters
    ----------
    gray : ndarray
        The frame (colour frames are converted with :func:`to_gray`).
    boxes : array-like of shape (n, 4)
        ``(x, y, w, h)`` per face in frame pixels.
    margin : float, default 0.0
        Widen each box by this fraction of its width (height) on each side first.
    """
    gray = to_gray(gray)
    boxes = np.asarray(boxes, dtype=np.float64)
    if boxes.size == 0:
        return np.zeros((0, IMAGE_SIZE, IMAGE_SIZE), np.uint8)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"expected boxes of shape (n, 4) as (x, y, w, h); got shape {boxes.shape}")
    return np.stack([crop_face(gray, box, margin=margin) for box in boxes])


def face_record(box: Sequence[float], probabilities: Sequence[float]) -> dict:
    """The record of one face: its box as ints, its probabilities as floats, its top emotion."""
    probabilities = [float(p) for p in probabilities]
    return {"box": tuple(int(v) for v in box), "probabilities": probabilities,
            "emotion": EMOTIONS[int(np.argmax(probabilities))]}
