"""The browser's own webcam in a notebook (for remote kernels): the page (``webcam.js``) sends JPEG frames,
the kernel sends back each frame's faces, which the page draws over the video."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import anywidget
import cv2
import numpy as np
import traitlets

from fer_lib.course._liveview import capture_text, recorder_for
from fer_lib.errors import FerError
from fer_lib.labels import EMOTION_COLORS_BGR, EMOTIONS
from fer_lib.language import FIGURE_WORDS, current_language, emotion_names, tr
from fer_lib.live import _loop as live
from fer_lib.live._drawing import hex_color
from fer_lib.live._smoothing import ProbabilitySmoother
from fer_lib.model._classifier import EmotionClassifier

__all__ = ["BrowserCamera"]

_JS = Path(__file__).with_name("webcam.js")


class BrowserCamera(anywidget.AnyWidget):
    """A notebook widget that analyses the browser's own webcam with fer_lib.

    ``frames`` counts the frames analysed since it was made; ``last_faces`` holds the last frame's records.

    Parameters
    ----------
    detector, classifier, smooth, capture
        As for :class:`LiveView`.
    width : int, default 640
        Width, in pixels (64 or more), the page scales each frame to before sending it.
    jpeg_quality : float, default 0.8
        JPEG quality, in (0, 1], of the frames sent.

    Raises
    ------
    ModelError
        If the classifier's file is missing or corrupt (at once, not on the first frame).
    """

    _esm = _JS
    width = traitlets.Int(640).tag(sync=True)
    jpeg_quality = traitlets.Float(0.8).tag(sync=True)
    emotions = traitlets.List(traitlets.Unicode(), default_value=list(EMOTIONS)).tag(sync=True)
    colors = traitlets.List(traitlets.Unicode(),
                            default_value=[hex_color(color) for color in EMOTION_COLORS_BGR]).tag(sync=True)
    #: What the page last reported: "idle", "running", "stopped" or an error message.
    status = traitlets.Unicode("idle").tag(sync=True)
    #: Capture mode: the Record row is shown, with this line of faces saved per emotion.
    capture = traitlets.Bool(False).tag(sync=True)
    capture_status = traitlets.Unicode("").tag(sync=True)
    #: The page's own words in the notebook's language, and the locale of its numbers.
    texts = traitlets.Dict().tag(sync=True)
    locale = traitlets.Unicode("en-US").tag(sync=True)

    def __init__(self, *, detector: Any = None, classifier: EmotionClassifier | str | Path | None = None,
                 smooth: bool = True, width: int = 640, jpeg_quality: float = 0.8,
                 capture: bool | str | Path | None = None, **kwargs: Any) -> None:
        if int(width) < 64:
            raise ValueError(f"width must be at least 64 pixels; got {width!r}")
        if not 0.0 < float(jpeg_quality) <= 1.0:
            raise ValueError(f"jpeg_quality must lie in (0, 1]; got {jpeg_quality!r}")
        kwargs.setdefault("emotions", list(emotion_names()))  # the page's names, in the current language
        page = _JS.read_text(encoding="utf-8")
        kwargs.setdefault("texts", {text: tr(text) for text in FIGURE_WORDS if text in page})  # the page's words
        kwargs.setdefault("locale", tr("en-US"))  # how the page writes numbers
        super().__init__(width=int(width), jpeg_quality=float(jpeg_quality), **kwargs)
        self._language = current_language()  # the capture line's, whatever is current when a message comes
        if isinstance(classifier, (str, Path)):
            classifier = EmotionClassifier(classifier)
        self._classifier = classifier if classifier is not None else live.default_classifier()
        self._detector = live.default_detector(detector) if isinstance(detector, str) else detector
        self._smoother = ProbabilitySmoother() if smooth else None
        self.frames = 0
        self.last_faces: list[dict] = []
        self.recorder = recorder_for(capture)
        if self.recorder is not None:
            self.capture, self.capture_status = True, capture_text(self.recorder, self._language)
        self.on_msg(self._on_message)

    def __repr__(self) -> str:  # what a saved notebook shows where no browser runs the widget
        return tr("BrowserCamera: the browser's webcam ({frames} frames analysed); open the notebook in Jupyter to use it",
                  getattr(self, "_language", None), frames=getattr(self, "frames", 0))

    def stop(self) -> None:
        """Ask the page to stop the camera (as the Stop button does)."""
        self.send({"type": "stop"})

    def analyze_jpeg(self, data: bytes) -> list[dict]:
        """Decode one JPEG frame and return its face records, smoothed: the kernel's half of a round trip.

        Parameters
        ----------
        data : bytes
            A JPEG (or PNG) image, as the page sends it; other bytes raise a ValueError.
        """
        frame = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if frame is None:
            raise ValueError(f"the browser sent {len(data)} bytes that are not a JPEG image")
        faces = live.analyze_frame(frame, detector=self._detector, classifier=self._classifier)
        if self._smoother is not None:
            faces = self._smoother.update(faces)
        self.frames += 1
        self.last_faces = faces
        if self.recorder is not None and self.recorder.add(frame, faces) is not None:
            self.capture_status = capture_text(self.recorder, self._language)
        return faces

    def _on_message(self, _widget: Any, content: dict, buffers: list) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "start" and self._smoother is not None:
            self._smoother.reset()
        if kind == "record" and self.recorder is not None:
            self.recorder.start(EMOTIONS[int(content.get("emotion", 3))], int(content.get("count", 30)))
            self.capture_status = capture_text(self.recorder, self._language)
        if kind != "frame":
            return
        started = time.perf_counter()
        try:
            if not buffers:
                raise ValueError("the browser sent a frame message without its image")
            faces = self.analyze_jpeg(bytes(buffers[0]))
        except (ValueError, FerError, cv2.error) as exc:
            self.send({"type": "error", "id": content.get("id"), "message": str(exc)})
            return
        records = [{"box": [int(value) for value in face["box"]], "emotion": face["emotion"],
                    "label": EMOTIONS.index(face["emotion"]),  # the page shows emotions[label]
                    "probabilities": [round(float(p), 4) for p in face["probabilities"]]} for face in faces]
        milliseconds = round(1000 * (time.perf_counter() - started), 1)
        self.send({"type": "faces", "id": content.get("id"), "ms": milliseconds, "faces": records})
