"""What ``python -m fer_lib predict`` writes, atomically: annotated images and videos, CSV/JSON reports."""

from __future__ import annotations

import collections
import contextlib
import csv
import io
import json
import math
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np

from fer_lib._fileio import atomic_target, atomic_write_text
from fer_lib.errors import FerError, SourceError
from fer_lib.labels import EMOTIONS
from fer_lib.live._sources import IMAGE_EXTENSIONS, folder_images, source_kind
from fer_lib.quiet import hidden_startup_lines

__all__ = ["REPORT_FORMATS", "VIDEO_INPUT_SUFFIXES", "VIDEO_OUTPUT_SUFFIXES", "AnnotatedWriter",
           "annotated_writer", "expand_inputs", "format_report", "output_targets", "report_format_of",
           "report_rows", "track_summary", "video_fps", "write_report"]

#: Suffixes of an annotated video: WebM (VP8, which browsers play; the default), else the ``mp4v`` codec.
VIDEO_OUTPUT_SUFFIXES: tuple[str, ...] = (".webm", ".mp4", ".m4v", ".mov", ".avi")
#: Suffixes ``predict`` reads as videos (the common ones OpenCV's FFmpeg backend reads).
VIDEO_INPUT_SUFFIXES: frozenset[str] = frozenset(
    ".mp4 .m4v .mov .avi .mkv .webm .mpg .mpeg .wmv .flv .3gp .3g2 .ts .mts .m2ts .ogv .vob .mxf .asf .dv "
    ".f4v .divx .mjpeg .mjpg .y4m .gif".split())
REPORT_FORMATS: tuple[str, ...] = ("csv", "json")


def expand_inputs(paths: Sequence[str], *,
                  problems: list[tuple[str, str]] | None = None) -> list[tuple[str, str]]:
    """``(source, kind)`` per image or video, folders expanded; a bad input raises or joins ``problems``."""
    items: list[tuple[str, str]] = []
    for text in dict.fromkeys(paths):  # an input named twice is analysed once
        kind = source_kind(text)
        try:
            if kind in ("missing", "camera"):
                raise SourceError(f"{text} does not exist (looked from {Path.cwd()}); check the path")
            if kind == "video" and Path(text).suffix.lower() not in VIDEO_INPUT_SUFFIXES:
                images, videos = (", ".join(sorted(k)) for k in (IMAGE_EXTENSIONS, VIDEO_INPUT_SUFFIXES))
                raise SourceError(f"{text} is not an image or a video: images are {images}; videos are "
                                  f"{videos}")
            items.extend([(str(image), "image") for image in folder_images(text)] if kind == "folder"
                         else [(text, "image" if kind == "image" else "video")])
        except SourceError as exc:
            if problems is None:
                raise
            problems.append((text, str(exc)))
    return items


def output_targets(items: Sequence[tuple[str, str]], output: str | os.PathLike | None) -> list[Path | None]:
    """Where each input's annotated copy goes: one file, or a folder of ``NAME_annotated.EXT``."""
    if output is None:
        return [None] * len(items)
    target = Path(output)
    if target.suffix and not target.is_dir() and items:  # one file; its folder is created when it is written
        if len(items) > 1:
            raise FerError(f"--output {target}: {len(items)} inputs need a folder for their annotated "
                           "copies; give a folder name (without a suffix), or one input")
        kind = items[0][1]
        allowed = VIDEO_OUTPUT_SUFFIXES if kind == "video" else tuple(sorted(IMAGE_EXTENSIONS))
        if target.suffix.lower() not in allowed:
            raise FerError(f"--output {target}: an annotated {kind} needs one of the suffixes "
                           f"{', '.join(allowed)}; got {target.suffix!r} (or give a folder)")
        return [target]
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FerError(f"--output {target}: cannot create this folder ({exc.strerror})") from exc
    targets: list[Path | None] = []
    for source, kind in items:
        name = Path(source.split("://")[-1]).stem or "stream"
        suffix = ".webm" if kind == "video" else Path(source).suffix.lower()
        candidate, number = f"{name}_annotated{suffix}", 1
        while target / candidate in targets:
            number += 1
            candidate = f"{name}_annotated_{number}{suffix}"
        targets.append(target / candidate)
    return targets


class AnnotatedWriter:
    """Writes annotated frames to ``path``: an image (the last frame) or a video at the first frame's size."""

    def __init__(self, path: Path, target: Path, kind: str, fps: float) -> None:
        self.path, self.target, self.kind, self.fps = Path(path), Path(target), kind, float(fps)
        self.writer = None
        self.size: tuple[int, int] | None = None

    def write(self, image: np.ndarray) -> None:
        """Write an image (replacing an earlier one) or append a video frame."""
        if self.kind == "image":
            ok, encoded = cv2.imencode(self.target.suffix, image)
            if not ok:
                raise FerError(f"cannot encode the annotated image as {self.target.suffix} for {self.target}")
            self.path.write_bytes(encoded.tobytes())
            return
        if self.writer is None:
            self.size = (image.shape[1], image.shape[0])
            codec = "VP80" if self.target.suffix.lower() == ".webm" else "mp4v"
            with hidden_startup_lines():  # FFmpeg's notice about the WebM tag
                fourcc = cv2.VideoWriter_fourcc(*codec)
                self.writer = cv2.VideoWriter(str(self.path), fourcc, self.fps, self.size)
            if not self.writer.isOpened():
                raise FerError(f"cannot write video {self.target}: OpenCV has no {codec} encoder for "
                               f"{self.target.suffix} here; try a .webm or .mp4 name")
        if (image.shape[1], image.shape[0]) != self.size:  # a stream changed size: keep the first size
            image = cv2.resize(image, self.size, interpolation=cv2.INTER_AREA)
        self.writer.write(image)

    def close(self) -> None:
        """Finish a video file (safe to call twice)."""
        if self.writer is not None:
            self.writer.release()
            self.writer = None


@contextlib.contextmanager
def annotated_writer(target: str | os.PathLike, kind: str, *, fps: float = 25.0) -> Iterator[AnnotatedWriter]:
    """A writer of annotated frames for ``target``, which appears whole when the block succeeds."""
    if kind not in ("image", "video"):
        raise ValueError(f"kind must be 'image' or 'video'; got {kind!r}")
    with atomic_target(Path(target)) as temporary:
        writer = AnnotatedWriter(temporary, Path(target), kind, fps)
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


def report_rows(source: str, frame_index: int, faces: Sequence[dict], *,
                fps: float | None = None) -> list[dict]:
    """One report row per face of a frame (``time`` in seconds given a video's ``fps``)."""
    seconds = None if fps is None else round(frame_index / fps, 3)
    rows = []
    for index, face in enumerate(faces):
        probabilities = {name: round(float(p), 6) for name, p in zip(EMOTIONS, face["probabilities"])}
        rows.append({"source": source, "frame": frame_index, "time": seconds, "face": index,
                     "track": face.get("track"), "box": [int(v) for v in face["box"]],
                     "emotion": face["emotion"], "confidence": probabilities[face["emotion"]],
                     "probabilities": probabilities})
    return rows


def track_summary(rows: Sequence[dict]) -> list[dict]:
    """One line per tracked face of each source: when it was seen and its most frequent emotion."""
    tracks: dict[tuple[str, int], list[dict]] = {}
    for row in rows:
        if row.get("track") is not None:
            tracks.setdefault((row["source"], row["track"]), []).append(row)
    return [{
        "source": source, "track": track, "first_frame": seen[0]["frame"], "last_frame": seen[-1]["frame"],
        "first_time": seen[0]["time"], "last_time": seen[-1]["time"], "frames": len(seen),
        "emotion": collections.Counter(row["emotion"] for row in seen).most_common(1)[0][0],
    } for (source, track), seen in tracks.items()]


def format_report(rows: Sequence[dict], report_format: str) -> str:
    """Report rows as CSV text or JSON ``{"faces": rows, "tracks": track_summary(rows)}``."""
    if report_format == "json":
        return json.dumps({"faces": list(rows), "tracks": track_summary(rows)}, indent=1) + "\n"
    if report_format != "csv":
        raise ValueError(f"report_format must be one of {', '.join(REPORT_FORMATS)}; got {report_format!r}")
    buffer = io.StringIO()
    keys = ["source", "frame", "time", "face", "track", "emotion", "confidence"]
    columns = [*keys[:5], *"xywh", *keys[5:], *EMOTIONS]
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({**{key: row.get(key) for key in keys}, **dict(zip("xywh", row["box"])),
                         **row["probabilities"]})
    return buffer.getvalue()


def report_format_of(path: str | os.PathLike, report_format: str | None = None) -> str:
    """The format of a report file: ``report_format``, or its suffix's (``.csv``, ``.json``)."""
    suffix = Path(path).suffix.lower()[1:]
    if suffix in REPORT_FORMATS and report_format not in (None, suffix):
        raise FerError(f"--report {path}: the suffix says {suffix} but --format says {report_format}")
    if suffix in REPORT_FORMATS:
        return suffix
    if report_format is not None and suffix in ("", "txt"):
        return report_format
    raise FerError(f"--report {path}: reports are written as {' or '.join(REPORT_FORMATS)}; "
                   f"name the file .csv or .json")


def write_report(rows: Sequence[dict], path: str | os.PathLike, *, report_format: str | None = None) -> Path:
    """Write report rows to ``path`` atomically, as CSV or JSON (its folder is created if missing)."""
    return atomic_write_text(path, format_report(rows, report_format_of(path, report_format)))
