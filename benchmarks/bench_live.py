"""Live-loop benchmark: the tutorial's webcam loop against fer_lib's, on the same frames, in one run.

Generated numbers, not edited by hand. Every loop processes the same 640x480 BGR
frames made from the committed photos of ``tests/photos`` (``--media`` for another folder):

* **one face**: ``obama.jpg`` letterboxed into 640x480;
* **several faces**: ``two_people.jpg`` (2 faces) and ``obama_and_biden.jpg`` (3) in turn;

each frame shifted and rescaled a little so that no two frames are alike.

The loops, side by side:

* **tutorial**: per frame ``cvtColor`` to grey, ``detectMultiScale(gray, 1.32, 5)`` on the
  full frame, and per face the swapped crop ``gray[y:y+w, x:x+h]``, ``cv2.resize`` to 48x48,
  ``/255``, one Keras ``model.predict`` per face (``verbose=0``: its progress bar is left out,
  which only flatters the tutorial), ``cv2.rectangle`` and ``cv2.putText``; the shipped Keras
  model (``--keras-model``, default ``fer_lib/model/shipped/default.keras``).
* **haar**: :func:`fer_lib.analyze_frame` with ``detector="haar"`` (the cascade at the
  measured defaults) and :func:`fer_lib.annotate`;
* **blazeface**: the same with the default BlazeFace detector.

Both fer_lib loops classify all faces of a frame in one call of the shipped model's
LiteRT export (``--model``, default ``fer_lib/model/shipped/default.quantized.tflite``). The loops
alternate (A B C A B C ...) for ``--repeats`` rounds and the medians are printed: frames
per second, the ratio to the tutorial, classification time per face (the tutorial's
``model.predict`` per face against our batched call), and the faces found against
``faces.csv`` (boxes are counted, not matched: ``benchmarks/detector_grid.py`` matches them).

    python benchmarks/bench_live.py [--frames 30] [--repeats 3]
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

import fer_lib  # noqa: E402
from fer_lib.labels import EMOTIONS  # noqa: E402
from fer_lib.model._classifier import DEFAULT_KERAS_PATH, DEFAULT_MODEL_PATH, EmotionClassifier, load_saved_model  # noqa: E402
from fer_lib.live._loop import default_detector  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FRAME_SIZE = (640, 480)
SETS = {
    "one face": ["obama.jpg"],
    "several faces": ["two_people.jpg", "obama_and_biden.jpg"],
}


def find_media(explicit: str | None) -> Path:
    candidates = [Path(explicit)] if explicit else [ROOT / "tests" / "photos"]
    for folder in candidates:
        if (folder / "faces.csv").is_file() and all((folder / n).is_file() for names in SETS.values() for n in names):
            return folder
    sys.exit(f"no media folder with faces.csv and {', '.join(n for v in SETS.values() for n in v)} in "
             f"{', '.join(map(str, candidates))}; pass --media")


def face_counts(media: Path) -> dict[str, int]:
    with (media / "faces.csv").open(newline="") as handle:
        return {row["file"]: int(row["faces"]) for row in csv.DictReader(handle)}


def place(image: np.ndarray, scale: float, shift: tuple[int, int]) -> np.ndarray:
    """``image`` letterboxed into a 640x480 frame at ``scale`` times the fitting size, shifted by ``shift``."""
    width, height = FRAME_SIZE
    fit = min(width / image.shape[1], height / image.shape[0]) * scale
    tx = (width - image.shape[1] * fit) / 2 + shift[0]
    ty = (height - image.shape[0] * fit) / 2 + shift[1]
    matrix = np.float32([[fit, 0, tx], [0, fit, ty]])
    return cv2.warpAffine(image, matrix, FRAME_SIZE, flags=cv2.INTER_AREA, borderValue=(0, 0, 0))


def build_frames(media: Path, count: int) -> dict[str, tuple[list[np.ndarray], list[int]]]:
    """Per set: ``count`` different 640x480 frames and the number of faces in each."""
    present = face_counts(media)
    sets = {}
    for name, files in SETS.items():
        images = [cv2.imread(str(media / file)) for file in files]
        frames, faces = [], []
        for index in range(count):
            which = index % len(files)
            scale = 0.94 + 0.06 * ((index * 7) % 11) / 10
            shift = ((index * 5) % 17 - 8, (index * 3) % 13 - 6)
            frames.append(place(images[which], scale, shift))
            faces.append(present[files[which]])
        sets[name] = (frames, faces)
    return sets


def load_model(path: Path):
    if not path.is_file():
        sys.exit(f"{path} does not exist: pass --keras-model (the tutorial's loop runs a Keras model)")
    return load_saved_model(path), str(path)


def tutorial_loop(frames, cascade, model, timings: list[float]) -> list[int]:
    """The tutorial's per-frame code; returns the number of faces found per frame."""
    found = []
    for captured in frames:
        test_img = captured.copy()  # cap.read() gives a fresh frame; the tutorial draws on it
        gray_img = cv2.cvtColor(test_img, cv2.COLOR_BGR2GRAY)
        faces_detected = cascade.detectMultiScale(gray_img, 1.32, 5)
        for (x, y, w, h) in faces_detected:
            cv2.rectangle(test_img, (x, y), (x + w, y + h), (255, 0, 0), thickness=7)
            roi_gray = gray_img[y:y + w, x:x + h]  # (sic) rows and columns swapped, as in the tutorial
            roi_gray = cv2.resize(roi_gray, (48, 48))
            img_pixels = np.expand_dims(roi_gray.astype(np.float32)[..., None], axis=0)
            img_pixels /= 255
            start = time.perf_counter()
            predictions = model.predict(img_pixels, verbose=0)
            timings.append(time.perf_counter() - start)
            predicted_emotion = EMOTIONS[int(np.argmax(predictions[0]))]
            cv2.putText(test_img, predicted_emotion, (int(x), int(y)), cv2.FONT_HERSHEY_SIMPLEX, 1, (0, 0, 255), 2)
        found.append(len(faces_detected))
    return found


def our_loop(frames, classifier, detector, timings: list[float]) -> list[int]:
    found = []
    for frame in frames:
        faces = fer_lib.analyze_frame(frame, detector=detector, classifier=classifier)
        fer_lib.annotate(frame, faces)
        found.append(len(faces))
    return found


def timed_predict(classifier: EmotionClassifier, timings: list[float]) -> None:
    """Record the time of every batched call ``analyze_frame`` makes."""
    predict = classifier.predict

    def timed(faces):
        start = time.perf_counter()
        result = predict(faces)
        timings.append(time.perf_counter() - start)
        return result

    classifier.predict = timed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(DEFAULT_MODEL_PATH), help="fer_lib's model (default: LiteRT export)")
    parser.add_argument("--keras-model", default=str(DEFAULT_KERAS_PATH), help="the tutorial loop's Keras model")
    parser.add_argument("--media", help="folder with the photos and faces.csv (default tests/photos)")
    parser.add_argument("--frames", type=int, default=30, help="frames per set (default 30)")
    parser.add_argument("--repeats", type=int, default=3, help="rounds of A B (default 3)")
    args = parser.parse_args(argv)

    media = find_media(args.media)
    sets = build_frames(media, args.frames)
    model, model_name = load_model(Path(args.keras_model))
    classifier = EmotionClassifier(args.model)
    cascade = cv2.CascadeClassifier(str(Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"))

    our_predict_times: list[float] = []
    timed_predict(classifier, our_predict_times)
    loops = {
        "tutorial": lambda frames, timings: tutorial_loop(frames, cascade, model, timings),
        "haar": lambda frames, timings: our_loop(frames, classifier, default_detector("haar"), timings),
        "blazeface": lambda frames, timings: our_loop(frames, classifier, default_detector("blazeface"), timings),
    }
    # Warm-up: Keras builds its predict function; LiteRT allocates the batch sizes used.
    classifier.warmup((1, 2, 4))
    for name, loop in loops.items():
        for frames, _ in sets.values():
            loop(frames[:3], [])
    our_predict_times.clear()

    fps = {(loop, s): [] for loop in loops for s in sets}
    classify = {(loop, s): [] for loop in loops for s in sets}  # seconds per face, per round
    found = {}
    for round_index in range(args.repeats):
        for loop_name, loop in loops.items():  # A B A B ...
            for set_name, (frames, present) in sets.items():
                timings: list[float] = []
                our_predict_times.clear()
                start = time.perf_counter()
                counts = loop(frames, timings)
                elapsed = time.perf_counter() - start
                fps[loop_name, set_name].append(len(frames) / elapsed)
                spent = timings if loop_name == "tutorial" else our_predict_times
                if sum(counts):
                    classify[loop_name, set_name].append(sum(spent) / sum(counts))
                found[loop_name, set_name] = counts

    print(f"bench_live: {args.frames} frames of 640x480 per set, {args.repeats} rounds (tutorial, haar, blazeface "
          f"alternating), medians; tutorial: {model_name} (Keras); fer_lib: {args.model} (LiteRT)")
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"machine: {os.cpu_count()} CPUs, load average {load} (shared machine: compare the loops with each "
          f"other, not with other runs); media: {media}")
    print()
    header = f"{'set':<14} {'loop':<10} {'fps':>7} {'ms/frame':>9} {'classify ms/face':>17} {'faces found/present':>20}"
    print(header)
    print("-" * len(header))
    for set_name, (frames, present) in sets.items():
        for loop_name in loops:
            median_fps = statistics.median(fps[loop_name, set_name])
            per_face = classify[loop_name, set_name]
            per_face_text = f"{1000 * statistics.median(per_face):.1f}" if per_face else "-"
            counts = found[loop_name, set_name]
            hits = sum(min(f, p) for f, p in zip(counts, present))
            extra = sum(max(f - p, 0) for f, p in zip(counts, present))
            recall = f"{hits}/{sum(present)} ({hits / sum(present):.0%})" + (f" +{extra}" if extra else "")
            print(f"{set_name:<14} {loop_name:<10} {median_fps:>7.1f} {1000 / median_fps:>9.1f} "
                  f"{per_face_text:>17} {recall:>20}")
    print()
    for set_name in sets:
        for ours in ("haar", "blazeface"):
            ratios = [a / b for a, b in zip(fps[ours, set_name], fps["tutorial", set_name])]
            per_face = [classify["tutorial", set_name], classify[ours, set_name]]
            face_ratio = ""
            if all(per_face):
                face_ratio = (f"; classification per face {statistics.median(per_face[0]) / statistics.median(per_face[1]):.1f}"
                              " times faster")
            print(f"{set_name}: {ours} runs {statistics.median(ratios):.1f} times the tutorial's frames per second "
                  f"(median of per-round ratios){face_ratio}")
    print("faces found/present: boxes counted per frame up to the faces in it (faces.csv); +N: boxes beyond that")
    return 0


if __name__ == "__main__":
    sys.exit(main())
