"""Fine-tuning benchmark: `fer_lib.train.finetune` (base frozen, head then last block) against training the
whole shipped network on the same faces (every layer trainable: what a student would try first), in one run.

The faces are notebook 6's stand-in: 7 emotions x 30 drawn faces in three recording sessions
(:func:`fer_lib.course.write_stand_in_faces`), split by session (two to train on, one held out). Both methods start
from the shipped Keras model, see the same epochs (``--epochs`` of the head + ``--epochs`` with the last block for
finetune; ``2 * --epochs`` of everything for the whole network), the same augmentation and learning rates, and
alternate for ``--repeats`` turns. Printed: the median seconds of fitting, the held-out accuracy before and after,
FER2013 ``PublicTest`` after (what each forgot; when FER2013 is found as the notebooks find it), and the ratios.

    python benchmarks/bench_finetune.py [--epochs 10] [--repeats 2]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def whole_network(model, data, *, epochs: int, seed: int):
    """Every layer trainable, the same schedule of learning rates and augmentation as ``finetune``."""
    import keras
    import numpy as np

    from fer_lib.data import to_model_input
    from fer_lib.train import split_by_session
    from fer_lib.train._augment import augment_batch

    train_index, _ = split_by_session(data)
    faces = data.subset(train_index)
    targets = np.eye(7, dtype=np.float32)[faces.labels]
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    for rate in (1e-2, 1e-3):
        model.compile(optimizer=keras.optimizers.Adam(rate), loss="categorical_crossentropy")
        for _ in range(epochs):
            images = to_model_input(augment_batch(faces.images, rng, max_rotation=8, max_shift=0.06))
            model.fit(images, targets, batch_size=32, epochs=1, shuffle=True, verbose=0)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    from fer_lib.course import write_stand_in_faces
    from fer_lib.data import discover_fer2013, load_fer2013, load_image_folder, make_split
    from fer_lib.evaluation import evaluate
    from fer_lib.model import DEFAULT_KERAS_PATH, load_saved_model
    from fer_lib.train import finetune, split_by_session

    with tempfile.TemporaryDirectory() as folder:
        data = load_image_folder(write_stand_in_faces(Path(folder) / "faces"), cache=False)
    held = data.subset(split_by_session(data)[1])
    found = discover_fer2013()
    public_test = make_split(load_fer2013(found), "official").test if found else None
    seconds = {"finetune": [], "whole network": []}
    accuracy = {"finetune": [], "whole network": []}
    forgot = {"finetune": [], "whole network": []}
    before = evaluate(load_saved_model(DEFAULT_KERAS_PATH), held).accuracy
    for turn in range(args.repeats):
        result = finetune(load_saved_model(DEFAULT_KERAS_PATH), data, epochs=args.epochs,
                          unfreeze_epochs=args.epochs, seed=turn)
        seconds["finetune"].append(result.seconds)
        accuracy["finetune"].append(result.accuracy["held_out_after"])
        model = load_saved_model(DEFAULT_KERAS_PATH)
        seconds["whole network"].append(whole_network(model, data, epochs=args.epochs, seed=turn))
        accuracy["whole network"].append(evaluate(model, held).accuracy)
        if public_test is not None:
            forgot["finetune"].append(evaluate(result.model, public_test).accuracy)
            forgot["whole network"].append(evaluate(model, public_test).accuracy)
    print(f"{len(data)} faces ({len(held)} held out, one session of each emotion); shipped model before: "
          f"{before:.1%} held-out")
    print(f"{'method':<14} {'fit s (median)':>14} {'held-out after (median)':>24} {'PublicTest after':>17}")
    for name in seconds:
        after = f"{statistics.median(forgot[name]):.1%}" if forgot[name] else "no FER2013"
        print(f"{name:<14} {statistics.median(seconds[name]):>14.1f} {statistics.median(accuracy[name]):>24.1%} "
              f"{after:>17}")
    ratio = statistics.median(seconds["whole network"]) / statistics.median(seconds["finetune"])
    print(f"finetune is {ratio:.2f}x the speed of training the whole network, "
          f"{statistics.median(accuracy['finetune']) - statistics.median(accuracy['whole network']):+.1%} "
          "held-out accuracy")


if __name__ == "__main__":
    main()
