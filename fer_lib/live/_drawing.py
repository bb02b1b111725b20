"""Boxes, emotions and confidences drawn on a BGR copy of a frame, and the frame rate that the CLI's
``live`` window and the notebook's ``LiveView`` show."""

from __future__ import annotations

import time
from typing import Callable, Iterable

import cv2
import numpy as np

from fer_lib.live._frames import to_bgr
from fer_lib.labels import EMOTION_COLORS_BGR, EMOTIONS
from fer_lib.language import display_emotion

__all__ = ["FpsMeter", "annotate", "hex_color", "to_bgr"]


def annotate(frame: np.ndarray, faces: Iterable[dict]) -> np.ndarray:
    """A BGR ``(H, W, 3)`` uint8 copy of ``frame`` with a box, the emotion and its confidence drawn per face.

    Parameters
    ----------
    frame : ndarray
        Grey, BGR or BGRA uint8; never modified.
    faces : iterable of dict
        Records from :func:`fer_lib.live.analyze_frame`.
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
        text = f"{display_emotion(index)} {confidence:.0%}"  # in the language figures speak
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


def hex_color(bgr: tuple[int, int, int]) -> str:
    """An OpenCV BGR colour as ``#rrggbb`` text for web pages and widgets."""
    blue, green, red = (int(value) for value in bgr)
    return f"#{red:02x}{green:02x}{blue:02x}"


class FpsMeter:
    """Frames per second, smoothed over the last frames and averaged since the first: :meth:`tick` each frame.

    Parameters
    ----------
    smoothing : float, default 0.9
        Weight of the previous rate in the running rate (0: the last interval only).
    clock : callable, default time.perf_counter
    """

    def __init__(self, smoothing: float = 0.9, *, clock: Callable[[], float] = time.perf_counter) -> None:
        if not 0.0 <= smoothing < 1.0:
            raise ValueError(f"smoothing must be in [0, 1); got {smoothing!r}")
        self.smoothing, self.clock = float(smoothing), clock
        self.fps, self.count = 0.0, 0
        self.started: float | None = None  # the clock at the first tick, and at the last
        self.last: float | None = None

    def tick(self) -> float:
        """Count one frame; returns the smoothed rate (0.0 on the first frame)."""
        now = self.clock()
        if self.last is not None and now > self.last:
            current = 1.0 / (now - self.last)
            weight = 0.0 if self.count == 1 else self.smoothing
            self.fps = weight * self.fps + (1 - weight) * current
        self.started = now if self.started is None else self.started
        self.last = now
        self.count += 1
        return self.fps

    @property
    def mean(self) -> float:
        """Frames per second from the first tick to the last (0.0 before two ticks)."""
        if self.count < 2 or self.last == self.started:
            return 0.0
        return (self.count - 1) / (self.last - self.started)
