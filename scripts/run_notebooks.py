"""Execute the notebooks in order with papermill: ``make run-all`` calls this.

Each notebook gets the parameters ``profile``, ``output_dir`` and ``language``; its
executed copy lands in ``<output>/`` and its figures and metrics in ``<output>/<notebook>/``.
The English edition (``NN_name.ipynb``) runs first, then the Indonesian one
(``NN_name.id.ipynb``, made by ``scripts/make_id_notebooks.py``). The first failing
notebook stops the run, and the failing cell is shown.
"""

from __future__ import annotations

import argparse
import json
import shutil
import os
import sys
import time
from pathlib import Path

import papermill
from papermill.exceptions import PapermillExecutionError

ROOT = Path(__file__).resolve().parents[1]

#: Lines the kernel (a child process writing to our stderr) prints on every run that tell a reader
#: nothing: the connection is local, and the interrupt is papermill shutting the kernel down.
KERNEL_NOISE = (
    "Kernel is running over TCP without encryption",
    "Messages will not be encrypted",
    "KeyboardInterrupt caught in kernel",
    "To exit, you will have to explicitly quit this process",
)


def is_kernel_noise(line: str) -> bool:
    """True for a stderr line that :data:`KERNEL_NOISE` names, or one of TensorFlow's start-up lines."""
    from fer_lib.quiet import is_startup_line

    return any(noise in line for noise in KERNEL_NOISE) or is_startup_line(line)


def kernel_noise_filtered():
    """Hold this process's stderr (which the kernels inherit) and show it afterwards without the noise.

    The kernel writes to file descriptor 2 directly, so a Python logging filter cannot reach
    its lines; redirecting the descriptor can (:func:`fer_lib.quiet.hidden_startup_lines`).
    """
    from fer_lib.quiet import hidden_startup_lines

    return hidden_startup_lines(enabled=True, hide=is_kernel_noise)


def strip_metadata(path: Path) -> None:
    """Drop execution metadata (timings, papermill bookkeeping) so committed notebooks diff cleanly."""
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    notebook.metadata.pop("papermill", None)
    notebook.metadata.pop("widgets", None)  # saved widget state repeats frames the figures already show
    for cell in notebook.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            for output in cell.get("outputs", []):
                output.get("metadata", {}).pop("execution", None)
    nbformat.write(notebook, path)


EDITIONS = ("en", "id")


def edition_of(notebook: Path) -> str:
    """``"en"`` for ``01_cnn_concepts.ipynb``, ``"id"`` for ``01_cnn_concepts.id.ipynb``."""
    parts = notebook.name.split(".")
    return parts[-2] if len(parts) == 3 else "en"


def course_notebooks(editions=EDITIONS, only: list[str] | None = None) -> list[Path]:
    """The course's notebooks, English edition first, each edition in order."""
    notebooks = [nb for nb in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb") if edition_of(nb) in editions]
    if only:
        notebooks = [nb for nb in notebooks if any(key in nb.name for key in only)]
    return sorted(notebooks, key=lambda nb: (EDITIONS.index(edition_of(nb)), nb.name))


def refresh_in_place(only: list[str] | None, editions=EDITIONS) -> int:
    """Re-execute the committed notebooks in place (their outputs are what readers see on the web)."""
    for notebook in course_notebooks(editions, only):
        print(f"==> refreshing {notebook.relative_to(ROOT)} (its own parameters: profile default)", flush=True)
        # Notebook 1's animation is shown from assets/ (too large to embed): refreshed here, never by a plain run.
        animation = ROOT / "build" / "notebooks" / notebook.stem / "convolution.gif"
        animation.unlink(missing_ok=True)
        try:
            # Only the edition's language is injected: the notebooks run with their own parameters (profile "default").
            with kernel_noise_filtered():
                papermill.execute_notebook(str(notebook), str(notebook), cwd=str(ROOT / "notebooks"),
                                           parameters={"language": edition_of(notebook)} if edition_of(notebook) != "en" else None,
                                           kernel_name="python3", progress_bar=False)
        except PapermillExecutionError as error:
            print(f"{notebook.name} failed in cell {error.exec_count} ({error.ename}: {error.evalue})")
            return 1
        strip_metadata(notebook)
        if animation.is_file():
            edition = edition_of(notebook)
            shutil.copy(animation, ROOT / "assets" / ("convolution.gif" if edition == "en" else f"convolution.{edition}.gif"))
    return 0


def run(profile: str, output: Path, only: list[str] | None = None, editions=EDITIONS) -> int:
    output.mkdir(parents=True, exist_ok=True)
    summary = {"profile": profile, "notebooks": {}}
    for notebook in course_notebooks(editions, only):
        target = output / notebook.name
        figures = output / notebook.stem
        print(f"==> {notebook.relative_to(ROOT)} (profile={profile})", flush=True)
        started = time.perf_counter()
        try:
            with kernel_noise_filtered():
                papermill.execute_notebook(
                    str(notebook), str(target),
                    parameters={"profile": profile, "output_dir": str(figures), "language": edition_of(notebook)},
                    cwd=str(ROOT / "notebooks"), kernel_name="python3", progress_bar=False, log_output=False,
                )
        except PapermillExecutionError as error:
            print(f"\n{notebook.name} failed in cell {error.exec_count} ({error.ename}: {error.evalue})")
            print("-" * 70 + f"\n{error.source}\n" + "-" * 70)
            print(f"The executed notebook with the error is {target}")
            return 1
        seconds = time.perf_counter() - started
        metrics_file = figures / "metrics.json"
        metrics = json.loads(metrics_file.read_text()) if metrics_file.is_file() else {}
        summary["notebooks"][notebook.name] = {"seconds": round(seconds, 1), **metrics}
        print(f"    done in {seconds:.0f} s -> {target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}")
    (output / "summary.json").write_text(json.dumps(summary, indent=2))
    print(f"summary: {output / 'summary.json'}")
    return 0


def main() -> int:
    # The kernels inherit this environment: a non-interactive MPLBACKEND (the Makefile exports Agg for
    # the tests) would keep every figure out of the executed notebooks. Jupyter's inline backend it is.
    os.environ.pop("MPLBACKEND", None)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="default", choices=["fast", "default", "full"])
    parser.add_argument("--output", default="build/notebooks", type=Path)
    parser.add_argument("--only", nargs="*", help="run only notebooks whose name contains one of these")
    parser.add_argument("--in-place", action="store_true",
                        help="re-execute the committed notebooks themselves (to refresh their saved outputs)")
    parser.add_argument("--edition", nargs="*", choices=EDITIONS, default=list(EDITIONS),
                        help="which editions of the course to run (default: English and Indonesian)")
    args = parser.parse_args()
    if args.in_place:
        return refresh_in_place(args.only, tuple(args.edition))
    output = args.output if args.output.is_absolute() else ROOT / args.output
    return run(args.profile, output, args.only, tuple(args.edition))


if __name__ == "__main__":
    sys.exit(main())
