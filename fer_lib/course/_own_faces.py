"""A stand-in for your own faces, for machines without a camera (and for papermill and nbval)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np

from fer_lib.data import synthetic_fer2013
from fer_lib.data._folders import save_face
from fer_lib.labels import EMOTIONS

__all__ = ["write_stand_in_faces"]


def write_stand_in_faces(folder: str | os.PathLike, *, sessions: int = 3, per_session: int = 10,
                         seed: int = 0) -> Path:
    """Write drawn faces as if recorded, ``<folder>/<emotion>/<session>_<time>.png``; returns ``folder``.

    Cartoon faces (:func:`fer_lib.data.synthetic_fer2013`), which the shipped model never saw, so fine-tuning
    on them shows a real gain: the mechanics, not personalisation.

    Parameters
    ----------
    folder : str or path-like
        Where the emotion folders go (created; a stand-in already there is replaced).
    sessions, per_session : int, default 3 and 10
        Recording sessions per emotion, and faces per emotion and session.
    seed : int, default 0
    """
    folder = Path(folder)
    marker = folder / ".fer_lib_stand_in"
    if marker.is_file():  # a stand-in written before: replaced, so that a rerun does not add a second copy
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    marker.write_text("faces drawn by fer_lib.course.write_stand_in_faces\n")
    for session in range(sessions):
        faces = synthetic_fer2013(len(EMOTIONS) * per_session * 3, seed=seed * 1000 + session)
        for label, emotion in enumerate(EMOTIONS):
            for face in faces.images[np.flatnonzero(faces.labels == label)[:per_session]]:
                save_face(face, emotion, f"202601{session + 1:02d}-1000", folder=folder)
    return folder
