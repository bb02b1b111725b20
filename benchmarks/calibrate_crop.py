"""Calibrate the face crop a detector hands the emotion classifier, by the classifier's accuracy.

Generated numbers, not edited by hand. The classifier was trained on FER2013's own
crops, so the best crop of a detected face is the one that looks most like them.
This script measures it on FER2013 faces whose true crop is known:

1. each ``PublicTest`` face (48x48) is enlarged to 144x144 and set in the middle of
   a 432x432 frame whose border repeats the face's edge pixels (a face in a scene,
   not a face alone on a black page);
2. the detector runs on that frame (BlazeFace with ``crop_scale=1, crop_shift=0``,
   i.e. its raw box; the Haar cascade at its defaults); the detected box nearest the
   centre is kept;
3. the geometry: the true crop's side over the box's width, and how far the true
   centre lies below the box's centre (in box heights): medians over all faces;
4. the accuracy: every face is cropped from the frame at the box scaled by
   ``scale`` about its centre and shifted down by ``shift`` box heights, classified
   by the shipped model, and compared with its label; a grid of (scale, shift) and
   the accuracy of the true crops themselves are printed.

The best grid point is the calibration for :class:`fer_lib.live._detectors.BlazeFaceDetector`
(``DEFAULT_CROP_SCALE``, ``DEFAULT_CROP_SHIFT``); the module docstring of
``fer_lib/live/_detectors.py`` quotes this script's output.

    python benchmarks/calibrate_crop.py [--csv fer2013.csv] [--faces 3589] [--model fer_lib/model/shipped/default.tflite]
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np

from fer_lib.model._classifier import DEFAULT_KERAS_PATH, EmotionClassifier
from fer_lib.data._loading import load_default_data
from fer_lib.live import BlazeFaceDetector, HaarFaceDetector, crop_faces
from fer_lib.model._export import litert_paths

ENLARGE = 3  # 48 -> 144 pixels
CANVAS = 3  # the frame is three faces wide
SCALES = (0.9, 1.0, 1.1, 1.2, 1.3, 1.4)
SHIFTS = (-0.1, -0.05, 0.0, 0.05, 0.1)


def face_scene(face: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """A 432x432 BGR frame with the enlarged face in its middle, and the face's true box."""
    side = face.shape[0] * ENLARGE
    big = cv2.resize(face, (side, side), interpolation=cv2.INTER_CUBIC)
    pad = side * (CANVAS - 1) // 2
    scene = cv2.copyMakeBorder(big, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    return cv2.cvtColor(scene, cv2.COLOR_GRAY2BGR), (pad, pad, side, side)


def central_box(boxes: np.ndarray, frame_side: int) -> np.ndarray | None:
    """The box whose centre is nearest the frame's centre, or None."""
    if len(boxes) == 0:
        return None
    centres = boxes[:, :2] + boxes[:, 2:] / 2
    return boxes[np.argmin(np.linalg.norm(centres - frame_side / 2, axis=1))].astype(np.float64)


def scaled(box: np.ndarray, scale: float, shift: float) -> np.ndarray:
    """``box`` scaled about its centre and moved down by ``shift`` of its height."""
    x, y, w, h = box
    cx, cy = x + w / 2, y + h / 2 + shift * h
    return np.array([cx - scale * w / 2, cy - scale * h / 2, scale * w, scale * h])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--csv", default=None, help="FER2013 file (default: FER2013_PATH or data_input/)")
    parser.add_argument("--faces", type=int, default=3589, help="PublicTest faces to use (default all)")
    parser.add_argument("--model", default=str(litert_paths(DEFAULT_KERAS_PATH)["float32"]))
    args = parser.parse_args()

    data = load_default_data(args.csv)
    test = data.subset(np.flatnonzero(data.usage == "PublicTest")[: args.faces])
    images, labels = test.images, test.labels
    classifier = EmotionClassifier(args.model)
    true_accuracy = float(np.mean(classifier.predict(images).argmax(1) == labels))
    print(f"{len(images)} PublicTest faces from {data.source}; model {args.model}")
    print(f"accuracy on FER2013's own crops: {100 * true_accuracy:.2f}%")

    detectors = {
        "blazeface": BlazeFaceDetector(crop_scale=1.0, crop_shift=0.0),
        "haar": HaarFaceDetector(),
    }
    for name, detector in detectors.items():
        started = time.perf_counter()
        found, ratios, offsets, crops, originals = [], [], [], {}, []
        for image, label in zip(images, labels):
            scene, (tx, ty, tw, th) = face_scene(image)
            box = central_box(detector.detect(scene), scene.shape[0])
            if box is None:
                continue
            found.append(label)
            originals.append(image)
            ratios.append(tw / box[2])
            offsets.append(((ty + th / 2) - (box[1] + box[3] / 2)) / box[3])
            grey = scene[..., 0]
            for scale in SCALES:
                for shift in SHIFTS:
                    crops.setdefault((scale, shift), []).append(crop_faces(grey, [scaled(box, scale, shift)])[0])
        found = np.asarray(found)
        seconds = time.perf_counter() - started
        print(f"\n{name}: a face found in {len(found)} of {len(images)} scenes ({seconds:.0f} s)")
        if not len(found):
            continue
        print(f"  true crop side / box width: median {np.median(ratios):.3f}")
        print(f"  true centre below box centre: median {np.median(offsets):+.3f} box heights")
        own = float(np.mean(classifier.predict(np.stack(originals)).argmax(1) == found))
        print(f"  accuracy of FER2013's own crops of these faces: {100 * own:.2f}%")
        print("  accuracy on the faces found, by crop scale (rows) and downward shift (columns):")
        print("  scale " + "".join(f"{shift:>8.2f}" for shift in SHIFTS))
        best = (0.0, None)
        for scale in SCALES:
            row = []
            for shift in SHIFTS:
                accuracy = float(np.mean(classifier.predict(np.stack(crops[(scale, shift)])).argmax(1) == found))
                row.append(accuracy)
                best = max(best, (accuracy, (scale, shift)), key=lambda item: item[0])
            print(f"  {scale:5.2f} " + "".join(f"{100 * a:8.2f}" for a in row))
        print(f"  best: scale {best[1][0]}, shift {best[1][1]}: {100 * best[0]:.2f}%")


if __name__ == "__main__":
    main()
