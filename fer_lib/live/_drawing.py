"""Boxes, emotions and confidences drawn on a BGR copy of a frame."""

from __future__ import annotations

from typing import Iterable

import cv2
import numpy as np

from fer_lib.live._frames import to_bgr
from fer_lib.labels import EMOTION_COLORS_BGR, EMOTIONS
from fer_lib.language import display_emotion

__all__ = ["to_bgr", "annotate", "hex_color"]


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
