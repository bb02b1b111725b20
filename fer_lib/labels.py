"""Emotion names, image geometry and colours, defined once so no module disagrees on class order or size."""

from __future__ import annotations

__all__ = ["EMOTIONS", "NUM_CLASSES", "IMAGE_SIZE", "IMAGE_SHAPE", "NUM_PIXELS", "USAGE_VALUES",
           "USAGE_UNASSIGNED", "EMOTION_COLORS_BGR", "emotion_name"]

#: Emotion names in FER2013's label order (label ``i`` is ``EMOTIONS[i]``).
EMOTIONS: tuple[str, ...] = ("Angry", "Disgust", "Fear", "Happy", "Sad", "Surprise", "Neutral")
NUM_CLASSES: int = len(EMOTIONS)

#: Side of a FER2013 face in pixels; a model input is ``IMAGE_SHAPE`` (height, width, one grey channel).
IMAGE_SIZE: int = 48
IMAGE_SHAPE: tuple[int, int, int] = (IMAGE_SIZE, IMAGE_SIZE, 1)
NUM_PIXELS: int = IMAGE_SIZE * IMAGE_SIZE

#: ``Usage`` values allowed in a FER2013 CSV file, and the one given to rows of a file without the column.
USAGE_VALUES: tuple[str, ...] = ("Training", "PublicTest", "PrivateTest")
USAGE_UNASSIGNED: str = "Unassigned"

#: One BGR colour per emotion, for boxes and labels drawn on frames.
EMOTION_COLORS_BGR: tuple[tuple[int, int, int], ...] = (
    (40, 40, 220),  # Angry: red
    (40, 140, 40),  # Disgust: green
    (160, 60, 160),  # Fear: purple
    (0, 200, 255),  # Happy: yellow
    (200, 120, 30),  # Sad: blue
    (0, 140, 255),  # Surprise: orange
    (180, 180, 180),  # Neutral: grey
)


def emotion_name(label: int) -> str:
    """``EMOTIONS[label]``, refusing a label outside 0..6 (no negative indexing).

    Parameters
    ----------
    label : int
    """
    if not 0 <= int(label) < NUM_CLASSES:
        raise ValueError(f"emotion label {label!r} is outside 0..{NUM_CLASSES - 1}")
    return EMOTIONS[int(label)]
