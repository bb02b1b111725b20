"""Notebook set-up: profile, output folder, seed, language (``$FER_LIB_PROFILE`` and ``$FER_LIB_OUTPUT``
let ``make test`` run the committed notebooks unedited)."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from fer_lib.errors import DataError, DataNotFoundError, FerError, ModelError, SourceError
from fer_lib.language import set_language
from fer_lib.quiet import hide_startup_lines_from_now_on
from fer_lib.train._seeding import set_seed

__all__ = ["NotebookSettings", "notebook_setup", "PROFILE_NAMES"]

#: The names of :data:`fer_lib.train.PROFILES`: fast (tests), default (``make run-all``), full (the recipe).
PROFILE_NAMES = ("fast", "default", "full")


@dataclasses.dataclass(frozen=True)
class NotebookSettings:
    """The run a notebook is part of: profile, output folder, seed, language (from :func:`notebook_setup`)."""

    profile: str
    output_dir: Path
    seed: int
    language: str = "en"

    @property
    def fast(self) -> bool:
        """True in the fast (test) profile."""
        return self.profile == "fast"

    def pick(self, fast, default, full=None):
        """The value for this profile: ``pick(fast=200, default=None)``; ``full=None`` means ``default``."""
        return {"fast": fast, "full": default if full is None else full}.get(self.profile, default)

    def output_of(self, notebook: str) -> Path:
        """The output folder of ``notebook`` (``"03_train"``) in the same run and edition, beside this one."""
        return self.output_dir.parent / _edition_folder(notebook, self.language)

    def write_metrics(self, **metrics) -> Path:
        """Merge ``metrics`` (numpy floats allowed) into ``<output_dir>/metrics.json`` and return its path."""
        path = self.output_dir / "metrics.json"
        current = json.loads(path.read_text()) if path.is_file() else {}
        current.update(metrics)
        path.write_text(json.dumps(current, indent=2, default=float))
        return path


def notebook_setup(profile: str = "default", output_dir: str | os.PathLike = "build", seed: int = 0,
                   notebook: str = "", figure_format: str | None = None, language: str = "en",
                   quiet_logs: bool = True) -> NotebookSettings:
    """Resolve the profile (``$FER_LIB_PROFILE`` wins), create the output folder, seed, set the language.

    Parameters
    ----------
    profile : {"fast", "default", "full"}, default "default"
    output_dir : str or path, default "build"
    seed : int, default 0
    notebook : str, optional
        The notebook's name: with ``$FER_LIB_OUTPUT`` set, the folder is ``$FER_LIB_OUTPUT/<notebook>``.
    figure_format : {"png", "jpeg", ...}, optional
        Format of inline figures; ``"jpeg"`` (85 dpi, quality 60) keeps notebooks light.
    language : {"en", "id"}, default "en"
        Figures', tables' (0,073) and widgets' language; other editions write to ``<folder>.<language>``.
    quiet_logs : bool, default True
        In Jupyter, hide TensorFlow's start-up lines from now on (``$FER_LIB_VERBOSE=1`` keeps them).
    """
    profile = os.environ.get("FER_LIB_PROFILE") or profile
    if profile not in PROFILE_NAMES:
        raise ValueError(f"unknown profile {profile!r}; expected one of {', '.join(PROFILE_NAMES)}")
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    # In a Jupyter kernel (not a terminal IPython); first, as seeding below imports Keras and TensorFlow
    if quiet_logs and type(shell).__name__ == "ZMQInteractiveShell":
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        hide_startup_lines_from_now_on()
    set_language(language)
    pd.set_option("display.float_format", (lambda value: np.format_float_positional(value, precision=6, trim="0")
                                           .replace(".", ",")) if language == "id" else None)  # 0,073 in tables
    if shell is not None and (language == "id" or getattr(shell, "custom_exceptions", ()) == (FerError,)):
        shell.set_custom_exc(*(((FerError,), _explain_in_indonesian) if language == "id" else ((), None)))
    root = os.environ.get("FER_LIB_OUTPUT")
    folder = Path(root) / notebook if root and notebook else Path(output_dir)
    if language != "en" and not folder.name.endswith(f".{language}"):
        folder = folder.with_name(_edition_folder(folder.name, language))
    folder.mkdir(parents=True, exist_ok=True)
    set_seed(seed)
    if figure_format is not None and shell is not None:
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        # tests/test_notebooks.py: at most 300 KB a notebook
        light = {"dpi": 85, "pil_kwargs": {"quality": 60}} if figure_format in ("jpeg", "jpg") else {}
        set_matplotlib_formats(figure_format, **light)
    # Not resolved: a relative folder stays relative, so saved outputs never name the machine's folders.
    return NotebookSettings(profile=profile, output_dir=folder, seed=seed, language=language)


ERROR_HELP_ID = {  # the Indonesian line above an error of fer_lib's (its message stays English); subclasses first
    DataNotFoundError: "FER2013 tidak ditemukan: unduh dari Kaggle dan letakkan di data_input/fer2013.csv, atau "
                       "tunjukkan lokasinya melalui variabel lingkungan (environment variable) FER2013_PATH.",
    DataError: "berkas data ini bukan FER2013 yang utuh: pesan di bawah menyebut berkas, baris, dan perbaikannya.",
    ModelError: "model tidak dapat dipakai: periksa nama atau berkas model (model Anda dibuat oleh notebook 3).",
    SourceError: "kamera, video, atau gambar tidak dapat dibuka: periksa sumbernya, atau pakai klip demo.",
    FerError: "fer_lib menghentikan langkah ini: pesan di bawah mengatakan apa yang perlu dilakukan.",
}


def _explain_in_indonesian(shell, etype, value, tb, tb_offset=None):  # IPython's handler, then the usual traceback
    help_line = next(text for kind, text in ERROR_HELP_ID.items() if isinstance(value, kind))
    print(f"{etype.__name__}: {help_line} Pesan lengkapnya, dalam bahasa Inggris, ada di bawah.")
    shell.showtraceback((etype, value, tb), tb_offset=tb_offset)


def _edition_folder(name: str, language: str) -> str:
    """``03_train`` in English, ``03_train.id`` in the Indonesian edition."""
    return name if language == "en" else f"{name}.{language}"
