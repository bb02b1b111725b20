"""Evaluation by emotion name: predictions, confusion table, per-class report, worst mistakes, saliency."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from sklearn.metrics import classification_report, confusion_matrix, f1_score

from fer_lib.model._classifier import predict_probabilities
from fer_lib.data._container import FER2013, to_model_input
from fer_lib.labels import EMOTIONS, NUM_CLASSES

__all__ = ["evaluate_accuracy", "evaluate", "confusion_table", "per_class_report", "confident_mistakes",
           "saliency_maps", "smoothgrad_maps", "overfitting_gap"]


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """A model's class probabilities (n, 7) on one data set, the true labels (n,) and a name for titles."""

    probabilities: np.ndarray
    labels: np.ndarray
    name: str = ""

    @property
    def predicted(self) -> np.ndarray:
        """Predicted class per face (argmax of the probabilities)."""
        return self.probabilities.argmax(axis=1)

    @property
    def accuracy(self) -> float:
        """Share of faces predicted right (NaN for no faces)."""
        return float((self.predicted == self.labels).mean()) if len(self.labels) else float("nan")

    @property
    def per_class_accuracy(self) -> dict[str, float]:
        """Emotion name -> accuracy on the faces with that true label (its recall; NaN when absent)."""
        correct = self.predicted == self.labels
        return {name: float(correct[self.labels == label].mean()) if np.any(self.labels == label)
                else float("nan") for label, name in enumerate(EMOTIONS)}

    @property
    def macro_f1(self) -> float:
        """F1 averaged over the seven classes alike: it drops when a rare class is never found."""
        return float(f1_score(self.labels, self.predicted, average="macro", labels=np.arange(NUM_CLASSES),
                              zero_division=0))


def evaluate(model, data: FER2013, *, name: str = "", batch_size: int = 256) -> Evaluation:
    """Predict every face of ``data`` with ``model`` (raw 0..255 faces in) in one batched pass.

    Parameters
    ----------
    model : keras.Model
    data : FER2013
    name : str, optional (stored on the result, for titles)
    batch_size : int, default 256
    """
    probabilities = predict_probabilities(model, data.images, batch_size=batch_size)
    return Evaluation(probabilities, data.labels.copy(), name)


def confusion_table(evaluation: Evaluation, *, normalize: bool = True) -> pd.DataFrame:
    """Confusion matrix, a 7x7 DataFrame by emotion name: rows ``true`` emotions, columns ``predicted``.

    Parameters
    ----------
    evaluation : Evaluation
    normalize : bool, default True
        Divide each row by its count, so the diagonal is each class's recall.
    """
    matrix = confusion_matrix(evaluation.labels, evaluation.predicted, labels=np.arange(NUM_CLASSES),
                              normalize="true" if normalize else None)
    table = pd.DataFrame(matrix, index=list(EMOTIONS), columns=list(EMOTIONS))
    table.index.name, table.columns.name = "true", "predicted"
    return table


def per_class_report(evaluation: Evaluation) -> pd.DataFrame:
    """Precision, recall, F1 and support per emotion, then ``macro avg`` and ``weighted avg`` rows.

    Parameters
    ----------
    evaluation : Evaluation
    """
    report = classification_report(evaluation.labels, evaluation.predicted, labels=np.arange(NUM_CLASSES),
                                   target_names=list(EMOTIONS), output_dict=True, zero_division=0)
    table = pd.DataFrame(report).T
    table["support"] = table["support"].astype(int)
    return table.loc[[*EMOTIONS, "macro avg", "weighted avg"]]


def confident_mistakes(evaluation: Evaluation, *, count: int = 12) -> pd.DataFrame:
    """The most confident wrong predictions first: columns ``index``, ``true``, ``predicted``, ``confidence``.

    Parameters
    ----------
    evaluation : Evaluation
    count : int, default 12
    """
    predicted, confidence = evaluation.predicted, evaluation.probabilities.max(axis=1)
    wrong = np.flatnonzero(predicted != evaluation.labels)
    order = wrong[np.argsort(-confidence[wrong])][:count]
    return pd.DataFrame({"index": order, "true": [EMOTIONS[i] for i in evaluation.labels[order]],
                         "predicted": [EMOTIONS[i] for i in predicted[order]], "confidence": confidence[order]})


def saliency_maps(model, images: np.ndarray, *, classes: np.ndarray | None = None) -> np.ndarray:
    """Gradient saliency (TensorFlow backend), each map scaled to 0..1: how much each pixel moves the score.

    Parameters
    ----------
    model : keras.Model
    images : ndarray of shape (n, 48, 48), uint8
    classes : ndarray of shape (n,), int, optional
        The class to explain per face; default the predicted one.
    """
    return _scaled_to_unit(np.abs(_raw_gradients(model, np.asarray(images), classes)))


def smoothgrad_maps(model, images: np.ndarray, *, classes: np.ndarray | None = None, samples: int = 24,
                    noise: float = 0.15, seed: int = 0) -> np.ndarray:
    """SmoothGrad (Smilkov et al., 2017): :func:`saliency_maps` averaged over noisy copies of each face.

    Parameters
    ----------
    model, images, classes
        As for :func:`saliency_maps` (the default classes are predicted on the clean faces).
    samples : int, default 24 (noisy copies per face)
    noise : float, default 0.15
        Noise standard deviation as a share of the 0..255 range (the paper suggests 10-20%).
    seed : int, default 0
    """
    if samples < 1 or noise < 0:
        raise ValueError(f"samples must be at least 1 and noise non-negative; got {samples}, {noise}")
    images = np.asarray(images)
    if classes is None:
        classes = np.argmax(model.predict_on_batch(to_model_input(images)), axis=1)
    classes = np.asarray(classes)
    rng = np.random.default_rng(seed)
    total = np.zeros(images.shape, np.float64)
    for _ in range(samples):
        noisy = images.astype(np.float32) + rng.normal(0.0, noise * 255.0, images.shape).astype(np.float32)
        total += _raw_gradients(model, noisy, classes)
    return _scaled_to_unit(np.abs(total / samples))


def _scaled_to_unit(maps: np.ndarray) -> np.ndarray:
    """Each map divided by its own maximum (0..1)."""
    return maps / (maps.reshape(len(maps), -1).max(axis=1)[:, None, None] + 1e-12)


def _raw_gradients(model, images: np.ndarray, classes) -> np.ndarray:
    """d(score of ``classes``)/d(pixel) for each face, signed; TensorFlow backend only."""
    import keras

    backend = keras.backend.backend()
    if backend != "tensorflow":
        raise NotImplementedError(f"gradient maps need the TensorFlow backend (this Keras runs on "
                                  f"{backend}); set KERAS_BACKEND=tensorflow before importing keras")
    import tensorflow as tf

    faces = tf.convert_to_tensor(to_model_input(images))
    with tf.GradientTape() as tape:
        tape.watch(faces)
        probabilities = model(faces, training=False)
        if classes is None:
            classes = tf.argmax(probabilities, axis=1)
        scores = tf.gather(probabilities, tf.convert_to_tensor(classes), axis=1, batch_dims=1)
    return tape.gradient(scores, faces).numpy()[..., 0]


def overfitting_gap(history: pd.DataFrame) -> pd.DataFrame:
    """Per epoch: train and validation accuracy and their ``gap`` (train minus validation).

    Parameters
    ----------
    history : pandas.DataFrame
        With ``epoch``, ``accuracy`` and ``val_accuracy`` columns (``TrainingResult.history``).
    """
    table = history[["epoch", "accuracy", "val_accuracy"]].copy()
    table["gap"] = table["accuracy"] - table["val_accuracy"]
    return table


def evaluate_accuracy(model, data: FER2013, *, batch_size: int = 256) -> dict:
    """``accuracy``, ``per_class`` (emotion -> accuracy), ``macro_f1`` and ``n`` of ``model`` on ``data``.

    Parameters
    ----------
    model, data, batch_size
        As for :func:`evaluate`.
    """
    if len(data) == 0:
        return {"accuracy": float("nan"), "per_class": {}, "macro_f1": float("nan"), "n": 0}
    scored = evaluate(model, data, batch_size=batch_size)
    return {"accuracy": scored.accuracy, "per_class": scored.per_class_accuracy, "macro_f1": scored.macro_f1,
            "n": int(len(data))}
