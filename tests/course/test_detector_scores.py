"""Tests of fer_lib.course._detector_scores: matching found boxes to hand-drawn ones, scoring detectors."""

from __future__ import annotations


import cv2
import numpy as np
import pytest

from fer_lib.live._detectors import make_detector
from fer_lib.course._detector_scores import match_boxes, read_reference_boxes, score_detectors
from fer_lib.errors import DataError

from fer_lib.course._detector_scores import DEMO_CLIP_FACES as REFERENCES


@pytest.mark.parametrize(
    "found, references, hits",
    [
        ([], [(0, 0, 10, 10)], 0),
        ([(0, 0, 10, 10)], [], 0),
        ([(0, 0, 10, 10)], [(0, 0, 10, 10)], 1),
        ([(0, 0, 10, 10), (1, 1, 10, 10)], [(0, 0, 10, 10)], 1),  # one reference matches one box only
        ([(0, 0, 10, 10)], [(8, 8, 10, 10)], 0),  # overlap too small
        ([(0, 0, 10, 10), (40, 0, 10, 10)], [(41, 1, 10, 10), (1, 0, 10, 10)], 2),
    ],
)
def test_match_boxes(found, references, hits):
    assert match_boxes(found, references) == hits


def test_read_the_clip_references():
    boxes = read_reference_boxes(REFERENCES)
    assert list(boxes) == [0, 39, 78, 117, 156, 196, 235, 274]
    assert boxes[78] == [] and len(boxes[235]) == 4
    assert sum(len(faces) for faces in boxes.values()) == 14


@pytest.mark.parametrize(
    "text, message",
    [
        ("frame,x,y,w\n0,1,2,3\n", r"missing column\(s\) h"),
        ("frame,x,y,w,h\n0,1,2,three,4\n", "line 2 is not frame,x,y,w,h integers"),
        ("frame,x,y,w,h\n0,1,2,3,4\n5,1,2,0,4\n", r"line 3 has an empty box"),
    ],
)
def test_bad_reference_files(tmp_path, text, message):
    path = tmp_path / "faces.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=message):
        read_reference_boxes(path)


def test_score_detectors_on_the_labelled_clip_frames(video_path):
    references = read_reference_boxes(REFERENCES)
    capture = cv2.VideoCapture(str(video_path))
    frames = []
    for index in references:
        capture.set(cv2.CAP_PROP_POS_FRAMES, index)
        frames.append(capture.read()[1])
    capture.release()
    table = score_detectors({"haar": make_detector("haar"), "blazeface": make_detector("blazeface")},
                            frames, list(references.values()))
    assert list(table.index) == ["haar", "blazeface"]
    assert (table["faces"] == 14).all()
    assert (table["hits"] + table["false boxes"] == table["boxes"]).all()
    # the course's claim: the CNN finds clearly more of these faces than the cascade
    assert table.loc["blazeface", "hits"] >= table.loc["haar", "hits"] + 4
    assert table.loc["blazeface", "false boxes"] <= 2


def test_score_detectors_needs_one_reference_list_per_frame():
    with pytest.raises(ValueError, match="the faces of each of the 2 frames; got 1"):
        score_detectors({"haar": make_detector("haar")}, [np.zeros((50, 50), np.uint8)] * 2, [[]])
