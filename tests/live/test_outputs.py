"""Tests of fer_lib.live._outputs: inputs expanded by sources' rules, output names, writers, reports."""

from __future__ import annotations

import csv
import io
import json

import cv2
import numpy as np
import pytest

from fer_lib.live import _outputs as outputs
from fer_lib.errors import FerError, SourceError
from fer_lib.labels import EMOTIONS
from fer_lib.live._outputs import (
    annotated_writer,
    expand_inputs,
    format_report,
    output_targets,
    report_rows,
    track_summary,
    video_fps,
    write_report,
)
from fer_lib.live._frames import face_record

FACE = face_record((10, 20, 30, 40), [0.05, 0, 0, 0.8, 0.15, 0, 0])


def _leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") or ".tmp" in p.name)


# --------------------------------------------------------------------------------------
# Inputs and targets
# --------------------------------------------------------------------------------------


def test_expand_inputs_uses_the_sources_rules(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("b.PNG", "a.jpg", "notes.txt"):
        (folder / name).write_bytes(b"")
    clip = tmp_path / "clip.mkv"
    clip.write_bytes(b"")
    items = expand_inputs([str(clip), str(folder), "rtsp://camera.local/1"])
    assert items == [
        (str(clip), "video"),
        (str(folder / "a.jpg"), "image"),
        (str(folder / "b.PNG"), "image"),
        ("rtsp://camera.local/1", "video"),
    ]


@pytest.mark.parametrize("name", ["nowhere.jpg", "0"])
def test_expand_inputs_refuses_missing_paths_and_camera_indices(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SourceError, match=rf"^{name} does not exist \(looked from .*\); check the path"):
        expand_inputs([name])


def test_expand_inputs_refuses_a_folder_without_images(tmp_path):
    (tmp_path / "notes.txt").write_text("no image")
    with pytest.raises(SourceError, match="holds no images .*pass image files"):
        expand_inputs([str(tmp_path)])


def test_output_targets_one_file_or_a_folder(tmp_path):
    items = [("a/photo.jpg", "image"), ("b/photo.jpg", "image"), ("clip.avi", "video"),
             ("rtsp://host/", "video")]
    assert output_targets(items, None) == [None] * 4
    folder = tmp_path / "out"
    assert [p.name for p in output_targets(items, folder)] == [
        "photo_annotated.jpg", "photo_annotated_2.jpg", "clip_annotated.webm", "host_annotated.webm"
    ]
    assert folder.is_dir()
    assert output_targets(items[:1], tmp_path / "one.png") == [tmp_path / "one.png"]


@pytest.mark.parametrize(
    "item, name, message",
    [(("clip.mp4", "video"), "x.png", r"an annotated video needs one of the suffixes \.webm, \.mp4"),
     (("photo.jpg", "image"), "x.mp4", r"an annotated image needs one of the suffixes")],
)
def test_output_targets_refuses_wrong_suffix_or_folder(item, name, message, tmp_path):
    with pytest.raises(FerError, match=message):
        output_targets([item], tmp_path / name)


# --------------------------------------------------------------------------------------
# Annotated writers
# --------------------------------------------------------------------------------------


def test_annotated_image_writer(tmp_path):
    target = tmp_path / "shown.png"
    image = np.full((12, 16, 3), 90, np.uint8)
    with annotated_writer(target, "image") as writer:
        writer.write(image)
    np.testing.assert_array_equal(cv2.imread(str(target)), image)
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("suffix, codec", [(".webm", "VP80"), (".mp4", "mp4v")])
def test_annotated_video_writer_keeps_the_first_size(suffix, codec, tmp_path, capfd):
    target = tmp_path / f"shown{suffix}"
    with annotated_writer(target, "video", fps=12.0) as writer:
        for size in ((64, 48), (64, 48), (32, 40)):  # a stream changed size: resized
            writer.write(np.zeros(size[::-1] + (3,), np.uint8))
    capture = cv2.VideoCapture(str(target))
    assert capture.get(cv2.CAP_PROP_FRAME_WIDTH) == 64 and capture.get(cv2.CAP_PROP_FPS) == pytest.approx(12)
    frames = 0
    while capture.read()[0]:
        frames += 1
    fourcc = int(capture.get(cv2.CAP_PROP_FOURCC))
    capture.release()
    assert frames == 3 and video_fps(target) == pytest.approx(12.0)
    if suffix == ".webm":  # VP8 in WebM: what browsers and notebooks play
        assert fourcc.to_bytes(4, "little").decode(errors="replace").upper() in ("VP80", "VP08", "VP8\x00")
    assert capfd.readouterr().err == ""  # FFmpeg's notice about the WebM tag kept off the terminal
    assert _leftovers(tmp_path) == []


def test_annotated_writer_leaves_nothing_on_failure(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with annotated_writer(tmp_path / "shown.mp4", "video") as writer:
            writer.write(np.zeros((48, 64, 3), np.uint8))
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="kind must be 'image' or 'video'"):
        with annotated_writer(tmp_path / "x.png", "camera"):
            pass


def test_video_fps_defaults_when_unknown(tmp_path):
    assert video_fps(tmp_path / "missing.mp4") == 25.0
    assert video_fps(tmp_path / "missing.mp4", default=30.0) == 30.0


# --------------------------------------------------------------------------------------
# Reports
# --------------------------------------------------------------------------------------


def test_report_rows():
    (row,) = report_rows("clip.mp4", 6, [dict(FACE, track=3)], fps=25.0)
    assert row == {
        "source": "clip.mp4", "frame": 6, "time": 0.24, "face": 0, "track": 3, "box": [10, 20, 30, 40],
        "emotion": "Happy", "confidence": 0.8,
        "probabilities": dict(zip(EMOTIONS, [0.05, 0.0, 0.0, 0.8, 0.15, 0.0, 0.0])),
    }
    (still,) = report_rows("photo.jpg", 0, [FACE])  # an image: no time, no track
    assert still["time"] is None and still["track"] is None
    assert report_rows("clip.mp4", 7, []) == []


def test_csv_and_json_reports_hold_the_same_rows():
    rows = report_rows("a.jpg", 0, [FACE, FACE])
    table = list(csv.DictReader(io.StringIO(format_report(rows, "csv"))))
    assert [key for key in table[0]] == ["source", "frame", "time", "face", "track", "x", "y", "w", "h", "emotion",
                                         "confidence", *EMOTIONS]
    assert [int(r["face"]) for r in table] == [0, 1] and float(table[0]["Happy"]) == 0.8
    assert json.loads(format_report(rows, "json")) == {"faces": rows, "tracks": []}
    with pytest.raises(ValueError, match="report_format must be one of csv, json"):
        format_report(rows, "xml")


def test_write_report_picks_the_format_from_the_suffix(tmp_path):
    rows = report_rows("a.jpg", 0, [FACE])
    assert json.loads(write_report(rows, tmp_path / "faces.json").read_text())["faces"] == rows
    assert write_report(rows, tmp_path / "faces.txt", report_format="csv").read_text().startswith("source,frame,time,face")
    assert write_report(rows, tmp_path / "new" / "faces", report_format="json").read_text().startswith("{")
    for name, report_format in (("faces.xlsx", None), ("faces.txt", None), ("faces.csv", "json")):
        with pytest.raises(FerError, match="csv|json"):
            write_report(rows, tmp_path / name, report_format=report_format)
    assert _leftovers(tmp_path) == []


def test_module_exports():
    for name in outputs.__all__:
        assert hasattr(outputs, name)


def test_output_folder_of_a_single_file_is_created_when_written(tmp_path):
    assert output_targets([("photo.jpg", "image")], tmp_path / "missing" / "x.png") == [tmp_path / "missing" / "x.png"]


def test_a_video_report_follows_each_face_and_sums_it_up():
    sad = dict(FACE, emotion="Sad", probabilities=[0.05, 0.0, 0.0, 0.15, 0.8, 0.0, 0.0])
    rows = [*report_rows("v.mp4", 0, [dict(FACE, track=0)], fps=10.0),
            *report_rows("v.mp4", 5, [dict(sad, track=0), dict(FACE, track=1)], fps=10.0),
            *report_rows("v.mp4", 10, [dict(FACE, track=0)], fps=10.0)]
    assert track_summary(rows) == [
        {"source": "v.mp4", "track": 0, "first_frame": 0, "last_frame": 10, "first_time": 0.0, "last_time": 1.0,
         "frames": 3, "emotion": "Happy"},
        {"source": "v.mp4", "track": 1, "first_frame": 5, "last_frame": 5, "first_time": 0.5, "last_time": 0.5,
         "frames": 1, "emotion": "Happy"},
    ]
    assert json.loads(format_report(rows, "json"))["tracks"] == track_summary(rows)
