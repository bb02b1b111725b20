"""Training benchmark: faces per second of each network in float32 and mixed bfloat16, side by side in one run.

Every network trains on the same batches of raw 48x48 faces (batch 64, the
tutorial's) through the ``fer_lib.train.AugmentedFaces`` pipeline that ``train``
uses (augmentation off for the tutorial's ``seed_cnn``, on for ours, as in their
recipes), each network built once per precision (``build_model(name,
precision=...)``, as ``train`` builds it). A turn is one ``model.fit`` of
``--batches`` batches, after a warm-up fit that traces and compiles, so the
per-call overhead hides in the turn. Turns alternate (seed_cnn float32, seed_cnn
bf16, fer_net float32, fer_net bf16, then again) so a drifting machine speed hits
every variant; the median and the spread (min-max) of ``--turns`` turns are
printed, with the share of the arithmetic peak: training FLOPs per face (3x the
forward pass's multiply-adds x 2, counted from the network's convolution and
dense kernels) times faces/s, against ``--peak-float32`` and ``--peak-bf16``.

Time to reach the tutorial's 65% is read from training histories (``--history
NAME=PATH``; by default the committed ones: the shipped model's and those in
``results/``): the cumulative training seconds up to the first epoch whose
validation accuracy reaches 65%. Their timings come from the runs themselves,
so compare them only where the machine was equally busy.

    python benchmarks/bench_train.py [--turns 3] [--batches 20] [--models seed_cnn fer_net]
    python benchmarks/bench_train.py --precisions float32 --models fer_net_small --turns 5
    python benchmarks/bench_train.py --histories-only
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pandas as pd  # noqa: E402

from fer_lib import model as models  # noqa: E402
from fer_lib import train as training  # noqa: E402
from fer_lib.data import synthetic_fer2013, to_model_input  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BATCH = 64

#: Arithmetic peak of 2 AMD Zen 4 cores at the 2.6 GHz base clock, GFLOP/s: each core has two 256-bit FMA pipes
#: (AVX-512 runs as two halves), 2 x 8 float32 lanes x 2 FLOP = 32 FLOP a cycle; avx512_bf16's VDPBF16PS does a
#: pair of bf16 products per float32 lane, twice that (AMD, Software Optimization Guide for the Zen 4
#: Microarchitecture, pub. 57647; issue 27 puts float32 at 170-240 with the unknown boost clock).
PEAK_GFLOPS = {"float32": 2 * 2.6 * 32, "mixed_bfloat16": 2 * 2.6 * 64}

#: The committed training histories, one per recipe the README reports.
DEFAULT_HISTORIES = {
    "seed_cnn (tutorial protocol)": str(ROOT / "results" / "seed_cnn_tutorial.history.csv"),
    "fer_net (shipped, --profile full)": str(ROOT / "fer_lib" / "model" / "shipped" / "default.history.csv"),
    "fer_net (first edition, 16 epochs)": str(ROOT / "results" / "fer_net_16_epochs.history.csv"),
    "fer_net_small (--profile student)": str(ROOT / "results" / "fer_net_small_default.history.csv"),
}


def training_flops_per_face(model) -> float:
    """FLOPs to train on one face: 3 x the forward pass (forward, gradients of inputs and of weights), the forward
    pass counted as 2 FLOP per multiply-add of every convolution and dense layer (the rest is small)."""
    from fer_lib.model._architectures import all_layers

    forward = 0
    for layer in all_layers(model):
        kernel = getattr(layer, "kernel", None)
        if kernel is not None and len(kernel.shape) in (2, 4):  # Dense, Conv2D: per output position
            positions = math.prod(layer.output.shape[1:-1]) if len(kernel.shape) == 4 else 1
            forward += 2 * positions * math.prod(kernel.shape)
    return 3.0 * forward


def faces_per_second(model, batches) -> float:
    """One turn: a fit of every batch of ``batches``, timed."""
    started = time.perf_counter()
    model.fit(batches, epochs=1, verbose=0)
    return len(batches) * BATCH / (time.perf_counter() - started)


def cpu_description() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "unknown CPU (no /proc/cpuinfo)"
    name = next((line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("model name")), "?")
    bf16 = [flag for flag in ("avx512_bf16", "amx_bf16") if flag in text.split()]
    return f"{name}, {os.cpu_count()} cores; bf16 instructions: {', '.join(bf16) or 'none'}"


def print_throughput(names: list[str], precisions: list[str], batches: int, turns: int, warmup: int,
                     peaks: dict[str, float]) -> list[dict]:
    """Time every network in every precision on the same batches, in alternating turns; print medians and return
    them, a row per network and precision."""
    faces = synthetic_fer2013(BATCH * batches, seed=0)
    built, data, rates = {}, {}, {}
    for name in names:
        augment = training.RECIPES[name]["augment"]
        data[name] = training.AugmentedFaces(faces.images, faces.labels, batch_size=BATCH, augment=augment, seed=0)
        warm = training.AugmentedFaces(faces.images[: BATCH * warmup], faces.labels[: BATCH * warmup],
                                       batch_size=BATCH, augment=augment, seed=1)
        options = {"normalization_data": to_model_input(faces.images)} if name == "seed_cnn" else {}
        for precision in precisions:
            built[name, precision] = models.build_model(name, precision=precision, **options)
            faces_per_second(built[name, precision], warm)  # tracing and compilation
            rates[name, precision] = []
    load_before = os.getloadavg()[0]
    for turn in range(turns):
        for name in names:
            for precision in precisions:
                rates[name, precision].append(faces_per_second(built[name, precision], data[name]))
        print(f"turn {turn + 1}/{turns}: " + ", ".join(f"{n} {p} {r[-1]:.0f}" for (n, p), r in rates.items()),
              flush=True)

    print(f"\ntraining throughput: batch {BATCH}, fits of {batches} batches after a {warmup}-batch warm-up, "
          f"{turns} turns alternating; load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after")
    print(f"CPU: {cpu_description()}")
    print("peak (parameter): " + ", ".join(f"{p} {peaks[p]:.0f} GFLOP/s" for p in precisions if p in peaks))
    if "amx_bf16" in cpu_description():
        print("note: this CPU reports amx_bf16, which no Zen 4 has (oneDNN can train bf16 on Intel AMX tiles): "
              "the default peaks describe 2 Zen 4 cores; pass --peak-float32 and --peak-bf16 for this one")
    print(f"{'model':<15}{'precision':<16}{'GFLOP/face':>11}{'faces/s':>9}{'min':>7}{'max':>7}"
          f"{'GFLOP/s':>9}{'of peak':>9}{'vs float32':>12}")
    rows = []
    for name in names:
        flops = training_flops_per_face(built[name, precisions[0]])
        base = statistics.median(rates[name, precisions[0]])
        for precision in precisions:
            found = rates[name, precision]
            median = statistics.median(found)
            achieved = median * flops / 1e9
            share = f"{achieved / peaks[precision]:.0%}" if precision in peaks else "-"
            print(f"{name:<15}{precision:<16}{flops / 1e9:>11.2f}{median:>9.0f}{min(found):>7.0f}{max(found):>7.0f}"
                  f"{achieved:>9.0f}{share:>9}{median / base:>11.2f}x")
            rows.append({"model": name, "precision": precision, "gflop_per_face": flops / 1e9,
                         "faces_per_second": median, "min": min(found), "max": max(found),
                         "share_of_peak": achieved / peaks[precision] if precision in peaks else None,
                         "vs_first_precision": median / base})
    return rows


def write_table(path: Path, rows: list[dict], facts: dict) -> None:
    """``rows`` as CSV at ``path``, and beside it (``.meta.json``) the command, the date and ``facts``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(path, index=False, float_format="%.4g")
    command = " ".join(["python", *(Path(arg).as_posix() if arg.endswith(".py") else arg for arg in sys.argv)])
    meta = {"command": command.replace(str(ROOT) + "/", ""), "date": time.strftime("%Y-%m-%d"), **facts}
    path.with_suffix(".meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"wrote {path} and {path.with_suffix('.meta.json').name}")


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
    parser.add_argument("--models", nargs="+", default=["seed_cnn", "fer_net"], choices=sorted(training.RECIPES))
    parser.add_argument("--precisions", nargs="+", default=["float32", "mixed_bfloat16"],
                        choices=["float32", "mixed_bfloat16", "mixed_float16"],
                        help="the first is the base of the 'vs' column")
    parser.add_argument("--batches", type=int, default=20, help="batches of 64 in each timed fit (a turn)")
    parser.add_argument("--turns", type=int, default=3, help="timed fits of each variant, alternating")
    parser.add_argument("--warmup", type=int, default=3, help="batches of the untimed first fit")
    parser.add_argument("--peak-float32", type=float, default=PEAK_GFLOPS["float32"], help="GFLOP/s")
    parser.add_argument("--peak-bf16", type=float, default=PEAK_GFLOPS["mixed_bfloat16"], help="GFLOP/s")
    parser.add_argument("--history", action="append", default=[], metavar="NAME=PATH")
    parser.add_argument("--target", type=float, default=0.65)
    parser.add_argument("--histories-only", action="store_true", help="skip the throughput turns")
    parser.add_argument("--csv", type=Path, help="also write the table here, with how it was made beside it "
                        "(.meta.json): results/training_speed.csv is what docs/results.md shows")
    args = parser.parse_args()
    if not args.histories_only:
        peaks = {"float32": args.peak_float32, "mixed_bfloat16": args.peak_bf16}
        load = os.getloadavg()[0]
        rows = print_throughput(args.models, args.precisions, args.batches, args.turns, args.warmup, peaks)
        if args.csv:
            write_table(args.csv, rows, {"load_average": [round(load, 1), round(os.getloadavg()[0], 1)],
                                         "cpu": cpu_description(), "peaks_gflops": peaks})
    histories = dict(item.split("=", 1) for item in args.history) or DEFAULT_HISTORIES
    print(f"\ntime to reach {args.target:.0%} validation accuracy (from training histories)")
    for name, path in histories.items():
        print(f"{name:<40}{time_to_accuracy(Path(path), args.target)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
