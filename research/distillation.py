"""Knowledge distillation: one live-sized network learns from what several trained models say.

An ensemble of networks is usually more accurate than any one of them, but it
costs every member's time on every face, too much for the live loop. Hinton,
Vinyals and Dean (2015, "Distilling the knowledge in a neural network") showed
that a single network trained to reproduce the ensemble's probabilities, not
only the hard labels, keeps much of its gain: the teachers' probabilities say
which wrong answers are nearly right (a fearful face that looks surprised), a
richer signal than one-hot labels.

This module does it offline, the way the rest of training works on this CPU:

1. :func:`teacher_probabilities` scores every training face once with each
   teacher (each with its own test-time averaging, as it was shipped) and
   averages them;
2. :func:`soft_targets` softens those probabilities with a temperature and
   blends them with the one-hot labels;
3. :class:`DistillationTargets` hands them to :func:`fer_lib.train.train` as its
   ``targets=`` hook, which fits the student on them with the usual augmentation,
   checkpoints and model card.

:func:`evaluate_ensemble` scores the teachers together on the validation part
and ``PublicTest``, so the card of the student can be read beside its teachers'.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import keras
import numpy as np

from keras import layers

from fer_lib._fileio import atomic_target
from fer_lib.data import FER2013, file_sha256, load_default_data, make_split, to_model_input
from fer_lib.errors import ModelError
from fer_lib.evaluation import evaluate_accuracy
from fer_lib.labels import IMAGE_SHAPE, NUM_CLASSES
from fer_lib.model import load_saved_model
from fer_lib.train._config import fingerprint  # the saved probabilities are named like run folders

__all__ = ["DistillationTargets", "ensemble", "teacher_sha256", "load_teachers", "teacher_probabilities", "soften", "soft_targets", "evaluate_ensemble"]


def teacher_sha256(paths: Sequence[str | os.PathLike]) -> list[str]:
    """SHA-256 of each teacher file: how a distilled run names its teachers.

    Parameters
    ----------
    paths : sequence of str or path
        One or more saved models.

    Returns
    -------
    list of str

    Raises
    ------
    ModelError
        For no paths, or a path that is not a file (the message names it).
    """
    paths = [Path(p) for p in paths]
    if not paths:
        raise ModelError("distillation needs at least one teacher model file (.keras)")
    for path in paths:
        if not path.is_file():
            raise ModelError(f"teacher model file {path} does not exist; train it first "
                             "(python -m fer_lib train ... --output FILE) or fix the path.")
    return [file_sha256(path) for path in paths]


def load_teachers(paths: Sequence[str | os.PathLike]) -> tuple[keras.Model, list[str]]:
    """Load trained ``.keras`` models and average them into one teacher.

    Parameters
    ----------
    paths : sequence of str or path
        One or more saved fer_lib models that take raw 48x48 faces (as ``train``
        saves them, with their test-time averaging).

    Returns
    -------
    teacher : keras.Model
        :func:`ensemble` of the models (the model itself when there is one).
    sha256 : list of str
        Each file's SHA-256, in order: what a run records to name its teachers.

    Raises
    ------
    ModelError
        For no paths, or a file that is missing or not a model (the message names it).
    """
    sha256 = teacher_sha256(paths)
    members = [load_saved_model(path, compile=False) for path in paths]
    teacher = members[0] if len(members) == 1 else ensemble(members, name="teachers")
    return teacher, sha256


def teacher_probabilities(teacher: keras.Model, images: np.ndarray, *, batch_size: int = 256) -> np.ndarray:
    """The teacher's probabilities for raw faces (no augmentation).

    Parameters
    ----------
    teacher : keras.Model
        Raw 48x48 faces in, probabilities out (:func:`load_teachers`).
    images : ndarray of shape (n, 48, 48), uint8
    batch_size : int, default 256

    Returns
    -------
    ndarray of shape (n, 7), float32
        Rows sum to 1.
    """
    probabilities = teacher.predict(to_model_input(images), batch_size=batch_size, verbose=0)
    return np.asarray(probabilities, np.float32)


def soften(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """Raise probabilities' temperature: ``softmax(log(p) / T)``, row by row.

    ``T = 1`` leaves them as they are; ``T > 1`` spreads the mass over the runner-up
    classes, whose relative sizes are the "dark knowledge" distillation passes on.

    Parameters
    ----------
    probabilities : ndarray of shape (n, k)
        Rows of non-negative numbers that sum to 1.
    temperature : float
        Positive.

    Returns
    -------
    ndarray of shape (n, k), float32

    Raises
    ------
    ValueError
        For a temperature that is not positive.

    Examples
    --------
    >>> soften(np.array([[0.8, 0.2]]), 2.0).astype(float).round(3).tolist()
    [[0.667, 0.333]]
    """
    if not temperature > 0:
        raise ValueError(f"temperature must be positive; got {temperature}")
    logits = np.log(np.clip(np.asarray(probabilities, np.float64), 1e-12, None)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    softened = np.exp(logits)
    return (softened / softened.sum(axis=1, keepdims=True)).astype(np.float32)


def soft_targets(labels: np.ndarray, probabilities: np.ndarray, *, weight: float = 0.5,
                 temperature: float = 2.0) -> np.ndarray:
    """Blend one-hot labels with a teacher's softened probabilities: the student's targets.

    ``(1 - weight) * one_hot(labels) + weight * soften(probabilities, temperature)``.
    Keeping part of the hard label means a face the teacher gets wrong still
    pulls the student towards its true class.

    Parameters
    ----------
    labels : ndarray of shape (n,), int
        Emotion indices 0..6.
    probabilities : ndarray of shape (n, 7)
        The teacher's (:func:`teacher_probabilities`).
    weight : float, default 0.5
        Share of the teacher, in [0, 1] (0: the plain labels).
    temperature : float, default 2.0
        See :func:`soften`.

    Returns
    -------
    ndarray of shape (n, 7), float32
        Rows sum to 1; categorical cross-entropy accepts them as targets.

    Raises
    ------
    ValueError
        For a weight outside [0, 1], shapes that do not match, or a label out of range.

    Examples
    --------
    >>> soft_targets(np.array([0]), np.full((1, 7), 1 / 7), weight=0.3).astype(float).round(3).tolist()
    [[0.743, 0.043, 0.043, 0.043, 0.043, 0.043, 0.043]]
    """
    labels = np.asarray(labels)
    probabilities = np.asarray(probabilities)
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"the teacher's weight is a share in [0, 1]; got {weight}")
    if probabilities.shape != (len(labels), NUM_CLASSES):
        raise ValueError(f"need one row of {NUM_CLASSES} probabilities per label; "
                         f"got {probabilities.shape} for {len(labels)} labels")
    if len(labels) and not (labels.min() >= 0 and labels.max() < NUM_CLASSES):
        raise ValueError(f"labels must be emotion indices 0..{NUM_CLASSES - 1}")
    one_hot = np.eye(NUM_CLASSES, dtype=np.float32)[labels.astype(np.int64)]
    return ((1.0 - weight) * one_hot + weight * soften(probabilities, temperature)).astype(np.float32)


def evaluate_ensemble(paths: Sequence[str | os.PathLike], data: FER2013 | str | os.PathLike | None = None, *,
                      validation_fraction: float = 0.1, seed: int = 0, verbose: bool = True) -> dict:
    """Score models averaged together on the validation part and ``PublicTest`` of the official split.

    The split is the one :func:`fer_lib.train.train` carves with the same
    ``validation_fraction`` and ``seed`` (the defaults are the shipped runs'), so the
    numbers sit beside the members' own cards.

    Parameters
    ----------
    paths : sequence of str or path
        Saved fer_lib models (at least one).
    data : FER2013, path or None
        ``None``: :func:`fer_lib.data.load_default_data`.
    validation_fraction : float, default 0.1
    seed : int, default 0
    verbose : bool, default True
        Progress of data loading.

    Returns
    -------
    dict
        ``members`` (file name and SHA-256 of each), ``data_sha256``, ``validation_accuracy``,
        ``test_accuracy``, ``test_macro_f1`` and ``per_class_test_accuracy``.

    Raises
    ------
    ModelError
        For a missing or unreadable model file.
    """

    teacher, sha256 = load_teachers(paths)
    if not isinstance(data, FER2013):
        data = load_default_data(data, verbose=verbose)
    split = make_split(data, "official", validation_fraction=validation_fraction, seed=seed)
    validation = evaluate_accuracy(teacher, split.validation)
    test = evaluate_accuracy(teacher, split.test)
    return {
        "members": [{"file": Path(p).name, "sha256": s} for p, s in zip(paths, sha256)],
        "data_sha256": data.sha256,
        "validation_fraction": validation_fraction,
        "seed": seed,
        "validation_accuracy": validation["accuracy"],
        "test_accuracy": test["accuracy"],
        "test_macro_f1": test["macro_f1"],
        "per_class_test_accuracy": test["per_class"],
    }


def ensemble(members: list[keras.Model], *, name: str = "ensemble") -> keras.Model:
    """Average the probabilities of several models that take the same raw faces.

    Each member keeps its own test-time averaging (flip, ten crops), so members
    trained on whole faces and on crops can be averaged together. The teachers of
    :mod:`research.distillation`; too slow for the live loop, which is why they teach.

    Parameters
    ----------
    members : list of keras.Model
        Two or more fer_lib models with raw 48x48 faces in and probabilities out;
        their weights are shared, not copied.
    name : str, default "ensemble"

    Returns
    -------
    keras.Model
        Raw 48x48 faces in, the members' mean probabilities out, with no weights of its own.

    Raises
    ------
    ValueError
        For fewer than two members, or a member that does not take 48x48 faces.
    """
    if len(members) < 2:
        raise ValueError(f"an ensemble averages two or more models; got {len(members)}")
    for member in members:
        if tuple(member.input_shape[1:]) != IMAGE_SHAPE:
            raise ValueError(f"every member must take raw {IMAGE_SHAPE} faces; {member.name} takes "
                             f"{tuple(member.input_shape[1:])} (wrap a crop-trained network with with_crop_averaging)")
    inputs = keras.Input(shape=IMAGE_SHAPE, name="face")
    outputs = []
    for index, member in enumerate(members):
        # Members saved by train() share names ("fer_net_flip_tta"); a functional model needs distinct ones.
        outputs.append(keras.Model(member.input, member.output, name=f"member{index}_{member.name}")(inputs))
    return keras.Model(inputs, layers.Average(name="probabilities")(outputs), name=name)


class DistillationTargets:
    """The ``targets=`` hook of :func:`fer_lib.train.train` for a distilled run.

    The teachers' probabilities for the training faces are saved in the run's folder as
    ``teacher_probabilities-<teachers' fingerprint>.npy`` the first time, so a resumed run
    (or weight averaging on it) needs neither the teachers' files nor their time again.

    Parameters
    ----------
    teachers : sequence of paths
        Saved models (averaged when several); may be empty when the probabilities are saved.
    share : float, default 0.5
        The teachers' share of the targets, in [0, 1].
    temperature : float, default 2.0
        Softens the teachers' probabilities.
    sha256 : list of str, optional
        The teachers' SHA-256 (read from the files when not given: a resumed run passes its own).

    Raises
    ------
    ModelError
        For a share out of [0, 1] or a temperature that is not positive.
    """

    def __init__(self, teachers: Sequence[str | os.PathLike] = (), *, share: float = 0.5, temperature: float = 2.0,
                 sha256: list[str] | None = None):
        if not (0.0 <= share <= 1.0 and temperature > 0):
            raise ModelError(f"distillation is the teachers' share of the targets, in [0, 1], and temperature "
                             f"is positive; got distillation={share}, temperature={temperature}")
        self.teachers = list(teachers)
        self.sha256 = sha256 if sha256 is not None else teacher_sha256(self.teachers)
        #: What joins the run's identity (the keys earlier runs recorded).
        self.identity = {"teachers": self.sha256, "distillation": share, "temperature": temperature}

    def __call__(self, faces: FER2013, run_dir: Path) -> np.ndarray:
        """Soft targets for ``faces``, from the saved probabilities or the teachers scored now."""
        saved = Path(run_dir) / f"teacher_probabilities-{fingerprint(self.sha256)}.npy"
        if saved.is_file():
            probabilities = np.load(saved)
        else:
            if not self.teachers:
                raise ModelError(f"{run_dir} is a distilled run whose teachers' probabilities are not saved; "
                                 "pass the teacher model files again (--teacher).")
            teacher, sha256 = load_teachers(self.teachers)
            if sha256 != self.sha256:
                raise ModelError(f"the teacher files given ({', '.join(str(t) for t in self.teachers)}) are not "
                                 "the ones this run was started with; pass the same files in the same order.")
            print(f"scoring the training faces with {len(self.teachers)} teacher(s), once")
            probabilities = teacher_probabilities(teacher, faces.images)
            with atomic_target(saved) as partial:
                with open(partial, "wb") as handle:
                    np.save(handle, probabilities)
        if probabilities.shape != (len(faces), NUM_CLASSES):
            raise ModelError(f"{saved} holds {probabilities.shape[0]} faces' probabilities, not {len(faces)}; "
                             "delete it and pass the teacher files again.")
        return soft_targets(faces.labels, probabilities, weight=self.identity["distillation"],
                            temperature=self.identity["temperature"])

