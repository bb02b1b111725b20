"""TensorFlow's C++ start-up lines (on descriptor 2 whatever ``TF_CPP_MIN_LOG_LEVEL`` says) kept off the
terminal, not lost (:func:`startup_lines`). Importing installs nothing; ``FER_LIB_VERBOSE=1`` shows all."""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import threading
from typing import Callable, Iterator

__all__ = ["is_startup_line", "hidden_startup_lines", "hide_startup_lines_from_now_on", "startup_lines"]

#: Environment variable that turns the hiding off (``1``, ``true`` or ``yes``).
VERBOSE_VARIABLE = "FER_LIB_VERBOSE"

#: Regular expressions of the start-up lines hidden (matched at the start of a line).
STARTUP_PATTERNS: tuple[str, ...] = (
    # absl's notice before its logging is initialised
    r"WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR",
    # absl / glog lines: I0000 00:00:1795623327.268088    4477 port.cc:153] ...
    r"[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ \S+:\d+\] ",
    # TensorFlow's older format: 2024-05-01 10:00:00.123456: I tensorflow/core/util/port.cc:113] ...
    r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWEF] \S+:\d+\] ",
    # LiteRT's notice, once per process, when an interpreter is made
    r"INFO: Created TensorFlow Lite XNNPACK delegate for CPU\.",
    # the second line of the CPU-instructions notice
    r"To enable the following instructions: .*, in other operations, rebuild TensorFlow",
    # OpenCV's FFmpeg notice when a WebM writer opens (it writes VP8 all the same)
    r"OpenCV: FFMPEG: tag 0x[0-9a-f]+/'\w+' is not supported with codec id \d+ and format 'webm",
)

_STARTUP = re.compile("|".join(f"(?:{pattern})" for pattern in STARTUP_PATTERNS))
_hidden: list[str] = []
_filter_installed = False
#: Descriptor 2 is one per process: blocks that redirect it (from any thread) take turns.
_redirecting = threading.RLock()
#: Start-up lines that only inform (absl's notice, I-level logs, the CPU-instructions notice):
#: the kernel-wide filter hides these and lets warnings, errors and fatal checks through.
_INFORMATIONAL = re.compile(r"WARNING: All log messages before absl|I\d{4} |\d{4}-\d\d-\d\d [\d:.]+: I |"
                            r"INFO: Created TensorFlow Lite|To enable the following instructions")


def is_startup_line(line: str) -> bool:
    """Whether ``line`` (one line of standard error) is one of TensorFlow's or absl's C++ start-up lines.

    Parameters
    ----------
    line : str
    """
    return _STARTUP.match(line) is not None


def startup_lines() -> list[str]:
    """The start-up lines hidden so far in this process, oldest first."""
    return list(_hidden)


def _verbose_requested() -> bool:
    return os.environ.get(VERBOSE_VARIABLE, "").strip().lower() in ("1", "true", "yes")


@contextlib.contextmanager
def hidden_startup_lines(*, enabled: bool | None = None,
                         hide: Callable[[str], bool] | None = None) -> Iterator[None]:
    """Run a block with TensorFlow's C++ start-up lines hidden; everything else still reaches stderr.

    Descriptor 2 goes to a temporary file; afterwards the lines ``hide`` recognises are kept for
    :func:`startup_lines` and the others are written to ``sys.stderr`` in order.

    Parameters
    ----------
    enabled : bool, optional
        ``False`` runs the block untouched. Default: hide unless ``$FER_LIB_VERBOSE`` is set.
    hide : callable, optional
        Which lines to hide; default :func:`is_startup_line`.
    """
    if enabled is None:
        enabled = not _verbose_requested()
    saved = None
    if enabled:
        with contextlib.suppress(AttributeError, OSError, ValueError):  # no stderr, or descriptor 2 closed
            sys.stderr.flush()
            saved = os.dup(2)
    if saved is None:
        yield
        return
    with _redirecting, tempfile.TemporaryFile(mode="w+b") as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(AttributeError, OSError, ValueError):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            text = capture.read().decode("utf-8", errors="replace")
            shown = []
            for line in text.splitlines(keepends=True):
                (_hidden if (hide or is_startup_line)(line) else shown).append(line)
            if shown:
                sys.stderr.write("".join(shown))
                sys.stderr.flush()


def hide_startup_lines_from_now_on() -> bool:
    """Filter descriptor 2 for the rest of the process: informational start-up lines are kept back.

    For a Jupyter kernel; every other line passes in order. Returns whether the filter is in place.
    """
    global _filter_installed
    if _filter_installed:
        return True
    if _verbose_requested():
        return False
    try:
        sys.stderr.flush()
        original = os.dup(2)
        read_end, write_end = os.pipe()
        os.dup2(write_end, 2)
        os.close(write_end)
    except (AttributeError, OSError, ValueError):
        return False

    def write(data: bytes) -> None:
        while data:
            data = data[os.write(original, data):]

    def pump() -> None:
        pending = b""
        try:
            with os.fdopen(read_end, "rb", buffering=0) as pipe:
                while chunk := pipe.read(65536):
                    *lines, pending = (pending + chunk).split(b"\n")
                    for raw in lines:
                        line = raw.decode("utf-8", errors="replace") + "\n"
                        if is_startup_line(line) and _INFORMATIONAL.match(line):
                            _hidden.append(line)
                        else:
                            write(raw + b"\n")
                    if pending and len(chunk) < 65536:  # the pipe is drained: show a partial line now
                        write(pending)
                        pending = b""
            write(pending)
        finally:  # never leave descriptor 2 on a pipe nobody reads
            with contextlib.suppress(OSError):
                os.dup2(original, 2)

    threading.Thread(target=pump, name="fer_lib-stderr-filter", daemon=True).start()
    _filter_installed = True
    return True
