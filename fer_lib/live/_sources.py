"""Cameras, videos, streams, images, folders and arrays as BGR frames, released however the loop ends;
a source that delivers no frame raises :class:`~fer_lib.errors.SourceError` instead of waiting forever."""

from __future__ import annotations

import contextlib
import functools
import os
import time
from pathlib import Path
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import cv2
import numpy as np

from fer_lib.live._frames import to_bgr
from fer_lib.errors import SourceError

__all__ = ["IMAGE_EXTENSIONS", "FrameSource", "folder_images", "open_source", "source_kind"]

#: File suffixes read as still images (anything else is opened as a video).
IMAGE_EXTENSIONS: frozenset[str] = frozenset(
    ".bmp .dib .jpg .jpeg .jpe .jp2 .png .webp .pbm .pgm .ppm .pnm .tif .tiff .sr .ras".split())


def source_kind(source: str | os.PathLike) -> str:
    """What :func:`open_source` makes of a path, URL or digit string."""
    text = os.fspath(source)
    path = Path(text)
    if "://" in text:
        return "stream"
    if path.is_dir():
        return "folder"
    if path.is_file():
        return "image" if path.suffix.lower() in IMAGE_EXTENSIONS else "video"
    return "camera" if text.strip().isdigit() else "missing"


def folder_images(folder: str | os.PathLike) -> list[Path]:
    """A folder's images (suffix in :data:`IMAGE_EXTENSIONS`) sorted by name, or a SourceError if none."""
    files = sorted(p for p in Path(folder).iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
    if not files:
        raise SourceError(f"folder {folder} holds no images ({', '.join(sorted(IMAGE_EXTENSIONS))}); "
                          "put images there, or pass image files or a video")
    return files


class FrameSource:
    """BGR frames from a camera, video, image, folder of images or iterable of arrays."""

    def __init__(self, frames: Iterator[np.ndarray], description: str, release: Callable[[], None] | None):
        self.description, self._frames, self._release_callback = description, frames, release

    def __repr__(self) -> str:
        return f"FrameSource({self.description})"

    def __iter__(self) -> FrameSource:
        return self

    def __next__(self) -> np.ndarray:
        return next(self._frames)

    def close(self) -> None:
        """Stop the frames and release the camera or video (safe to call twice)."""
        getattr(self._frames, "close", lambda: None)()
        release, self._release_callback = self._release_callback, None
        if release is not None:
            release()

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # interpreter shutdown
            self.close()


def open_source(source: Any, *, capture_factory: Callable[..., Any] = cv2.VideoCapture,
                read_timeout: float = 2.0) -> FrameSource:
    """Open a source of BGR frames: an iterator and context manager of ``(H, W, 3)`` uint8 frames.

    Parameters
    ----------
    source : int, str, Path, ndarray, iterable of ndarray or FrameSource
        A camera index (or digit string), a video file or stream URL, an image, a folder of images
        (sorted by name), one frame or a stack ``(n, H, W, C)``, or any iterable of uint8 frames.
    capture_factory : callable, default cv2.VideoCapture
        Builds the capture for cameras and videos (tests pass a fake one).
    read_timeout : float, default 2.0
        Seconds a camera may deliver no frame before :class:`SourceError`.

    Raises
    ------
    SourceError
        If the source cannot be opened or yields no frame (a camera: for ``read_timeout`` seconds).
    """
    if isinstance(source, FrameSource):
        return source
    if isinstance(source, (bool, np.bool_)):
        raise TypeError(f"expected a camera index, path or frames; got {source!r}")
    if isinstance(source, (str, os.PathLike)) and source_kind(source) == "camera":
        source = int(os.fspath(source))
    if isinstance(source, (int, np.integer)):
        return _open_capture(int(source), f"camera {int(source)}", capture_factory, read_timeout)
    if isinstance(source, (str, os.PathLike)):
        text, path, kind = os.fspath(source), Path(source), source_kind(source)
        if kind in ("stream", "video"):
            return _open_capture(text, f"{kind} {text}", capture_factory, None)
        if kind in ("folder", "image"):
            frames = map(_read_image, folder_images(path)) if kind == "folder" else iter([_read_image(path)])
            return FrameSource(frames, f"{kind} {path}", None)
        raise SourceError(f"{path} does not exist (looked for a video, image or folder from {Path.cwd()}); "
                          "check the path, or pass a camera index such as 0.")
    if isinstance(source, np.ndarray):
        frames = [source] if source.ndim in (2, 3) else source
        return FrameSource(_iter_arrays(frames, "array"), "array", None)
    if isinstance(source, Iterable):
        return FrameSource(_iter_arrays(source, type(source).__name__), type(source).__name__, None)
    raise TypeError(f"cannot read frames from {type(source).__name__}; pass a camera index, a video, image "
                    "or folder path, or an iterable of uint8 frames")


def _open_capture(argument, description: str, capture_factory, read_timeout: float | None) -> FrameSource:
    """A camera (failing after ``read_timeout`` s without a frame) or, for ``None``, a video or stream."""
    advice = (
        "OpenCV cannot decode it: check the file, or convert it to H.264 .mp4 (ffmpeg -i IN OUT.mp4)"
        if read_timeout is None
        else "check that a camera is connected, not used by another program and allowed for this user, try "
        "another index, or pass a video file such as assets/white_house_clip.mp4"
    )
    try:
        capture = capture_factory(argument)
    except Exception as exc:
        raise SourceError(f"{description} cannot be opened ({type(exc).__name__}: {exc}); {advice}") from exc
    if not capture.isOpened():
        capture.release()
        raise SourceError(f"{description} cannot be opened; {advice}")
    release = functools.cache(capture.release)  # once, whether the frames end or the source is closed
    return FrameSource(_iter_capture(capture, release, description, read_timeout), description, release)


def _iter_capture(capture, release, description: str, read_timeout: float | None) -> Iterator[np.ndarray]:
    delivered, failing_since = 0, None
    try:
        while True:
            ok, frame = capture.read()
            if ok and frame is not None and np.size(frame):
                failing_since = None
                delivered += 1
                yield to_bgr(frame)
                continue
            if read_timeout is None:  # a video's end
                if delivered:
                    return
                raise SourceError(f"{description} opened but yielded no frame; it is empty or damaged: "
                                  "check it plays in a video player, or re-encode it to H.264 .mp4")
            now = time.monotonic()
            failing_since = now if failing_since is None else failing_since
            if now - failing_since >= read_timeout:
                what = "yielded no frame" if delivered == 0 else f"stopped after {delivered} frames: no frame"
                raise SourceError(f"{description} opened but {what} for {read_timeout:g} s; check that no "
                                  "other program uses it and that it is plugged in, or pass a video file "
                                  "instead")
            time.sleep(min(0.01, read_timeout / 10))
    finally:
        release()


def _read_image(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise SourceError(f"image {path} cannot be read: it is not an image OpenCV decodes or it is damaged; "
                          "check or replace the file")
    return image


def _iter_arrays(frames: Iterable, description: str) -> Iterator[np.ndarray]:
    index = -1
    for index, frame in enumerate(frames):
        try:
            bgr = to_bgr(frame)
        except ValueError as exc:
            raise ValueError(f"frame {index} of the {description} source: {exc}") from None
        yield bgr
    if index < 0:
        raise SourceError(f"the {description} source yielded no frame; pass at least one uint8 frame")
