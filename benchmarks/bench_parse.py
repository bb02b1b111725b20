"""Parse benchmark: the tutorial's per-pixel loop against fer_lib.load_fer2013, in one run.

Both parse the same plain ``fer2013.csv`` (the file Kaggle users have). Each
method runs in a fresh child process (so peak memory is its own), in turn
(tutorial, ours, tutorial, ours, ...), and the parent checks that both produce
identical pixels before it prints the medians, the ratio and the peak memory.

    python benchmarks/bench_parse.py [--csv data_input/fer2013.csv] [--repeats 3]

Without ``--csv`` it takes the file named by ``$FER2013_PATH``, else
``data_input/fer2013.csv`` (``.csv.gz``), decompressing a ``.gz`` to a temporary
plain CSV first. It prints the load average before and after, since other work
on the machine slows both methods.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def tutorial_parse(path: Path):
    """The tutorial's code, verbatim in spirit: pandas, then a Python int() per pixel."""
    import numpy as np
    import pandas as pd

    data = pd.read_csv(path)
    width, height = 48, 48
    faces = []
    for pixel_sequence in data["pixels"].tolist():
        face = [int(pixel) for pixel in pixel_sequence.split(" ")]
        face = np.asarray(face).reshape(width, height)
        faces.append(face.astype("float32"))
    faces = np.asarray(faces)
    return faces.astype("uint8"), data["emotion"].to_numpy()


def ours_parse(path: Path):
    import fer_lib

    faces = fer_lib.load_fer2013(path, cache=False)
    return faces.images, faces.labels


def child(method: str, path: Path) -> None:
    parse = {"tutorial": tutorial_parse, "ours": ours_parse}[method]
    import numpy  # noqa: F401  - imports are not part of the timing
    import pandas  # noqa: F401

    if method == "ours":
        import fer_lib  # noqa: F401
    baseline_mib = _rss_mib()  # after imports: fer_lib brings TensorFlow, the tutorial only pandas
    started = time.perf_counter()
    images, labels = parse(path)
    seconds = time.perf_counter() - started
    digest = hashlib.sha256(images.tobytes() + labels.astype("int64").tobytes()).hexdigest()
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mib": peak_mib, "parse_mib": peak_mib - baseline_mib,
                      "digest": digest, "rows": int(len(labels))}))


def _rss_mib() -> float:
    """Resident memory of this process now, in MiB (Linux)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def plain_csv(argument: str | None, workdir: Path) -> Path:
    if argument:
        return Path(argument)
    from_environment = os.environ.get("FER2013_PATH", "")
    candidates = [Path(from_environment)] if from_environment else []
    candidates += [ROOT / "data_input" / "fer2013.csv", ROOT / "data_input" / "fer2013.csv.gz"]
    for candidate in candidates:
        if candidate.is_file() and candidate.suffix in (".csv", ".gz"):
            if candidate.suffix == ".csv":
                return candidate
            target = workdir / "fer2013.csv"
            with gzip.open(candidate, "rb") as source, open(target, "wb") as sink:
                shutil.copyfileobj(source, sink)
            return target
    sys.exit("no FER2013 file found: pass --csv PATH or set FER2013_PATH (see data_input/README.md)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", help="plain fer2013.csv to parse")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", nargs=2, metavar=("METHOD", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return 0

    with tempfile.TemporaryDirectory() as workdir:
        path = plain_csv(args.csv, Path(workdir))
        size_mib = path.stat().st_size / 2**20
        print(f"parsing {path.name} ({size_mib:.0f} MiB) {args.repeats} times each, in turn, fresh process each time")
        print(f"{os.cpu_count()} CPUs; load average before: {os.getloadavg()[0]:.1f}")
        results: dict[str, list[dict]] = {"tutorial": [], "ours": []}
        for _ in range(args.repeats):
            for method in results:
                out = subprocess.run([sys.executable, __file__, "--child", method, str(path)],
                                     check=True, capture_output=True, text=True).stdout
                results[method].append(json.loads(out.strip().splitlines()[-1]))
        digests = {r["digest"] for rs in results.values() for r in rs}
        if len(digests) != 1:
            print("MISMATCH: the two parsers disagree on the pixels or labels", file=sys.stderr)
            return 1
        rows = results["ours"][0]["rows"]
        median = {m: statistics.median(r["seconds"] for r in rs) for m, rs in results.items()}
        peak = {m: max(r["peak_mib"] for r in rs) for m, rs in results.items()}
        added = {m: max(r["parse_mib"] for r in rs) for m, rs in results.items()}
        print(f"identical pixels and labels for all {rows} rows: yes")
        print(f"{'method':<10}{'median s':>10}{'min s':>9}{'max s':>9}{'peak MiB':>10}{'parse MiB':>11}")
        for method, rs in results.items():
            secs = [r["seconds"] for r in rs]
            print(f"{method:<10}{median[method]:>10.2f}{min(secs):>9.2f}{max(secs):>9.2f}{peak[method]:>10.0f}"
                  f"{added[method]:>11.0f}")
        print("peak MiB: the process's peak resident memory, imports included; parse MiB: the peak above the "
              "memory held after imports")
        print(f"speed-up (tutorial / ours, medians): {median['tutorial'] / median['ours']:.1f}x")
        print(f"load average after: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
