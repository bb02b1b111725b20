"""Evaluation: predictions, confusion matrix, per-class report, confident mistakes, saliency.

Metrics come from scikit-learn; this module arranges them by emotion name for the notebooks.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
from sklearn.metrics import classification_report, confusion_matrix, f1_score

from fer_lib.model._classifier import predict_probabilities
from fer_lib.data._container import FER2013, to_model_input
from fer_lib.labels import EMOTIONS, NUM_CLASSES

__all__ = [
    "evaluate_accuracy",
    "Evaluation",
    "evaluate",
    "confusion_table",
    "per_class_report",
    "confident_mistakes",
    "saliency_maps",
    "smoothgrad_maps",
    "overfitting_gap",
]


@dataclasses.dataclass(frozen=True)
class Evaluation:
    """A model's predictions on one data set, with the true labels.

    Parameters
    ----------
    probabilities : ndarray of shape (n, 7), float
        One row of class probabilities per face.
    labels : ndarray of shape (n,), int
        The true emotion labels (0..6).
    name : str, optional
        What was evaluated, for titles (``"PublicTest"``).

    Examples
    --------
    >>> import numpy as np
    >>> scores = Evaluation(np.eye(7)[[3, 3, 6, 0]], np.array([3, 3, 6, 6]))
    >>> scores.predicted.tolist(), scores.accuracy
    ([3, 3, 6, 0], 0.75)
    >>> scores.per_class_accuracy["Neutral"], scores.per_class_accuracy["Happy"]
    (0.5, 1.0)
    >>> round(scores.macro_f1, 4)  # Happy 1.0, Neutral 0.6667, Angry 0.0, four absent classes 0.0
    0.2381
    """

    probabilities: np.ndarray
    labels: np.ndarray
    name: str = ""

    @property
    def predicted(self) -> np.ndarray:
        """Predicted class per face (argmax of the probabilities)."""
        return self.probabilities.argmax(axis=1)

    @property
    def accuracy(self) -> float:
        """Share of faces whose predicted class is the true one (NaN for no faces)."""
        return float((self.predicted == self.labels).mean()) if len(self.labels) else float("nan")

    @property
    def per_class_accuracy(self) -> dict[str, float]:
        """Emotion name -> accuracy on the faces with that true label (its recall; NaN when absent)."""
        correct = self.predicted == self.labels
        return {
            name: float(correct[self.labels == label].mean()) if np.any(self.labels == label) else float("nan")
            for label, name in enumerate(EMOTIONS)
        }

    @property
    def macro_f1(self) -> float:
        """F1 averaged over the seven classes, each counting alike: it drops when a rare class is never found."""
        return float(f1_score(self.labels, self.predicted, average="macro", labels=np.arange(NUM_CLASSES),
                              zero_division=0))


def evaluate(model, data: FER2013, *, name: str = "", batch_size: int = 256) -> Evaluation:
    """Predict every face of ``data`` with ``model`` (one batched pass).

    Parameters
    ----------
    model : keras.Model
        A fer_lib model: raw 0..255 faces in, probabilities over the 7 emotions out.
    data : FER2013
        Faces and true labels.
    name : str, optional
        Stored on the result, for titles.
    batch_size : int, default 256
        Faces per compiled prediction call.
    """
    return Evaluation(predict_probabilities(model, data.images, batch_size=batch_size), data.labels.copy(), name)


def confusion_table(evaluation: Evaluation, *, normalize: bool = True) -> pd.DataFrame:
    """Confusion matrix, a 7x7 DataFrame by emotion name: rows ``true`` emotions, columns ``predicted``.

    Parameters
    ----------
    evaluation : Evaluation
    normalize : bool, default True
        Divide each row by its count, so the diagonal is each class's recall.

    Examples
    --------
    >>> import numpy as np
    >>> table = confusion_table(Evaluation(np.eye(7)[[3, 3, 6]], np.array([3, 6, 6])), normalize=False)
    >>> int(table.loc["Neutral", "Happy"]), int(table.loc["Neutral", "Neutral"])
    (1, 1)
    """
    matrix = confusion_matrix(evaluation.labels, evaluation.predicted, labels=np.arange(NUM_CLASSES),
                              normalize="true" if normalize else None)
    table = pd.DataFrame(matrix, index=list(EMOTIONS), columns=list(EMOTIONS))
    table.index.name, table.columns.name = "true", "predicted"
    return table


def per_class_report(evaluation: Evaluation) -> pd.DataFrame:
    """Precision, recall, F1 and support per emotion (scikit-learn's report as a table).

    Parameters
    ----------
    evaluation : Evaluation

    Returns
    -------
    pandas.DataFrame
        One row per emotion, then ``macro avg`` and ``weighted avg``; columns ``precision``,
        ``recall``, ``f1-score`` and ``support``.

    Examples
    --------
    >>> import numpy as np
    >>> report = per_class_report(Evaluation(np.eye(7)[[3, 3, 6]], np.array([3, 6, 6])))
    >>> float(report.loc["Happy", "precision"]), int(report.loc["Neutral", "support"])
    (0.5, 2)
    """
    report = classification_report(evaluation.labels, evaluation.predicted, labels=np.arange(NUM_CLASSES),
                                   target_names=list(EMOTIONS), output_dict=True, zero_division=0)
    table = pd.DataFrame(report).T
    table["support"] = table["support"].astype(int)
    return table.loc[[*EMOTIONS, "macro avg", "weighted avg"]]


def confident_mistakes(evaluation: Evaluation, *, count: int = 12) -> pd.DataFrame:
    """The wrong predictions made with the highest confidence, most confident first.

    Parameters
    ----------
    evaluation : Evaluation
    count : int, default 12
        At most this many rows.

    Returns
    -------
    pandas.DataFrame
        Columns ``index`` (the face's position in the data), ``true``, ``predicted`` and ``confidence``.

    Examples
    --------
    >>> import numpy as np
    >>> probabilities = np.full((2, 7), 0.05)
    >>> probabilities[0, 3], probabilities[1, 4] = 0.7, 0.7
    >>> confident_mistakes(Evaluation(probabilities, np.array([3, 0])))[["index", "true", "predicted"]].values.tolist()
    [[1, 'Angry', 'Sad']]
    """
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

    Parameters
    ----------
    model : keras.Model
        A fer_lib model.
    images : ndarray of shape (n, 48, 48), uint8
        Raw grey faces.
    classes : ndarray of shape (n,), int, optional
        The class whose score to explain per face; default the predicted one.

    Returns
    -------
    ndarray of shape (n, 48, 48), float
        Each map scaled to 0..1.

    Raises
    ------
    NotImplementedError
        On a Keras backend other than TensorFlow (it uses TensorFlow's GradientTape).
    """
    return _scaled_to_unit(np.abs(_raw_gradients(model, np.asarray(images), classes)))


def smoothgrad_maps(model, images: np.ndarray, *, classes: np.ndarray | None = None, samples: int = 24,
                    noise: float = 0.15, seed: int = 0) -> np.ndarray:
    """SmoothGrad: gradient saliency averaged over noisy copies of each face (Smilkov et al., 2017).

    Averaging over noisy copies removes the speckle of a single gradient (:func:`saliency_maps`).

    Parameters
    ----------
    model : keras.Model
        A fer_lib model.
    images : ndarray of shape (n, 48, 48), uint8
        Raw grey faces.
    classes : ndarray of shape (n,), int, optional
        The class to explain per face; default the one predicted for the clean face.
    samples : int, default 24
        Noisy copies per face.
    noise : float, default 0.15
        Noise standard deviation as a share of the 0..255 range (the paper suggests 10-20%).
    seed : int, default 0

    Returns
    -------
    ndarray of shape (n, 48, 48), float
        Each map scaled to 0..1.

    Raises
    ------
    ValueError
        For ``samples`` below 1 or a negative ``noise``.
    NotImplementedError
        On a Keras backend other than TensorFlow.
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

    if keras.backend.backend() != "tensorflow":
        raise NotImplementedError(
            f"gradient maps need the TensorFlow backend (this Keras runs on {keras.backend.backend()}); "
            "set KERAS_BACKEND=tensorflow before importing keras"
        )
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
    """Per epoch: train and validation accuracy and their ``gap`` (train minus validation), as a DataFrame.

    Parameters
    ----------
    history : pandas.DataFrame
        A training history with ``epoch``, ``accuracy`` and ``val_accuracy`` columns
        (:attr:`fer_lib.train.TrainingResult.history`, or a saved ``.history.csv``).

    Examples
    --------
    >>> import pandas as pd
    >>> history = pd.DataFrame({"epoch": [1, 2], "accuracy": [0.5, 0.75], "val_accuracy": [0.5, 0.5]})
    >>> overfitting_gap(history)["gap"].tolist()
    [0.0, 0.25]
    """
    table = history[["epoch", "accuracy", "val_accuracy"]].copy()
    table["gap"] = table["accuracy"] - table["val_accuracy"]
    return table


def evaluate_accuracy(model, data: FER2013, *, batch_size: int = 256) -> dict:
    """Overall and per-class accuracy of ``model`` on ``data`` (through :func:`evaluate`).

    Parameters
    ----------
    model : keras.Model
        A fer_lib model (it normalises raw 0..255 faces itself).
    data : FER2013
        The faces and labels to score.
    batch_size : int, default 256
        Faces per compiled prediction call.

    Returns
    -------
    dict
        ``accuracy``, ``per_class`` (emotion name -> accuracy), ``macro_f1`` and ``n`` (faces scored);
        NaN where there are no faces.
    """
    if len(data) == 0:
        return {"accuracy": float("nan"), "per_class": {}, "macro_f1": float("nan"), "n": 0}
    scored = evaluate(model, data, batch_size=batch_size)
    return {"accuracy": scored.accuracy, "per_class": scored.per_class_accuracy, "macro_f1": scored.macro_f1,
            "n": int(len(data))}
