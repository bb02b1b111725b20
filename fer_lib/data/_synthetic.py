"""Synthetic faces in FER2013's format, for machines without FER2013; results from them say so."""

from __future__ import annotations

import numpy as np

from fer_lib.data._container import FER2013
from fer_lib.labels import IMAGE_SIZE, NUM_CLASSES

__all__ = ["SYNTHETIC_BANNER", "synthetic_fer2013"]

# Printed (and drawn into figures) whenever a result comes from synthetic faces.
SYNTHETIC_BANNER = (
    "#" * 78
    + "\n# SYNTHETIC DATA: FER2013 was not found, so these are cartoon faces drawn by\n"
    "# fer_lib.data.synthetic_fer2013. Numbers and figures below say nothing\n"
    "# about real emotion recognition. For real results put fer2013.csv in\n"
    "# data_input/ or name it in the FER2013_PATH environment variable.\n"
    + "#" * 78
)

# mouth curvature, mouth openness, brow slant (inner end up > 0), eye size, brow height
_FACE_SHAPES = {
    0: (-0.6, 0.0, -1.0, 1.0, -1.0),  # Angry: frown, brows down in the middle
    1: (-0.9, 0.15, -0.5, 0.6, -0.5),  # Disgust: strong frown, squint
    2: (-0.2, 0.5, 0.9, 1.4, 1.0),  # Fear: open mouth, raised inner brows, wide eyes
    3: (1.0, 0.1, 0.0, 0.9, 0.0),  # Happy: smile
    4: (-0.8, 0.0, 0.8, 0.8, 0.2),  # Sad: frown, inner brows up
    5: (0.0, 1.0, 0.0, 1.5, 1.2),  # Surprise: round open mouth, high brows, wide eyes
    6: (0.0, 0.0, 0.0, 1.0, 0.0),  # Neutral: flat mouth
}


def synthetic_fer2013(n: int = 4000, *, seed: int = 0, public_test_fraction: float = 0.125) -> FER2013:
    """Draw ``n`` cartoon faces in FER2013's format whose emotion shows in mouth, brows and eyes.

    Position, scale, brightness, contrast and noise vary per face, so a CNN must learn shapes, not pixels.

    Parameters
    ----------
    n : int, default 4000
        Number of faces; the seven classes take turns, so they are balanced.
    seed : int, default 0
    public_test_fraction : float, default 0.125
        Expected share of faces marked ``PublicTest``.
    """
    if n < 1:
        raise ValueError(f"n must be a positive number of faces; got {n}")
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % NUM_CLASSES
    rng.shuffle(labels)
    yy, xx = np.mgrid[0:IMAGE_SIZE, 0:IMAGE_SIZE].astype(np.float32)
    images = np.stack([_draw_face(int(label), rng, xx, yy) for label in labels])
    usage = np.where(rng.random(n) < public_test_fraction, "PublicTest", "Training")
    return FER2013(images, labels.astype(np.int64), usage.astype(str), source="synthetic", synthetic=True)


def _draw_face(label: int, rng: np.random.Generator, xx: np.ndarray, yy: np.ndarray) -> np.ndarray:
    curve, openness, slant, eye, brow = _FACE_SHAPES[label]
    jitter = lambda s: rng.normal(0.0, s)  # noqa: E731 - tiny local helper
    cx, cy = 24 + jitter(1.5), 25 + jitter(1.5)
    scale = 1.0 + jitter(0.06)
    skin, dark = rng.uniform(120, 200), rng.uniform(10, 70)
    image = np.full(xx.shape, rng.uniform(20, 90), dtype=np.float32)
    face = ((xx - cx) / (17 * scale)) ** 2 + ((yy - cy) / (21 * scale)) ** 2 <= 1
    image[face] = skin
    for side in (-1, 1):
        ex, ey = cx + side * 7 * scale, cy - 5 * scale
        eye_r = 2.0 * eye * scale
        image[((xx - ex) / (2.6 * scale)) ** 2 + ((yy - ey) / max(eye_r * 0.8, 0.6)) ** 2 <= 1] = dark
        # Brow: a thick line whose inner end rises with `slant`.
        t = np.clip((xx - ex) * side / (4.5 * scale), -1, 1)
        brow_y = ey - (4.5 + 1.2 * brow) * scale - slant * 1.6 * scale * (-t)
        on_brow = (np.abs(yy - brow_y) <= 0.9) & (np.abs(xx - ex) <= 4.5 * scale)
        image[on_brow] = dark
    mx, my = cx + jitter(0.5), cy + 9 * scale
    if openness >= 0.5:
        ry = 2.0 + 3.0 * openness
        rx = 5.5 - 2.0 * openness
        image[((xx - mx) / (rx * scale)) ** 2 + ((yy - my) / (ry * scale)) ** 2 <= 1] = dark
    else:
        u = (xx - mx) / (7 * scale)
        mouth_y = my - curve * 3.0 * scale * (1 - u**2) + curve * 1.5 * scale
        thickness = 0.9 + 1.5 * openness
        image[(np.abs(u) <= 1) & (np.abs(yy - mouth_y) <= thickness)] = dark
    contrast, brightness = rng.uniform(0.7, 1.2), jitter(12)
    image = (image - 128) * contrast + 128 + brightness + rng.normal(0, 8, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)
