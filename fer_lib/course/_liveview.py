"""A live view for notebooks: annotated frames, one bar per emotion and the frame rate, from a background
thread so that the notebook stays responsive."""

from __future__ import annotations

import atexit
import base64
import functools
import threading
import time
import types
import weakref
from typing import Any, Callable

import cv2
import ipywidgets
import numpy as np

from fer_lib.labels import EMOTION_COLORS_BGR, EMOTIONS
from fer_lib.language import current_language, display_emotion, emotion_names, tr
from fer_lib.live import _loop as live
from fer_lib.live._capture import FaceRecorder, face_counts
from fer_lib.live._drawing import FpsMeter, annotate, hex_color
from fer_lib.model._classifier import EmotionClassifier

__all__ = ["LiveView", "show_annotated"]

_VIEWS: "weakref.WeakSet[LiveView]" = weakref.WeakSet()


class _Panel:
    """The widgets and how one frame is shown on them (holds no reference to the LiveView)."""

    def __init__(self, *, display_width: int | None, jpeg_quality: int) -> None:
        self.display_width = display_width
        self.jpeg_quality = int(jpeg_quality)
        self.language = current_language()  # kept: the worker thread's lines speak it whatever is current then
        self.say = functools.partial(tr, language=self.language)
        self.start_button = ipywidgets.Button(description=tr("Start"), icon="play", button_style="success")
        self.stop_button = ipywidgets.Button(description=tr("Stop"), icon="stop", button_style="danger",
                                             disabled=True)
        self.status = ipywidgets.Label(value=tr("Stopped: press Start"))
        self.image = ipywidgets.Image(format="jpeg")
        self.bars = [
            ipywidgets.FloatProgress(value=0.0, min=0.0, max=1.0, description=name,
                                     layout=ipywidgets.Layout(width="260px"),
                                     style={"bar_color": hex_color(bgr), "description_width": "70px"})
            for name, bgr in zip(emotion_names(), EMOTION_COLORS_BGR)
        ]
        self.percents = [ipywidgets.Label(layout=ipywidgets.Layout(width="45px")) for _ in self.bars]
        rows = [ipywidgets.HBox(pair) for pair in zip(self.bars, self.percents)]
        title = ipywidgets.Label(value=tr("Largest face"))
        self.widget = ipywidgets.VBox([
            ipywidgets.HBox([self.start_button, self.stop_button, self.status]),
            ipywidgets.HBox([self.image, ipywidgets.VBox([title, *rows])]),
        ])
        self.recorder: FaceRecorder | None = None
        self.display_handle = None  # set when the view is displayed; its output is updated when the view ends

    def bundle(self) -> dict:
        """The widget, and for pages that cannot run it (GitHub, nbviewer) the last frame and the status line."""
        data = {**self.widget._repr_mimebundle_(), "text/plain": self.status.value}
        if self.image.value:
            data["image/jpeg"] = base64.b64encode(self.image.value).decode("ascii")
        return data

    def add_capture(self, recorder: FaceRecorder) -> None:
        """The capture row: an emotion, how many faces, Record, and the faces saved per emotion."""
        self.recorder = recorder
        self.emotion = ipywidgets.Dropdown(options=list(zip(emotion_names(), EMOTIONS)), value="Happy",
                                           layout=ipywidgets.Layout(width="130px"))
        self.count = ipywidgets.BoundedIntText(value=30, min=1, max=500, description=tr("faces"),
                                               layout=ipywidgets.Layout(width="150px"))
        self.record_button = ipywidgets.Button(description=tr("Record"), icon="circle", button_style="warning")
        self.saved = ipywidgets.Label()
        self.widget.children += (ipywidgets.HBox([self.emotion, self.count, self.record_button, self.saved]),)
        self.record_button.on_click(self.record)
        self.show_counts()

    def record(self, _button=None) -> None:
        self.recorder.start(self.emotion.value, self.count.value)
        self.show_counts()

    def show_counts(self) -> None:
        self.saved.value = capture_text(self.recorder, self.language)

    def set_running(self, running: bool) -> None:
        self.start_button.disabled = running
        self.stop_button.disabled = not running

    def show(self, annotated: np.ndarray, faces: list[dict]) -> None:
        image = annotated
        if self.display_width is not None and image.shape[1] > self.display_width:
            height = max(1, round(image.shape[0] * self.display_width / image.shape[1]))
            image = cv2.resize(image, (self.display_width, height), interpolation=cv2.INTER_AREA)
        ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality])
        if ok:
            self.image.value = encoded.tobytes()
        face = max(faces, key=lambda face: face["box"][2] * face["box"][3], default=None)  # the largest
        probabilities = face["probabilities"] if face is not None else [0.0] * len(EMOTIONS)
        for bar, percent, probability in zip(self.bars, self.percents, probabilities):
            bar.value = float(probability)
            percent.value = f"{probability:.0%}" if face is not None else ""


def recorder_for(capture) -> FaceRecorder | None:
    """A widget's recorder for its ``capture`` option: a folder, ``True`` (``my_faces/``) or off."""
    return None if capture in (None, False) else FaceRecorder(None if capture is True else capture)


def capture_text(recorder: FaceRecorder, language: str | None = None) -> str:
    """The faces saved per emotion, and what is being recorded: the capture row's line (both widgets)."""
    counts = face_counts(recorder.folder)
    saved = ", ".join(f"{display_emotion(name, language)} {n}" for name, n in counts.items() if n) or "-"
    recording = tr(" (recording {emotion}: {n} to go)", language, emotion=display_emotion(recorder.emotion, language),
                   n=recorder.remaining) if recorder.recording else ""
    return tr("Saved faces: {saved}", language, saved=saved) + recording


class _Worker:
    """One run of the view: a daemon thread from Start to Stop, end of source or error."""

    def __init__(self, source: Any, options: dict, max_fps: float | None, panel: _Panel, state) -> None:
        self.source = source
        self.options = options
        self.interval = 1.0 / max_fps if max_fps else 0.0
        self.panel = panel
        self.state = state
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, name="fer_lib-live-view", daemon=True)

    def _run(self) -> None:
        state, panel = self.state, self.panel
        shown = 0
        meter = FpsMeter()
        frames = None
        try:
            frames = live.iter_analyzed(self.source, **self.options)
            next_time = time.monotonic()
            for frame, faces in frames:
                if self.stop_event.is_set():
                    break
                if panel.recorder is not None and panel.recorder.add(frame, faces) is not None:
                    panel.show_counts()
                annotated = annotate(frame, faces)
                fps = meter.tick()
                shown += 1
                state.last_frame, state.last_faces = annotated, faces
                state.frames_shown += 1
                panel.show(annotated, faces)
                panel.status.value = panel.say("Running: {fps:.1f} fps, {count} face(s), frame {shown}", fps=fps, count=len(faces),
                                        shown=shown)
                next_time = max(next_time + self.interval, time.monotonic())  # behind: no burst to catch up
                if self.stop_event.wait(next_time - time.monotonic()):
                    break
            else:
                state.ended = True
        except Exception as exc:  # shown in the status line and kept, never lost in the thread
            state.error = exc
        finally:
            if frames is not None:
                frames.close()  # releases the camera or video
            rate = panel.say(", {fps:.1f} fps on average", fps=meter.mean) if shown > 1 else ""
            if state.ended:
                panel.status.value = panel.say("Ended: the source finished after {shown} frame(s){rate}", shown=shown, rate=rate)
            elif state.error is not None:
                error = f"{type(state.error).__name__}: {state.error}"
                panel.status.value = panel.say("Error after {shown} frame(s): {error}", shown=shown, error=error)
            else:
                panel.status.value = panel.say("Stopped after {shown} frame(s){rate}", shown=shown, rate=rate)
            panel.set_running(False)
            if panel.display_handle is not None:  # a saved notebook keeps the last annotated frame as an image
                panel.display_handle.update(panel.bundle(), raw=True)


def _call_if_alive(reference: "weakref.ref[LiveView]", method: str) -> Callable[[Any], None]:
    def handler(_button) -> None:
        view = reference()
        if view is not None:
            getattr(view, method)()

    return handler


def _forward(part: str, name: str, doc: str) -> property:
    """A read-only property giving ``self.<part>.<name>``."""
    return property(lambda view: getattr(getattr(view, part), name), doc=doc)


class LiveView:
    """An ipywidgets view of a camera or video: annotated frames, emotion bars, fps.

    Parameters
    ----------
    source : int, str or Path
        A camera index, video or image file, or folder of images (:func:`fer_lib.live.open_source`).
        Start after Stop reopens it, so a camera or file can start again; a one-shot iterator cannot.
    classifier : EmotionClassifier, str, Path or keras.Model, optional
        Default: the shipped model through LiteRT. Loaded once, here.
    smooth : bool, default True
        Smooth probabilities over frames (:class:`fer_lib.live.ProbabilitySmoother`).
    max_fps : float, optional
        Show at most this many frames per second (default: as fast as analysed).
    every : int, default 1
        Analyse every ``every``-th frame; frames between reuse the last faces.
    detector : FaceDetector or {"blazeface", "haar"}, optional
        Default: the shared BlazeFace.
    display_width : int or None, default 640
        Wider frames are shrunk to this width for display (:attr:`last_frame` keeps full size).
    jpeg_quality : int, default 80
        JPEG quality (0-100) of the frames sent to the image widget.
    capture : bool, str or Path, optional
        Add Record, saving the chosen emotion's next faces in this folder (``True``: ``my_faces/``).
    **options
        For :func:`fer_lib.live.iter_analyzed` (``max_frames``, ``capture_factory``, ``read_timeout``).
    """

    def __init__(self, source: Any, *, classifier: Any = None, smooth: bool = True,
                 max_fps: float | None = None, every: int = 1, detector: Any = None,
                 display_width: int | None = 640, jpeg_quality: int = 80, capture: bool | str | Any = None,
                 **options: Any) -> None:
        if max_fps is not None and not max_fps > 0:
            raise ValueError(f"max_fps must be None or positive; got {max_fps!r}")
        self.source = source
        self.classifier = (classifier if isinstance(classifier, EmotionClassifier)
                           else EmotionClassifier(classifier))
        self.max_fps = max_fps
        self._options = dict(options, smooth=bool(smooth), every=every, detector=detector,
                             classifier=self.classifier)
        self._panel = _Panel(display_width=display_width, jpeg_quality=jpeg_quality)
        if capture not in (None, False):
            self._panel.add_capture(recorder_for(capture))
        # what the thread reports back (it holds no reference to the view, so deleting the view stops it)
        self._state = types.SimpleNamespace(frames_shown=0, last_frame=None, last_faces=[], error=None,
                                            ended=False)
        self._worker: _Worker | None = None
        reference = weakref.ref(self)
        self._panel.start_button.on_click(_call_if_alive(reference, "start"))
        self._panel.stop_button.on_click(_call_if_alive(reference, "stop"))
        _VIEWS.add(self)

    widget = _forward("_panel", "widget", "The ipywidgets.VBox to display: buttons, status, image, bars.")
    recorder = _forward("_panel", "recorder", "The FaceRecorder of the capture mode (None without it).")
    image = _forward("_panel", "image", "The image widget (JPEG bytes of the latest annotated frame).")
    start_button = _forward("_panel", "start_button", "The Start button.")
    stop_button = _forward("_panel", "stop_button", "The Stop button.")
    frames_shown = _forward("_state", "frames_shown", "Frames shown since the view was made (every Start).")
    last_frame = _forward("_state", "last_frame",
                          "The latest annotated frame, ``(H, W, 3)`` uint8 BGR (``None`` before the first).")
    last_faces = _forward("_state", "last_faces", "The latest frame's face records (``analyze_frame``'s).")
    error = _forward("_state", "error", "The exception that stopped the last run, if any.")
    ended = _forward("_state", "ended", "True when the last run ended because the source ran out of frames.")

    @property
    def bars(self) -> list[ipywidgets.FloatProgress]:
        """One bar per emotion, in :data:`fer_lib.labels.EMOTIONS` order: the largest face's probabilities."""
        return list(self._panel.bars)

    @property
    def status(self) -> str:
        """The status line: fps and faces while running; ended, stopped or the error after."""
        return self._panel.status.value

    @property
    def running(self) -> bool:
        """True while the background thread runs."""
        return self._worker is not None and self._worker.thread.is_alive()

    def start(self) -> None:
        """Open the source and show its frames in a background thread (no-op while running)."""
        if self.running:
            return
        self._state.error = None
        self._state.ended = False
        self._panel.status.value = self._panel.say("Starting...")
        self._worker = _Worker(self.source, self._options, self.max_fps, self._panel, self._state)
        self._panel.set_running(True)
        self._worker.thread.start()

    def stop(self, timeout: float | None = 5) -> bool:
        """Stop the thread and release the source; True when it stopped within ``timeout`` seconds.

        Parameters
        ----------
        timeout : float or None, default 5
            Seconds to wait for the thread to end; ``None`` waits as long as it takes.
        """
        worker = self._worker
        if worker is None:
            return True
        worker.stop_event.set()
        if worker.thread is not threading.current_thread():
            worker.thread.join(timeout)
        return not worker.thread.is_alive()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the source ends (or fails); True once the thread has ended. Ctrl+C stops the view too.

        Parameters
        ----------
        timeout : float or None, default None
            Seconds to wait at most; ``None`` waits until the thread ends.
        """
        worker = self._worker
        if worker is None:
            return True
        try:
            worker.thread.join(timeout)
        except KeyboardInterrupt:
            self.stop()
            raise
        return not worker.thread.is_alive()

    def __del__(self) -> None:
        worker = getattr(self, "_worker", None)
        if worker is not None:
            worker.stop_event.set()  # the thread releases the source and ends

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"LiveView({self.source!r}, {state}, {self.frames_shown} frames shown)"

    def _ipython_display_(self) -> None:  # `view` alone in a cell shows the widget
        from IPython.display import display

        self._panel.display_handle = display(self._panel.bundle(), raw=True, display_id=True)


@atexit.register
def _stop_all_views() -> None:
    for view in list(_VIEWS):
        view.stop(timeout=1)


def show_annotated(frame: np.ndarray, faces: list[dict], *, title: str | None = None, width: float = 8.0):
    """A figure of ``frame`` with its faces drawn, for a still frame in a notebook.

    Parameters
    ----------
    frame : ndarray of shape (H, W), (H, W, 1), (H, W, 3) BGR or (H, W, 4) BGRA, dtype uint8
    faces : list of dict
        Records from :func:`fer_lib.live.analyze_frame`.
    title : str, optional
        Default: the faces' emotions and confidences.
    width : float, default 8.0
        Figure width in inches.

    Returns
    -------
    matplotlib.figure.Figure
        Not registered with pyplot, so returning it from a cell shows it exactly once.
    """
    from matplotlib.figure import Figure

    rgb = cv2.cvtColor(annotate(frame, faces), cv2.COLOR_BGR2RGB)
    height_px, width_px = rgb.shape[:2]
    figure = Figure(figsize=(width, width * height_px / width_px + 0.5), layout="constrained")
    axes = figure.add_subplot()
    axes.imshow(rgb)
    axes.set_axis_off()
    if title is None and faces:
        confidences = [face["probabilities"][EMOTIONS.index(face["emotion"])] for face in faces]
        described = ", ".join(f"{display_emotion(face['emotion'])} {p:.0%}"
                              for face, p in zip(faces, confidences))
        title = tr("{count} face(s): {described}", count=len(faces), described=described)
    axes.set_title(tr("No face found") if title is None else title)
    return figure
