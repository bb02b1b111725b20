"""Shared fixtures: the committed real photos, the demo video, tiny models; FER2013 when present.

Everything a test needs ships with the project (``tests/photos/``, ``assets/``) except the
FER2013 file, which may not be redistributed: tests that need it skip without it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")
# `make test` runs a pytest-xdist worker per core: one thread each for TensorFlow (and the commands the tests start)
# instead of every worker's thread pool contending for every core. Measured: the research and train tests took
# 237 s instead of 268 s on 2 cores. Set these variables yourself to override.
for _variable in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"
MEDIA = SHARED / "media"
#: Small copies of real photos with faces.csv (see tests/photos/README.md).
TEST_DATA = REPO_ROOT / "tests" / "photos"
VIDEO_NAME = "white_house_clip.mp4"


@pytest.fixture(scope="session")
def shared_fer2013() -> Path:
    """The real FER2013 file named by ``$FER2013_PATH`` (``.ci/run`` sets it), or a skip."""
    named = os.environ.get("FER2013_PATH", "")
    if not named:
        pytest.skip("FER2013_PATH is not set (point it at fer2013.csv or fer2013.csv.gz to run this test)")
    if not Path(named).is_file():
        pytest.skip(f"FER2013_PATH={named} names no file on this machine")
    return Path(named)


@pytest.fixture(scope="session")
def media() -> Path:
    """The committed real photos (tests/photos, with faces.csv): no skip, they ship with the tests."""
    return TEST_DATA


@pytest.fixture(scope="session")
def video_path() -> Path:
    """The demo video: assets/ first (it ships with the project), then ../shared/media."""
    for candidate in (REPO_ROOT / "assets" / VIDEO_NAME, MEDIA / VIDEO_NAME):
        if candidate.is_file():
            return candidate
    pytest.skip(f"{VIDEO_NAME} not found in assets/ or {MEDIA}")


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory) -> Path:
    """An untrained fer_net_small saved as .keras: the right shapes, meaningless predictions."""
    from fer_lib.model._architectures import build_model

    path = tmp_path_factory.mktemp("model") / "tiny.keras"
    build_model("fer_net_small", compile=False).save(path)
    return path


@pytest.fixture(scope="session")
def classifier(tiny_model_path):
    """An EmotionClassifier around the tiny model."""
    from fer_lib.model._classifier import EmotionClassifier

    return EmotionClassifier(tiny_model_path)


SHORT_VIDEO_FRAMES = 10


@pytest.fixture(scope="session")
def short_video(video_path, tmp_path_factory) -> Path:
    """The first SHORT_VIDEO_FRAMES frames of the demo clip as an mp4v video."""
    import cv2

    capture = cv2.VideoCapture(str(video_path))
    frames = [capture.read()[1] for _ in range(SHORT_VIDEO_FRAMES)]
    capture.release()
    path = tmp_path_factory.mktemp("video") / "short.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, frames[0].shape[1::-1])
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


@pytest.fixture(scope="session")
def short_video_frames() -> int:
    """How many frames ``short_video`` holds."""
    return SHORT_VIDEO_FRAMES


class FakeCapture:
    """Stands in for cv2.VideoCapture: yields given frames, then fails; counts release()."""

    def __init__(self, argument=None, *, frames=(), opened=True, interrupt_after=None):
        self.argument = argument
        self.frames = list(frames)
        self.opened = opened
        self.interrupt_after = interrupt_after
        self.reads = 0
        self.releases = 0

    def isOpened(self) -> bool:
        return self.opened

    def read(self):
        self.reads += 1
        if self.interrupt_after is not None and self.reads > self.interrupt_after:
            raise KeyboardInterrupt
        if self.frames:
            return True, self.frames.pop(0)
        return False, None

    def release(self) -> None:
        self.releases += 1
        self.opened = False


def _capture_factory(**options):
    """A capture factory whose FakeCaptures are recorded in ``made``."""
    made: list[FakeCapture] = []

    def make(argument):
        capture = FakeCapture(argument, **options)
        made.append(capture)
        return capture

    make.made = made
    return make


@pytest.fixture
def fake_captures():
    """``fake_captures(frames=..., opened=..., interrupt_after=...)``: a capture factory for
    :func:`fer_lib.live._sources.open_source` whose captures (``.made``) count their releases."""
    return _capture_factory
