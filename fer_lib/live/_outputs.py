"""What ``python -m fer_lib predict`` writes: annotated images and videos, CSV/JSON reports.

Every file is written atomically (a temporary file in the same folder, then ``os.replace``), so a failure
or Ctrl+C never leaves a half-written file. Inputs are expanded with :mod:`fer_lib.live._sources`' own
rules, so a path means the same thing to ``predict`` as to :func:`~fer_lib.live.open_source`.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
from pathlib import Path
from typing import Iterator, Sequence, Union

import cv2
import numpy as np

from fer_lib.errors import FerError, SourceError
from fer_lib._fileio import atomic_target
from fer_lib.labels import EMOTIONS
from fer_lib.quiet import hidden_startup_lines
from fer_lib.live._sources import IMAGE_EXTENSIONS, image_files, source_kind

__all__ = [
    "VIDEO_OUTPUT_SUFFIXES",
    "VIDEO_INPUT_SUFFIXES",
    "report_format_of",
    "REPORT_FORMATS",
    "expand_inputs",
    "output_targets",
    "AnnotatedImageWriter",
    "AnnotatedVideoWriter",
    "annotated_writer",
    "video_fps",
    "report_rows",
    "track_summary",
    "format_report",
    "write_report",
]

#: Suffixes accepted for an annotated video: WebM (VP8, which browsers and notebooks play; the default), or the
#: ``mp4v`` codec in the others (OpenCV's wheels carry no H.264 encoder).
VIDEO_OUTPUT_SUFFIXES: tuple[str, ...] = (".webm", ".mp4", ".m4v", ".mov", ".avi")
#: Suffixes ``predict`` reads as videos (OpenCV's FFmpeg backend reads many more; these are the common ones).
VIDEO_INPUT_SUFFIXES: frozenset[str] = frozenset(
    {".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".flv", ".3gp", ".3g2", ".ts", ".mts",
     ".m2ts", ".ogv", ".vob", ".mxf", ".asf", ".dv", ".f4v", ".divx", ".mjpeg", ".mjpg", ".y4m", ".gif"}
)

#: Report formats: one row per face as CSV (flat columns), or JSON: {"faces": [rows], "tracks": [a line per tracked face]}.
REPORT_FORMATS: tuple[str, ...] = ("csv", "json")


# --------------------------------------------------------------------------------------
# Inputs and where their annotated copies go
# --------------------------------------------------------------------------------------


def expand_inputs(paths: Sequence[str], *, problems: list[tuple[str, str]] | None = None) -> list[tuple[str, str]]:
    """Files to analyse: ``(source, kind)`` per image or video, folders replaced by their images; a bad input
    (missing, an empty folder, not media) raises SourceError, or joins ``problems`` as ``(input, why)``."""
    items: list[tuple[str, str]] = []
    for text in dict.fromkeys(paths):  # an input named twice is analysed once
        try:
            items.extend(_expand(text))
        except SourceError as exc:
            if problems is None:
                raise
            problems.append((text, str(exc)))
    return items


def _expand(text: str) -> list[tuple[str, str]]:
    kind = source_kind(text)
    if kind in ("missing", "camera"):
        raise SourceError(f"{text} does not exist (looked from {Path.cwd()}); check the path")
    if kind == "folder":
        images = image_files(text)
        if not images:
            raise SourceError(f"folder {text} holds no images ({', '.join(sorted(IMAGE_EXTENSIONS))}); "
                              "pass image files, a folder of images or a video")
        return [(str(image), "image") for image in images]
    if kind == "video" and "://" not in text and Path(text).suffix.lower() not in VIDEO_INPUT_SUFFIXES:
        raise SourceError(f"{text} is not an image or a video: images are {', '.join(sorted(IMAGE_EXTENSIONS))}; "
                          f"videos are {', '.join(sorted(VIDEO_INPUT_SUFFIXES))}")
    return [(text, "image" if kind == "image" else "video")]


def output_targets(items: Sequence[tuple[str, str]], output: str | os.PathLike | None) -> list[Path | None]:
    """Where each input's annotated copy goes: one file, or a folder of ``NAME_annotated.EXT``."""
    if output is None:
        return [None] * len(items)
    target = Path(output)
    if not target.is_dir() and len(items) > 1 and target.suffix:
        raise FerError(f"--output {target}: {len(items)} inputs need a folder for their annotated copies; "
                       "give a folder name (without a suffix), or one input")
    if not target.is_dir() and len(items) == 1 and target.suffix:
        source, kind = items[0]
        allowed = VIDEO_OUTPUT_SUFFIXES if kind == "video" else tuple(sorted(IMAGE_EXTENSIONS))
        if target.suffix.lower() not in allowed:
            raise FerError(
                f"--output {target}: an annotated {kind} needs one of the suffixes {', '.join(allowed)}; "
                f"got {target.suffix!r} (or give a folder)"
            )
        return [target]  # its folder is created when the file is written, as --report's is
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FerError(f"--output {target}: cannot create this folder ({exc.strerror})") from exc
    targets: list[Path | None] = []
    used: set[str] = set()
    for source, kind in items:
        name = Path(source.split("://")[-1]).stem or "stream"
        suffix = ".webm" if kind == "video" else Path(source).suffix.lower()
        candidate, number = f"{name}_annotated{suffix}", 1
        while candidate in used:
            number += 1
            candidate = f"{name}_annotated_{number}{suffix}"
        used.add(candidate)
        targets.append(target / candidate)
    return targets


# --------------------------------------------------------------------------------------
# Annotated images and videos
# --------------------------------------------------------------------------------------


class AnnotatedImageWriter:
    """Writes the (last) annotated frame of an image input to ``path``, encoded by ``target``'s suffix."""

    def __init__(self, path: Path, target: Path) -> None:
        self.path, self.target = Path(path), Path(target)

    def write(self, image: np.ndarray) -> None:
        """Encode and write a BGR uint8 image (replacing an earlier one)."""
        ok, encoded = cv2.imencode(self.target.suffix, image)
        if not ok:
            raise FerError(f"cannot encode the annotated image as {self.target.suffix} for {self.target}")
        self.path.write_bytes(encoded.tobytes())

    def close(self) -> None:
        """Nothing to release (kept so both writers close alike)."""


class AnnotatedVideoWriter:
    """Writes annotated frames to the video ``path`` (VP8 for .webm, else mp4v), opened at the first frame."""

    def __init__(self, path: Path, target: Path, fps: float) -> None:
        self.path, self.target, self.fps = Path(path), Path(target), float(fps)
        self.writer = None
        self.size: tuple[int, int] | None = None

    def write(self, image: np.ndarray) -> None:
        """Append a BGR uint8 frame; a frame of another size is resized to the first frame's."""
        if self.writer is None:
            self.size = (image.shape[1], image.shape[0])
            codec = "VP80" if self.target.suffix.lower() == ".webm" else "mp4v"
            with hidden_startup_lines():  # FFmpeg's notice about the WebM tag
                self.writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*codec), self.fps, self.size)
            if not self.writer.isOpened():
                raise FerError(
                    f"cannot write video {self.target}: OpenCV has no {codec} encoder for {self.target.suffix} "
                    "here; try a .webm or .mp4 name"
                )
        if (image.shape[1], image.shape[0]) != self.size:  # a stream changed size: keep the first size
            image = cv2.resize(image, self.size, interpolation=cv2.INTER_AREA)
        self.writer.write(image)

    def close(self) -> None:
        """Finish the video file (safe to call twice)."""
        if self.writer is not None:
            self.writer.release()
            self.writer = None


_AnnotatedWriter = Union[AnnotatedImageWriter, AnnotatedVideoWriter]


@contextlib.contextmanager
def annotated_writer(target: str | os.PathLike, kind: str, *, fps: float = 25.0) -> Iterator[_AnnotatedWriter]:
    """A writer of annotated frames for ``target``, which appears whole when the block succeeds."""
    if kind not in ("image", "video"):
        raise ValueError(f"kind must be 'image' or 'video'; got {kind!r}")
    target = Path(target)
    with atomic_target(target) as temporary:
        writer: _AnnotatedWriter = (
            AnnotatedVideoWriter(temporary, target, fps) if kind == "video" else AnnotatedImageWriter(temporary, target)
        )
        try:
            yield writer
        finally:
            writer.close()


def video_fps(source: str | os.PathLike, default: float = 25.0) -> float:
    """Frames per second of a video file or stream (``default`` when OpenCV does not know)."""
    capture = cv2.VideoCapture(os.fspath(source))
    try:
        fps = capture.get(cv2.CAP_PROP_FPS) if capture.isOpened() else 0.0
    finally:
        capture.release()
    return float(fps) if math.isfinite(fps) and 0 < fps <= 240 else default


# --------------------------------------------------------------------------------------
# Reports
# --------------------------------------------------------------------------------------


def report_rows(source: str, frame_index: int, faces: Sequence[dict], *, fps: float | None = None) -> list[dict]:
    """One report row per face of a frame: with ``fps`` (a video's) its ``time`` in seconds, and the face's
    ``track`` (the number the smoother gives the face it follows from frame to frame) when it has one."""
    rows = []
    for face_index, face in enumerate(faces):
        probabilities = face["probabilities"]
        rows.append({
            "source": source,
            "frame": frame_index,
            "time": None if fps is None else round(frame_index / fps, 3),
            "face": face_index,
            "track": face.get("track"),
            "box": [int(v) for v in face["box"]],
            "emotion": face["emotion"],
            "confidence": round(float(probabilities[EMOTIONS.index(face["emotion"])]), 6),
            "probabilities": {name: round(float(p), 6) for name, p in zip(EMOTIONS, probabilities)},
        })
    return rows


def track_summary(rows: Sequence[dict]) -> list[dict]:
    """Per tracked face of each source: first and last time (or frame) seen, frames, the emotion most often shown.

    Ties between emotions go to the one shown first.
    """
    tracks: dict[tuple[str, int], list[dict]] = {}
    for row in rows:
        if row.get("track") is not None:
            tracks.setdefault((row["source"], row["track"]), []).append(row)
    summary = []
    for (source, track), seen in tracks.items():
        counts: dict[str, int] = {}
        for row in seen:
            counts[row["emotion"]] = counts.get(row["emotion"], 0) + 1
        summary.append({
            "source": source, "track": track, "first_frame": seen[0]["frame"], "last_frame": seen[-1]["frame"],
            "first_time": seen[0]["time"], "last_time": seen[-1]["time"], "frames": len(seen),
            "emotion": max(counts, key=counts.get),  # max keeps the first of equal counts
        })
    return summary


def format_report(rows: Sequence[dict], report_format: str) -> str:
    """Report rows as CSV (one column per box side and per emotion) or JSON text.

    JSON is ``{"faces": rows, "tracks": track_summary(rows)}``: every face, and a line per tracked face.
    """
    if report_format == "json":
        return json.dumps({"faces": list(rows), "tracks": track_summary(rows)}, indent=1) + "\n"
    if report_format != "csv":
        raise ValueError(f"report_format must be one of {', '.join(REPORT_FORMATS)}; got {report_format!r}")
    buffer = io.StringIO()
    columns = ["source", "frame", "time", "face", "track", "x", "y", "w", "h", "emotion", "confidence", *EMOTIONS]
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        flat = {key: row.get(key) for key in ("source", "frame", "time", "face", "track", "emotion", "confidence")}
        flat.update(zip("xywh", row["box"]))
        flat.update(row["probabilities"])
        writer.writerow(flat)
    return buffer.getvalue()


def report_format_of(path: str | os.PathLike, report_format: str | None = None) -> str:
    """The format a report file is written in: ``report_format``, or from the suffix (``.csv``, ``.json``);
    :class:`FerError` for a suffix that names another format (``.xlsx``), or none with no format given."""
    suffix = Path(path).suffix.lower()
    if suffix in (".csv", ".json") and report_format not in (None, suffix[1:]):
        raise FerError(f"--report {path}: the suffix says {suffix[1:]} but --format says {report_format}")
    if suffix in (".csv", ".json"):
        return suffix[1:]
    if report_format is not None and suffix in ("", ".txt"):
        return report_format
    raise FerError(f"--report {path}: reports are written as {' or '.join(REPORT_FORMATS)}; "
                   f"name the file .csv or .json")


def write_report(rows: Sequence[dict], path: str | os.PathLike, *, report_format: str | None = None) -> Path:
    """Write report rows to ``path`` atomically, as CSV or JSON (its folder is created if missing)."""
    path = Path(path)
    text = format_report(rows, report_format_of(path, report_format))
    with atomic_target(path) as temporary:
        temporary.write_text(text, encoding="utf-8")
    return path
