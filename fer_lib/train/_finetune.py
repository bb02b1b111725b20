"""Fine-tuning a trained network on your own faces: transfer learning with the convolutional base frozen."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path, PurePosixPath

import keras
import numpy as np

from fer_lib._fileio import atomic_write_text
from fer_lib.data._container import FER2013, to_model_input
from fer_lib.data._folders import session_of
from fer_lib.errors import DataError
from fer_lib.evaluation import evaluate
from fer_lib.labels import EMOTIONS, NUM_CLASSES
from fer_lib.model._cards import machine_description
from fer_lib.train._augment import augment_batch
from fer_lib.train._loop import _all_layers
from fer_lib.train._runs import save_model
from fer_lib.train._seeding import set_seed

__all__ = ["FineTuneResult", "finetune", "split_by_session", "write_finetuned"]


def split_by_session(data: FER2013, *, fraction: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(train, held_out)`` into ``data``, split by recording session, never by frame.

    Frames of one recording are near-duplicates, so each emotion's last sessions hold out about ``fraction``
    of its faces; with one session, its last frames (record each emotion twice).

    Parameters
    ----------
    data : FER2013
        With ``files`` named ``<emotion>/<session>_<time>.png`` (:func:`fer_lib.data.load_image_folder`).
    fraction : float
    """
    if data.files is None:
        raise DataError("fine-tuning splits by recording session: load the faces with load_image_folder")
    train, held_out = [], []
    for label in np.unique(data.labels):
        index = np.flatnonzero(data.labels == label)
        index = index[np.argsort([PurePosixPath(f).name for f in data.files[index]], kind="stable")]
        sessions = [session_of(f) for f in data.files[index]]  # in time order: session, then time
        starts = {name: sessions.index(name) for name in dict.fromkeys(sessions)}
        cut = len(index) - max(1, round(fraction * len(index))) if len(index) > 1 else len(index)
        if len(starts) > 1:  # whole sessions, the last ones, as near the share as sessions allow; never the first
            cut = min(list(starts.values())[1:], key=lambda start: abs(start - cut))
        train.extend(index[:cut])
        held_out.extend(index[cut:])
    return np.sort(np.asarray(train, int)), np.sort(np.asarray(held_out, int))


@dataclasses.dataclass
class FineTuneResult:
    """What :func:`finetune` made and measured: the ``emotions`` it was trained on (those with faces),
    ``accuracy`` (``held_out_before``, ``held_out_after``, ``train_after``, and ``reference_after`` given a
    reference), ``sizes`` (faces trained on and held out) and ``seconds`` spent fitting."""

    model: keras.Model
    emotions: list[str]
    accuracy: dict[str, float]
    sizes: dict[str, int]
    seconds: float


def finetune(model: keras.Model, data: FER2013, *, epochs: int = 10, unfreeze_epochs: int = 10,
             learning_rate: float = 1e-2, batch_size: int = 32, fraction: float = 0.3, seed: int = 0,
             reference: FER2013 | None = None, split: tuple | None = None,
             verbose: int | str = 0) -> FineTuneResult:
    """Fine-tune a trained network on a few faces: the convolutional base frozen while the head is trained.

    Only the head (the layers after the last pooling) learns; batch normalisation stays frozen. Emotions
    without faces can only lose accuracy: ``reference`` measures that.

    Parameters
    ----------
    model : keras.Model
        A trained fer_lib network (raw 0..255 faces in, seven probabilities out); it is changed in place.
    data : FER2013
        Your faces, from :func:`fer_lib.data.load_image_folder` (their file names give the sessions).
    epochs, unfreeze_epochs : int
        Epochs of the head alone, then with the last convolutional block unfrozen too (0: the head only).
    learning_rate : float
        Of the head; the unfrozen block trains at a tenth of it.
    batch_size : int
    fraction : float
        Share of each emotion's faces held out, by session (:func:`split_by_session`).
    seed : int
        Seeds the batch order and the augmentation (TensorFlow's threads still vary results by a point or two).
    reference : FER2013, optional
        Faces to score after fine-tuning too (FER2013 ``PublicTest``: what was forgotten).
    split : tuple of two index arrays, optional
        ``(train, held_out)`` instead of :func:`split_by_session` (to see what a random split would report).
    verbose : int or "auto" (Keras' progress output)

    Examples
    --------
    >>> result = finetune(load_saved_model(DEFAULT_KERAS_PATH), load_image_folder("my_faces"))  # doctest: +SKIP
    >>> result.accuracy["held_out_before"], result.accuracy["held_out_after"]   # doctest: +SKIP
    """
    train_index, held_index = split if split is not None else split_by_session(data, fraction=fraction)
    if len(train_index) == 0 or len(held_index) == 0:
        raise DataError(f"{data.source}: {len(data)} face(s) are too few to fine-tune and still hold some out; "
                        "record at least two faces of an emotion (better: two sessions of 20-30)")
    train_part, held = data.subset(train_index), data.subset(held_index)
    accuracy = {"held_out_before": evaluate(model, held).accuracy}
    layers = [layer for layer in _all_layers(model)  # the computing layers, nested models opened
              if not hasattr(layer, "layers") and not isinstance(layer, keras.layers.InputLayer)]
    pools = [i for i, layer in enumerate(layers) if "pool" in type(layer).__name__.lower()]
    if len(pools) < 2:
        raise DataError("fine-tuning needs a network with pooling layers between its blocks (fer_net, seed_cnn)")
    head, last_block = pools[-1] + 1, pools[-2] + 1
    set_seed(seed)
    rng = np.random.default_rng(seed)
    targets = np.eye(NUM_CLASSES, dtype=np.float32)[train_part.labels]
    start = time.perf_counter()
    for first_trainable, rate, rounds in ((head, learning_rate, epochs),
                                          (last_block, learning_rate / 10, unfreeze_epochs)):
        if rounds == 0:
            continue
        for i, layer in enumerate(layers):
            layer.trainable = i >= first_trainable and not isinstance(layer, keras.layers.BatchNormalization)
        model.compile(optimizer=keras.optimizers.Adam(rate), loss="categorical_crossentropy", metrics=["accuracy"])
        for _ in range(rounds):  # a new augmentation of every face each epoch
            faces = to_model_input(augment_batch(train_part.images, rng, max_rotation=8, max_shift=0.06))
            model.fit(faces, targets, batch_size=batch_size, epochs=1, shuffle=True, verbose=verbose)
    for layer in layers:
        layer.trainable = True
    seconds = time.perf_counter() - start
    accuracy["held_out_after"] = evaluate(model, held).accuracy
    accuracy["train_after"] = evaluate(model, train_part).accuracy
    if reference is not None:
        accuracy["reference_after"] = evaluate(model, reference).accuracy
    emotions = [EMOTIONS[label] for label in np.unique(train_part.labels)]
    return FineTuneResult(model, emotions, accuracy, {"train": len(train_part), "held_out": len(held)},
                          round(seconds, 1))


def write_finetuned(result: FineTuneResult, data: FER2013, output: str | Path, *, base: str | Path) -> Path:
    """Save the fine-tuned model and its card (``.json`` beside it: what it learned from, what it scored).

    Parameters
    ----------
    result : FineTuneResult
    data : FER2013
        The faces it was fine-tuned on.
    output, base : str or path
        The ``.keras`` file to write; the model it started from.
    """
    output = Path(output)
    save_model(result.model, output)
    card = {"name": output.stem, "finetuned_from": Path(base).name, "emotions": result.emotions,
            "data": {"folder": Path(data.source).name, "sha256": data.sha256, "faces": len(data),
                     "skipped_photos": data.skipped},
            "split": {"protocol": "by recording session", "sizes": result.sizes},
            "accuracy": result.accuracy, "seconds": result.seconds, "machine": machine_description()}
    atomic_write_text(output.with_suffix(".json"), json.dumps(card, indent=2) + "\n")
    return output
