"""The one batched prediction path: a saved emotion model, grey 48x48 faces in, probabilities out.

``model.predict`` pays about 35 ms of set-up per call on this CPU, which is what
made the tutorial's loop (one ``predict`` per face) slow. Here every face goes
through one compiled forward pass per chunk, and each chunk is padded to one of
a few fixed batch sizes (1, 2, 4, ... 64 for :class:`EmotionClassifier`), so the
compiled function is traced once per size instead of once per new face count.
:func:`predict_probabilities` (evaluation, training's model card, notebooks)
goes through the same :meth:`EmotionClassifier.predict`. It also ignores
``KERAS_MAX_STEPS_PER_EPOCH``, so smoke runs still score every face.

Typical use::

    from fer_lib.classifier import EmotionClassifier
    classifier = EmotionClassifier("models/default.keras")   # loaded once
    probabilities = classifier.predict(faces)                 # (n, 48, 48) uint8 -> (n, 7)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from .data import to_model_input
from .errors import ModelError
from .labels import IMAGE_SHAPE, NUM_CLASSES

if TYPE_CHECKING:  # pragma: no cover
    import keras

__all__ = [
    "DEFAULT_MODEL_PATH",
    "BATCH_BUCKETS",
    "EmotionClassifier",
    "load_saved_model",
    "predict_probabilities",
]

#: The shipped model, loaded by ``EmotionClassifier()`` without a model.
DEFAULT_MODEL_PATH: Path = Path(__file__).resolve().parents[1] / "models" / "default.keras"

#: Batch sizes the compiled prediction is traced for; larger face counts go in chunks of the last.
BATCH_BUCKETS: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64)


def load_saved_model(path: str | os.PathLike, *, compile: bool = True) -> keras.Model:
    """Load a ``.keras`` model with a clear error when the file is missing or corrupt.

    Parameters
    ----------
    path : str or Path
        A Keras 3 ``.keras`` file (importing :mod:`fer_lib` registers its custom layers).
    compile : bool, default True
        ``False`` skips the optimiser (inference only: faster, and quiet about
        optimiser state it does not need).

    Returns
    -------
    keras.Model

    Raises
    ------
    ModelError
        If the file does not exist or cannot be loaded; the message names the file.
    """
    import keras  # only when a model is loaded

    path = Path(path)
    if not path.is_file():
        raise ModelError(
            f"model file {path} does not exist. Train one with `make train` "
            "or use the shipped models/default.keras."
        )
    try:
        return keras.saving.load_model(path, compile=compile)
    except Exception as exc:  # keras raises many types for a damaged archive
        raise ModelError(
            f"model file {path} cannot be loaded ({type(exc).__name__}: {str(exc)[:200]}); "
            "it is corrupt or not a Keras 3 .keras file. Re-train it or restore it from git."
        ) from exc


class EmotionClassifier:
    """A saved emotion model, loaded once, predicting every face of a frame in one call.

    Parameters
    ----------
    model : str, Path or keras.Model, optional
        A ``.keras`` file (default :data:`DEFAULT_MODEL_PATH`) or a model in memory.
        It takes raw grey faces ``(n, 48, 48, 1)`` and ends with a softmax over 7 classes.
    buckets : sequence of int, default :data:`BATCH_BUCKETS`
        Batch sizes the compiled call is padded to.

    Raises
    ------
    ModelError
        If the file is missing or corrupt, or the model's input or output shape is wrong.
    """

    def __init__(self, model: Any = None, *, buckets: Sequence[int] = BATCH_BUCKETS) -> None:
        if model is None:
            model = DEFAULT_MODEL_PATH
        if isinstance(model, (str, os.PathLike)):
            self.path: Path | None = Path(model)
            model = load_saved_model(self.path, compile=False)
        else:
            self.path = None
        self.model = model
        _check_model_shapes(model, self.path)
        buckets = sorted({int(size) for size in buckets})
        if not buckets or buckets[0] < 1:
            raise ValueError(f"buckets must be positive batch sizes; got {buckets!r}")
        self.buckets: tuple[int, ...] = tuple(buckets)
        self._predict = _compiled_predict(model)

    def __repr__(self) -> str:
        where = self.path if self.path is not None else "in memory"
        return f"EmotionClassifier({getattr(self.model, 'name', 'model')!r}, {where})"

    def _bucket(self, count: int) -> int:
        return next((size for size in self.buckets if size >= count), self.buckets[-1])

    def predict(self, faces: np.ndarray) -> np.ndarray:
        """Class probabilities of grey faces, in one compiled call per chunk of the largest bucket.

        Parameters
        ----------
        faces : ndarray of shape (n, 48, 48) or (n, 48, 48, 1)
            Raw grey levels 0..255, e.g. from :func:`fer_lib.detection.crop_faces`.

        Returns
        -------
        ndarray of shape (n, 7), dtype float32
            Rows in :data:`fer_lib.labels.EMOTIONS` order; ``(0, 7)`` for no face.

        Raises
        ------
        ValueError
            If the faces are not 48x48.
        """
        batch = to_model_input(faces)
        count = batch.shape[0]
        if count == 0:
            return np.zeros((0, NUM_CLASSES), np.float32)
        chunks = []
        largest = self.buckets[-1]
        for start in range(0, count, largest):
            chunk = batch[start : start + largest]
            size = self._bucket(chunk.shape[0])
            if size > chunk.shape[0]:
                padding = np.zeros((size - chunk.shape[0],) + chunk.shape[1:], np.float32)
                chunk = np.concatenate([chunk, padding])
            chunks.append(np.asarray(self._predict(chunk))[: min(largest, count - start)])
        return np.concatenate(chunks).astype(np.float32, copy=False)

    def warmup(self, sizes: Sequence[int] = (1,)) -> None:
        """Trace the compiled call for these batch sizes now rather than on the first frames."""
        for size in sizes:
            self.predict(np.zeros((self._bucket(int(size)),) + IMAGE_SHAPE[:2], np.uint8))

    __call__ = predict


def predict_probabilities(model, images: np.ndarray, *, batch_size: int = 256) -> np.ndarray:
    """Class probabilities of raw grey faces, through :meth:`EmotionClassifier.predict`.

    Parameters
    ----------
    model : keras.Model, EmotionClassifier, str or Path
        A fer_lib model (it normalises its own input), or a ``.keras`` file.
    images : array of shape (n, 48, 48) or (n, 48, 48, 1)
        Raw grey levels 0..255.
    batch_size : int, default 256
        Faces per compiled call (the last chunk is padded to a power of two, or to ``batch_size``).

    Returns
    -------
    ndarray of shape (n, 7), float32

    Raises
    ------
    ModelError
        If the model does not take (48, 48, 1) faces or does not return 7 probabilities.
    """
    if int(batch_size) != batch_size or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}")
    if not isinstance(model, EmotionClassifier):
        model = EmotionClassifier(model, buckets=_doubling(int(batch_size)))
    return model.predict(images)


def _doubling(largest: int) -> tuple[int, ...]:
    """1, 2, 4, ... below ``largest``, then ``largest``: e.g. 256 -> (1, 2, ..., 128, 256)."""
    sizes = [1 << power for power in range(largest.bit_length()) if 1 << power < largest]
    return (*sizes, largest)


def _check_model_shapes(model, path: Path | None) -> None:
    where = f"model file {path}" if path is not None else f"model {getattr(model, 'name', '?')!r}"
    try:
        input_shape = tuple(model.input_shape)
        output_shape = tuple(model.output_shape)
    except (AttributeError, ValueError, TypeError) as exc:
        raise ModelError(f"{where} is not a single-input, single-output Keras model ({exc})") from exc
    if input_shape[1:] != IMAGE_SHAPE or output_shape[1:] != (NUM_CLASSES,):
        raise ModelError(
            f"{where} takes {input_shape} and returns {output_shape}; expected (None, 48, 48, 1) grey "
            f"faces in and (None, {NUM_CLASSES}) probabilities out. Use a model from fer_lib.models."
        )


def _compiled_predict(model) -> Callable[[np.ndarray], Any]:
    """One compiled forward pass: ``tf.function`` on TensorFlow, Keras' compiled predict step elsewhere."""
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        function = tf.function(lambda batch: model(batch, training=False), jit_compile=False)
        return lambda batch: function(tf.convert_to_tensor(batch)).numpy()
    return model.predict_on_batch  # other backends: Keras' own compiled predict step
