"""Training benchmark: images per second of each model on this machine, side by side in one run.

All models train on the same batches of raw 48x48 faces (batch 64, the
tutorial's), through the same ``fer_lib.train.AugmentedFaces`` pipeline that
``train`` uses (augmentation off for the tutorial's ``seed_cnn``, on for ours,
as in their recipes). Rounds alternate between the models (A B C A B C ...) so a
drifting machine speed hits all of them; medians are printed, with the ratio to
``seed_cnn``.

Time to reach the tutorial's 65% is read from training histories (``--history
NAME=PATH``; by default the committed ones: the shipped model's and those in
``results/``): the cumulative training seconds up to the first epoch whose
validation accuracy reaches 65%. Their timings come from the runs themselves,
so compare them only where the machine was equally busy.

    python benchmarks/bench_train.py [--steps 15] [--rounds 3] [--history fer_net=fer_lib/model/shipped/default.history.csv]
    python benchmarks/bench_train.py --histories-only --history fer_net=fer_lib/model/shipped/default.history.csv
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pandas as pd  # noqa: E402

from fer_lib import model as models  # noqa: E402
from fer_lib import train as training  # noqa: E402
from fer_lib.data import FER2013, synthetic_fer2013, to_model_input  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MODELS = ("seed_cnn", "fer_net", "fer_net_small")

#: The committed training histories, one per recipe the README reports.
DEFAULT_HISTORIES = {
    "seed_cnn (tutorial protocol)": str(ROOT / "results" / "seed_cnn_tutorial.history.csv"),
    "fer_net (shipped, --profile full)": str(ROOT / "fer_lib" / "model" / "shipped" / "default.history.csv"),
    "fer_net (first edition, 16 epochs)": str(ROOT / "results" / "fer_net_16_epochs.history.csv"),
    "fer_net_small (--profile student)": str(ROOT / "results" / "fer_net_small_default.history.csv"),
}


def images_per_second(name: str, faces: FER2013, steps: int, model) -> float:
    batches = training.AugmentedFaces(faces.images, faces.labels, batch_size=64,
                                      augment=training.RECIPES[name]["augment"], seed=0)
    started = time.perf_counter()
    for index in range(steps):
        x, y = batches[index % len(batches)]
        model.train_on_batch(x, y)
    return steps * 64 / (time.perf_counter() - started)


def time_to_accuracy(path: Path, target: float) -> str:
    if not path.is_file():
        return "no history"
    history = pd.read_csv(path)
    reached = history.index[history["val_accuracy"] >= target]
    if len(reached) == 0:
        return f"not reached in {len(history)} epochs (best {history['val_accuracy'].max():.3f})"
    row = reached[0]
    minutes = history["seconds"].iloc[: row + 1].sum() / 60
    return f"epoch {int(history['epoch'].iloc[row])}, {minutes:.0f} min of training"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=15, help="timed batches per model and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--history", action="append", default=[], metavar="NAME=PATH")
    parser.add_argument("--target", type=float, default=0.65)
    parser.add_argument("--histories-only", action="store_true", help="skip the throughput rounds")
    args = parser.parse_args()
    if not args.histories_only:
        print_throughput(args.steps, args.rounds)
    histories = dict(item.split("=", 1) for item in args.history) or DEFAULT_HISTORIES
    print(f"\ntime to reach {args.target:.0%} validation accuracy (from training histories)")
    for name, path in histories.items():
        print(f"{name:<40}{time_to_accuracy(Path(path), args.target)}")
    return 0


def print_throughput(steps: int, rounds: int) -> None:
    """Time every model on the same batches, the models alternating, and print medians and ratios."""

    faces = synthetic_fer2013(64 * steps, seed=0)
    built = {}
    for name in MODELS:
        options = {"normalization_data": to_model_input(faces.images)} if name == "seed_cnn" else {}
        built[name] = models.build_model(name, **options)
        images_per_second(name, faces, 2, built[name])  # warm-up: tracing and compilation
    rates: dict[str, list[float]] = {name: [] for name in MODELS}
    for _ in range(rounds):
        for name in MODELS:
            rates[name].append(images_per_second(name, faces, steps, built[name]))

    print(f"training throughput, batch 64, {steps} batches x {rounds} rounds, alternating")
    print(f"{'model':<15}{'parameters':>12}{'images/s':>10}{'min':>8}{'max':>8}{'vs seed_cnn':>13}")
    base = statistics.median(rates["seed_cnn"])
    for name in MODELS:
        median = statistics.median(rates[name])
        params = models.count_parameters(built[name])["total"]
        print(f"{name:<15}{params:>12,}{median:>10.0f}{min(rates[name]):>8.0f}{max(rates[name]):>8.0f}"
              f"{median / base:>12.1f}x")


if __name__ == "__main__":
    sys.exit(main())
