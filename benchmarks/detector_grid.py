"""Grid search of the face detector's parameters on real photos and video frames.

Generated table, not tuned by hand: the defaults in ``fer_lib/live/_detectors.py`` quote it.

For each setting (scale factor x min neighbours x max width, min size 30 px, and
the tutorial's ``detectMultiScale(gray, 1.32, 5)`` on full-size frames) it runs the
detector on the 8 photos of ``shared/media`` and on 8 evenly spaced frames of
``white_house_clip.mp4`` (640x360).

The media come with face counts only (``faces.csv``), and counts mislead: at
1.05/6/320 a background box in ``obama_and_biden.jpg`` stands in for the missed
child and a box on a desk in ``obama_partial_face.jpg`` for the missed face, so
count "recall" reaches 11/11 while 9 faces are found. Hence reference boxes drawn
by hand by looking at the images: every real face of the photos (11, the counts of
``faces.csv``) and every face of the 8 video frames with both eyes visible and at
least about 30 pixels (9; profiles are left out). A found box is a hit when its IoU
with a not yet matched reference box is at least 0.3; every other box is a false
box. ``count_recall`` keeps the counts proxy (min(found, true) / true, photos only)
for comparison. Time: median ms per 640x360 video frame, mean ms per full-size photo
(up to 2000x1428). Sorted by recall (high first), false boxes, then ms per frame.

Usage::

    python benchmarks/detector_grid.py [--media PATH] [--quick]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from pathlib import Path

import cv2
import pandas as pd

import fer_lib
from fer_lib.live._detectors import HaarFaceDetector
from fer_lib.course._detector_scores import match_boxes

SCALE_FACTORS = (1.05, 1.1, 1.15, 1.2, 1.32)
MIN_NEIGHBORS = (3, 4, 5, 6)
MAX_WIDTHS = (None, 640, 480, 320)

#: Hand-drawn (x, y, w, h) of every real face, in full-size pixels (checked by eye).
REFERENCE_BOXES: dict[str, list[tuple[int, int, int, int]]] = {
    "obama.jpg": [(344, 95, 300, 300)],
    "biden.jpg": [(428, 210, 321, 321)],
    "two_people.jpg": [(234, 28, 178, 178), (786, 63, 173, 173)],
    # two adults and a child looking down at the right edge
    "obama_and_biden.jpg": [(736, 414, 203, 203), (1118, 361, 235, 235), (1630, 1050, 170, 170)],
    # cut by the left edge of the image
    "obama_partial_face.jpg": [(0, 100, 215, 260)],
    "obama-480p.jpg": [(376, 41, 135, 135)],
    "lin-manuel-miranda.png": [(242, 128, 357, 357)],
    "alex-lacamoire.png": [(173, 116, 182, 182)],
}

# Frontal faces only, as the Haar cascade's tuning was scored (the table in fer_lib/live/_detectors.py);
# assets/white_house_clip.faces.csv also has the profiles, for comparing detectors in notebook 5.
#: The video frames scored (evenly spaced over the 275 frames) and their faces.
VIDEO_FRAMES = (0, 39, 78, 117, 156, 196, 235, 274)
VIDEO_REFERENCE_BOXES: dict[int, list[tuple[int, int, int, int]]] = {
    0: [(517, 44, 55, 55), (38, 172, 48, 50)],  # performer standing, pianist at the left
    39: [],  # profile close-up
    78: [],  # profile close-up
    117: [(212, 22, 92, 100)],  # performer, three-quarter view
    156: [(235, 31, 115, 115)],
    196: [(213, 24, 124, 124)],
    235: [(40, 59, 73, 73), (148, 97, 68, 68)],  # audience; two more faces in profile
    274: [(37, 65, 67, 67), (154, 102, 62, 62)],
}


def default_media() -> Path:
    return Path(fer_lib.__file__).resolve().parents[2] / "shared" / "media"


def load_media(media: Path):
    table = pd.read_csv(media / "faces.csv")
    photos = [(row.file, cv2.imread(str(media / row.file)), int(row.faces)) for row in table.itertuples()]
    for file, image, true in photos:
        if image is None or len(REFERENCE_BOXES.get(file, ())) != true:
            raise SystemExit(f"{file}: unreadable, or faces.csv disagrees with REFERENCE_BOXES; update them")
    capture = cv2.VideoCapture(str(media / "white_house_clip.mp4"))
    video = []
    try:
        for index in VIDEO_FRAMES:
            capture.set(cv2.CAP_PROP_POS_FRAMES, index)
            ok, frame = capture.read()
            if not ok:
                raise SystemExit(f"white_house_clip.mp4: frame {index} cannot be read")
            video.append((index, frame))
    finally:
        capture.release()
    return photos, video


def evaluate(name: str, detector: HaarFaceDetector, photos, video) -> dict:
    hits = false = true_total = count_hits_total = 0
    photo_ms = []
    per_file = []
    for file, image, true in photos:
        start = time.perf_counter()
        boxes = detector.detect(image).tolist()
        photo_ms.append(1000 * (time.perf_counter() - start))
        file_hits = match_boxes(boxes, REFERENCE_BOXES[file])
        hits += file_hits
        false += len(boxes) - file_hits
        count_hits_total += min(len(boxes), true)
        true_total += true
        per_file.append(f"{file_hits}/{len(boxes)}")
    frame_ms = []
    video_hits = video_false = video_total = 0
    for index, frame in video:
        start = time.perf_counter()
        boxes = detector.detect(frame).tolist()
        frame_ms.append(1000 * (time.perf_counter() - start))
        references = VIDEO_REFERENCE_BOXES[index]
        frame_hits = match_boxes(boxes, references)
        video_hits += frame_hits
        video_false += len(boxes) - frame_hits
        video_total += len(references)
    return {
        "setting": name,
        "recall": (hits + video_hits) / (true_total + video_total),
        "false_boxes": false + video_false,
        "photo_hits": f"{hits}/{true_total}",
        "photo_false": false,
        "video_hits": f"{video_hits}/{video_total}",
        "video_false": video_false,
        "count_recall": count_hits_total / true_total,
        "ms_per_frame": statistics.median(frame_ms) if frame_ms else float("nan"),
        "ms_per_photo": statistics.fmean(photo_ms),
        "hits/found_per_photo": " ".join(per_file),
    }


def main(argv=None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--media", type=Path, default=default_media())
    parser.add_argument("--quick", action="store_true", help="min neighbours 4 and 5 only")
    args = parser.parse_args(argv)
    if not (args.media / "faces.csv").is_file():
        raise SystemExit(f"{args.media}/faces.csv not found: pass --media pointing at shared/media")
    photos, video = load_media(args.media)
    rows = [
        evaluate(
            "tutorial 1.32/5 full",
            HaarFaceDetector(scale_factor=1.32, min_neighbors=5, min_size=None, max_width=None),
            photos,
            video,
        )
    ]
    neighbours = (4, 5) if args.quick else MIN_NEIGHBORS
    for scale, neighbors, max_width in itertools.product(SCALE_FACTORS, neighbours, MAX_WIDTHS):
        detector = HaarFaceDetector(scale_factor=scale, min_neighbors=neighbors, max_width=max_width)
        rows.append(evaluate(f"{scale}/{neighbors}/{max_width or 'full'}", detector, photos, video))
    table = pd.DataFrame(rows).sort_values(
        ["recall", "false_boxes", "ms_per_frame"], ascending=[False, True, True]
    )
    print("photos:", " ".join(file for file, _, _ in photos))
    print("faces: ", " ".join(str(true) for _, _, true in photos))
    print("hits/found_per_photo lists the photos in that order; time on 2 CPU cores")
    with pd.option_context("display.width", 250, "display.max_rows", 500):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    return table


if __name__ == "__main__":
    main()
