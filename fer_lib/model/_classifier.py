"""The one batched prediction path of a LiteRT ``.tflite`` or Keras model: faces in, probabilities out."""

from __future__ import annotations

import functools
import importlib.resources
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from fer_lib.data._container import to_model_input
from fer_lib.errors import ModelError
from fer_lib.labels import IMAGE_SHAPE, IMAGE_SIZE, NUM_CLASSES
from fer_lib.quiet import hidden_startup_lines

if TYPE_CHECKING:  # pragma: no cover
    import keras

__all__ = ["DEFAULT_KERAS_PATH", "DEFAULT_MODEL_PATH", "BATCH_BUCKETS", "EmotionClassifier",
           "load_saved_model", "predict_probabilities"]

_SHIPPED = Path(str(importlib.resources.files("fer_lib.model") / "shipped"))
#: The shipped Keras model (training, evaluation, notebooks 3-4).
DEFAULT_KERAS_PATH: Path = _SHIPPED / "default.keras"
#: Its quantised LiteRT export, loaded by ``EmotionClassifier()`` without a model (live, predict, widgets).
DEFAULT_MODEL_PATH: Path = _SHIPPED / "default.quantized.tflite"

#: Batch sizes the compiled prediction is traced for; larger face counts go in chunks of the last.
BATCH_BUCKETS: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64)


def load_saved_model(path: str | os.PathLike, *, compile: bool = True) -> keras.Model:
    """Load a ``.keras`` model; a :class:`ModelError` naming the file when it is missing or corrupt.

    Parameters
    ----------
    path : str or Path
    compile : bool, default True
        ``False`` skips the optimiser (inference only: faster, and quiet about optimiser state).
    """
    with hidden_startup_lines():  # importing Keras starts TensorFlow, which writes to descriptor 2
        import keras  # only when a model is loaded

        from fer_lib.model import _architectures as models  # noqa: F401  (registers fer_lib's custom layers with Keras)

    path = Path(path)
    if not path.is_file():
        raise ModelError(f"model file {path} does not exist. Train one with `python -m fer_lib train "
                         "--output MODEL.keras` or use the shipped model (leave the model out).")
    try:
        return keras.saving.load_model(path, compile=compile)
    except Exception as exc:  # keras raises many types for a damaged archive
        raise ModelError(f"model file {path} cannot be loaded ({type(exc).__name__}: {str(exc)[:200]}); it "
                         "is corrupt or not a Keras 3 .keras file. Re-train it or restore it from "
                         "git.") from exc


class EmotionClassifier:
    """A saved emotion model, loaded once, predicting every face of a frame in one call.

    Parameters
    ----------
    model : str, Path or keras.Model, optional
        A ``.tflite`` (LiteRT, no TensorFlow) or ``.keras`` file, or a Keras model; default the shipped one.
    buckets : sequence of int, default :data:`BATCH_BUCKETS`
        Batch sizes each call is padded to.
    num_threads : int, default 2
        CPU threads LiteRT may use (``.tflite`` only).

    Raises
    ------
    ModelError
        If the file is missing or corrupt, or the model does not map (48, 48, 1) faces to 7 probabilities.

    Examples
    --------
    >>> import numpy as np
    >>> classifier = EmotionClassifier()          # the shipped model, through LiteRT
    >>> classifier.predict(np.full((2, 48, 48), 128, np.uint8)).shape
    (2, 7)
    """

    def __init__(self, model: Any = None, *, buckets: Sequence[int] = BATCH_BUCKETS, num_threads: int = 2) -> None:
        model = DEFAULT_MODEL_PATH if model is None else model
        buckets = sorted({int(size) for size in buckets})
        if not buckets or buckets[0] < 1:
            raise ValueError(f"buckets must be positive batch sizes; got {buckets!r}")
        self.buckets: tuple[int, ...] = tuple(buckets)
        self.path: Path | None = Path(model) if isinstance(model, (str, os.PathLike)) else None
        if self.path is not None and self.path.is_dir():  # before TensorFlow is imported for a .keras file
            raise ModelError(f"model {self.path} is a folder; pass a model file (.tflite or .keras) inside it")
        where = f"model file {self.path}" if self.path is not None else f"model {getattr(model, 'name', '?')!r}"
        if self.path is not None and self.path.suffix == ".tflite":
            self.model = None
            self._predict: Callable[[np.ndarray], np.ndarray] = _LiteRTPredict(self.path, int(num_threads))
        else:
            self.model = load_saved_model(self.path, compile=False) if self.path is not None else model
            try:
                takes, returns = tuple(self.model.input_shape)[1:], [tuple(self.model.output_shape)[1:]]
            except (AttributeError, ValueError, TypeError) as exc:
                raise ModelError(f"{where} is not a single-input, single-output Keras model ({exc})") from exc
            _check_shapes(where, takes, returns, "Use")
            self._predict = _compiled_predict(self.model)
        # Refuse a model whose outputs on two probe faces are not probabilities (no softmax at the end).
        ramp = np.linspace(0, 255, IMAGE_SIZE).astype(np.uint8)
        probe = np.stack([np.full((IMAGE_SIZE, IMAGE_SIZE), 128, np.uint8), np.tile(ramp, (IMAGE_SIZE, 1))])
        out = np.asarray(self._predict_all(probe), dtype=np.float64)  # not predict, which callers may wrap
        sums = out.sum(axis=1)
        if not (np.isfinite(out).all() and out.min() >= -1e-6 and np.allclose(sums, 1.0, atol=1e-3)):
            raise ModelError(f"{where} does not return probabilities (on a probe face its outputs run from "
                             f"{out.min():.3g} to {out.max():.3g} and sum to {sums[0]:.3g}): end the network "
                             "with a softmax (keras.layers.Softmax(), or Dense(7, activation=\"softmax\")) "
                             "and save it again")

    @property
    def backend(self) -> str:
        """``"litert"`` for a ``.tflite`` file, ``"keras"`` otherwise."""
        return "keras" if self.model is not None else "litert"

    def __repr__(self) -> str:
        where = ("in memory" if self.path is None else str(self.path) if self.path.parent != _SHIPPED
                 else "the shipped model")  # its folder depends on where fer_lib is installed
        name = getattr(self.model, "name", "model") if self.model is not None else self.path.name
        return f"EmotionClassifier({name!r}, {where}, {self.backend})"

    def _bucket(self, count: int) -> int:
        return next((size for size in self.buckets if size >= count), self.buckets[-1])

    def predict(self, faces: np.ndarray) -> np.ndarray:
        """Class probabilities of raw grey faces, shape (n, 7) float32, columns in ``EMOTIONS`` order.

        Parameters
        ----------
        faces : ndarray of shape (n, 48, 48) or (n, 48, 48, 1)
        """
        return self._predict_all(faces)

    def _predict_all(self, faces: np.ndarray) -> np.ndarray:
        batch = to_model_input(faces)
        largest = self.buckets[-1]
        chunks = [np.zeros((0, NUM_CLASSES), np.float32)]
        for start in range(0, len(batch), largest):  # each chunk zero-padded to its bucket
            chunk = batch[start : start + largest]
            padded = np.zeros((self._bucket(len(chunk)), *IMAGE_SHAPE), np.float32)
            padded[: len(chunk)] = chunk
            chunks.append(np.asarray(self._predict(padded))[: len(chunk)])
        return np.concatenate(chunks).astype(np.float32, copy=False)

    def warmup(self, sizes: Sequence[int] = (1,)) -> None:
        """Prepare the calls for these batch sizes now rather than on the first frames.

        Parameters
        ----------
        sizes : sequence of int, default (1,)
        """
        for size in sizes:
            self.predict(np.zeros((self._bucket(int(size)),) + IMAGE_SHAPE[:2], np.uint8))

    __call__ = predict


class _LiteRTPredict:
    """A ``.tflite`` emotion model run by LiteRT: one interpreter per batch size, made on first use."""

    def __init__(self, path: Path, num_threads: int) -> None:
        if not path.is_file():
            raise ModelError(f"model file {path} does not exist. Export one with `python -m fer_lib export "
                             "MODEL.keras` (leave the model out for the shipped one, "
                             "fer_lib.model.DEFAULT_MODEL_PATH).")
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as exc:  # pragma: no cover - ai-edge-litert is in requirements.txt
            raise ModelError(f"LiteRT is not installed, so {path} cannot run: pip install ai-edge-litert") from exc
        self.path, self.num_threads, self._interpreter_class = path, num_threads, Interpreter
        self._calls: dict[int, Callable[[np.ndarray], np.ndarray]] = {}
        self._lock = threading.Lock()
        self._call_for(1)  # load now: a bad file fails here, not on the first face

    def _call_for(self, size: int) -> Callable[[np.ndarray], np.ndarray]:
        call = self._calls.get(size)
        if call is not None:
            return call
        try:
            with hidden_startup_lines():
                interpreter = self._interpreter_class(model_path=str(self.path), num_threads=self.num_threads)
            source = interpreter.get_input_details()[0]
            outputs = interpreter.get_output_details()
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"model file {self.path} cannot be loaded by LiteRT ({str(exc)[:200]}); it is "
                             "corrupt or not a fer_lib export. Export it again with `python -m fer_lib export "
                             "MODEL.keras`.") from exc
        _check_shapes(f"model file {self.path}", tuple(int(side) for side in source["shape"][1:]),
                      [tuple(int(side) for side in output["shape"][1:]) for output in outputs], "Export")
        interpreter.resize_tensor_input(source["index"], [size, *IMAGE_SHAPE])
        with hidden_startup_lines():
            interpreter.allocate_tensors()
        source_index, output_index = source["index"], outputs[0]["index"]

        def call(batch: np.ndarray) -> np.ndarray:
            interpreter.set_tensor(source_index, batch)
            interpreter.invoke()
            return interpreter.get_tensor(output_index)

        self._calls[size] = call
        return call

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        with self._lock:  # an interpreter runs one call at a time; LiveView's threads may share it
            return self._call_for(batch.shape[0])(batch)


def predict_probabilities(model, images: np.ndarray, *, batch_size: int = 256) -> np.ndarray:
    """Class probabilities, shape (n, 7) float32, of raw grey faces via :meth:`EmotionClassifier.predict`.

    Parameters
    ----------
    model : keras.Model, EmotionClassifier, str or Path
    images : array of shape (n, 48, 48) or (n, 48, 48, 1)
    batch_size : int, default 256
        Faces per compiled call (the last chunk is padded to a power of two, or to ``batch_size``).
    """
    if int(batch_size) != batch_size or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}")
    if isinstance(model, (str, os.PathLike)):
        model = EmotionClassifier(model, buckets=_doubling(int(batch_size)))
    elif not isinstance(model, EmotionClassifier):  # a network scored again and again is compiled once
        model = _classifier_of(model, int(batch_size))
    return model.predict(images)


@functools.lru_cache(maxsize=2)
def _classifier_of(model, batch_size: int) -> EmotionClassifier:
    return EmotionClassifier(model, buckets=_doubling(batch_size))


def _doubling(largest: int) -> tuple[int, ...]:
    """1, 2, 4, ... below ``largest``, then ``largest``: e.g. 256 -> (1, 2, ..., 128, 256)."""
    sizes = [1 << power for power in range(largest.bit_length()) if 1 << power < largest]
    return (*sizes, largest)


def _check_shapes(where: str, takes: tuple, returns: list, remedy: str) -> None:
    """Refuse a model that does not map (48, 48, 1) faces to 7 probabilities (shapes without batch axis)."""
    if takes != IMAGE_SHAPE or returns != [(NUM_CLASSES,)]:
        raise ModelError(f"{where} takes {takes} and returns {returns}; expected {IMAGE_SHAPE} grey faces in "
                         f"and ({NUM_CLASSES},) probabilities out. {remedy} a model built by fer_lib.model.")


def _compiled_predict(model) -> Callable[[np.ndarray], Any]:
    """One compiled forward pass: ``tf.function`` on TensorFlow, Keras' compiled predict step elsewhere."""
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        # autograph=False: no control flow to convert (and autograph warns it cannot read a lambda's source)
        function = tf.function(lambda batch: model(batch, training=False), jit_compile=False, autograph=False)
        return lambda batch: function(tf.convert_to_tensor(batch)).numpy()
    return model.predict_on_batch  # other backends: Keras' own compiled predict step
