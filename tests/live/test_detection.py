"""Tests of fer_lib.live._detectors: the face detector, grey conversion and safe crops."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fer_lib.live import _detectors as detection
from fer_lib.live import (
    BlazeFaceDetector,
    HaarFaceDetector,
    box_iou,
    check_frame,
    crop_face,
    crop_faces,
    make_detector,
    to_gray,
)
from fer_lib.errors import ModelError
from fer_lib.labels import IMAGE_SIZE


@pytest.fixture(scope="module")
def detector() -> HaarFaceDetector:
    return HaarFaceDetector()


def _read(media: Path, name: str, flags: int = cv2.IMREAD_COLOR) -> np.ndarray:
    image = cv2.imread(str(media / name), flags)
    assert image is not None, name
    return image


def _references(media: Path, name: str, boxes) -> list[tuple[float, ...]]:
    """Hand-checked boxes measured on the full-size originals (benchmarks/detector_grid.py
    REFERENCE_BOXES), scaled to the committed copy by faces.csv's ``scale``."""
    with (media / "faces.csv").open(newline="") as handle:
        scale = {row["file"]: float(row["scale"]) for row in csv.DictReader(handle)}[name]
    return [tuple(scale * value for value in box) for box in boxes]


# --------------------------------------------------------------------------------------
# Detector on real photos
# --------------------------------------------------------------------------------------


def test_committed_photos_are_listed_small_and_readable(media):
    with (media / "faces.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    photos = sorted(p.name for p in media.iterdir() if p.suffix in (".jpg", ".png"))
    assert sorted(row["file"] for row in rows) == photos
    assert sum((media / name).stat().st_size for name in photos) < 600_000
    for row in rows:
        image = _read(media, row["file"], cv2.IMREAD_UNCHANGED)
        assert image.shape[1] <= 1000 and int(row["faces"]) >= 1 and 0 < float(row["scale"]) <= 1


def test_finds_the_face_on_obama(media, detector):
    image = _read(media, "obama.jpg")
    boxes = detector.detect(image)
    assert boxes.shape == (1, 4)
    assert boxes.dtype.kind == "i"
    (reference,) = _references(media, "obama.jpg", [(344, 95, 300, 300)])
    assert box_iou(boxes[0], reference) > 0.5


def test_finds_two_faces_in_two_people(media, detector):
    image = _read(media, "two_people.jpg")  # 700 x 411, downscaled to 640 for detection
    boxes = detector.detect(image)
    assert len(boxes) == 2
    assert boxes[0, 0] < boxes[1, 0]  # sorted left to right
    for box, reference in zip(boxes, _references(media, "two_people.jpg", [(234, 28, 178, 178),
                                                                            (786, 63, 173, 173)])):
        assert box_iou(box, reference) > 0.5


def test_large_photo_boxes_are_in_full_frame_pixels(media, detector):
    image = _read(media, "obama_and_biden.jpg")  # 1000 x 714, downscaled to 640 for detection
    assert image.shape[1] > detector.max_width
    boxes = detector.detect(image)
    height, width = image.shape[:2]
    assert np.all(boxes[:, 0] >= 0) and np.all(boxes[:, 1] >= 0)
    assert np.all(boxes[:, 0] + boxes[:, 2] <= width) and np.all(boxes[:, 1] + boxes[:, 3] <= height)
    references = _references(media, "obama_and_biden.jpg", [(736, 414, 203, 203), (1118, 361, 235, 235)])
    assert all(max(box_iou(box, ref) for box in boxes) > 0.5 for ref in references)


def test_channel_variants_give_the_same_boxes(media, detector):
    bgra = _read(media, "alex-lacamoire.png", cv2.IMREAD_UNCHANGED)
    assert bgra.ndim == 3 and bgra.shape[2] == 4  # the file really is BGRA
    bgr = cv2.cvtColor(bgra, cv2.COLOR_BGRA2BGR)
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    expected = detector.detect(bgr)
    assert len(expected) == 1
    (reference,) = _references(media, "alex-lacamoire.png", [(173, 116, 182, 182)])
    assert box_iou(expected[0], reference) > 0.5
    for frame in (gray, gray[..., None], bgra, np.asfortranarray(bgr)):
        np.testing.assert_array_equal(detector.detect(frame), expected)


def test_downscaled_boxes_map_back_to_full_frame(media):
    image = _read(media, "obama-480p.jpg")  # 853 x 480
    small = HaarFaceDetector(max_width=None).detect(image)
    big_image = cv2.resize(image, None, fx=2, fy=2, interpolation=cv2.INTER_LINEAR)
    big = HaarFaceDetector(max_width=image.shape[1]).detect(big_image)  # detects at the small size
    assert len(small) == len(big) == 1
    assert box_iou(big[0], 2 * small[0]) > 0.8


def test_blank_frame_has_no_face(detector):
    boxes = detector.detect(np.full((240, 320, 3), 127, np.uint8))
    assert boxes.shape == (0, 4) and boxes.dtype.kind == "i"


def test_call_is_detect(detector):
    frame = np.zeros((50, 60), np.uint8)
    np.testing.assert_array_equal(detector(frame), detector.detect(frame))


# --------------------------------------------------------------------------------------
# Detector construction and bad frames
# --------------------------------------------------------------------------------------


def test_missing_cascade_says_to_install_opencv_4(tmp_path):
    with pytest.raises(ModelError, match=r"face cascade .*nope\.xml does not exist\..*install OpenCV 4"):
        HaarFaceDetector(cascade_path=tmp_path / "nope.xml")


def test_not_a_cascade_file(tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text("<opencv_storage></opencv_storage>")
    with pytest.raises(ModelError, match=r"face cascade .*bad\.xml cannot be loaded: it is not an OpenCV cascade XML"):
        HaarFaceDetector(cascade_path=bad)


def test_opencv_without_cascades(monkeypatch):
    monkeypatch.delattr(cv2, "data", raising=False)
    with pytest.raises(ModelError, match=r"has no cv2\.data\.haarcascades folder.*OpenCV 5 dropped the Haar cascades"):
        HaarFaceDetector()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"scale_factor": 1.0}, r"scale_factor must be greater than 1; got 1\.0"),
        ({"min_neighbors": -1}, "min_neighbors must be a non-negative integer; got -1"),
        ({"min_neighbors": 2.5}, r"min_neighbors must be a non-negative integer; got 2\.5"),
        ({"min_size": -3}, r"min_size must be a non-negative int or \(width, height\); got \(-3, -3\)"),
        ({"max_width": 10}, r"max_width must be None or at least 24 pixels \(the cascade's window\); got 10"),
    ],
)
def test_bad_parameters(options, message):
    with pytest.raises(ValueError, match=message):
        HaarFaceDetector(**options)


@pytest.mark.parametrize(
    "frame",
    [
        np.zeros((20, 20), np.float32),
        np.zeros((20, 20, 3), np.float64),
        np.zeros((20, 20), np.uint16),
        np.zeros((20, 20, 2), np.uint8),
        np.zeros((20, 20, 5), np.uint8),
        np.zeros((20,), np.uint8),
        np.zeros((2, 20, 20, 3), np.uint8),
        np.zeros((0, 20), np.uint8),
        np.zeros((20, 0, 3), np.uint8),
    ],
    ids=["float32", "float64", "uint16", "2ch", "5ch", "1d", "4d", "no-rows", "no-cols"],
)
def test_bad_frames_raise_value_error(detector, frame):
    with pytest.raises(ValueError, match="expected"):
        detector.detect(frame)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    shape=st.lists(st.integers(0, 40), min_size=0, max_size=4),
    dtype=st.sampled_from([np.uint8, np.int8, np.uint16, np.float32, np.float64, np.bool_]),
)
def test_any_array_is_detected_or_refused_with_value_error(detector, shape, dtype):
    frame = np.zeros(shape, dtype)
    valid = (
        dtype is np.uint8
        and len(shape) in (2, 3)
        and shape[0] > 0
        and shape[1] > 0
        and (len(shape) == 2 or shape[2] in (1, 3, 4))
    )
    if valid:
        assert detector.detect(frame).shape[1] == 4
        assert to_gray(frame).shape == tuple(shape[:2])
    else:
        with pytest.raises(ValueError, match=r"^expected a (uint8 frame|frame of shape|non-empty frame)"):
            detector.detect(frame)


@pytest.mark.parametrize(
    "frame, message",
    [(np.zeros((4, 4), np.float32), r"uint8 frame .*\(frame \* 255\)"),
     (np.zeros((4, 4, 2), np.uint8), r"\(H, W, 3\) BGR .*got shape \(4, 4, 2\)"),
     (np.zeros((0, 4), np.uint8), r"non-empty frame; got shape \(0, 4\)")],
)
def test_check_frame_says_what_was_expected(frame, message):
    with pytest.raises(ValueError, match=message):
        check_frame(frame)


def test_check_frame_returns_the_array_uncopied():
    frame = np.zeros((3, 4, 3), np.uint8)
    assert check_frame(frame) is frame


# --------------------------------------------------------------------------------------
# box_iou
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "a, b, expected",
    [((0, 0, 10, 10), (0, 0, 10, 10), 1.0),
     ((0, 0, 10, 10), (5, 0, 10, 10), 50 / 150),
     ((0, 0, 10, 10), (10, 0, 10, 10), 0.0),  # touching edges do not overlap
     ((0, 0, 10, 10), (2, 2, 4, 4), 16 / 100),  # one inside the other
     ((0, 0, 10, 10), (50, 50, 5, 5), 0.0)],
)
def test_box_iou(a, b, expected):
    assert box_iou(a, b) == pytest.approx(expected)
    assert box_iou(b, a) == pytest.approx(expected)
    assert isinstance(box_iou(np.array(a), np.array(b)), float)


# --------------------------------------------------------------------------------------
# to_gray
# --------------------------------------------------------------------------------------


def test_to_gray_variants_agree():
    rng = np.random.default_rng(0)
    bgr = rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    bgra = np.dstack([bgr, rng.integers(0, 256, (30, 40), dtype=np.uint8)])  # alpha is ignored
    for frame in (bgr, bgra, gray, gray[..., None]):
        result = to_gray(frame)
        assert result.shape == (30, 40) and result.dtype == np.uint8
        np.testing.assert_array_equal(result, gray)


# --------------------------------------------------------------------------------------
# Crops
# --------------------------------------------------------------------------------------


def _horizontal_gradient(height: int = 100, width: int = 200) -> np.ndarray:
    return np.tile(np.arange(width, dtype=np.uint8), (height, 1))


def test_crop_inside_matches_plain_resize():
    rng = np.random.default_rng(1)
    gray = rng.integers(0, 256, (120, 160), dtype=np.uint8)
    crop = crop_face(gray, (30, 20, 64, 64))
    expected = cv2.resize(gray[20:84, 30:94], (IMAGE_SIZE, IMAGE_SIZE), interpolation=cv2.INTER_AREA)
    np.testing.assert_array_equal(crop, expected)


def test_width_and_height_are_not_swapped():
    gray = _horizontal_gradient()  # value = column index
    x, y, w, h = 10, 20, 96, 24  # wide box: columns 10..105
    crop = crop_face(gray, (x, y, w, h))
    assert crop.shape == (IMAGE_SIZE, IMAGE_SIZE) and crop.dtype == np.uint8
    # the tutorial's gray[y:y+w, x:x+h] would span columns 10..33 only
    assert abs(int(crop[:, 0].mean()) - 11) <= 1
    assert abs(int(crop[:, -1].mean()) - 104) <= 1
    # padded vertically by repeating rows: every row is the same gradient
    assert np.all(crop == crop[0])
    rows = _horizontal_gradient().T.copy()  # value = row index
    crop = crop_face(rows, (20, 10, 24, 96))  # tall box: rows 10..105
    assert abs(int(crop[0].mean()) - 11) <= 1 and abs(int(crop[-1].mean()) - 104) <= 1


def test_non_square_box_is_padded_not_stretched():
    gray = _horizontal_gradient()
    crop = crop_face(gray, (100, 10, 24, 96))  # tall: columns 100..123 in the middle quarter
    assert np.all(crop[:, :17] == 100)  # left padding repeats the first column
    assert np.all(crop[:, -17:] == 123)  # right padding repeats the last column
    middle = crop[0, 18:30].astype(int)  # the 24 real columns, two per output pixel
    assert np.all(np.diff(middle) >= 1) and 100 <= middle[0] <= 101 and 122 <= middle[-1] <= 123


@pytest.mark.parametrize(
    "box",
    [(-20, 10, 60, 60), (10, -30, 60, 60), (170, 50, 60, 60), (20, 80, 60, 60), (-40, -40, 300, 200),
     (190, 95, 40, 25), (-5, 0, 7, 120)],
    ids=["left", "top", "right", "bottom", "covers-frame", "corner", "thin"],
)
def test_crop_at_frame_edges(box):
    gray = _horizontal_gradient()
    crop = crop_face(gray, box)
    assert crop.shape == (IMAGE_SIZE, IMAGE_SIZE) and crop.dtype == np.uint8


def test_crop_outside_the_left_edge_repeats_the_edge():
    gray = _horizontal_gradient()
    crop = crop_face(gray, (-48, 0, 96, 96))  # half the box is left of the frame
    assert np.all(crop[:, :23] == 0)  # column 0 repeated
    assert crop[0, -1] > 40


_OUTSIDE = r"lies entirely outside the 200x100 frame; boxes are \(x, y, w, h\) in frame pixels"
_EMPTY = "is empty: width and height must be positive"
_NOT_A_BOX = r"expected a box \(x, y, w, h\) of 4 finite numbers"


@pytest.mark.parametrize(
    ("box", "message"),
    [((200, 0, 10, 10), _OUTSIDE), ((0, 100, 10, 10), _OUTSIDE), ((-10, 0, 10, 10), _OUTSIDE),
     ((0, -10, 10, 10), _OUTSIDE), ((500, 500, 5, 5), _OUTSIDE), ((5, 5, 0, 10), _EMPTY),
     ((5, 5, 10, -1), _EMPTY), ((1, 2, 3), _NOT_A_BOX), ((np.nan, 0, 5, 5), _NOT_A_BOX),
     ((0, 0, np.inf, 5), _NOT_A_BOX)],
)
def test_bad_boxes_raise_value_error(box, message):
    with pytest.raises(ValueError, match=message):
        crop_face(_horizontal_gradient(), box)


def test_margin_widens_the_box():
    rng = np.random.default_rng(2)
    gray = rng.integers(0, 256, (120, 160), dtype=np.uint8)
    widened = crop_face(gray, (40, 30, 40, 40), margin=0.25)
    np.testing.assert_array_equal(widened, crop_face(gray, (30, 20, 60, 60)))
    with pytest.raises(ValueError, match=r"margin must be a non-negative fraction of the box; got -0\.1"):
        crop_face(gray, (40, 30, 40, 40), margin=-0.1)


def test_huge_box_is_cheap_and_safe():
    gray = _horizontal_gradient()
    crop = crop_face(gray, (-10**6, -10**6, 2 * 10**6 + 50, 2 * 10**6))
    assert crop.shape == (IMAGE_SIZE, IMAGE_SIZE)


def test_crop_accepts_colour_frames():
    bgr = np.dstack([_horizontal_gradient()] * 3)
    np.testing.assert_array_equal(crop_face(bgr, (10, 10, 50, 50)), crop_face(bgr[..., 0], (10, 10, 50, 50)))


@settings(max_examples=150, deadline=None)
@given(
    height=st.integers(1, 60),
    width=st.integers(1, 60),
    box=st.tuples(st.integers(-100, 100), st.integers(-100, 100), st.integers(-5, 150), st.integers(-5, 150)),
)
def test_any_box_crops_or_raises(height, width, box):
    gray = np.arange(height * width, dtype=np.uint32).reshape(height, width).astype(np.uint8)
    x, y, w, h = box
    overlaps = w > 0 and h > 0 and x < width and y < height and x + w > 0 and y + h > 0
    if overlaps:
        crop = crop_face(gray, box)
        assert crop.shape == (IMAGE_SIZE, IMAGE_SIZE) and crop.dtype == np.uint8
    else:
        with pytest.raises(ValueError, match=f"{_EMPTY}|lies entirely outside the {width}x{height} frame"):
            crop_face(gray, box)


def test_crop_faces_stacks():
    gray = _horizontal_gradient()
    crops = crop_faces(gray, np.array([(0, 0, 30, 30), (150, 50, 80, 40)]))
    assert crops.shape == (2, IMAGE_SIZE, IMAGE_SIZE) and crops.dtype == np.uint8
    np.testing.assert_array_equal(crops[1], crop_face(gray, (150, 50, 80, 40)))
    empty = crop_faces(gray, np.zeros((0, 4), int))
    assert empty.shape == (0, IMAGE_SIZE, IMAGE_SIZE) and empty.dtype == np.uint8
    with pytest.raises(ValueError, match=r"\(n, 4\)"):
        crop_faces(gray, np.zeros((2, 3)))


def test_crop_faces_on_detected_boxes(media, detector):
    image = _read(media, "obama_partial_face.jpg")
    box = np.array([[-30, 50, 140, 140]])  # the face cut by the left edge, box reaching outside
    assert crop_faces(image, box).shape == (1, IMAGE_SIZE, IMAGE_SIZE)
    boxes = detector.detect(image)
    assert crop_faces(image, boxes).shape == (len(boxes), IMAGE_SIZE, IMAGE_SIZE)


def test_module_exports():
    for name in detection.__all__:
        assert hasattr(detection, name)


# --------------------------------------------------------------------------------------
# BlazeFace, the default detector
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def blazeface():
    return BlazeFaceDetector()


def test_blazeface_counts_the_faces_of_the_photos(media, blazeface):
    """Every labelled face except the child turned sideways, and no false box."""
    rows = list(csv.DictReader(open(media / "faces.csv")))
    for row in rows:
        boxes = blazeface.detect(_read(media, row["file"], cv2.IMREAD_UNCHANGED))
        expected = int(row["faces"]) - (1 if row["file"] == "obama_and_biden.jpg" else 0)
        assert len(boxes) == expected, (row["file"], boxes.tolist())


def test_blazeface_tiles_find_the_small_face(media):
    image = _read(media, "obama_and_biden.jpg")
    assert len(BlazeFaceDetector().detect(image)) == 2
    assert len(BlazeFaceDetector(tiles=True).detect(image)) == 3


def test_blazeface_boxes_are_inside_the_frame_and_sorted(media, blazeface):
    image = _read(media, "obama_partial_face.jpg")  # the face is cut by the left edge
    boxes = blazeface.detect(image)
    assert boxes.dtype == np.int64 and boxes.shape == (1, 4)
    x, y, w, h = boxes[0]
    assert x == 0 and y >= 0 and w > 0 and h > 0
    assert x + w <= image.shape[1] and y + h <= image.shape[0]
    two = blazeface.detect(_read(media, "two_people.jpg"))
    assert two[0, 0] < two[1, 0]


def test_blazeface_grey_and_colour_find_the_same_face(media, blazeface):
    image = _read(media, "obama.jpg")
    colour = blazeface.detect(image)
    grey = blazeface.detect(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))
    assert len(colour) == len(grey) == 1
    assert box_iou(colour[0], grey[0]) > 0.8


def test_blazeface_crop_scale_and_shift(media):
    image = _read(media, "obama.jpg")
    plain = BlazeFaceDetector(crop_scale=1.0, crop_shift=0.0).detect(image)[0].astype(float)
    wider = BlazeFaceDetector(crop_scale=1.2, crop_shift=0.1).detect(image)[0].astype(float)
    assert wider[2] == pytest.approx(1.2 * plain[2], abs=2)
    centre_shift = (wider[1] + wider[3] / 2) - (plain[1] + plain[3] / 2)
    assert centre_shift == pytest.approx(0.1 * plain[3], abs=2)


def test_blazeface_blank_frame_has_no_face(blazeface):
    assert blazeface.detect(np.zeros((240, 320, 3), np.uint8)).shape == (0, 4)


@pytest.mark.parametrize(
    "options, message",
    [
        ({"score_threshold": 1.5}, "score_threshold must lie strictly between 0 and 1"),
        ({"iou_threshold": 0}, "iou_threshold must lie strictly between 0 and 1"),
        ({"crop_scale": 0}, "crop_scale must be positive"),
        ({"num_threads": 0}, "num_threads must be at least 1"),
    ],
)
def test_blazeface_bad_options(options, message):
    with pytest.raises(ValueError, match=message):
        BlazeFaceDetector(**options)


def test_blazeface_missing_or_wrong_model(tmp_path):
    with pytest.raises(ModelError, match=r"missing\.tflite does not exist"):
        BlazeFaceDetector(model_path=tmp_path / "missing.tflite")
    junk = tmp_path / "junk.tflite"
    junk.write_bytes(b"not a model")
    with pytest.raises(ModelError, match=r"junk\.tflite is not a LiteRT"):
        BlazeFaceDetector(model_path=junk)


def test_make_detector_by_name():
    assert isinstance(make_detector(), BlazeFaceDetector)
    assert isinstance(make_detector("haar"), HaarFaceDetector)
    with pytest.raises(ValueError, match=r"unknown detector 'hog'; choose one of blazeface, haar"):
        make_detector("hog")
