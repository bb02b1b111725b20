"""Set-up shared by the notebooks: profiles, output folders, seeding, language.

``FER_LIB_PROFILE`` and ``FER_LIB_OUTPUT`` let ``make test`` run the committed notebooks unedited.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from pathlib import Path

from fer_lib.language import set_language
from fer_lib.quiet import hide_startup_lines_from_now_on
from fer_lib.train._seeding import set_seed

__all__ = ["NotebookSettings", "notebook_setup", "PROFILE_NAMES"]

#: The notebooks' profiles, the same names as :data:`fer_lib.train.PROFILES`: ``fast`` (seconds, for
#: tests), ``default`` (what ``make run-all`` does), ``full`` (the shipped recipe).
PROFILE_NAMES = ("fast", "default", "full")


@dataclasses.dataclass(frozen=True)
class NotebookSettings:
    """What a notebook needs to know about the run it is part of (made by :func:`notebook_setup`).

    Parameters
    ----------
    profile : {"fast", "default", "full"}
        The budget the notebook runs under.
    output_dir : Path
        Where the notebook writes figures and ``metrics.json``.
    seed : int
        The seed everything was seeded with.
    language : {"en", "id"}, default "en"
        The language figures and widgets speak (:mod:`fer_lib.language`).
    """

    profile: str
    output_dir: Path
    seed: int
    language: str = "en"

    @property
    def fast(self) -> bool:
        """True in the fast (test) profile."""
        return self.profile == "fast"

    def pick(self, fast, default, full=None):
        """Choose a value by profile: ``pick(fast=200, default=None)``.

        Parameters
        ----------
        fast, default : any
            The value in the fast profile, and in the default profile.
        full : any, optional
            The value in the full profile; ``None`` uses ``default``.

        Examples
        --------
        >>> NotebookSettings("full", Path("build"), 0).pick(fast=200, default=None, full=5000)
        5000
        """
        if self.profile == "fast":
            return fast
        if self.profile == "full" and full is not None:
            return full
        return default

    def output_of(self, notebook: str) -> Path:
        """The output folder of another notebook of the same run and edition, beside this notebook's own.

        Parameters
        ----------
        notebook : str
            The other notebook's name without ``.ipynb`` (``"03_train"``, say).

        Examples
        --------
        >>> NotebookSettings("fast", Path("build/04_evaluate"), 0).output_of("03_train").as_posix()
        'build/03_train'
        >>> NotebookSettings("fast", Path("build/04_evaluate.id"), 0, "id").output_of("03_train").as_posix()
        'build/03_train.id'
        """
        return self.output_dir.parent / _edition_folder(notebook, self.language)

    def write_metrics(self, **metrics) -> Path:
        """Merge ``metrics`` into ``<output_dir>/metrics.json`` (for ``make run-all``) and return its path.

        Parameters
        ----------
        **metrics
            Names and JSON-ready values (numpy floats are written as floats).
        """
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
        The notebook's own choice (its ``parameters`` cell); ``$FER_LIB_PROFILE`` overrides it.
    output_dir : str or path, default "build"
        Output folder; ``$FER_LIB_OUTPUT/<notebook>`` instead when that variable and ``notebook`` are set.
    seed : int, default 0
        Passed to :func:`fer_lib.train.set_seed`.
    notebook : str, optional
        The notebook's name, for the ``$FER_LIB_OUTPUT`` sub-folder.
    figure_format : {"png", "jpeg", ...}, optional
        Format of inline figures in IPython; ``"jpeg"`` (85 dpi, quality 60) keeps notebooks light.
    language : {"en", "id"}, default "en"
        The language of figures and widgets; other editions write to ``<folder>.<language>``.
    quiet_logs : bool, default True
        In a Jupyter kernel, keep TensorFlow's start-up lines out of the cells from now on
        (:func:`fer_lib.quiet.hide_startup_lines_from_now_on`; ``$FER_LIB_VERBOSE=1`` keeps everything).

    Raises
    ------
    ValueError
        For a profile outside :data:`PROFILE_NAMES` or a language outside :data:`fer_lib.language.LANGUAGES`.
    """
    profile = os.environ.get("FER_LIB_PROFILE") or profile
    if profile not in PROFILE_NAMES:
        raise ValueError(f"unknown profile {profile!r}; expected one of {', '.join(PROFILE_NAMES)}")
    if quiet_logs and _in_jupyter_kernel():  # first: seeding below imports Keras, and TensorFlow with it
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        hide_startup_lines_from_now_on()
    set_language(language)
    root = os.environ.get("FER_LIB_OUTPUT")
    folder = Path(root) / notebook if root and notebook else Path(output_dir)
    if language != "en" and not folder.name.endswith(f".{language}"):
        folder = folder.with_name(_edition_folder(folder.name, language))
    folder.mkdir(parents=True, exist_ok=True)
    set_seed(seed)
    if figure_format is not None:
        _set_inline_format(figure_format)
    # Not resolved: a relative folder stays relative, so saved outputs never name the machine's folders.
    return NotebookSettings(profile=profile, output_dir=folder, seed=seed, language=language)


def _in_jupyter_kernel() -> bool:
    """True inside a Jupyter kernel, not a terminal IPython or a process that merely imported ipykernel."""
    if "ipykernel" not in sys.modules:
        return False
    from IPython import get_ipython

    return type(get_ipython()).__name__ == "ZMQInteractiveShell"


def _edition_folder(name: str, language: str) -> str:
    """``03_train`` in English, ``03_train.id`` in the Indonesian edition."""
    return name if language == "en" else f"{name}.{language}"


def _set_inline_format(figure_format: str) -> None:
    """Show inline figures in ``figure_format`` when running in IPython; elsewhere nothing to do."""
    if "IPython" not in sys.modules:  # not running in IPython
        return
    from IPython import get_ipython
    from matplotlib_inline.backend_inline import set_matplotlib_formats

    if get_ipython() is not None:
        if figure_format in ("jpeg", "jpg"):  # tests/test_notebooks.py: at most 300 KB a notebook
            set_matplotlib_formats(figure_format, dpi=85, pil_kwargs={"quality": 60})
        else:
            set_matplotlib_formats(figure_format)
