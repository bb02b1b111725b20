"""Training batches: augmentation of 48x48 faces in NumPy and OpenCV (a millisecond per batch, where Keras'
random layers cost up to 40% of a step), as a Keras PyDataset."""

from __future__ import annotations

import math
from collections.abc import Callable

import cv2
import keras
import numpy as np

from fer_lib.data import FER2013, to_model_input
from fer_lib.labels import IMAGE_SIZE, NUM_CLASSES
from fer_lib.train._config import TrainConfig

__all__ = ["augment_batch", "erase_batch", "AugmentedFaces", "training_batches", "validation_arrays"]


def augment_batch(images: np.ndarray, rng: np.random.Generator, *, max_rotation: float = 10.0,
                  max_shift: float = 0.1, max_zoom: float = 0.1, flip: bool = True) -> np.ndarray:
    """Randomly mirror, rotate, shift and zoom each face of a 48x48 batch (OpenCV, reflecting borders).

    Parameters
    ----------
    images : ndarray of shape (n, 48, 48), uint8 or float32
    rng : numpy.random.Generator
        The same generator state gives the same batch.
    max_rotation : float, default 10.0
        Degrees, either way.
    max_shift, max_zoom : float, default 0.1
        Fraction of the side in each direction; scale drawn from ``1 - max_zoom`` to ``1 + max_zoom``.
    flip : bool, default True
        Mirror half of the faces left to right.
    """
    out = np.empty_like(images)
    center = (IMAGE_SIZE / 2 - 0.5, IMAGE_SIZE / 2 - 0.5)
    for i, image in enumerate(images):
        angle = rng.uniform(-max_rotation, max_rotation)
        scale = rng.uniform(1 - max_zoom, 1 + max_zoom)
        matrix = cv2.getRotationMatrix2D(center, angle, scale)
        matrix[:, 2] += rng.uniform(-max_shift, max_shift, size=2) * IMAGE_SIZE
        warped = cv2.warpAffine(image, matrix, (IMAGE_SIZE, IMAGE_SIZE), flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_REFLECT_101)
        out[i] = warped[:, ::-1] if flip and rng.random() < 0.5 else warped
    return out


def erase_batch(images: np.ndarray, rng: np.random.Generator, *, probability: float = 0.5,
                area: tuple[float, float] = (0.02, 0.25),
                aspect: tuple[float, float] = (0.3, 3.3)) -> np.ndarray:
    """Random erasing: replace a random rectangle of some faces with uniform noise (Zhong et al., 2020)."""
    if not 0.0 <= probability <= 1.0:
        raise ValueError(f"random erasing probability must lie in [0, 1]; got {probability}")
    out = images.copy()
    side = images.shape[1]
    for i in range(len(images)):
        if rng.random() >= probability:
            continue
        share = rng.uniform(*area)
        ratio = math.exp(rng.uniform(math.log(aspect[0]), math.log(aspect[1])))
        height = min(side, max(1, round(math.sqrt(share * side * side * ratio))))
        width = min(side, max(1, round(math.sqrt(share * side * side / ratio))))
        top, left = rng.integers(0, side - height + 1), rng.integers(0, side - width + 1)
        noise = rng.integers(0, 256, size=(height, width))
        out[i, top:top + height, left:left + width] = noise.astype(images.dtype)
    return out


class AugmentedFaces(keras.utils.PyDataset):
    """Batches of ``(faces, one-hot labels)`` for ``model.fit``, reshuffled each epoch; ``transform(faces,
    targets, rows, rng)`` changes each batch last (research's mixup, crops)."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, *, batch_size: int = 64,
                 augment: bool = True, seed: int = 0, shuffle: bool = True, random_erasing: float = 0.0,
                 targets: np.ndarray | None = None, transform: Callable | None = None):
        super().__init__()
        self.images = images
        if targets is None:
            targets = keras.utils.to_categorical(labels, NUM_CLASSES)
        elif np.shape(targets) != (len(images), NUM_CLASSES):
            raise ValueError(f"targets need one row of {NUM_CLASSES} per face; got {np.shape(targets)} "
                             f"for {len(images)} faces")
        self.targets = np.asarray(targets, np.float32)
        self.batch_size, self.augment, self.shuffle, self.seed = batch_size, augment, shuffle, seed
        self.random_erasing, self.transform = random_erasing, transform
        self.set_epoch(0)

    def set_epoch(self, epoch: int) -> None:
        """Jump to ``epoch``'s order (used when a run resumes)."""
        self.epoch = epoch
        rng = np.random.default_rng((self.seed, epoch))
        self._order = rng.permutation(len(self.images)) if self.shuffle else np.arange(len(self.images))

    def __len__(self) -> int:
        return math.ceil(len(self.images) / self.batch_size)

    def __getitem__(self, index: int):
        rows = self._order[index * self.batch_size : (index + 1) * self.batch_size]
        faces = self.images[rows]
        rng = np.random.default_rng((self.seed, self.epoch, index))
        if self.augment:
            faces = augment_batch(faces, rng)
        if self.random_erasing:
            faces = erase_batch(faces, rng, probability=self.random_erasing)
        batch = to_model_input(faces), self.targets[rows]
        return batch if self.transform is None else self.transform(*batch, rows, rng)

    def on_epoch_end(self) -> None:
        self.set_epoch(self.epoch + 1)


def training_batches(faces: FER2013, config: TrainConfig, *, targets: np.ndarray | None = None,
                     transform: Callable | None = None) -> AugmentedFaces:
    """The batches a run with ``config`` trains on (soft ``targets``, shape (n, 7), instead of the labels)."""
    return AugmentedFaces(faces.images, faces.labels, batch_size=config.batch_size,
                          augment=bool(config.recipe()["augment"]), seed=config.seed,
                          random_erasing=config.random_erasing, targets=targets, transform=transform)


def validation_arrays(validation: FER2013) -> tuple[np.ndarray, np.ndarray]:
    """``(faces, one-hot labels)`` that ``fit`` validates on."""
    return to_model_input(validation.images), keras.utils.to_categorical(validation.labels, NUM_CLASSES)
