"""Evaluation: predictions, confusion matrix, per-class report, confident mistakes, saliency.

Metrics come from scikit-learn; this module only arranges them by emotion name
so that the notebooks can show them. Nothing here trains.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from sklearn.metrics import classification_report, confusion_matrix

from .classifier import predict_probabilities
from .dataset import FER2013, to_model_input
from .labels import EMOTIONS, NUM_CLASSES

__all__ = [
    "Evaluation",
    "evaluate",
    "confusion_table",
    "per_class_report",
    "confident_mistakes",
    "saliency_maps",
    "overfitting_gap",
]


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """A model's predictions on one data set, with the true labels."""

    probabilities: np.ndarray
    labels: np.ndarray
    name: str = ""

    @property
    def predicted(self) -> np.ndarray:
        """Predicted class per face (argmax of the probabilities)."""
        return self.probabilities.argmax(axis=1)

    @property
    def accuracy(self) -> float:
        """Share of faces whose predicted class is the true one."""
        return float((self.predicted == self.labels).mean()) if len(self.labels) else float("nan")


def evaluate(model, data: FER2013, *, name: str = "", batch_size: int = 256) -> Evaluation:
    """Predict every face of ``data`` with ``model`` (one batched pass)."""
    return Evaluation(predict_probabilities(model, data.images, batch_size=batch_size), data.labels.copy(), name)


def confusion_table(evaluation: Evaluation, *, normalize: bool = True) -> pd.DataFrame:
    """Confusion matrix with true emotions as rows and predicted ones as columns.

    ``normalize=True`` divides each row by its count, so the diagonal is each class's recall.
    """
    matrix = confusion_matrix(evaluation.labels, evaluation.predicted, labels=np.arange(NUM_CLASSES),
                              normalize="true" if normalize else None)
    table = pd.DataFrame(matrix, index=list(EMOTIONS), columns=list(EMOTIONS))
    table.index.name, table.columns.name = "true", "predicted"
    return table


def per_class_report(evaluation: Evaluation) -> pd.DataFrame:
    """Precision, recall, F1 and support per emotion (scikit-learn's report as a table)."""
    report = classification_report(evaluation.labels, evaluation.predicted, labels=np.arange(NUM_CLASSES),
                                   target_names=list(EMOTIONS), output_dict=True, zero_division=0)
    table = pd.DataFrame(report).T
    table["support"] = table["support"].astype(int)
    return table.loc[[*EMOTIONS, "macro avg", "weighted avg"]]


def confident_mistakes(evaluation: Evaluation, *, count: int = 12) -> pd.DataFrame:
    """The ``count`` wrong predictions made with the highest confidence: index, truth, guess, confidence."""
    wrong = np.flatnonzero(evaluation.predicted != evaluation.labels)
    confidence = evaluation.probabilities[wrong, evaluation.predicted[wrong]]
    order = wrong[np.argsort(-confidence)][:count]
    return pd.DataFrame({
        "index": order,
        "true": [EMOTIONS[i] for i in evaluation.labels[order]],
        "predicted": [EMOTIONS[i] for i in evaluation.predicted[order]],
        "confidence": evaluation.probabilities[order, evaluation.predicted[order]],
    })


def saliency_maps(model, images: np.ndarray, *, classes: np.ndarray | None = None) -> np.ndarray:
    """Vanilla gradient saliency: how much each pixel moves the score of the (predicted) class.

    Returns an array of shape (n, 48, 48), each map scaled to 0..1. Uses TensorFlow's
    GradientTape (the default backend); other backends raise ``NotImplementedError``.
    """
    import keras

    if keras.backend.backend() != "tensorflow":
        raise NotImplementedError("saliency_maps needs the TensorFlow backend")
    import tensorflow as tf

    faces = tf.convert_to_tensor(to_model_input(images))
    with tf.GradientTape() as tape:
        tape.watch(faces)
        probabilities = model(faces, training=False)
        if classes is None:
            classes = tf.argmax(probabilities, axis=1)
        scores = tf.gather(probabilities, tf.convert_to_tensor(classes), axis=1, batch_dims=1)
    gradients = tape.gradient(scores, faces).numpy()[..., 0]
    maps = np.abs(gradients)
    maps /= maps.reshape(len(maps), -1).max(axis=1)[:, None, None] + 1e-12
    return maps


def overfitting_gap(history: pd.DataFrame) -> pd.DataFrame:
    """Per epoch: train and validation accuracy and their gap (train minus validation)."""
    table = history[["epoch", "accuracy", "val_accuracy"]].copy()
    table["gap"] = table["accuracy"] - table["val_accuracy"]
    return table
