"""Tests of fer_lib.course._webcam.BrowserCamera's kernel side: JPEG frames in, face records out.

The page's side (getUserMedia, drawing, one frame in flight, Stop) is checked in a real
browser by tests/course/test_browser.py.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from fer_lib.errors import ModelError
from fer_lib.labels import EMOTIONS, NUM_CLASSES
from fer_lib.course._webcam import BrowserCamera


@pytest.fixture
def camera(classifier):
    """A BrowserCamera around the tiny model whose replies are kept instead of sent."""
    widget = BrowserCamera(classifier=classifier)
    widget.replies = []
    widget.send = lambda content, buffers=None: widget.replies.append(content)
    return widget


def _jpeg(image: np.ndarray) -> memoryview:
    ok, encoded = cv2.imencode(".jpg", image)
    assert ok
    return memoryview(encoded.tobytes())


def test_a_frame_gets_boxes_emotions_and_probabilities(camera, media):
    photo = cv2.imread(str(media / "two_people.jpg"))
    camera._on_message(camera, {"type": "frame", "id": 7, "width": photo.shape[1]}, [_jpeg(photo)])
    (reply,) = camera.replies
    assert reply["type"] == "faces" and reply["id"] == 7 and reply["ms"] >= 0
    assert len(reply["faces"]) == 2
    for face in reply["faces"]:
        x, y, w, h = face["box"]
        assert 0 <= x < photo.shape[1] and 0 <= y < photo.shape[0] and w > 0 and h > 0
        assert face["emotion"] in EMOTIONS
        assert len(face["probabilities"]) == NUM_CLASSES
        assert sum(face["probabilities"]) == pytest.approx(1.0, abs=1e-3)
    assert camera.frames == 1 and len(camera.last_faces) == 2


def test_a_frame_without_a_face(camera):
    camera._on_message(camera, {"type": "frame", "id": 1}, [_jpeg(np.zeros((240, 320, 3), np.uint8))])
    assert camera.replies == [{"type": "faces", "id": 1, "ms": camera.replies[0]["ms"], "faces": []}]


@pytest.mark.parametrize(
    "buffers, message",
    [([b"not an image"], "12 bytes that are not a JPEG image"), ([], "a frame message without its image")],
)
def test_bad_frames_get_an_error_reply_not_an_exception(camera, buffers, message):
    camera._on_message(camera, {"type": "frame", "id": 3}, buffers)
    (reply,) = camera.replies
    assert reply["type"] == "error" and reply["id"] == 3 and message in reply["message"]
    assert camera.frames == 0


def test_other_messages_are_ignored(camera):
    camera._on_message(camera, {"type": "start"}, [])
    camera._on_message(camera, "not a dict", [])
    assert camera.replies == []


def test_stop_asks_the_page_to_stop(camera):
    camera.stop()
    assert camera.replies == [{"type": "stop"}]


def test_synced_settings():
    widget = BrowserCamera(classifier=None, width=320, jpeg_quality=0.5, detector="haar")
    assert widget.width == 320 and widget.jpeg_quality == 0.5
    assert widget.emotions == list(EMOTIONS) and len(widget.colors) == NUM_CLASSES
    assert all(color.startswith("#") and len(color) == 7 for color in widget.colors)
    assert "export default" in widget._esm and "getUserMedia" in widget._esm  # the front end shipped beside it


@pytest.mark.parametrize(
    "options, message",
    [({"width": 10}, "width must be at least 64 pixels"), ({"jpeg_quality": 0}, r"jpeg_quality must lie in \(0, 1\]")],
)
def test_bad_options(options, message):
    with pytest.raises(ValueError, match=message):
        BrowserCamera(**options)


def test_missing_model_fails_at_once(tmp_path):
    with pytest.raises(ModelError, match=r"missing\.tflite does not exist"):
        BrowserCamera(classifier=tmp_path / "missing.tflite")
