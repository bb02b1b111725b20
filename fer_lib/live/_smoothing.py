"""Probabilities smoothed over frames, so that a face's label does not flicker."""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Sequence

import numpy as np

from fer_lib.live._frames import box_iou, face_record

__all__ = ["ProbabilitySmoother"]


def _centre_distance(a, b) -> float:
    """Distance between box centres, in units of the largest box side."""
    dx = (a[0] + a[2] / 2) - (b[0] + b[2] / 2)
    dy = (a[1] + a[3] / 2) - (b[1] + b[3] / 2)
    return float(np.hypot(dx, dy)) / max(a[2], a[3], b[2], b[3], 1)


class ProbabilitySmoother:
    """Average each face's probabilities over its last ``window`` frames, so labels don't flicker.

    Faces are matched to earlier ones by box overlap, else centre distance; each returned record carries
    ``"track"``, the number of the face it follows (0 for the first one seen).

    Parameters
    ----------
    window : int, default 5
        Frames averaged per face (1 = no smoothing).
    min_iou : float, default 0.3
        Boxes overlapping at least this much are the same face.
    max_centre_distance : float, default 0.5
        Otherwise, centres closer than this many (larger) box sides are the same face.
    max_missed : int, default 2
        Frames a face may go undetected before it is forgotten.
    """

    def __init__(self, window: int = 5, *, min_iou: float = 0.3, max_centre_distance: float = 0.5,
                 max_missed: int = 2) -> None:
        if int(window) != window or window < 1:
            raise ValueError(f"window must be a positive integer; got {window!r}")
        self.window, self.max_missed = int(window), int(max_missed)
        self.min_iou, self.max_centre_distance = float(min_iou), float(max_centre_distance)
        self.reset()

    def reset(self) -> None:
        """Forget every face (e.g. at a scene cut or a new source); track numbers start again at 0."""
        self._tracks: list[dict] = []
        self._ids = itertools.count()

    def update(self, faces: Sequence[dict]) -> list[dict]:
        """Smoothed copies of this frame's records (same order and keys, plus ``"track"``).

        Parameters
        ----------
        faces : sequence of dict
        """
        pairs = sorted((-box_iou(face["box"], old["box"]), _centre_distance(face["box"], old["box"]), i, j)
                       for i, face in enumerate(faces) for j, old in enumerate(self._tracks))
        matched: dict[int, int] = {}  # face index -> track index, best overlaps first
        for negative_iou, distance, face_index, track_index in pairs:
            near = -negative_iou >= self.min_iou or distance <= self.max_centre_distance
            if near and face_index not in matched and track_index not in matched.values():
                matched[face_index] = track_index
        tracks, smoothed = [], []
        for face_index, face in enumerate(faces):
            if face_index in matched:
                track = self._tracks[matched[face_index]]
            else:  # a face not seen before: a new track, numbered in order of appearance
                track = {"history": deque(maxlen=self.window), "id": next(self._ids)}
            track.update(box=tuple(face["box"]), missed=0)
            track["history"].append(np.asarray(face["probabilities"], np.float64))
            tracks.append(track)
            record = face_record(face["box"], np.mean(track["history"], axis=0))
            smoothed.append({**record, "track": track["id"]})
        for track_index, track in enumerate(self._tracks):
            if track_index not in matched.values() and track["missed"] < self.max_missed:
                track["missed"] += 1
                tracks.append(track)
        self._tracks = tracks
        return smoothed

    __call__ = update
