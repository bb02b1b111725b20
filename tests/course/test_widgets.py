"""Tests of fer_lib.course._liveview: the LiveView's thread, buttons, release of the source, and show_annotated."""

from __future__ import annotations

import gc
import time

import cv2
import numpy as np
import pytest

import fer_lib
from fer_lib.errors import SourceError
from fer_lib.labels import EMOTIONS
from fer_lib.course._liveview import LiveView, show_annotated


class FixedDetector:
    """One face in the middle of every frame: deterministic and fast."""

    def detect(self, frame):
        height, width = frame.shape[:2]
        side = min(height, width) // 2
        return np.array([[width // 4, height // 4, side, side]])


class CaptureSpy:
    """A capture factory wrapping cv2.VideoCapture that remembers every capture it made."""

    def __init__(self, fail_after: int | None = None):
        self.captures: list = []
        self.fail_after = fail_after

    def __call__(self, argument):
        capture = _Recorded(cv2.VideoCapture(argument), self.fail_after)
        self.captures.append(capture)
        return capture

    def all_released(self) -> bool:
        return bool(self.captures) and all(capture.released for capture in self.captures)


class _Recorded:
    def __init__(self, capture, fail_after):
        self.capture, self.fail_after = capture, fail_after
        self.reads = 0
        self.released = False

    def isOpened(self):
        return self.capture.isOpened()

    def read(self):
        self.reads += 1
        if self.fail_after is not None and self.reads > self.fail_after:
            raise SourceError("camera unplugged (test)")
        return self.capture.read()

    def release(self):
        self.released = True
        self.capture.release()


def _until(condition, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def test_runs_to_the_end_of_a_video(short_video, short_video_frames, classifier):
    spy = CaptureSpy()
    view = LiveView(short_video, classifier=classifier, detector=FixedDetector(), capture_factory=spy)
    assert not view.running and view.frames_shown == 0 and view.last_frame is None
    seen: list[bytes] = []
    view.image.observe(lambda change: seen.append(change["new"]), names="value")
    view.start()
    assert view.wait(timeout=30)
    assert not view.running and view.ended and view.error is None
    assert view.frames_shown == short_video_frames
    assert view.status.startswith("Ended") and f"{short_video_frames} frame" in view.status
    assert spy.all_released()
    assert len(seen) >= 2 and len(set(seen)) > 1  # the image changes over time
    assert view.image.value[:2] == b"\xff\xd8"  # JPEG
    assert view.last_frame.shape == (360, 640, 3) and view.last_frame.dtype == np.uint8
    (face,) = view.last_faces
    assert [bar.value for bar in view.bars] == pytest.approx(face["probabilities"])
    assert not view.start_button.disabled and view.stop_button.disabled


def test_a_saved_notebook_keeps_the_last_annotated_frame_as_an_image(short_video, classifier, monkeypatch):
    import base64

    from IPython import display as ipython_display

    shown = []

    class Handle:  # what IPython's display(..., display_id=True) returns: updated when the view ends
        def update(self, data, raw=False):
            shown.append(data)

    monkeypatch.setattr(ipython_display, "display", lambda data, raw=False, display_id=False: shown.append(data)
                        or Handle())
    view = LiveView(short_video, classifier=classifier, detector=FixedDetector(), capture_factory=CaptureSpy())
    view._ipython_display_()
    assert "application/vnd.jupyter.widget-view+json" in shown[0] and "image/jpeg" not in shown[0]
    view.start()
    assert view.wait(timeout=30)
    last = shown[-1]
    assert base64.b64decode(last["image/jpeg"]) == view.image.value  # GitHub and nbviewer show this frame
    assert last["text/plain"].startswith("Ended") and "application/vnd.jupyter.widget-view+json" in last


def test_stop_releases_and_start_again_works(video_path, classifier):
    spy = CaptureSpy()
    view = LiveView(video_path, classifier=classifier, detector=FixedDetector(), max_fps=40, capture_factory=spy)
    view.start_button.click()
    assert view.running and view.start_button.disabled and not view.stop_button.disabled
    assert _until(lambda: view.frames_shown >= 3)
    assert "fps" in view.status and "face" in view.status
    view.stop_button.click()
    assert not view.running and spy.all_released() and len(spy.captures) == 1
    assert view.status.startswith("Stopped") and not view.ended
    stopped_at = view.frames_shown
    time.sleep(0.1)
    assert view.frames_shown == stopped_at  # nothing more after Stop
    view.start()
    assert _until(lambda: view.frames_shown >= stopped_at + 3)
    assert len(spy.captures) == 2 and not spy.captures[1].released
    assert view.stop(timeout=5)
    assert spy.all_released()


def test_error_in_the_source_is_shown(short_video, classifier):
    spy = CaptureSpy(fail_after=3)
    view = LiveView(short_video, classifier=classifier, detector=FixedDetector(), capture_factory=spy)
    view.start()
    assert view.wait(timeout=30)
    assert isinstance(view.error, SourceError) and not view.ended
    assert view.status.startswith("Error after 3 frame") and "camera unplugged" in view.status
    assert spy.all_released()


def test_bad_frame_in_an_iterable_source(classifier):
    frames = [np.zeros((40, 60, 3), np.uint8), np.zeros((40, 60), np.float32)]
    view = LiveView(frames, classifier=classifier, detector=FixedDetector())
    view.start()
    assert view.wait(timeout=30)
    assert "ValueError" in view.status and "frame 1" in view.status and view.frames_shown == 1


def test_deleting_the_view_releases_the_source(video_path, classifier):
    spy = CaptureSpy()
    view = LiveView(video_path, classifier=classifier, detector=FixedDetector(), max_fps=20, capture_factory=spy)
    view.start()
    assert _until(lambda: view.frames_shown >= 2)  # the whole video would take 14 s at 20 fps
    del view
    gc.collect()
    assert _until(spy.all_released, timeout=5)


def test_missing_model_raises_at_once(short_video, tmp_path):
    with pytest.raises(fer_lib.ModelError, match="absent.keras"):
        LiveView(short_video, classifier=tmp_path / "absent.keras")


def test_show_annotated():
    frame = np.full((60, 80, 3), 128, np.uint8)
    face = {"box": (10, 10, 30, 30), "probabilities": [0, 0, 0, 0.75, 0.25, 0, 0], "emotion": "Happy"}
    figure = show_annotated(frame, [face])
    (axes,) = figure.axes
    assert axes.get_title() == "1 face(s): Happy 75%" and not axes.axison
    assert show_annotated(frame, []).axes[0].get_title() == "No face found"
    assert show_annotated(frame, [], title="Last frame").axes[0].get_title() == "Last frame"
    assert EMOTIONS[3] == "Happy"


def test_capture_mode_saves_the_classifiers_crop_one_session_per_record(classifier, tmp_path):
    from fer_lib.data._folders import session_of
    from fer_lib.live._frames import crop_faces, to_gray

    frames = np.random.default_rng(0).integers(0, 256, (7, 120, 160, 3), dtype=np.uint8)
    view = LiveView(list(frames), classifier=classifier, detector=FixedDetector(), capture=tmp_path / "my_faces")
    panel = view._panel
    panel.emotion.value, panel.count.value = "Sad", 2
    panel.record()
    assert "recording" in panel.saved.value
    view.start()
    assert view.wait(30) and view.error is None
    saved = sorted((tmp_path / "my_faces" / "sad").glob("*.png"))
    assert len(saved) == 2 and {session_of(path) for path in saved} == {view.recorder.session}
    assert panel.saved.value == "Saved faces: Sad 2" and not view.recorder.recording
    # Every third frame with one face (neighbouring frames are near-copies): frames 0 and 3.
    box = FixedDetector().detect(frames[0])
    for path, index in zip(saved, (0, 3)):
        expected = crop_faces(to_gray(frames[index]), box)[0]
        np.testing.assert_array_equal(cv2.imread(str(path), cv2.IMREAD_GRAYSCALE), expected)


def test_indonesian_edition_widgets_speak_indonesian(short_video, classifier):
    """The status line and the webcam page's words follow the notebook's language, numbers included."""
    import re

    from fer_lib.course._webcam import _JS, BrowserCamera
    from fer_lib.language import FIGURE_WORDS, using_language

    with using_language("id"):
        view = LiveView(short_video, classifier=classifier, detector=FixedDetector(), max_fps=None)
        assert view.status == "Berhenti: tekan Mulai"
        view.start()
        assert view.wait(timeout=30)
        assert view.status.startswith("Selesai: sumber habis setelah"), view.status
        assert re.search(r"rata-rata \d+,\d fps$", view.status), view.status  # a decimal comma
        camera = BrowserCamera(detector=FixedDetector(), classifier=classifier)
        assert "frame dianalisis" in repr(camera)
    page_words = {match[1] for match in re.findall(r"""say\((["'])(.+?)\1""", _JS.read_text(encoding="utf-8"))}
    assert page_words and all(camera.texts[word] == FIGURE_WORDS[word] for word in page_words)
    assert camera.locale == "id-ID" and "Start" not in camera.texts.values()
