"""Scoring face detectors on the same frames: faces found, hits against hand-drawn boxes (one to one: a box
on the background must not stand in for a missed face), time."""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from fer_lib.live._frames import box_iou
from fer_lib.errors import DataError

__all__ = ["DEMO_CLIP", "read_reference_boxes", "score_detectors"]

_ASSETS = Path(__file__).resolve().parents[2] / "assets"
#: The project's demo clip, and its hand-drawn faces.
DEMO_CLIP: Path = _ASSETS / "white_house_clip.mp4"
DEMO_CLIP_FACES: Path = _ASSETS / "white_house_clip.faces.csv"

#: Smallest overlap (intersection over union) that makes a found box a hit.
MIN_IOU = 0.3

Box = Sequence[float]


def match_boxes(found: Sequence[Box], references: Sequence[Box], *, min_iou: float = MIN_IOU) -> int:
    """How many reference boxes a found box matches (IoU >= ``min_iou``), one to one, best overlaps first."""
    pairs = sorted(((box_iou(box, reference), i, j) for i, box in enumerate(found)
                    for j, reference in enumerate(references)), reverse=True)
    used_found, used_references = set(), set()
    for overlap, i, j in pairs:
        if overlap >= min_iou and i not in used_found and j not in used_references:
            used_found.add(i)
            used_references.add(j)
    return len(used_references)


def read_reference_boxes(path: str | os.PathLike = DEMO_CLIP_FACES,
                         ) -> dict[int, list[tuple[int, int, int, int]]]:
    """Hand-drawn face boxes, ``{frame: [(x, y, w, h), ...]}`` in file order, from a ``frame,x,y,w,h`` CSV.

    Parameters
    ----------
    path : str or Path, default :data:`DEMO_CLIP_FACES`
        One row per face; a frame without a face has one row with empty ``x, y, w, h``.

    Raises
    ------
    DataError
        If a column is missing or a box is not four positive integers (the message names the line).
    """
    path = Path(path)
    table = pd.read_csv(path, dtype=str, keep_default_na=False, comment="#")
    missing = {"frame", "x", "y", "w", "h"} - set(table.columns)
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(sorted(missing))}; expected frame,x,y,w,h")
    boxes: dict[int, list[tuple[int, int, int, int]]] = {}
    for row_number, row in enumerate(table.itertuples(index=False), start=2):
        try:
            faces = boxes.setdefault(int(row.frame), [])
            values = (row.x, row.y, row.w, row.h)
            if all(value == "" for value in values):
                continue
            box = tuple(int(value) for value in values)
        except ValueError as exc:
            raise DataError(f"{path}: line {row_number} is not frame,x,y,w,h integers ({exc})") from exc
        if box[2] <= 0 or box[3] <= 0:
            raise DataError(f"{path}: line {row_number} has an empty box {box}")
        faces.append(box)
    return boxes


def score_detectors(detectors: Mapping[str, object], frames: Sequence[np.ndarray],
                    references: Sequence[Sequence[Box]] | None = None, *,
                    min_iou: float = MIN_IOU) -> pd.DataFrame:
    """Run each detector on the same frames: faces found, hits and false boxes, milliseconds a frame.

    One row per detector: ``frames``, ``frames with a face``, ``boxes``, ``ms a frame`` (median), and with
    references ``faces``, ``hits``, ``recall`` and ``false boxes``.

    Parameters
    ----------
    detectors : mapping of str to detector
        Name to anything with ``detect(frame) -> (n, 4) boxes``.
    frames : sequence of ndarray
    references : sequence of sequences of (x, y, w, h), optional
        Each frame's hand-drawn faces; without them only counts and times are given.
    min_iou : float, default 0.3
    """
    if references is not None and len(references) != len(frames):
        raise ValueError(f"references must give the faces of each of the {len(frames)} frames; "
                         f"got {len(references)}")
    rows = []
    for name, detector in detectors.items():
        detector.detect(frames[0])  # warm-up: allocations and caches are not part of the time
        times, found = [], []
        for frame in frames:
            start = time.perf_counter()
            found.append(np.asarray(detector.detect(frame)).tolist())
            times.append(1000 * (time.perf_counter() - start))
        row = {"detector": name, "frames": len(frames), "frames with a face": sum(map(bool, found)),
               "boxes": sum(len(boxes) for boxes in found), "ms a frame": round(statistics.median(times), 1)}
        if references is not None:
            hits = sum(match_boxes(boxes, faces, min_iou=min_iou) for boxes, faces in zip(found, references))
            faces = sum(len(faces) for faces in references)
            recall = round(hits / faces, 3) if faces else float("nan")
            row.update({"faces": faces, "hits": hits, "recall": recall, "false boxes": row["boxes"] - hits})
        rows.append(row)
    return pd.DataFrame(rows).set_index("detector")
