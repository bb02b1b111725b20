"""Tests for fer_lib.quiet: TensorFlow's start-up lines hidden, everything else shown."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from fer_lib import quiet

ROOT = Path(__file__).resolve().parents[1]
NOISE = "I0000 00:00:1795623327.268088    4477 port.cc:153] oneDNN custom operations are on.\n"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("WARNING: All log messages before absl::InitializeLog() is called are written to STDERR", True),
        (NOISE, True),
        ("E0000 00:00:1795623327.268088    4477 cuda_dnn.cc:8310] Unable to register cuDNN factory", True),
        ("2024-05-01 10:00:00.123456: I tensorflow/core/util/port.cc:113] oneDNN custom operations are on.", True),
        ("To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow with the "
         "appropriate compiler flags.", True),
        ("error: nowhere.jpg does not exist (looked from /tmp); check the path", False),
        ("/x/fer_lib/data.py:611: FerWarning: ignoring unreadable cache", False),
        ("Traceback (most recent call last):", False),
    ],
)
def test_is_startup_line(line, expected):
    assert quiet.is_startup_line(line) is expected


def test_hides_startup_lines_and_shows_the_rest(capfd):
    before = len(quiet.startup_lines())
    with quiet.hidden_startup_lines(enabled=True):
        os.write(2, NOISE.encode())
        os.write(2, b"a real problem\n")
        print("a Python-level message", file=sys.stderr)
    err = capfd.readouterr().err  # (capfd takes sys.stderr aside, so the order between the two varies here)
    assert sorted(err.splitlines()) == ["a Python-level message", "a real problem"]
    assert quiet.startup_lines()[before:] == [NOISE]


def test_disabled_or_verbose_hides_nothing(capfd, monkeypatch):
    with quiet.hidden_startup_lines(enabled=False):
        os.write(2, NOISE.encode())
    monkeypatch.setenv(quiet.VERBOSE_VARIABLE, "1")
    with quiet.hidden_startup_lines():
        os.write(2, NOISE.encode())
    assert capfd.readouterr().err == 2 * NOISE


def test_descriptor_2_is_restored_after_an_error(capfd):
    with pytest.raises(RuntimeError, match="inside"):
        with quiet.hidden_startup_lines(enabled=True):
            os.write(2, b"said before the error\n")
            raise RuntimeError("inside")
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "said before the error\nafter\n"


def _run(*arguments: str) -> subprocess.CompletedProcess:
    # TF_CPP_MIN_LOG_LEVEL=3 exported, as a user would: TensorFlow prints its start-up lines anyway.
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop(quiet.VERBOSE_VARIABLE, None)
    return subprocess.run([sys.executable, *arguments], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=300, check=False)


def _message(line: str) -> str:
    """A start-up line without its time stamp and thread id."""
    return re.sub(r"^[IWEF]\d{4} [\d:.]+\s+\d+ ", "", line.strip())


@pytest.fixture(scope="module")
def hidden_at_import() -> list[str]:
    """What TensorFlow prints while Keras is imported on this machine (hidden by fer_lib.quiet)."""
    result = _run("-c", "import sys; from fer_lib import quiet\nwith quiet.hidden_startup_lines(): import keras\n"
                  "sys.stdout.write(''.join(quiet.startup_lines()))")
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


@pytest.mark.parametrize("arguments", [["--help"], ["info"], ["train", "--help"]], ids=" ".join)
def test_command_line_prints_no_startup_lines(arguments, hidden_at_import):
    result = _run("-m", "fer_lib", *arguments)
    assert result.returncode == 0, result.stderr
    assert "oneDNN custom operations" not in result.stderr
    assert "absl::InitializeLog" not in result.stderr
    assert not [line for line in result.stderr.splitlines() if quiet.is_startup_line(line)]
    assert result.stdout.strip()


@pytest.mark.parametrize("arguments", [["--verbose", "export", "missing.keras"], ["export", "missing.keras", "--verbose"]],
                         ids=" ".join)
def test_verbose_shows_the_startup_lines(arguments, hidden_at_import):
    result = _run("-m", "fer_lib", *arguments)  # export loads Keras (and TensorFlow) before it looks at the file
    assert result.returncode == 2
    shown = {_message(line) for line in result.stderr.splitlines()}
    assert {_message(line) for line in hidden_at_import} <= shown
    assert "missing.keras does not exist" in result.stderr


def test_a_kernel_wide_filter_keeps_startup_lines_and_passes_the_rest(tmp_path):
    import subprocess
    import sys

    script = (
        "import os, threading\n"
        "from fer_lib import quiet\n"
        "assert quiet.hide_startup_lines_from_now_on() and quiet.hide_startup_lines_from_now_on()\n"
        "os.write(2, b'I0000 00:00:1795623327.268088    4477 port.cc:153] oneDNN custom operations are on.\\n')\n"
        "os.write(2, b'a real error, kept\\n')\n"
        "os.write(2, b'E0000 00:00:1795623327.3    4477 bfc_allocator.cc:1] out of memory\\n')\n"
        "os.write(2, b'no newline at the end')\n"
        "os.dup2(os.open(os.devnull, os.O_WRONLY), 2)  # the pipe's only writer goes: the thread sees its end\n"
        "[t.join(10) for t in threading.enumerate() if t.name == 'fer_lib-stderr-filter']\n"
        "print(len(quiet.startup_lines()))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                          env={**__import__("os").environ, "FER_LIB_VERBOSE": ""})
    assert done.returncode == 0, done.stderr
    assert done.stderr == ("a real error, kept\n"
                           "E0000 00:00:1795623327.3    4477 bfc_allocator.cc:1] out of memory\n"
                           "no newline at the end")
    assert done.stdout.strip() == "1"


def test_a_block_can_choose_which_lines_to_hide(capfd):
    import os

    from fer_lib import quiet

    with quiet.hidden_startup_lines(enabled=True, hide=lambda line: "routine" in line):
        os.write(2, b"a routine kernel warning\nsomething that matters\n")
    assert capfd.readouterr().err == "something that matters\n"
    assert "a routine kernel warning\n" in quiet.startup_lines()
