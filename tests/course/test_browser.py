"""Notebook 5's two live views in a real browser: JupyterLab, Chromium, the demo clip as the source.

``test_live_view_runs_and_stops_in_jupyterlab`` checks the kernel-side ``LiveView`` (a video
file read by the kernel); ``test_browser_camera_in_jupyterlab`` checks ``BrowserCamera``, whose
camera is the browser's own: Chromium's fake camera plays an MJPEG made from the demo clip
(``--use-file-for-fake-video-capture``), and the page sends its frames to the kernel.

What it checks
--------------
1. A temporary copy of ``notebooks/05_live_webcam.ipynb`` (outputs cleared, parameters
   overridden the way papermill does it: the shipped demo clip as the source, the shipped
   model, output in a temporary folder) is opened in JupyterLab and run with
   *Run > Run All Cells*. The copy ends at the cell that displays the ``LiveView``: the
   committed notebook's next cell blocks the kernel in ``view.wait()``, and a busy kernel
   would not receive button clicks. The copy also caps the view at ``MAX_FPS`` so that the
   clip lasts long enough for Stop to come before its end.
2. Pressing **Start** makes the live image change: its ``src`` (ipywidgets makes a new blob
   URL per frame), its pixels and the frame number in the status line all differ a couple
   of seconds apart.
3. Pressing **Stop** stops it: the status says ``Stopped after N frame(s)`` (not ``Ended``),
   Start is enabled again and the image no longer changes.

A screenshot of the page is written to ``build/test-artifacts/notebook05_browser.png``
after the run, whether it passed or failed.

The browser camera: a copy of the notebook cut after the ``BrowserCamera`` cell is run; pressing
its **Start** opens the fake camera (the track's label is the MJPEG's path), a face box and an
emotion appear over the video, the emotion bars change over time, **Stop** ends the camera
track, and so does re-running the cell after starting again. Screenshot: ``build/test-artifacts/notebook05_browser_camera.png``.

Set-up
------
The browser is Debian's ``chromium`` (``/usr/bin/chromium``) driven by Playwright; Playwright's
own browser download is not used. ``make test``'s set-up step installs it where it runs as root
with apt-get (``make browser``); elsewhere this test skips and names the command. JupyterLab runs on
127.0.0.1 with a random token, an isolated configuration and nothing fetched from the network,
and is shut down, kernels included, on every path.

Run it alone with::

    .venv/bin/python -m pytest tests/course/test_browser.py -q

It is marked ``browser``: ``-m "not browser"`` leaves it out, ``-m browser`` runs only it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, TypeVar

import pytest

pytestmark = pytest.mark.browser

REPO_ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO_ROOT / "notebooks" / "05_live_webcam.ipynb"
MODEL = REPO_ROOT / "fer_lib" / "model" / "shipped" / "default.quantized.tflite"
LITERT_MODEL = MODEL
ARTIFACT = REPO_ROOT / "build" / "test-artifacts" / "notebook05_browser.png"
CAMERA_ARTIFACT = REPO_ROOT / "build" / "test-artifacts" / "notebook05_browser_camera.png"
CAMERA_NOTEBOOK = "05_browser_camera.ipynb"
#: Frames of the demo clip in the fake camera's MJPEG (the clip's audience and close-ups included).
CAMERA_FRAMES = 150
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--no-first-run", "--disable-extensions",
]
INSTALL_HINT = (
    "run `make browser` (as root: apt-get install -y chromium) so that /usr/bin/chromium exists, "
    "and install the Python package `playwright`"
)

#: Show at most this many frames per second: the 275-frame clip then lasts at least 34 s.
MAX_FPS = 8

# Every wait is bounded (seconds). The machine may be slow and busy: generous, never endless.
SERVER_START_TIMEOUT = 120
KERNEL_START_TIMEOUT = 120
RUN_ALL_TIMEOUT = 300      # imports, loading the model, the step-by-step cells
FIRST_FRAME_TIMEOUT = 60
CHANGE_TIMEOUT = 60
STOP_TIMEOUT = 30
SERVER_STOP_TIMEOUT = 20
SETTLE_SECONDS = 2.5       # how far apart the two looks at the image are


# --------------------------------------------------------------------------------------
# Chromium
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium() -> Path:
    """``/usr/bin/chromium``; a skip that names the command when it is missing (``make test`` installs it)."""
    pytest.importorskip("playwright.sync_api", reason=f"playwright is not installed: {INSTALL_HINT}")
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} is missing: {INSTALL_HINT}")
    return CHROMIUM


# --------------------------------------------------------------------------------------
# The notebook copy
# --------------------------------------------------------------------------------------


def _code_cell_index(cells: list, predicate) -> int:
    for index, cell in enumerate(cells):
        if cell.cell_type == "code" and predicate(cell):
            return index
    raise AssertionError(f"{NOTEBOOK.name} has no such cell any more: update tests/course/test_browser.py")


def make_camera_copy(folder: Path, video: Path) -> Path:
    """Write the notebook copy for the browser-camera test: cut after the ``BrowserCamera`` cell.

    Parameters
    ----------
    folder : Path
        JupyterLab's root directory.
    video : Path
        The demo clip (the notebook's own detector comparison reads it).

    Returns
    -------
    Path
        ``folder / CAMERA_NOTEBOOK``.
    """
    import nbformat

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    notebook.metadata.pop("widgets", None)
    cells = notebook.cells
    for cell in cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    camera = _code_cell_index(cells, lambda cell: "BrowserCamera(" in cell.source and "import" not in cell.source)
    parameters = _code_cell_index(cells, lambda cell: "parameters" in cell.metadata.get("tags", []))
    overrides = {"profile": "default", "source": str(video), "model_path": str(LITERT_MODEL),
                 "output_dir": str(folder / "output")}
    injected = nbformat.v4.new_code_cell(
        "# Parameters of the browser test\n" + "".join(f"{name} = {value!r}\n" for name, value in overrides.items()),
        metadata={"tags": ["injected-parameters"]},
    )
    notebook.cells = [*cells[: parameters + 1], injected, *cells[parameters + 1 : camera + 1]]
    # The capture mode: Record saves face crops in the lab's folder (notebook 6 shows it to students).
    source = notebook.cells[-1].source
    assert "classifier=classifier)" in source, "update make_camera_copy: the BrowserCamera call changed"
    notebook.cells[-1].source = source.replace(
        "classifier=classifier)", f"classifier=classifier, capture={str(folder / 'my_faces')!r})")
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                       "language": "python"}
    path = folder / CAMERA_NOTEBOOK
    nbformat.write(notebook, path)
    return path


def make_fake_camera(folder: Path, video: Path) -> Path:
    """An MJPEG file (JPEG frames one after another) of the demo clip, for Chromium's fake camera."""
    import cv2

    capture = cv2.VideoCapture(str(video))
    chunks = []
    try:
        while len(chunks) < CAMERA_FRAMES:
            ok, frame = capture.read()
            if not ok:
                break
            chunks.append(cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes())
    finally:
        capture.release()
    assert chunks, f"{video} gave no frame"
    path = folder / "fake_camera.mjpeg"
    path.write_bytes(b"".join(chunks))
    return path


def make_browser_copy(folder: Path, video: Path) -> Path:
    """Write the notebook to run in the browser into ``folder`` and return its path.

    Parameters
    ----------
    folder : Path
        Becomes JupyterLab's root directory.
    video : Path
        The video file used as the source.

    Returns
    -------
    Path
        ``folder / NOTEBOOK.name``: outputs cleared, an ``injected-parameters`` cell after the
        ``parameters`` cell, cut after the cell that displays the view, ``view.max_fps`` set.
    """
    import nbformat

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    notebook.metadata.pop("widgets", None)  # saved widget state would show a stale view
    cells = notebook.cells
    for cell in cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    shows_view = _code_cell_index(cells, lambda cell: "LiveView(" in cell.source and cell.source.rstrip().endswith("view"))
    parameters = _code_cell_index(cells, lambda cell: "parameters" in cell.metadata.get("tags", []))
    assert parameters < shows_view, "the parameters cell should come before the live view"
    overrides = {
        "profile": "default",  # not "fast": it caps the clip at 40 frames
        "source": str(video),
        "model_path": str(MODEL),
        "max_frames": None,
        "output_dir": str(folder / "output"),
    }
    injected = nbformat.v4.new_code_cell(
        "# Parameters of the browser test\n" + "".join(f"{name} = {value!r}\n" for name, value in overrides.items()),
        metadata={"tags": ["injected-parameters"]},
    )
    throttle = nbformat.v4.new_code_cell(f"view.max_fps = {MAX_FPS}  # browser test: Stop must come before the end")
    notebook.cells = [*cells[: parameters + 1], injected, *cells[parameters + 1 : shows_view + 1], throttle]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                       "language": "python"}
    path = folder / NOTEBOOK.name
    nbformat.write(notebook, path)
    return path


# --------------------------------------------------------------------------------------
# JupyterLab
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lab:
    """A running JupyterLab: where it listens and its log."""

    url: str
    token: str
    log: Path
    root: Path

    def log_tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.is_file() else "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def api(self, path: str, method: str = "GET", timeout: float = 5):
        """JSON from the server's REST API."""
        request = urllib.request.Request(f"{self.url}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _lab_config(folder: Path) -> dict:
    """Server and Lab settings: local only, nothing downloaded, a clean layout every time."""
    return {
        "ServerApp": {
            "ip": "127.0.0.1",
            "open_browser": False,
            "port_retries": 0,
            "terminals_enabled": False,
            "allow_root": hasattr(os, "geteuid") and os.geteuid() == 0,  # containers and CI often run as root
            "jpserver_extensions": {"jupyter_lsp": False},
        },
        "LabApp": {
            "news_url": None,
            "check_for_updates_class": "jupyterlab.NeverCheckForUpdate",
            "extension_manager": "readonly",
            "workspaces_dir": str(folder / "workspaces"),
            "user_settings_dir": str(folder / "settings"),
        },
    }


def _write_lab_settings(settings_dir: Path) -> None:
    """Render every cell (no windowing) so that Playwright sees all outputs; no news toast."""
    settings = {
        "notebook-extension/tracker": {"windowingMode": "none"},
        "apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    }
    for name, values in settings.items():
        path = settings_dir / "@jupyterlab" / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


def _wait_until_ready(process: subprocess.Popen, lab: Lab) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"JupyterLab exited with code {process.returncode} while starting; log:\n{lab.log_tail()}")
        with contextlib.suppress(OSError, ValueError):
            lab.api("/api/status", timeout=2)
            return
        time.sleep(0.5)
    pytest.fail(f"JupyterLab did not answer on {lab.url} within {SERVER_START_TIMEOUT} s; log:\n{lab.log_tail()}")


def _shut_down(process: subprocess.Popen, lab: Lab) -> None:
    """Stop the kernels, then the server (SIGTERM, then SIGKILL to its process group)."""
    if process.poll() is None:
        with contextlib.suppress(OSError, ValueError):
            for kernel in lab.api("/api/kernels"):
                lab.api(f"/api/kernels/{kernel['id']}", method="DELETE", timeout=10)
        process.terminate()
        try:
            process.wait(SERVER_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(SERVER_STOP_TIMEOUT)


@pytest.fixture(scope="module")
def lab(tmp_path_factory, video_path: Path) -> Iterator[Lab]:
    """JupyterLab on 127.0.0.1, rooted at a folder holding the notebook copy."""
    root = tmp_path_factory.mktemp("lab_root")
    state = tmp_path_factory.mktemp("lab_state")
    make_browser_copy(root, video_path)
    make_camera_copy(root, video_path)
    _write_lab_settings(state / "settings")
    config = state / "lab_config.json"
    config.write_text(json.dumps(_lab_config(state)))
    port, token = _free_port(), secrets.token_hex(16)
    env = {name: value for name, value in os.environ.items()
           if name not in ("FER_LIB_PROFILE", "FER_LIB_OUTPUT", "JUPYTER_TOKEN")}
    env.update(JUPYTER_CONFIG_DIR=str(state / "config"), JUPYTER_RUNTIME_DIR=str(state / "runtime"),
               IPYTHONDIR=str(state / "ipython"), JUPYTER_PLATFORM_DIRS="1", PYTHONUNBUFFERED="1")
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--config={config}",
               f"--ServerApp.port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}"]
    info = Lab(url=f"http://127.0.0.1:{port}", token=token, log=state / "jupyterlab.log", root=root)
    with info.log.open("wb") as log:
        process = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_until_ready(process, info)
        yield info
    finally:
        _shut_down(process, info)


# --------------------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fake_camera(tmp_path_factory, video_path: Path) -> Path:
    """The MJPEG Chromium's fake camera plays."""
    return make_fake_camera(tmp_path_factory.mktemp("camera"), video_path)


@pytest.fixture
def page(chromium: Path, fake_camera: Path):
    """A Chromium page (headless, 1400x1000) with a fake camera and bounded default timeouts."""
    from playwright.sync_api import sync_playwright

    camera_args = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                   f"--use-file-for-fake-video-capture={fake_camera}"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS + camera_args,
                                             headless=True, timeout=60_000)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = context.new_page()
            page.set_default_timeout(30_000)
            yield page
        finally:
            browser.close()


@contextlib.contextmanager
def screenshot_afterwards(page, path: Path) -> Iterator[None]:
    """Save a screenshot of ``page`` to ``path`` when the block ends, passed or failed."""
    try:
        yield
    finally:
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(Exception):  # a screenshot must never hide the real failure
            view = page.locator(".jp-OutputArea-output .widget-image")
            if view.count():
                view.first.scroll_into_view_if_needed(timeout=5_000)
            page.screenshot(path=str(path), timeout=15_000)


T = TypeVar("T")


def wait_for(condition: Callable[[], T], timeout: float, message: Callable[[], str], page,
             poll: float = 0.25) -> T:
    """Poll ``condition()`` until it returns something truthy; fail with ``message()`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"after {timeout:.0f} s: {message()}")
        page.wait_for_timeout(poll * 1000)


STATUS = re.compile(r"^(Starting|Running|Stopped|Ended|Error)")
FRAME_NUMBER = re.compile(r"frame (\d+)")


class LiveViewPage:
    """The notebook in JupyterLab and the live view in its output, seen as a user sees them."""

    def __init__(self, page, lab: Lab) -> None:
        self.page = page
        self.lab = lab
        outputs = page.locator(".jp-OutputArea-output")
        self.start = outputs.locator("button.widget-button", has_text="Start")
        self.stop = outputs.locator("button.widget-button", has_text="Stop")
        self.image = outputs.locator("img.widget-image")
        self.status = outputs.locator(".widget-label", has_text=STATUS)

    def open(self) -> None:
        self.page.goto(f"{self.lab.url}/lab/tree/{NOTEBOOK.name}?token={self.lab.token}",
                       wait_until="domcontentloaded", timeout=60_000)
        self.page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=60_000)
        wait_for(lambda: self.kernel_idle(NOTEBOOK.name), KERNEL_START_TIMEOUT,
                 lambda: f"the kernel did not become idle; server log:\n{self.lab.log_tail()}", self.page)

    def kernel_idle(self, notebook: str) -> bool:
        """Whether the kernel of ``notebook``'s own session exists and is idle (another notebook's does not count:
        "Run All Cells" clicked before a notebook's kernel exists is lost silently)."""
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            return any(session["path"].endswith(notebook) and session["kernel"]["execution_state"] == "idle"
                       for session in self.lab.api("/api/sessions"))
        return False

    def run_all(self) -> None:
        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        self.page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()

    def error_text(self) -> str:
        """Text of outputs that hold a Python traceback, if any."""
        errors = self.page.locator(".jp-OutputArea-output", has_text="Traceback")
        return "\n".join(errors.all_inner_texts())[-3000:]

    def wait_for_view(self) -> None:
        def ready() -> bool:
            if self.error_text():
                pytest.fail(f"a notebook cell failed:\n{self.error_text()}")
            return self.start.count() == 1 and self.start.is_enabled()

        wait_for(ready, RUN_ALL_TIMEOUT,
                 lambda: f"no enabled Start button in the outputs; status: {self.status_text()!r}; "
                         f"server log:\n{self.lab.log_tail()}", self.page, poll=1.0)

    def status_text(self) -> str:
        return self.status.first.inner_text().strip() if self.status.count() else ""

    def frame_number(self) -> int:
        found = FRAME_NUMBER.search(self.status_text())
        return int(found.group(1)) if found else 0

    def image_src(self) -> str:
        return (self.image.first.get_attribute("src") or "") if self.image.count() else ""

    def image_pixels(self) -> bytes:
        return self.image.first.screenshot(timeout=10_000)

    def look(self) -> tuple[str, bytes, int]:
        """The live image now: its src, its pixels, the frame number of the status line."""
        return self.image_src(), self.image_pixels(), self.frame_number()


# --------------------------------------------------------------------------------------
# The test
# --------------------------------------------------------------------------------------


def test_live_view_runs_and_stops_in_jupyterlab(chromium: Path, lab: Lab, page) -> None:
    """Run All, Start: the live image changes; Stop: it says stopped and the image stays still."""
    view = LiveViewPage(page, lab)
    with screenshot_afterwards(page, ARTIFACT):
        view.open()
        view.run_all()
        view.wait_for_view()
        view.start.click()

        wait_for(lambda: view.image_src().startswith("blob:") and view.frame_number() >= 1, FIRST_FRAME_TIMEOUT,
                 lambda: f"no frame shown after Start; status: {view.status_text()!r}", page)
        view.image.first.scroll_into_view_if_needed()
        first_src, first_pixels, first_frame = view.look()
        page.wait_for_timeout(SETTLE_SECONDS * 1000)

        def changed() -> tuple[str, bytes, int] | None:
            src, pixels, frame = look = view.look()
            return look if src != first_src and pixels != first_pixels and frame > first_frame else None

        later = wait_for(changed, CHANGE_TIMEOUT,
                         lambda: f"the live image did not change; status: {view.status_text()!r}", page)
        assert view.status_text().startswith("Running"), view.status_text()
        assert view.stop.is_enabled() and not view.start.is_enabled()

        view.stop.click()
        wait_for(lambda: view.status_text().startswith(("Stopped", "Ended", "Error")), STOP_TIMEOUT,
                 lambda: f"the view did not stop; status: {view.status_text()!r}", page)
        stopped = view.status_text()
        assert stopped.startswith("Stopped after"), f"expected Stop to stop the view, got {stopped!r}"
        shown = int(re.search(r"after (\d+) frame", stopped).group(1))
        assert shown >= later[2], stopped
        wait_for(view.start.is_enabled, STOP_TIMEOUT, lambda: "Start was not enabled again after Stop", page)
        assert not view.stop.is_enabled()

        still_src, still_pixels = view.image_src(), view.image_pixels()
        page.wait_for_timeout(SETTLE_SECONDS * 1000)
        assert view.image_src() == still_src, "the image changed after Stop"
        assert view.image_pixels() == still_pixels, "the image changed after Stop"
        assert view.status_text() == stopped


class BrowserCameraPage:
    """The camera notebook in JupyterLab and the BrowserCamera widget in its output."""

    def __init__(self, page, lab: Lab) -> None:
        self.page = page
        self.lab = lab
        self.root = page.locator(".fer-webcam")
        self.start = page.locator("button.fer-webcam-start")
        self.stop = page.locator("button.fer-webcam-stop")
        self.status = page.locator(".fer-webcam-status")

    def open(self) -> None:
        # A workspace of its own: the default one would bring back the other test's notebook on top.
        self.page.goto(f"{self.lab.url}/lab/workspaces/camera/tree/{CAMERA_NOTEBOOK}?reset&token={self.lab.token}",
                       wait_until="domcontentloaded", timeout=60_000)
        self.page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=60_000)
        wait_for(lambda: LiveViewPage(self.page, self.lab).kernel_idle(CAMERA_NOTEBOOK), KERNEL_START_TIMEOUT,
                 lambda: f"the kernel did not become idle; server log:\n{self.lab.log_tail()}", self.page)

    def status_text(self) -> str:
        return self.status.first.inner_text().strip() if self.status.count() else ""

    def bars(self) -> list[str]:
        """The widths of the seven emotion bars, as the page sets them."""
        return self.page.eval_on_selector_all(".fer-webcam-fill", "fills => fills.map(f => f.style.width)")

    def shown(self) -> tuple[int, str]:
        """Faces and emotions the overlay shows now."""
        faces = self.root.first.get_attribute("data-faces") or "0"
        return int(faces), self.root.first.get_attribute("data-emotions") or ""


def test_browser_camera_in_jupyterlab(chromium: Path, lab: Lab, page, fake_camera: Path) -> None:
    """Run All, Start: the browser's (fake) camera is analysed by the kernel; Stop ends the camera track."""
    from fer_lib.labels import EMOTIONS

    notebook = LiveViewPage(page, lab)
    camera = BrowserCameraPage(page, lab)
    with screenshot_afterwards(page, CAMERA_ARTIFACT):
        camera.open()
        notebook.run_all()

        def ready() -> bool:
            if notebook.error_text():
                pytest.fail(f"a notebook cell failed:\n{notebook.error_text()}")
            return camera.start.count() == 1 and camera.start.is_enabled()

        wait_for(ready, RUN_ALL_TIMEOUT, lambda: f"no Start button of BrowserCamera; log:\n{lab.log_tail()}",
                 page, poll=1.0)
        camera.start.click()
        wait_for(lambda: camera.status_text().startswith("Running"), FIRST_FRAME_TIMEOUT,
                 lambda: f"the camera did not start; status: {camera.status_text()!r}", page)
        label = page.evaluate("() => document.querySelector('.fer-webcam-video').srcObject"
                              ".getVideoTracks()[0].label")
        assert str(fake_camera) in label or fake_camera.name in label, label
        page.evaluate("() => { window.__ferTrack = document.querySelector('.fer-webcam-video')"
                      ".srcObject.getVideoTracks()[0]; }")

        faces, emotions = wait_for(lambda: camera.shown() if camera.shown()[0] >= 1 else None, FIRST_FRAME_TIMEOUT,
                                   lambda: f"no face shown; status: {camera.status_text()!r}", page)
        assert all(emotion in EMOTIONS for emotion in emotions.split(",")), emotions
        assert re.search(r"Running: [\d.]+ frames/s, \d+ faces?", camera.status_text()), camera.status_text()
        camera.root.first.scroll_into_view_if_needed()
        first_bars = camera.bars()
        assert any(width not in ("", "0%") for width in first_bars), first_bars
        wait_for(lambda: camera.bars() != first_bars, CHANGE_TIMEOUT,
                 lambda: f"the emotion bars did not change: {camera.bars()}", page)
        assert camera.stop.is_enabled() and not camera.start.is_enabled()

        # Capture: three faces of Sad, one session, the classifier's own 48x48 crops.
        page.select_option("select.fer-webcam-emotion", "4")
        page.fill("input.fer-webcam-count", "3")
        page.locator("button.fer-webcam-record").click()
        saved = page.locator(".fer-webcam-saved")
        wait_for(lambda: "Sad 3" in saved.inner_text() and "recording" not in saved.inner_text(), CHANGE_TIMEOUT * 3,
                 lambda: f"the capture did not save three faces: {saved.inner_text()!r}", page)
        files = sorted((lab.root / "my_faces" / "sad").glob("*.png"))
        assert len(files) == 3 and len({file.name.split("_")[0] for file in files}) == 1, files
        import cv2

        assert all(cv2.imread(str(file), cv2.IMREAD_UNCHANGED).shape == (48, 48) for file in files)

        camera.stop.click()
        wait_for(lambda: camera.status_text().startswith("Stopped"), STOP_TIMEOUT,
                 lambda: f"Stop did not stop; status: {camera.status_text()!r}", page)
        assert page.evaluate("() => window.__ferTrack.readyState") == "ended"
        assert page.evaluate("() => document.querySelector('.fer-webcam-video').srcObject") is None
        assert camera.start.is_enabled() and not camera.stop.is_enabled()
        assert camera.shown() == (0, "")

        # Re-running the cell replaces the widget: the old view must stop its camera too.
        camera.start.click()
        wait_for(lambda: camera.status_text().startswith("Running"), FIRST_FRAME_TIMEOUT,
                 lambda: f"the camera did not start again; status: {camera.status_text()!r}", page)
        page.evaluate("() => { window.__ferTrack = document.querySelector('.fer-webcam-video')"
                      ".srcObject.getVideoTracks()[0]; }")
        assert page.evaluate("() => window.__ferTrack.readyState") == "live"
        page.locator(".jp-Notebook .jp-CodeCell").last.locator(".jp-InputArea-editor").click()
        page.keyboard.press("Shift+Enter")
        wait_for(lambda: page.evaluate("() => window.__ferTrack.readyState") == "ended", STOP_TIMEOUT,
                 lambda: "re-running the cell left the old camera track running", page)
        wait_for(lambda: camera.start.count() == 1 and camera.start.is_enabled(), RUN_ALL_TIMEOUT,
                 lambda: "no new BrowserCamera after re-running its cell", page)
