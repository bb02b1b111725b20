"""Shared fixtures: where the real data and media live, skipping (not failing) when absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"
MEDIA = SHARED / "media"
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
    """The real photos (with faces.csv) of ../shared/media, or a skip."""
    if not (MEDIA / "faces.csv").is_file():
        pytest.skip(f"real photos not found at {MEDIA}")
    return MEDIA


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
    from fer_lib.models import build_model

    path = tmp_path_factory.mktemp("model") / "tiny.keras"
    build_model("fer_net_small", compile=False).save(path)
    return path


@pytest.fixture(scope="session")
def classifier(tiny_model_path):
    """An EmotionClassifier around the tiny model."""
    from fer_lib.live import EmotionClassifier

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
