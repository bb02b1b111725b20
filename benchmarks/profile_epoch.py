"""Where a training epoch goes: the parts of one epoch of ``train()``, each timed on its own, in one run.

An epoch of ``train()`` is: the training steps (``model.fit`` pulling batches from ``AugmentedFaces``, which
mirrors, warps and erases each face in NumPy and OpenCV on the main thread), then batch normalisation's
statistics measured again on 1,024 faces (``BatchNormStatistics``), the validation pass (``fit``'s
``validation_data``, evaluated 32 faces at a time unless told otherwise), and the checkpoint (``EpochCheckpoint``
saves the model with its optimiser state, and the best model when validation improved).

This script times each part for the network and recipe of ``--profile`` (default ``full``: the shipped
``fer_net``, random erasing on) on the real data when it is found (synthetic faces otherwise, which the output
says):

- ``augmentation``: building every batch of an epoch (``AugmentedFaces[i]``) without training;
- ``training steps``: ``fit`` on ``--batches`` batches, in turns of four variants that alternate so a drifting
  machine speed hits each: the pipeline as ``train`` runs it (``inline``, building the batches included); the
  same batches prepared beforehand
  (``prepared``: what overlapping augmentation with the step could gain at most); the pipeline in two threads
  (``workers=2``: Keras' ``PyDataset`` workers); and the pipeline with XLA compilation (``jit_compile=True``,
  which Keras leaves off on CPUs);
- ``validation``: ``evaluate`` on the validation faces at batch 32 (what ``fit`` uses) and at 256;
- ``batch-norm statistics`` and ``checkpoint``: one call each, as the callbacks make them.

It prints per-batch medians with their spread, and scales them to a full epoch of the run's batches.

    python benchmarks/profile_epoch.py [--profile full] [--batches 24] [--turns 3] [--csv results/epoch_profile.csv]
    python benchmarks/profile_epoch.py --profile fast --batches 4 --turns 1   # a smoke test
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
from tensorflow.config import threading  # noqa: E402

from fer_lib.data import load_default_data  # noqa: E402
from fer_lib.train import PROFILES  # noqa: E402
from fer_lib.train._augment import training_batches, validation_arrays  # noqa: E402
from fer_lib.train._loop import build_model_for, prepare_split, statistics_inputs  # noqa: E402
from fer_lib.train._runs import reestimate_batch_norm, save_model  # noqa: E402

from bench_train import write_table  # noqa: E402  (this folder's: run as a script)


class FirstBatches(keras.utils.PyDataset):
    """The first ``count`` batches of ``source`` (or the ``prepared`` ones), with ``workers`` threads."""

    def __init__(self, source, count: int, *, prepared: list | None = None, workers: int = 1):
        super().__init__(workers=workers, use_multiprocessing=False, max_queue_size=8)
        self.source, self.count, self.prepared = source, count, prepared

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int):
        return self.prepared[index] if self.prepared is not None else self.source[index]


def timed(function) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def median_and_spread(values: list[float], scale: float = 1.0) -> str:
    scaled = [value * scale for value in values]
    return f"{statistics.median(scaled):8.1f}  ({min(scaled):.1f}-{max(scaled):.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="full", choices=sorted(PROFILES))
    parser.add_argument("--batches", type=int, default=24, help="batches a turn of training steps fits")
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--no-xla", action="store_true", help="leave out the jit_compile=True variant")
    parser.add_argument("--csv", type=Path, help="also write the table here, with how it was made beside it "
                        "(.meta.json): results/epoch_profile.csv is what docs/results.md shows")
    args = parser.parse_args()

    config = PROFILES[args.profile]
    data = load_default_data()
    data, split, faces = prepare_split(config, data, verbose=False)
    batches = training_batches(faces, config)
    count = min(args.batches, len(batches))
    load = os.getloadavg()[0]
    print(f"{config.model_name} ({args.profile}): {len(faces):,} training faces, {len(batches)} batches of "
          f"{config.batch_size} an epoch, {len(split.validation):,} validation faces; load average "
          f"{os.getloadavg()[0]:.1f}; TensorFlow threads intra/inter {threading.get_intra_op_parallelism_threads()}/"
          f"{threading.get_inter_op_parallelism_threads()} (0 = one per core)")

    augmentation = [timed(lambda: [batches[i] for i in range(len(batches))]) / len(batches) for _ in range(2)]

    model = build_model_for(config, faces, len(batches))
    xla = None if args.no_xla else build_model_for(config, faces, len(batches))
    if xla is not None:
        xla.compile(optimizer=xla.optimizer, loss=xla.loss, metrics=["accuracy"], jit_compile=True)
    prepared = [batches[i] for i in range(count)]
    variants = {
        "inline (as train runs it)": (model, lambda: FirstBatches(batches, count)),
        "prepared beforehand": (model, lambda: FirstBatches(batches, count, prepared=prepared)),
        "workers=2 (threads)": (model, lambda: FirstBatches(batches, count, workers=2)),
    }
    if xla is not None:
        variants["inline, jit_compile=True"] = (xla, lambda: FirstBatches(batches, count))
    for network, _ in variants.values():  # warm-up: tracing and compilation stay out of the turns
        network.fit(FirstBatches(batches, min(3, count)), epochs=1, verbose=0)
    steps = {name: [] for name in variants}
    for _ in range(args.turns):
        for name, (network, dataset) in variants.items():
            steps[name].append(timed(lambda: network.fit(dataset(), epochs=1, verbose=0)) / count)

    validation_faces, validation_labels = validation_arrays(split.validation)
    validation = {size: [] for size in (32, 256)}
    for size in validation:  # warm-up, untimed: each batch size traces its own function
        model.evaluate(validation_faces[:size], validation_labels[:size], batch_size=size, verbose=0)
    for _ in range(args.turns):
        for size in validation:
            validation[size].append(timed(lambda: model.evaluate(validation_faces, validation_labels,
                                                                  batch_size=size, verbose=0)))
    inputs = statistics_inputs(faces, config.seed)
    reestimate_batch_norm(model, inputs)  # warm-up, untimed
    norm = [timed(lambda: reestimate_batch_norm(model, inputs)) for _ in range(args.turns)]
    with tempfile.TemporaryDirectory() as folder:
        checkpoint = [timed(lambda: save_model(model, Path(folder) / "checkpoint.keras")) for _ in range(args.turns)]

    per_epoch = len(batches)
    print(f"\n{'part of an epoch':<44}{'ms a batch':>10}  (min-max)   {'s an epoch':>10}  (min-max)")
    print(f"{'augmentation (building the batches)':<44}{median_and_spread(augmentation, 1000)}"
          f"{median_and_spread(augmentation, per_epoch)}")
    for name, values in steps.items():
        print(f"{'training steps, ' + name:<44}{median_and_spread(values, 1000)}"
              f"{median_and_spread(values, per_epoch)}")
    for size, values in validation.items():
        print(f"{f'validation pass, batch {size}':<44}{'':>22}{median_and_spread(values)}")
    print(f"{'batch-norm statistics (1,024 faces)':<44}{'':>22}{median_and_spread(norm)}")
    print(f"{'checkpoint (model and optimiser state)':<44}{'':>22}{median_and_spread(checkpoint)}")
    inline = statistics.median(steps["inline (as train runs it)"])
    for name, values in steps.items():
        print(f"{name}: {inline / statistics.median(values):.2f}x the inline steps' speed")
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    if args.csv:  # seconds an epoch; the inline steps include building the batches (augmentation is shown apart)
        parts = {"augmentation": [value * per_epoch for value in augmentation],
                 **{f"steps: {name}": [value * per_epoch for value in values] for name, values in steps.items()},
                 **{f"validation, batch {size}": values for size, values in validation.items()},
                 "batch-norm statistics": norm, "checkpoint": checkpoint}
        rows = [{"part": part, "seconds": statistics.median(values), "min": min(values), "max": max(values)}
                for part, values in parts.items()]
        write_table(args.csv, rows, {"model": config.model_name, "profile": args.profile, "batches": per_epoch,
                                     "training_faces": len(faces), "validation_faces": len(split.validation),
                                     "load_average": [round(load, 1), round(os.getloadavg()[0], 1)]})


if __name__ == "__main__":
    main()
