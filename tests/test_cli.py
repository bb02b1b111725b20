"""Tests of ``python -m fer_lib predict | live | info`` through :func:`fer_lib.cli.main`."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from fer_lib import cli
from fer_lib.model import _classifier as classifier
from fer_lib.live import _drawing as drawing
from fer_lib.live import _loop as live
from fer_lib.live import _outputs as outputs
from fer_lib.live import _sources as sources
from fer_lib.model._classifier import EmotionClassifier
from fer_lib.errors import SourceError
from fer_lib.labels import EMOTIONS


@pytest.fixture(scope="module")
def photo(media) -> Path:
    return media / "obama.jpg"


def _frame_count(path: Path) -> int:
    capture = cv2.VideoCapture(str(path))
    count = 0
    while capture.read()[0]:
        count += 1
    capture.release()
    return count


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") or ".tmp" in p.name)


# --------------------------------------------------------------------------------------
# predict
# --------------------------------------------------------------------------------------


def test_predict_image_prints_table_and_writes_csv(photo, tiny_model_path, tmp_path, capsys):
    assert cli.main(["predict", str(photo), "--model", str(tiny_model_path)]) == 0
    out = capsys.readouterr().out
    header = out.splitlines()[0].split()
    assert header[:3] == ["source", "frame", "face"] and "emotion" in header and "confidence" in header
    assert "obama.jpg" in out
    report = tmp_path / "faces.csv"
    assert cli.main(["predict", str(photo), "--model", str(tiny_model_path), "--report", str(report)]) == 0
    out = capsys.readouterr().out  # a report file is asked for: one summary line instead of the table
    assert out.splitlines() == [f"1 input(s), 1 frame(s) analysed, 1 face(s); report: {report}"]
    with report.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) >= 1
    for row in rows:
        assert row["source"] == str(photo) and row["frame"] == "0"
        assert all(int(row[side]) >= 0 for side in "xyw") and int(row["h"]) > 0
        probabilities = [float(row[name]) for name in EMOTIONS]
        assert sum(probabilities) == pytest.approx(1.0, abs=1e-4)
        assert row["emotion"] == EMOTIONS[int(np.argmax(probabilities))]
        assert float(row["confidence"]) == pytest.approx(max(probabilities))
    assert _leftovers(tmp_path) == []


def test_predict_json_report_and_json_on_stdout(photo, tiny_model_path, tmp_path, capsys):
    report = tmp_path / "faces.json"
    assert cli.main(["predict", str(photo), "--model", str(tiny_model_path), "--report", str(report)]) == 0
    saved = json.loads(report.read_text())
    rows = saved["faces"]
    assert saved["tracks"] == []  # a photo's faces are not tracked
    assert rows and all(len(row["box"]) == 4 and set(row["probabilities"]) == set(EMOTIONS) for row in rows)
    assert all(row["emotion"] in EMOTIONS for row in rows)
    capsys.readouterr()
    assert cli.main(["predict", str(photo), "--model", str(tiny_model_path), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == saved


def test_predict_output_image(photo, tiny_model_path, tmp_path):
    output = tmp_path / "annotated.png"
    assert cli.main(["predict", str(photo), "--model", str(tiny_model_path), "--output", str(output)]) == 0
    annotated = cv2.imread(str(output))
    original = cv2.imread(str(photo))
    assert annotated is not None and annotated.shape == original.shape
    assert not np.array_equal(annotated, original)  # a box was drawn
    assert _leftovers(tmp_path) == []


def test_predict_output_video_has_every_frame(short_video, short_video_frames, tiny_model_path, tmp_path, capsys):
    output = tmp_path / "annotated.mp4"
    report = tmp_path / "faces.csv"
    status = cli.main([
        "predict", str(short_video), "--model", str(tiny_model_path), "--every", "3", "--output", str(output),
    ])
    assert status == 0
    assert _frame_count(output) == short_video_frames
    capture = cv2.VideoCapture(str(output))
    assert capture.get(cv2.CAP_PROP_FRAME_WIDTH) == 640 and capture.get(cv2.CAP_PROP_FPS) == pytest.approx(30)
    capture.release()
    table_frames = {int(line.split()[1]) for line in capsys.readouterr().out.splitlines()[1:-1]}
    assert table_frames == {0, 3, 6, 9}  # frames analysed, faces or not
    assert cli.main(["predict", str(short_video), "--model", str(tiny_model_path), "--every", "3",
                     "--report", str(report)]) == 0
    with report.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {int(row["frame"]) for row in rows} <= {0, 3, 6, 9}
    assert all(float(row["time"]) == pytest.approx(int(row["frame"]) / 30, abs=1e-3) for row in rows)
    assert all(row["track"].isdigit() for row in rows)  # each face followed from frame to frame
    summary = tmp_path / "faces.json"
    assert cli.main(["predict", str(short_video), "--model", str(tiny_model_path), "--every", "3",
                     "--report", str(summary)]) == 0
    tracks = json.loads(summary.read_text())["tracks"]
    assert {track["track"] for track in tracks} == {int(row["track"]) for row in rows}
    assert all(track["first_time"] <= track["last_time"] and track["emotion"] in EMOTIONS for track in tracks)
    assert _leftovers(tmp_path) == []


def test_predict_several_inputs_into_a_folder(photo, short_video, short_video_frames, tiny_model_path, tmp_path):
    folder = tmp_path / "out"
    images = tmp_path / "images"
    images.mkdir()
    cv2.imwrite(str(images / "blank.png"), np.zeros((60, 80, 3), np.uint8))
    status = cli.main([
        "predict", str(photo), str(images), str(short_video), "--model", str(tiny_model_path),
        "--output", str(folder),
    ])
    assert status == 0
    assert sorted(p.name for p in folder.iterdir()) == [
        "blank_annotated.png", "obama_annotated.jpg", "short_annotated.webm"
    ]
    assert cv2.imread(str(folder / "blank_annotated.png")).shape == (60, 80, 3)
    assert _frame_count(folder / "short_annotated.webm") == short_video_frames  # WebM, which browsers play


def test_missing_file_exits_1_naming_it(tiny_model_path, tmp_path, capsys):
    missing = tmp_path / "nowhere.jpg"
    assert cli.main(["predict", str(missing), "--model", str(tiny_model_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "nowhere.jpg" in err and "does not exist" in err
    assert len(err.strip().splitlines()) == 1


def test_missing_model_exits_2(photo, tmp_path, capsys):
    assert cli.main(["predict", str(photo), "--model", str(tmp_path / "no_model.keras")]) == 2
    assert "no_model.keras" in capsys.readouterr().err


@pytest.mark.parametrize(
    "name, content, message",
    [("broken.jpg", b"not a jpeg", "broken.jpg cannot be read"),
     ("garbage.mp4", b"\x00garbage" * 100, "garbage.mp4"),
     ("empty.mp4", b"", "empty.mp4")],
)
def test_bad_inputs_exit_1_naming_them(name, content, message, tiny_model_path, tmp_path, capsys):
    bad = tmp_path / name
    bad.write_bytes(content)
    assert cli.main(["predict", str(bad), "--model", str(tiny_model_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and len(err.strip().splitlines()) == 1
    assert cli.main(["predict", str(bad), "--model", str(tiny_model_path), "--on-error", "stop"]) == 2


def test_one_bad_file_does_not_lose_the_batch(media, tiny_model_path, tmp_path, capsys):
    images = tmp_path / "images"
    images.mkdir()
    for name in ("obama.jpg", "two_people.jpg", "obama-480p.jpg"):
        (images / name).write_bytes((media / name).read_bytes())
    (images / "broken.jpg").write_bytes(b"not a jpeg")
    folder, report = tmp_path / "out", tmp_path / "reports" / "faces.csv"  # the report's folder is created
    status = cli.main(["predict", str(images), "--model", str(tiny_model_path), "--output", str(folder),
                       "--report", str(report)])
    captured = capsys.readouterr()
    assert status == 1
    assert [line for line in captured.err.splitlines() if line.startswith("error: ")] == [
        line for line in captured.err.splitlines() if "broken.jpg" in line]
    assert sorted(p.name for p in folder.iterdir()) == [
        "obama-480p_annotated.jpg", "obama_annotated.jpg", "two_people_annotated.jpg"]  # complete, nothing else
    with report.open(newline="") as handle:
        sources = {Path(row["source"]).name for row in csv.DictReader(handle)}
    assert sources == {"obama.jpg", "two_people.jpg", "obama-480p.jpg"}
    assert "3 input(s)" in captured.out and "1 input(s) failed" in captured.out
    assert _leftovers(tmp_path) == [] and _leftovers(folder) == []


def test_on_error_stop_writes_no_report(media, tiny_model_path, tmp_path, capsys):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg")
    report = tmp_path / "faces.csv"
    status = cli.main(["predict", str(media / "obama.jpg"), str(broken), "--model", str(tiny_model_path),
                       "--report", str(report), "--on-error", "stop"])
    assert status == 2 and "broken.jpg" in capsys.readouterr().err and not report.exists()


@pytest.mark.parametrize("name", ["faces.csv", "README.md"])
def test_a_file_that_is_neither_image_nor_video_is_named_as_such(name, tiny_model_path, tmp_path, capsys):
    path = tmp_path / name
    path.write_text("emotion,pixels,Usage\n")
    assert cli.main(["predict", str(path), "--model", str(tiny_model_path)]) == 1
    err = capsys.readouterr().err
    assert "is not an image or a video" in err and ".jpg" in err and ".mp4" in err and "ffmpeg" not in err.lower()


def test_several_inputs_need_an_output_folder_and_reports_a_known_format(media, tiny_model_path, tmp_path, capsys):
    photos = [str(media / "obama.jpg"), str(media / "two_people.jpg")]
    assert cli.main(["predict", *photos, "--model", str(tiny_model_path), "--output", str(tmp_path / "two.jpg")]) == 2
    assert "need a folder" in capsys.readouterr().err and list(tmp_path.iterdir()) == []
    assert cli.main(["predict", *photos, "--model", str(tiny_model_path), "--report", str(tmp_path / "r.xlsx")]) == 2
    assert "csv or json" in capsys.readouterr().err and list(tmp_path.iterdir()) == []
    single = tmp_path / "new" / "annotated.jpg"  # --output's folder is created, as --report's is
    assert cli.main(["predict", photos[0], "--model", str(tiny_model_path), "--output", str(single)]) == 0
    assert single.is_file()


@pytest.mark.parametrize("failure", [SourceError("camera unplugged"), KeyboardInterrupt()])
def test_failure_during_a_video_leaves_no_file(failure, short_video, tiny_model_path, tmp_path, monkeypatch):
    calls = []
    real_annotate = drawing.annotate

    def failing_annotate(frame, faces):
        calls.append(1)
        if len(calls) == 4:
            raise failure
        return real_annotate(frame, faces)

    monkeypatch.setattr(drawing, "annotate", failing_annotate)
    output = tmp_path / "annotated.mp4"
    status = cli.main(["predict", str(short_video), "--model", str(tiny_model_path), "--output", str(output)])
    assert status == (130 if isinstance(failure, KeyboardInterrupt) else 1)
    assert list(tmp_path.iterdir()) == []


def test_bad_output_suffix(photo, tiny_model_path, tmp_path, capsys):
    assert cli.main(["predict", str(photo), "--model", str(tiny_model_path), "--output",
                     str(tmp_path / "x.mp4")]) == 2
    assert "suffixes" in capsys.readouterr().err


def test_every_must_be_positive(photo):
    with pytest.raises(SystemExit):
        cli.main(["predict", str(photo), "--every", "0"])


# --------------------------------------------------------------------------------------
# live
# --------------------------------------------------------------------------------------


@pytest.fixture
def no_source(monkeypatch):
    """Fails the test if a source is opened or a model loaded."""

    def forbidden(*args, **kwargs):
        raise AssertionError("the display must be checked before opening the source or loading the model")

    monkeypatch.setattr(live, "open_source", forbidden)  # where the loop looks it up
    monkeypatch.setattr(classifier, "EmotionClassifier", forbidden)


def test_live_without_display_variable(monkeypatch, no_source, capsys):
    monkeypatch.setattr(cli.sys, "platform", "linux")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert cli.main(["live"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no display") and "opencv-python" in err and "predict" in err


def test_live_with_headless_opencv(monkeypatch, no_source, capsys):
    def no_window(*args):
        raise cv2.error("The function is not implemented. Rebuild the library with GTK+ support")

    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr(cv2, "namedWindow", no_window)
    assert cli.main(["live", "--source", "0"]) == 2
    err = capsys.readouterr().err
    assert "no window support" in err and "opencv-python" in err and "--output" in err


class FakeWindow:
    """Records imshow calls; waitKey returns 'q' after ``quit_after`` frames."""

    def __init__(self, monkeypatch, quit_after=None):
        self.shown = []
        self.destroyed = False
        self.quit_after = quit_after
        monkeypatch.setenv("DISPLAY", ":0")
        monkeypatch.setattr(cli.sys, "platform", "linux")
        monkeypatch.setattr(cv2, "namedWindow", lambda *a: None)
        monkeypatch.setattr(cv2, "imshow", lambda name, image: self.shown.append(image.copy()))
        monkeypatch.setattr(cv2, "waitKey", self.wait_key)
        monkeypatch.setattr(cv2, "getWindowProperty", lambda *a: 1.0)
        monkeypatch.setattr(cv2, "destroyWindow", lambda *a: setattr(self, "destroyed", True))

    def wait_key(self, delay):
        if self.quit_after is not None and len(self.shown) >= self.quit_after:
            return ord("q")
        return -1


def _spy_sources(monkeypatch) -> list:
    opened = []
    real_open = sources.open_source

    def spy(*args, **kwargs):
        source = real_open(*args, **kwargs)
        opened.append(source)
        return source

    monkeypatch.setattr(live, "open_source", spy)  # where the loop looks it up
    return opened


@pytest.mark.parametrize("options, frames", [(["--max-frames", "4"], 4), ([], 3)])
def test_live_shows_frames_then_quits_and_releases(options, frames, short_video, tiny_model_path,
                                                   monkeypatch, capsys):
    window = FakeWindow(monkeypatch, quit_after=None if options else 3)
    opened = _spy_sources(monkeypatch)
    status = cli.main(["live", "--source", str(short_video), "--model", str(tiny_model_path), *options])
    assert status == 0
    assert len(window.shown) == frames and window.destroyed
    assert all(image.shape == (360, 640, 3) for image in window.shown)
    assert opened and opened[0]._release_callback is None  # released
    assert f"{frames} frames" in capsys.readouterr().out


# --------------------------------------------------------------------------------------
# info
# --------------------------------------------------------------------------------------


def test_info(tiny_model_path, monkeypatch, capsys):
    probed = []

    class FakeCapture:
        def __init__(self, index):
            probed.append(index)
            self.released = False

        def isOpened(self):
            return False

        def release(self):
            probed.append("released")

    monkeypatch.setattr(cv2, "VideoCapture", FakeCapture)
    assert cli.main(["info", "--model", str(tiny_model_path)]) == 0
    out = capsys.readouterr().out
    for word in ("fer_lib", "opencv", "keras", "tensorflow", "FER2013", "OpenCV window", "camera 0"):
        assert word in out
    assert f"{tiny_model_path} (exists" in out
    assert "does not open" in out and probed == [0, "released"]


# --------------------------------------------------------------------------------------
# the parser stays in step with the library
# --------------------------------------------------------------------------------------


def _option(command: str, dest: str):
    """The argparse action for ``dest`` on the sub-command ``command`` of the CLI parser."""
    parser = cli.build_parser()
    commands = next(a for a in parser._actions if a.dest == "command")
    return next(a for a in commands.choices[command]._actions if a.dest == dest)


def test_cli_choices_match_the_library():
    # The parser lists names by hand (importing Keras to build it would slow `--help`);
    # this keeps those lists from drifting away from the constants they mirror.
    from fer_lib.live import DETECTORS
    from fer_lib.train import PROFILES

    assert list(_option("train", "profile").choices) == list(PROFILES)
    assert list(_option("predict", "format").choices) == list(outputs.REPORT_FORMATS)
    assert list(_option("predict", "detector").choices) == list(DETECTORS)
    assert list(_option("live", "detector").choices) == list(DETECTORS)


# --------------------------------------------------------------------------------------
# inference without TensorFlow; export
# --------------------------------------------------------------------------------------


def test_predict_never_imports_tensorflow(photo):
    """`predict` with the shipped LiteRT model starts without Keras or TensorFlow."""
    code = (
        "import sys\nfrom fer_lib.cli import main\n"
        f"status = main(['predict', {str(photo)!r}])\n"
        "heavy = sorted(name for name in ('tensorflow', 'keras') if name in sys.modules)\n"
        "print('HEAVY', heavy, status)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            cwd=Path(cli.__file__).resolve().parents[1], check=False)
    assert result.returncode == 0, result.stderr
    assert "HEAVY [] 0" in result.stdout, result.stdout
    assert result.stderr == ""  # nothing from LiteRT or TensorFlow on the terminal


@pytest.mark.parametrize("detector", ["blazeface", "haar"])
def test_predict_with_each_detector(detector, tiny_model_path, media, capsys):
    assert cli.main(["predict", str(media / "two_people.jpg"), "--detector", detector,
                     "--model", str(tiny_model_path)]) == 0
    assert "1 input(s), 1 frame(s) analysed, 2 face(s)" in capsys.readouterr().out


def test_predict_tiles_find_the_small_face(media, capsys):
    assert cli.main(["predict", str(media / "obama_and_biden.jpg")]) == 0
    assert "3 face(s)" in capsys.readouterr().out
    assert cli.main(["predict", str(media / "obama_and_biden.jpg"), "--no-tiles"]) == 0
    assert "2 face(s)" in capsys.readouterr().out


def test_export_writes_litert_files_that_agree(tiny_model_path, tmp_path, capsys):
    import shutil

    model = tmp_path / "tiny.keras"
    shutil.copy(tiny_model_path, model)
    assert cli.main(["export", str(model)]) == 0
    printed = capsys.readouterr().out
    for name in ("tiny.tflite", "tiny.quantized.tflite", "tiny.litert.json"):
        assert (tmp_path / name).is_file() and name in printed
    faces = np.random.default_rng(0).integers(0, 256, (3, 48, 48), dtype=np.uint8)
    np.testing.assert_allclose(EmotionClassifier(tmp_path / "tiny.tflite").predict(faces),
                               EmotionClassifier(model).predict(faces), atol=1e-5)
    assert _leftovers(tmp_path) == []


def test_export_of_a_missing_model_exits_2(tmp_path, capsys):
    assert cli.main(["export", str(tmp_path / "missing.keras")]) == 2
    assert "missing.keras does not exist" in capsys.readouterr().err


# --------------------------------------------------------------------------------------
# train: the profile, then the options given on the command line
# --------------------------------------------------------------------------------------


def _fake_train(calls: list):
    def train(config, data=None, **options):
        calls.append((config, options))
        card = {"name": config.model_name, "accuracy": {"train": 0.8, "validation": 0.7, "test": 0.69},
                "split": {"test_part": "PublicTest"}, "test_macro_f1": 0.6123}
        return type("Result", (), {"card": card})()
    return train


def test_train_builds_the_config_from_the_profile_then_the_options(monkeypatch, capsys):
    calls: list = []
    monkeypatch.setattr("fer_lib.train.train", _fake_train(calls))
    assert cli.main(["train", "--profile", "full", "--epochs", "3", "--random-erasing", "0.25",
                     "--max-minutes", "5"]) == 0
    ((config, options),) = calls
    assert config.model_name == "fer_net" and config.epochs == 3  # the profile, then --epochs
    assert (config.random_erasing, config.max_minutes) == (0.25, 5.0)
    assert options["resume"] is True
    assert "test macro-F1 0.612" in capsys.readouterr().out


def test_train_full_profile_is_the_shipped_models_recipe(monkeypatch):
    """`make train PROFILE=full` asks for the recipe the shipped model's card records."""
    calls: list = []
    monkeypatch.setattr("fer_lib.train.train", _fake_train(calls))
    assert cli.main(["train", "--profile", "full"]) == 0
    recipe = json.loads((Path(__file__).resolve().parents[1] / "fer_lib" / "model" / "shipped" / "default.json").read_text())["recipe"]
    config = calls[0][0]
    for key in ("model_name", "epochs", "random_erasing", "batch_size", "seed", "protocol"):
        assert getattr(config, key) == recipe[key], key
    assert json.loads(json.dumps(config.model_options)) == recipe.get("model_options", {})  # the widths too
    assert {key: value for key, value in config.recipe().items()} == {key: recipe[key] for key in config.recipe()}


def test_train_widths_widen_fer_net_and_keep_the_run_identity(monkeypatch, capsys):
    calls: list = []
    monkeypatch.setattr("fer_lib.train.train", _fake_train(calls))
    assert cli.main(["train", "--profile", "full", "--widths", "48,96,192,384"]) == 0
    config = calls[0][0]
    assert config.model_options == {"widths": (48, 96, 192, 384)} and config.random_erasing == 0.5
    # the same run (and checkpoint folder) as the Python call with a list
    from fer_lib.data import synthetic_fer2013
    from fer_lib.train import PROFILES
    import dataclasses

    data = synthetic_fer2013(10, seed=0)
    by_hand = dataclasses.replace(PROFILES["full"], model_options={"widths": [48, 96, 192, 384]})
    assert config.identity(data) == by_hand.identity(data)
    assert cli.main(["train", "--profile", "student", "--widths", "48,96,192,384"]) == 2  # fer_net_small
    assert "--widths sets fer_net's filters" in capsys.readouterr().err
    assert cli.main(["train", "--profile", "full", "--widths", "8,8,8,8,8,8,8"]) == 2  # pooled below 1x1
    assert "at most 6 blocks" in capsys.readouterr().err
    for bad in ("48,x", "48,,96", "48,", "", "0,96", "48.0"):
        with pytest.raises(SystemExit):
            cli.build_parser().parse_args(["train", "--widths", bad])
        assert "expected positive integers separated by commas" in capsys.readouterr().err, bad


def test_a_profiles_model_options_stay_with_its_model(monkeypatch):
    """A wide `full` profile hands its widths to fer_net only, not to a model chosen instead."""
    import dataclasses

    from fer_lib.train import PROFILES

    monkeypatch.setitem(PROFILES, "full", dataclasses.replace(PROFILES["full"], model_options={"widths": (48, 96)}))
    parse = cli.build_parser().parse_args
    assert cli.config_from_arguments(parse(["train", "--profile", "full"])).model_options == {"widths": (48, 96)}
    assert cli.config_from_arguments(parse(["train", "--profile", "full", "--model", "fer_net_small"])).model_options == {}


def test_train_rejects_a_bad_erasing_probability(capsys):
    assert cli.main(["train", "--profile", "fast", "--random-erasing", "1.5"]) == 2
    assert "random_erasing is a probability in [0, 1]; got 1.5" in capsys.readouterr().err


@pytest.mark.slow
def test_live_opens_a_real_window_under_xvfb(short_video, tmp_path):
    """After the set-up (OpenCV's GUI build), `live` opens its window on a display: here Xvfb's."""
    import shutil

    if shutil.which("xvfb-run") is None:
        pytest.skip("xvfb-run is missing: `make browser` installs Xvfb (as root, with apt-get)")
    result = subprocess.run(
        ["xvfb-run", "-a", sys.executable, "-m", "fer_lib", "live", "--source", str(short_video), "--max-frames", "5"],
        capture_output=True, text=True, timeout=180, cwd=tmp_path, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert f"5 frames from {short_video}" in result.stdout


def test_a_failed_video_counts_none_of_its_frames_and_inputs_named_twice_run_once(
        photo, short_video, tiny_model_path, tmp_path, monkeypatch, capsys):
    calls = []
    real_annotate = drawing.annotate

    def failing_annotate(frame, faces):
        calls.append(1)
        if len(calls) == 4:  # the photo is the first frame annotated; the video fails on its third
            raise ValueError("a frame the checks refuse")
        return real_annotate(frame, faces)

    monkeypatch.setattr(drawing, "annotate", failing_annotate)
    status = cli.main(["predict", str(photo), str(short_video), str(photo), "--model", str(tiny_model_path),
                       "--output", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert status == 1 and "a frame the checks refuse" in captured.err
    assert "1 input(s), 1 frame(s) analysed" in captured.out
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["obama_annotated.jpg"]


# --------------------------------------------------------------------------------------
# your own faces: capture, finetune
# --------------------------------------------------------------------------------------


def test_capture_saves_single_faces_by_session(photo, media, tiny_model_path, tmp_path, capsys):
    import shutil

    frames = tmp_path / "frames"
    frames.mkdir()
    for index in range(4):
        shutil.copy(photo, frames / f"{index}.jpg")
    shutil.copy(media / "two_people.jpg", frames / "9.jpg")  # two faces: not saved, counted
    status = cli.main(["capture", "--source", str(frames), "--emotion", "Senang", "--count", "3", "--every", "1",
                       "--model", str(tiny_model_path), "--folder", str(tmp_path / "my_faces")])
    out = capsys.readouterr().out
    saved = sorted((tmp_path / "my_faces" / "happy").glob("*.png"))
    assert status == 0 and len(saved) == 3 and len({p.name.split("_")[0] for p in saved}) == 1
    assert "saved 3 of 3 faces of Happy" in out and "faces per emotion: Happy 3" in out
    status = cli.main(["capture", "--source", str(frames), "--emotion", "sad", "--count", "9", "--every", "1",
                       "--model", str(tiny_model_path), "--folder", str(tmp_path / "my_faces")])
    assert status == 1 and "saved 4 of 9 faces of Sad" in capsys.readouterr().out  # the source ran out
    assert cli.main(["capture", "--emotion", "grumpy", "--source", str(frames)]) == 2
    assert "unknown emotion 'grumpy'" in capsys.readouterr().err


@pytest.mark.slow
def test_finetune_writes_the_model_its_card_and_litert_files(tmp_path, capsys):
    from fer_lib.course import write_stand_in_faces

    faces = write_stand_in_faces(tmp_path / "my_faces", sessions=2, per_session=4)
    output = tmp_path / "models" / "mine.keras"
    assert cli.main(["finetune", str(faces), "--output", str(output), "--epochs", "2", "--unfreeze-epochs", "1",
                     "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "fine-tuned on 28 faces of Angry, Disgust" in out and "held out (28 faces of later sessions)" in out
    card = json.loads(output.with_suffix(".json").read_text())
    assert card["emotions"] == list(EMOTIONS) and card["split"]["sizes"] == {"train": 28, "held_out": 28}
    assert {"held_out_before", "held_out_after"} <= set(card["accuracy"])
    assert sorted(p.name for p in output.parent.iterdir()) == [
        "mine.json", "mine.keras", "mine.litert.json", "mine.quantized.tflite", "mine.tflite"]
    # live and predict take it as they take the shipped model
    assert EmotionClassifier(output.with_suffix(".tflite")).predict(np.zeros((1, 48, 48), np.uint8)).shape == (1, 7)
