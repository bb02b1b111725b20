"""Tests of fer_lib.live._sources: what a path is, frame sources of every kind, release on every exit path."""

from __future__ import annotations

import itertools
import time

import cv2
import numpy as np
import pytest

from fer_lib.errors import SourceError
from fer_lib.live._sources import IMAGE_EXTENSIONS, FrameSource, folder_images, open_source, source_kind


def _frames(count: int, shape=(60, 80, 3)) -> list[np.ndarray]:
    return [np.full(shape, 10 * i, np.uint8) for i in range(count)]


# --------------------------------------------------------------------------------------
# What a path is
# --------------------------------------------------------------------------------------


def test_source_kind_follows_open_source(tmp_path):
    (tmp_path / "photo.JPG").write_bytes(b"")
    (tmp_path / "clip.mkv").write_bytes(b"")
    (tmp_path / "7").write_bytes(b"")  # a file named like a camera index is a file
    assert source_kind(tmp_path) == "folder"
    assert source_kind(tmp_path / "photo.JPG") == "image"
    assert source_kind(tmp_path / "clip.mkv") == "video"
    assert source_kind(tmp_path / "7") == "video"
    assert source_kind("rtsp://camera.local/stream") == "stream"
    assert source_kind(" 2 ") == "camera"
    assert source_kind(tmp_path / "gone.mp4") == "missing"


def test_folder_images_sorted_images_only(tmp_path):
    for name in ("b.png", "a.JPEG", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "sub.png").mkdir()
    assert [p.name for p in folder_images(tmp_path)] == ["a.JPEG", "b.png"]
    with pytest.raises(SourceError, match="sub.png holds no images"):
        folder_images(tmp_path / "sub.png")
    assert ".png" in IMAGE_EXTENSIONS and ".mp4" not in IMAGE_EXTENSIONS


# --------------------------------------------------------------------------------------
# Bad sources
# --------------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(SourceError, match="nothing.mp4.*does not exist"):
        open_source(tmp_path / "nothing.mp4")


def test_camera_that_does_not_open_is_released(fake_captures):
    make = fake_captures(opened=False)
    with pytest.raises(SourceError, match="camera 7 cannot be opened.*another index"):
        open_source(7, capture_factory=make)
    assert make.made[0].argument == 7 and make.made[0].releases == 1


def test_camera_index_as_digit_string(fake_captures):
    make = fake_captures(frames=_frames(1))
    with open_source("0", capture_factory=make) as frames:
        assert len(list(itertools.islice(frames, 1))) == 1
    assert make.made[0].argument == 0


def test_camera_that_never_yields_a_frame_gives_up_in_bounded_time(fake_captures):
    make = fake_captures(frames=())
    start = time.monotonic()
    with pytest.raises(SourceError, match="camera 0 opened but yielded no frame"):
        for _ in open_source(0, capture_factory=make, read_timeout=0.2):
            pass
    assert time.monotonic() - start < 2.0
    assert make.made[0].releases == 1


def test_camera_that_stops_delivering_raises(fake_captures):
    make = fake_captures(frames=_frames(3))
    frames = open_source(0, capture_factory=make, read_timeout=0.1)
    with pytest.raises(SourceError, match="stopped after 3 frames"):
        list(frames)
    assert make.made[0].releases == 1


def test_video_that_opens_but_yields_no_frame(tmp_path, fake_captures):
    video = tmp_path / "empty.mp4"
    video.write_bytes(b"")
    make = fake_captures(frames=())
    with pytest.raises(SourceError, match="empty.mp4 opened but yielded no frame"):
        list(open_source(video, capture_factory=make))
    assert make.made[0].releases == 1


def test_undecodable_video_with_real_opencv(tmp_path):
    video = tmp_path / "garbage.mp4"
    video.write_bytes(b"\x00garbage" * 100)
    with pytest.raises(SourceError, match="garbage.mp4"):
        list(open_source(video))


def test_empty_folder(tmp_path):
    (tmp_path / "notes.txt").write_text("not an image")
    with pytest.raises(SourceError, match="holds no images"):
        open_source(tmp_path)


def test_unreadable_image(tmp_path):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"definitely not a jpeg")
    with pytest.raises(SourceError, match="broken.jpg cannot be read"):
        open_source(bad)
    good = np.zeros((10, 10, 3), np.uint8)
    cv2.imwrite(str(tmp_path / "a.png"), good)
    frames = open_source(tmp_path)  # a.png then broken.jpg
    assert next(frames).shape == (10, 10, 3)
    with pytest.raises(SourceError, match="broken.jpg"):
        next(frames)


def test_empty_iterable():
    with pytest.raises(SourceError, match="no frame"):
        list(open_source([]))


def test_bad_frame_in_iterable():
    with pytest.raises(ValueError, match="frame 1"):
        list(open_source([np.zeros((4, 4), np.uint8), np.zeros((4, 4), np.float32)]))


@pytest.mark.parametrize("source", [True, 3.5, object()])
def test_unsupported_source_types(source):
    with pytest.raises(TypeError):
        open_source(source)


# --------------------------------------------------------------------------------------
# Release on every exit path
# --------------------------------------------------------------------------------------


def test_released_on_early_stop_with_context_manager(fake_captures):
    make = fake_captures(frames=_frames(10))
    with open_source(0, capture_factory=make) as frames:
        for index, _ in enumerate(frames):
            if index == 2:
                break
        assert make.made[0].releases == 0
    assert make.made[0].releases == 1


def test_released_when_closed_before_iterating(fake_captures):
    make = fake_captures(frames=_frames(10))
    frames = open_source(0, capture_factory=make)
    frames.close()
    frames.close()
    assert make.made[0].releases == 1


def test_released_when_generator_is_closed(fake_captures):
    make = fake_captures(frames=_frames(10))
    frames = open_source(0, capture_factory=make)
    next(frames)
    frames.close()
    assert make.made[0].releases == 1


def test_released_on_keyboard_interrupt_in_read(fake_captures):
    make = fake_captures(frames=_frames(10), interrupt_after=2)
    with pytest.raises(KeyboardInterrupt):
        with open_source(0, capture_factory=make) as frames:
            for _ in frames:
                pass
    assert make.made[0].releases == 1


def test_released_on_keyboard_interrupt_in_consumer(fake_captures):
    make = fake_captures(frames=_frames(10))
    with pytest.raises(KeyboardInterrupt):
        with open_source(0, capture_factory=make) as frames:
            for index, _ in enumerate(frames):
                if index == 1:
                    raise KeyboardInterrupt
    assert make.made[0].releases == 1


def test_end_of_video_stops_cleanly(tmp_path, fake_captures):
    video = tmp_path / "three.mp4"
    video.write_bytes(b"")
    make = fake_captures(frames=_frames(3, shape=(20, 30)))  # grey frames become BGR
    with open_source(video, capture_factory=make) as frames:
        got = list(frames)
    assert len(got) == 3 and all(f.shape == (20, 30, 3) and f.dtype == np.uint8 for f in got)
    assert make.made[0].releases == 1


def test_real_video_to_the_end(video_path):
    made = []

    def spy(argument):
        capture = cv2.VideoCapture(argument)
        made.append(capture)
        return capture

    with open_source(video_path, capture_factory=spy) as frames:
        first = next(frames)
        count = 1 + sum(1 for _ in frames)
    assert first.shape == (360, 640, 3) and first.dtype == np.uint8
    assert count > 200
    assert not made[0].isOpened()


# --------------------------------------------------------------------------------------
# The other kinds
# --------------------------------------------------------------------------------------


def test_image_and_sorted_folder(tmp_path):
    for name, value in (("b.png", 20), ("a.jpg", 10), ("c.bmp", 30)):
        cv2.imwrite(str(tmp_path / name), np.full((8, 12), value, np.uint8))
    values = [int(frame[0, 0, 0]) for frame in open_source(tmp_path)]
    assert np.allclose(values, [10, 20, 30], atol=2)  # a.jpg is lossy
    (only,) = list(open_source(tmp_path / "c.bmp"))
    assert only.shape == (8, 12, 3)


def test_iterables_and_arrays_give_bgr_frames():
    frames = [np.zeros((5, 6), np.uint8), np.zeros((5, 6, 1), np.uint8), np.zeros((7, 8, 4), np.uint8)]
    shapes = [f.shape for f in open_source(iter(frames))]
    assert shapes == [(5, 6, 3), (5, 6, 3), (7, 8, 3)]
    assert [f.shape for f in open_source(np.zeros((5, 6, 3), np.uint8))] == [(5, 6, 3)]
    assert len(list(open_source(np.zeros((4, 5, 6, 3), np.uint8)))) == 4
    source = open_source(frames)
    assert isinstance(source, FrameSource) and open_source(source) is source
