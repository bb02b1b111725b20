"""Capture: your own faces saved as ``my_faces/<emotion>/<session>_<time>.png``, the crop the classifier sees."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from fer_lib.data._folders import IMAGE_SUFFIXES, emotion_label, my_faces_folder, save_face
from fer_lib.errors import DataError
from fer_lib.labels import EMOTIONS
from fer_lib.live._frames import crop_faces, to_gray
from fer_lib.live._loop import iter_analyzed

__all__ = ["FaceRecorder", "capture_faces", "face_counts"]


def face_counts(folder: str | os.PathLike | None = None) -> dict[str, int]:
    """Saved faces per emotion (English names, all seven) in ``folder`` (default :func:`my_faces_folder`)."""
    folder = Path(folder) if folder is not None else my_faces_folder()
    return {name: sum(1 for p in (folder / name.lower()).glob("*")
                      if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith("."))
            if (folder / name.lower()).is_dir() else 0 for name in EMOTIONS}


class FaceRecorder:
    """Saves the crop the classifier saw of each analysed frame with one face, a session per :meth:`start`.

    Into ``folder`` (default ``my_faces/``, created when needed), every ``every``-th single face: consecutive
    frames are nearly the same picture.
    """

    def __init__(self, folder: str | os.PathLike | None = None, *, every: int = 3) -> None:
        if int(every) < 1:
            raise DataError(f"every must be a positive number of frames; got {every!r}")
        self.folder = Path(folder) if folder is not None else None
        self.every = int(every)
        self._lock = threading.Lock()  # Record is pressed on the kernel's thread while frames arrive on another
        self.emotion, self.session, self.remaining, self.skipped, self.saved = None, None, 0, 0, []
        self._seen = 0

    @property
    def recording(self) -> bool:
        """Whether faces are still wanted in this session."""
        return self.remaining > 0

    def start(self, emotion: str, count: int) -> str:
        """Begin a session: the next ``count`` single faces are saved as ``emotion``; returns the session name."""
        english = EMOTIONS[emotion_label(emotion)]
        if int(count) < 1:
            raise DataError(f"count must be a positive number of faces; got {count!r}")
        with self._lock:
            self.session, self.skipped, self.saved, self._seen = time.strftime("%Y%m%d-%H%M%S"), 0, [], 0
            self.emotion, self.remaining = english, int(count)
        return self.session

    def stop(self) -> None:
        """End the session early."""
        self.remaining = 0

    def add(self, frame: np.ndarray, faces: list[dict]) -> Path | None:
        """Save the frame's face if it has exactly one and the session wants it; returns the file or None."""
        with self._lock:
            if not self.recording:
                return None
            if len(faces) != 1:
                self.skipped += 1
                return None
            self._seen += 1
            if (self._seen - 1) % self.every:
                return None
            crop = crop_faces(to_gray(frame), np.asarray([faces[0]["box"]]))[0]
            path = save_face(crop, self.emotion, self.session, folder=self.folder or my_faces_folder(create=True))
            self.saved.append(path)
            self.remaining -= 1
            return path


def capture_faces(source: Any, emotion: str, count: int, *, folder: str | os.PathLike | None = None,
                  every: int = 3, **loop_options: Any) -> FaceRecorder:
    """Record ``count`` faces of ``emotion`` from a source (``python -m fer_lib capture``).

    ``folder`` and ``every`` as for :class:`FaceRecorder`, ``loop_options`` for :func:`iter_analyzed`; returns
    the recorder, with its ``saved`` files, ``skipped`` frames and ``session``.
    """
    recorder = FaceRecorder(folder, every=every)
    recorder.start(emotion, count)
    with contextlib.closing(iter_analyzed(source, smooth=False, **loop_options)) as frames:
        for frame, faces in frames:
            recorder.add(frame, faces)
            if not recorder.recording:
                break
    return recorder
