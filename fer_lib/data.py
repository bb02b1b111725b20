"""FER2013 loading, validation, caching, discovery, synthetic data and splits.

The one entry point most readers need is :func:`load_fer2013`::

    from fer_lib import load_fer2013
    data = load_fer2013("data_input/fer2013.csv")
    data.images.shape   # (n, 48, 48), uint8
    data.labels[:5]     # ints 0..6, see fer_lib.labels.EMOTIONS

Parsing is vectorised over the raw bytes of the ``pixels`` column (numpy, no
per-pixel Python loop), validated as it goes, and cached as ``.npz`` keyed by
the SHA-256 of the source file, so a changed file is never served stale.

This module never imports Keras: the model owns its own normalisation.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import os
import tarfile
import warnings
import zipfile
import zlib
from collections import Counter
from pathlib import Path
from typing import Iterable, Literal, Sequence

import numpy as np
import pandas as pd

from .errors import DataError, DataNotFoundError, FerError, FerWarning
from .fileio import atomic_target
from .labels import (
    EMOTIONS,
    IMAGE_SIZE,
    NUM_CLASSES,
    NUM_PIXELS,
    USAGE_UNASSIGNED,
    USAGE_VALUES,
)

__all__ = [
    "FER2013",
    "Split",
    "load_fer2013",
    "discover_fer2013",
    "load_default_data",
    "synthetic_fer2013",
    "official_split",
    "tutorial_split",
    "validation_split",
    "stratified_sample",
    "make_split",
    "save_split",
    "load_split",
    "to_model_input",
    "file_sha256",
    "cache_dir",
    "SYNTHETIC_BANNER",
    "DOWNLOAD_HELP",
]

#: Bump when the cache layout or the parser's output changes.
_CACHE_VERSION = 1

#: Rows parsed per vectorised chunk (about 35 MB of text): bounds peak memory.
_CHUNK_ROWS = 4096

#: Where to get FER2013 and where to put it; part of every "not found" message.
DOWNLOAD_HELP = (
    "Download FER2013 from Kaggle (https://www.kaggle.com/datasets/deadskull7/fer2013, "
    "the file fer2013.csv, or the challenge archive) and put it at data_input/fer2013.csv "
    "(.csv.gz and .zip work too), or pass its path explicitly."
)

#: Printed (and drawn into figures) whenever a result comes from synthetic faces.
SYNTHETIC_BANNER = (
    "#" * 78
    + "\n# SYNTHETIC DATA: FER2013 was not found, so these are cartoon faces drawn by\n"
    "# fer_lib.data.synthetic_fer2013. Numbers and figures below say nothing about\n"
    "# real emotion recognition. Put fer2013.csv in data_input/ for real results.\n"
    + "#" * 78
)

_REPO_ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------------------
# The data set object
# --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, eq=False)
class FER2013:
    """FER2013 faces as arrays.

    Attributes
    ----------
    images : ndarray of shape (n, 48, 48), dtype uint8
        Grey faces, row-major, 0 black to 255 white.
    labels : ndarray of shape (n,), dtype int64
        Emotion labels 0..6 in the order of :data:`fer_lib.labels.EMOTIONS`.
    usage : ndarray of shape (n,), dtype str
        ``Training``, ``PublicTest``, ``PrivateTest`` or ``Unassigned`` (file without ``Usage``).
    source : str
        Path of the file the rows came from, or ``"synthetic"``.
    sha256 : str
        SHA-256 of the source file (empty for synthetic data).
    skipped : int
        Rows dropped by ``on_error="skip"``.
    skip_reasons : dict of str to int
        How many rows were dropped for each reason.
    synthetic : bool
        True when the faces were drawn by :func:`synthetic_fer2013`.
    """

    images: np.ndarray
    labels: np.ndarray
    usage: np.ndarray
    source: str = ""
    sha256: str = ""
    skipped: int = 0
    skip_reasons: dict = dataclasses.field(default_factory=dict)
    synthetic: bool = False

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def __repr__(self) -> str:
        kind = "synthetic" if self.synthetic else self.source
        return f"FER2013(n={len(self)}, source={kind!r}, skipped={self.skipped})"

    def subset(self, index: np.ndarray | Sequence[int]) -> "FER2013":
        """Return the rows selected by a boolean mask or an integer index."""
        index = np.asarray(index)
        return dataclasses.replace(
            self, images=self.images[index], labels=self.labels[index], usage=self.usage[index]
        )

    def class_counts(self) -> pd.Series:
        """Number of faces per emotion, indexed by emotion name (all seven present)."""
        counts = np.bincount(self.labels, minlength=NUM_CLASSES)
        return pd.Series(counts, index=list(EMOTIONS), name="faces")


@dataclasses.dataclass(frozen=True)
class Split:
    """Train, validation and test parts of a data set, and how they were made."""

    train: FER2013
    validation: FER2013
    test: FER2013
    protocol: str
    seed: int | None = None

    def sizes(self) -> dict[str, int]:
        """Number of faces in each part."""
        return {"train": len(self.train), "validation": len(self.validation), "test": len(self.test)}


# --------------------------------------------------------------------------------------
# Reading bytes: .csv, .csv.gz, .zip, .tar.gz
# --------------------------------------------------------------------------------------


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 hex digest of a file's bytes (read in 1 MiB blocks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _pick_csv_member(names: Iterable[str], path: Path) -> str:
    csvs = [n for n in names if n.lower().endswith(".csv") and not Path(n).name.startswith("._")]
    for preferred in ("fer2013.csv", "icml_face_data.csv"):
        for name in csvs:
            if Path(name).name.lower() == preferred:
                return name
    if len(csvs) == 1:
        return csvs[0]
    raise DataError(
        f"{path}: the archive holds {len(csvs)} CSV files ({', '.join(csvs) or 'none'}); "
        "expected fer2013.csv. Extract the right one and pass its path."
    )


def _read_source_bytes(path: Path) -> bytes:
    """Return the decompressed CSV bytes of ``path``, with clear errors for bad archives."""
    name = path.name.lower()
    try:
        if name.endswith(".zip"):
            with zipfile.ZipFile(path) as archive:
                members = archive.namelist()
                inner_tars = [m for m in members if m.lower().endswith((".tar.gz", ".tgz"))]
                if not any(m.lower().endswith(".csv") for m in members) and inner_tars:
                    with archive.open(inner_tars[0]) as inner:
                        return _read_tar_bytes(io.BytesIO(inner.read()), path)
                return archive.read(_pick_csv_member(members, path))
        if name.endswith((".tar.gz", ".tgz")):
            with open(path, "rb") as handle:
                return _read_tar_bytes(handle, path)
        if name.endswith(".gz"):
            with gzip.open(path, "rb") as handle:
                return handle.read()
        return path.read_bytes()
    except DataError:
        raise
    except (EOFError, zlib.error, zipfile.BadZipFile, tarfile.TarError, gzip.BadGzipFile) as exc:
        raise DataError(
            f"{path}: the file is truncated or corrupt ({type(exc).__name__}: {exc}). "
            "Download it again; " + DOWNLOAD_HELP
        ) from exc
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc}).") from exc


def _read_tar_bytes(fileobj, path: Path) -> bytes:
    with tarfile.open(fileobj=fileobj, mode="r:*") as archive:
        members = {m.name: m for m in archive.getmembers() if m.isfile()}
        member = archive.extractfile(members[_pick_csv_member(members, path)])
        assert member is not None  # a regular file always has a payload
        return member.read()


# --------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------


class _RowProblems:
    """Collects bad rows: raises on the first in ``raise`` mode, counts them in ``skip`` mode."""

    def __init__(self, path: Path, on_error: str):
        self.path = path
        self.on_error = on_error
        self.bad_rows: dict[int, str] = {}  # 0-based data row -> reason

    def add(self, rows: np.ndarray, reason_of_row) -> None:
        """Record bad 0-based data ``rows``; ``reason_of_row(row)`` words the problem."""
        rows = np.asarray(rows)
        if rows.size == 0:
            return
        if self.on_error == "raise":
            row = int(rows.min())
            raise DataError(
                f"{self.path}: row {row + 1} (line {row + 2}) {reason_of_row(row)}. "
                "Fix or delete that row, or load with on_error='skip' to drop bad rows."
            )
        for row in rows.tolist():
            self.bad_rows.setdefault(int(row), reason_of_row(int(row)))


def _find_column(columns: Sequence[str], wanted: str) -> str | None:
    for column in columns:
        if str(column).strip().lower() == wanted.lower():
            return column
    return None


def _parse_pixel_chunk(
    pixels: Sequence[str], problems: "_RowProblems | _OffsetProblems"
) -> tuple[np.ndarray, np.ndarray]:
    """Parse space-separated pixel strings into ``(images, good_mask)`` without a per-pixel loop.

    The strings are joined with newlines into one byte buffer; digits, token
    boundaries and row membership are then found with array operations, and
    every bad row is found and named. (Clean files never get here: see
    :func:`_fast_parse`.)
    """
    n_rows = len(pixels)
    text = "\n".join(pixels).encode("ascii", errors="replace")
    buffer = np.frombuffer(text, dtype=np.uint8)
    digits = buffer - np.uint8(48)
    is_digit = digits < 10
    is_newline = buffer == 10
    is_space = buffer == 32
    row_of_byte = np.cumsum(is_newline, dtype=np.int64)  # newline belongs to the next row: harmless

    good = np.ones(n_rows, dtype=bool)

    # Characters other than digits, spaces and the row separators.
    invalid = ~(is_digit | is_space | is_newline)
    if invalid.any():
        positions = np.flatnonzero(invalid)
        bad = np.unique(row_of_byte[positions])
        first_bad_char = {}
        for pos in positions[::-1]:
            first_bad_char[int(row_of_byte[pos])] = pos

        def reason(row: int) -> str:
            pos = first_bad_char[row]
            start = text.rfind(b" ", 0, pos) + 1
            end_space = text.find(b" ", pos)
            end_line = text.find(b"\n", pos)
            ends = [e for e in (end_space, end_line) if e != -1]
            token = text[start : min(ends) if ends else len(text)].decode("ascii", "replace")
            return f"has a pixel {token[:20]!r} that is not an integer 0..255"

        problems.add(bad, reason)
        good[bad] = False

    # Token boundaries: a token starts where a digit follows a non-digit.
    previous_is_digit = np.concatenate(([False], is_digit[:-1]))
    next_is_digit = np.concatenate((is_digit[1:], [False]))
    starts = np.flatnonzero(is_digit & ~previous_is_digit)
    ends = np.flatnonzero(is_digit & ~next_is_digit) + 1
    token_row = row_of_byte[starts]
    counts = np.bincount(token_row, minlength=n_rows)

    wrong_count = np.flatnonzero((counts != NUM_PIXELS) & good)
    if wrong_count.size:
        problems.add(
            wrong_count,
            lambda row: (
                f"has {counts[row]} pixels; expected {NUM_PIXELS} "
                f"({IMAGE_SIZE}x{IMAGE_SIZE} space-separated integers)"
            ),
        )
        good[wrong_count] = False

    # Values: loop over digit positions (at most a handful), not over pixels.
    lengths = ends - starts
    values = np.zeros(starts.shape[0], dtype=np.int64)
    max_length = int(min(lengths.max(initial=0), 6))
    for k in range(max_length):
        has_digit = lengths > k
        values[has_digit] = values[has_digit] * 10 + digits[starts[has_digit] + k]
    values[lengths > 6] = 10**6  # absurdly long tokens: certainly out of range
    out_of_range = values > 255
    if out_of_range.any():
        first_bad = {}
        for token in np.flatnonzero(out_of_range)[::-1]:
            first_bad[int(token_row[token])] = token
        bad = np.array(sorted(r for r in first_bad if good[r]), dtype=np.int64)
        problems.add(
            bad,
            lambda row: (
                f"has a pixel {text[starts[first_bad[row]]:ends[first_bad[row]]].decode()[:20]!r} "
                "outside 0..255"
            ),
        )
        good[bad] = False

    keep_token = good[token_row]
    images = values[keep_token].astype(np.uint8).reshape(-1, IMAGE_SIZE, IMAGE_SIZE)
    return images, good


def _digit_runs_to_pixels(chunk: np.ndarray, row_ends: np.ndarray) -> np.ndarray | None:
    """Read 2304 integers per row from a chunk of pixel fields.

    ``chunk`` holds the rows' pixel fields, each ending in a space (at the
    positions ``row_ends``), with newlines between fields and at least four
    newlines before the first. Returns ``None`` when anything is off (a foreign
    byte, a double space, a wrong count, a pixel with more than three digits or
    above 255), so the caller can re-parse precisely. Each pixel ends at a
    space; its value is read from the (up to) four bytes before that space, so
    the cost per pixel is a few gathered bytes, never a Python call.
    """
    raw = chunk.tobytes()
    if raw.translate(None, b"0123456789 \n") or b"  " in raw or b"\n " in raw:
        return None  # foreign bytes, empty pixels, or a field starting with a space
    ends = np.flatnonzero(chunk == 32)
    counts = np.diff(np.searchsorted(ends, row_ends, side="right"), prepend=0)
    if ends.size != row_ends.size * NUM_PIXELS or np.any(counts != NUM_PIXELS):
        return None
    # Digits become 0..9; every other byte wraps around to a value of 10 or more.
    ones, tens, hundreds, thousands = (chunk[ends - k] - np.uint8(48) for k in (1, 2, 3, 4))
    has_tens = tens < 10
    has_hundreds = has_tens & (hundreds < 10)
    if np.any(ones >= 10) or np.any(has_hundreds & (thousands < 10)):
        return None  # an empty pixel, or one with more than three digits
    values = ones.astype(np.int16)
    values += (tens * has_tens).astype(np.int16) * 10
    values += (hundreds * has_hundreds).astype(np.int16) * 100
    if values.max() > 255:
        return None
    return values.astype(np.uint8).reshape(row_ends.size, IMAGE_SIZE, IMAGE_SIZE)


def _fast_parse(raw: bytes, progress: bool, name: str) -> dict | None:
    """Parse a clean, unquoted Kaggle-layout file straight from its bytes; ``None`` if not clean.

    Finds lines and commas with array operations, checks the emotion and Usage
    fields, blanks everything that is not a pixel field in a working copy, and
    reads all pixels in chunks of rows. Anything unusual (quotes, blank lines,
    an odd header, a bad row) returns ``None``: the careful parser then finds
    and names the problem.
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    header_end = raw.find(b"\n")
    if header_end < 0 or b'"' in raw:
        return None
    columns = [c.strip().lower() for c in raw[:header_end].decode("ascii", "replace").strip().split(",")]
    if sorted(columns) not in (["emotion", "pixels"], ["emotion", "pixels", "usage"]):
        return None
    if not raw.endswith(b"\n"):
        raw += b"\n"
    buffer = np.frombuffer(raw, dtype=np.uint8)
    line_ends = np.flatnonzero(buffer == 10)  # includes the header's
    n_rows = line_ends.size - 1
    if n_rows < 1:
        return None
    line_starts = line_ends[:-1] + 1
    line_ends = line_ends[1:] - (buffer[line_ends[1:] - 1] == 13)  # drop a carriage return
    commas = np.flatnonzero(buffer[header_end:] == 44) + header_end
    if commas.size != n_rows * (len(columns) - 1):
        return None
    commas = commas.reshape(n_rows, len(columns) - 1)
    if np.any(commas[:, 0] < line_starts) or np.any(commas[:, -1] >= line_ends):
        return None  # commas not distributed one set per line (or blank lines)
    starts = np.column_stack([line_starts, commas + 1])
    ends = np.column_stack([commas, line_ends])
    fields = {name: (starts[:, i], ends[:, i]) for i, name in enumerate(columns)}

    emotion_start, emotion_end = fields["emotion"]
    if np.any(emotion_end - emotion_start != 1):
        return None
    labels = buffer[emotion_start].astype(np.int64) - 48
    if np.any((labels < 0) | (labels >= NUM_CLASSES)):
        return None
    if "usage" in fields:
        usage = np.array([raw[s:e] for s, e in zip(*fields["usage"])]).astype(str)
        if not np.all(np.isin(usage, USAGE_VALUES)):
            return None
    else:
        usage = np.full(n_rows, USAGE_UNASSIGNED)

    # Work on a copy in which every byte outside the pixel fields is a newline.
    pixel_start, pixel_end = fields["pixels"]
    work = buffer.copy()
    gap_starts = np.concatenate(([0], pixel_end))
    gap_ends = np.concatenate((pixel_start, [work.size]))
    lengths = gap_ends - gap_starts
    offsets = np.repeat(gap_starts - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
    work[offsets + np.arange(lengths.sum())] = 10
    work[pixel_end] = 32  # every pixel, the last of a row too, ends with a space

    images = np.empty((n_rows, IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    chunk_starts = range(0, n_rows, _CHUNK_ROWS)
    if progress:
        from tqdm.auto import tqdm

        chunk_starts = tqdm(chunk_starts, desc=f"parsing {name}", unit="chunk", leave=False)
    for first in chunk_starts:
        last = min(first + _CHUNK_ROWS, n_rows)
        base = pixel_start[first] - 4  # the label and its comma, now newlines, come before
        chunk = work[base : pixel_end[last - 1] + 1]
        parsed = _digit_runs_to_pixels(chunk, pixel_end[first:last] - base)
        if parsed is None:
            return None
        images[first:last] = parsed
    return {"images": images, "labels": labels, "usage": usage, "skipped": 0, "skip_reasons": {},
            "first_skipped": []}


def _parse_csv_bytes(raw: bytes, path: Path, on_error: str, progress: bool) -> dict:
    """Turn the bytes of a FER2013 CSV file into validated arrays."""
    fast = _fast_parse(raw, progress, path.name)
    if fast is not None:
        return fast
    if not raw.strip():
        raise DataError(f"{path}: the file is empty; expected a header 'emotion,pixels,Usage' and rows. {DOWNLOAD_HELP}")
    try:
        frame = pd.read_csv(
            io.BytesIO(raw), dtype=str, keep_default_na=False, skip_blank_lines=False, engine="c"
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not a readable CSV file ({exc}). {DOWNLOAD_HELP}") from exc

    emotion_col = _find_column(frame.columns, "emotion")
    pixels_col = _find_column(frame.columns, "pixels")
    usage_col = _find_column(frame.columns, "Usage")
    missing = [name for name, col in (("emotion", emotion_col), ("pixels", pixels_col)) if col is None]
    if missing:
        raise DataError(
            f"{path}: missing column(s) {', '.join(missing)}; found {list(map(str, frame.columns))}. "
            "A FER2013 file has the header 'emotion,pixels,Usage' (Usage is optional)."
        )

    # Blank lines keep their place (so row numbers match the file) and are then ignored.
    blank = np.ones(len(frame), dtype=bool)
    for column in frame.columns:
        blank &= frame[column].eq("").to_numpy()
    rows = np.flatnonzero(~blank)
    if rows.size == 0:
        raise DataError(f"{path}: the file has a header but no rows. {DOWNLOAD_HELP}")

    problems = _RowProblems(path, on_error)
    good = np.zeros(len(frame), dtype=bool)
    good[rows] = True

    emotion_text = frame[emotion_col].str.strip().to_numpy()
    labels = pd.to_numeric(frame[emotion_col], errors="coerce").to_numpy(dtype=float)
    bad_label = rows[~np.isin(labels[rows], np.arange(NUM_CLASSES))]
    problems.add(
        bad_label,
        lambda row: f"has emotion {emotion_text[row]!r}; expected an integer 0..{NUM_CLASSES - 1}",
    )
    good[bad_label] = False

    if usage_col is not None:
        usage = frame[usage_col].str.strip().to_numpy(dtype=object)
        bad_usage = rows[~np.isin(usage[rows], USAGE_VALUES)]
        problems.add(
            bad_usage,
            lambda row: f"has Usage {usage[row]!r}; expected one of {', '.join(USAGE_VALUES)}",
        )
        good[bad_usage] = False
    else:
        usage = np.full(len(frame), USAGE_UNASSIGNED, dtype=object)

    pixel_text = frame[pixels_col].to_numpy(dtype=object)  # stray spaces are handled by the parser
    image_chunks = []
    chunk_starts = range(0, len(frame), _CHUNK_ROWS)
    if progress:
        from tqdm.auto import tqdm

        chunk_starts = tqdm(chunk_starts, desc=f"parsing {path.name}", unit="chunk", leave=False)
    for start in chunk_starts:
        stop = min(start + _CHUNK_ROWS, len(frame))
        chunk_rows = np.arange(start, stop)
        wanted = chunk_rows[good[start:stop]]
        if wanted.size == 0:
            continue
        # Parse only rows still good, then map their results back by position.
        images, ok = _parse_pixel_chunk(list(pixel_text[wanted]), _OffsetProblems(problems, wanted))
        good[wanted[~ok]] = False
        image_chunks.append(images)

    images = (
        np.concatenate(image_chunks) if image_chunks else np.zeros((0, IMAGE_SIZE, IMAGE_SIZE), np.uint8)
    )
    reasons = Counter(_reason_kind(reason) for reason in problems.bad_rows.values())
    return {
        "images": images,
        "labels": labels[good].astype(np.int64),
        "usage": np.asarray(usage[good], dtype=str),
        "skipped": len(problems.bad_rows),
        "skip_reasons": dict(reasons),
        "first_skipped": sorted(problems.bad_rows.items())[:5],
    }


class _OffsetProblems:
    """Adapter: a chunk reports rows by position in ``rows``; translate them to file rows."""

    def __init__(self, problems: _RowProblems, rows: np.ndarray):
        self.problems = problems
        self.rows = rows

    def add(self, positions: np.ndarray, reason_of_position) -> None:
        positions = np.asarray(positions)
        if positions.size == 0:
            return
        position_of_row = {int(self.rows[p]): int(p) for p in positions}
        self.problems.add(
            self.rows[positions], lambda row: reason_of_position(position_of_row[row])
        )


def _reason_kind(reason: str) -> str:
    """Collapse a row's problem to a category, for the skip summary."""
    for key, kind in (
        ("pixels; expected", "wrong pixel count"),
        ("not an integer 0..255", "non-integer pixel"),
        ("outside 0..255", "pixel out of range"),
        ("has emotion", "bad emotion label"),
        ("has Usage", "unknown Usage"),
    ):
        if key in reason:
            return kind
    return reason


# --------------------------------------------------------------------------------------
# Cache
# --------------------------------------------------------------------------------------


def cache_dir() -> Path:
    """Folder of parsed-array caches: ``$FER_LIB_CACHE_DIR`` or ``~/.cache/fer_lib/data``."""
    root = os.environ.get("FER_LIB_CACHE_DIR")
    return Path(root) if root else Path.home() / ".cache" / "fer_lib" / "data"


def _cache_path(path: Path, sha256: str, on_error: str) -> Path:
    stem = path.name.split(".")[0]
    return cache_dir() / f"{stem}-{sha256[:20]}-{on_error}-v{_CACHE_VERSION}.npz"


def _write_cache_atomically(target: Path, arrays: dict) -> None:
    """Write an ``.npz`` beside ``target`` and rename it into place: never half-written."""
    with atomic_target(target) as temporary:
        np.savez(temporary, **arrays)


def _read_cache(target: Path) -> dict | None:
    try:
        with np.load(target, allow_pickle=False) as stored:
            return {key: stored[key] for key in stored.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        warnings.warn(f"ignoring unreadable cache {target} ({exc}); parsing the source again", FerWarning, stacklevel=3)
        return None


# --------------------------------------------------------------------------------------
# Public loader
# --------------------------------------------------------------------------------------


def load_fer2013(
    path: str | os.PathLike,
    *,
    cache: bool = True,
    on_error: Literal["raise", "skip"] = "raise",
    progress: bool = False,
) -> FER2013:
    """Load FER2013 from a Kaggle-layout CSV file.

    Parameters
    ----------
    path : str or path-like
        ``fer2013.csv``, ``fer2013.csv.gz``, Kaggle's ``.zip`` archive or ``fer2013.tar.gz``.
        Columns ``emotion`` and ``pixels`` are required, ``Usage`` is optional.
    cache : bool, default True
        Reuse (and write) parsed arrays in :func:`cache_dir`, keyed by the file's SHA-256.
    on_error : {"raise", "skip"}, default "raise"
        ``"raise"`` stops at the first bad row with a message naming file and row;
        ``"skip"`` drops bad rows, keeps every good one, warns, and records the
        count in ``skipped`` and ``skip_reasons``.
    progress : bool, default False
        Show a progress bar while parsing.

    Returns
    -------
    FER2013
        ``images`` (n, 48, 48) uint8, ``labels`` (n,) int64, ``usage`` (n,) str.

    Raises
    ------
    DataNotFoundError
        The file does not exist (the message says where to get FER2013).
    DataError
        The file is empty, truncated, lacks columns or (with ``on_error="raise"``) has a bad row.
    """
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip'; got {on_error!r}")
    path = Path(path).expanduser()
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "does not exist"
        raise DataNotFoundError(f"FER2013 file {path} {what}. {DOWNLOAD_HELP}")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty (0 bytes). {DOWNLOAD_HELP}")

    sha256 = file_sha256(path)
    target = _cache_path(path, sha256, on_error)
    stored = _read_cache(target) if cache and target.is_file() else None
    if stored is None:
        parsed = _parse_csv_bytes(_read_source_bytes(path), path, on_error, progress)
        stored = {
            "images": parsed["images"],
            "labels": parsed["labels"],
            "usage": parsed["usage"],
            "skip_kinds": np.array(list(parsed["skip_reasons"]), dtype=str),
            "skip_counts": np.array(list(parsed["skip_reasons"].values()), dtype=np.int64),
        }
        if parsed["skipped"]:
            examples = "; ".join(f"row {row + 1}: {why}" for row, why in parsed["first_skipped"])
            warnings.warn(
                f"{path}: skipped {parsed['skipped']} bad row(s) "
                f"({', '.join(f'{k}: {v}' for k, v in parsed['skip_reasons'].items())}); first: {examples}",
                FerWarning,
                stacklevel=2,
            )
        if cache:
            try:
                _write_cache_atomically(target, stored)
            except (OSError, FerError) as exc:
                warnings.warn(
                    f"could not write the cache {target} ({exc}); continuing without it", FerWarning, stacklevel=2
                )
    skip_reasons = dict(zip(stored["skip_kinds"].tolist(), stored["skip_counts"].tolist()))
    return FER2013(
        images=stored["images"],
        labels=stored["labels"].astype(np.int64),
        usage=stored["usage"].astype(str),
        source=str(path),
        sha256=sha256,
        skipped=int(sum(skip_reasons.values())),
        skip_reasons=skip_reasons,
    )


# --------------------------------------------------------------------------------------
# Discovery and synthetic data
# --------------------------------------------------------------------------------------


def _candidate_paths() -> list[Path]:
    local = _REPO_ROOT / "data_input"
    names = ("fer2013.csv", "fer2013.csv.gz", "fer2013.zip", "fer2013.tar.gz")
    return [local / name for name in names] + [_REPO_ROOT.parent / "shared" / "data" / "fer2013.csv.gz"]


def discover_fer2013(path: str | os.PathLike | None = None) -> Path | None:
    """Find FER2013: ``path`` if given, then ``data_input/fer2013.csv`` (``.gz``, ``.zip``),
    then ``../shared/data/fer2013.csv.gz``; ``None`` when there is none.

    An explicit ``path`` that does not exist raises instead of falling back silently.
    """
    if path not in (None, ""):
        path = Path(path).expanduser()
        if not path.is_file():
            raise DataNotFoundError(f"FER2013 file {path} does not exist. {DOWNLOAD_HELP}")
        return path
    for candidate in _candidate_paths():
        if candidate.is_file():
            return candidate
    return None


def load_default_data(
    path: str | os.PathLike | None = None,
    *,
    synthetic_size: int = 4000,
    seed: int = 0,
    verbose: bool = True,
    **load_options,
) -> FER2013:
    """Load FER2013 from the first place :func:`discover_fer2013` finds, else synthetic faces.

    The synthetic fallback prints :data:`SYNTHETIC_BANNER` so that nobody mistakes
    its numbers for FER2013 results.
    """
    found = discover_fer2013(path)
    if found is None:
        if verbose:
            print(SYNTHETIC_BANNER)
        return synthetic_fer2013(synthetic_size, seed=seed)
    if verbose:
        print(f"FER2013 from {found}")
    return load_fer2013(found, **load_options)


def synthetic_fer2013(n: int = 4000, *, seed: int = 0, public_test_fraction: float = 0.125) -> FER2013:
    """Draw ``n`` cartoon faces in FER2013's format whose emotion shows in mouth, brows and eyes.

    Each class has its own mouth (smile, frown, open "O", flat line...), brow
    slant and eye size; position, scale, brightness, contrast and noise vary per
    face, so a CNN must learn shapes rather than pixels. Usage is ``Training``
    and ``PublicTest`` in FER2013's proportions.

    Examples
    --------
    >>> faces = synthetic_fer2013(14, seed=1)
    >>> faces.images.shape, faces.images.dtype.name, faces.synthetic
    ((14, 48, 48), 'uint8', True)
    """
    if n < 1:
        raise ValueError(f"n must be a positive number of faces; got {n}")
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % NUM_CLASSES
    rng.shuffle(labels)
    yy, xx = np.mgrid[0:IMAGE_SIZE, 0:IMAGE_SIZE].astype(np.float32)
    images = np.empty((n, IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    for i, label in enumerate(labels):
        images[i] = _draw_face(int(label), rng, xx, yy)
    usage = np.where(rng.random(n) < public_test_fraction, "PublicTest", "Training")
    return FER2013(
        images=images, labels=labels.astype(np.int64), usage=usage.astype(str), source="synthetic", synthetic=True
    )


# mouth curvature, mouth openness, brow slant (inner end up > 0), eye size, brow height
_FACE_SHAPES = {
    0: (-0.6, 0.0, -1.0, 1.0, -1.0),  # Angry: frown, brows down in the middle
    1: (-0.9, 0.15, -0.5, 0.6, -0.5),  # Disgust: strong frown, squint
    2: (-0.2, 0.5, 0.9, 1.4, 1.0),  # Fear: open mouth, raised inner brows, wide eyes
    3: (1.0, 0.1, 0.0, 0.9, 0.0),  # Happy: smile
    4: (-0.8, 0.0, 0.8, 0.8, 0.2),  # Sad: frown, inner brows up
    5: (0.0, 1.0, 0.0, 1.5, 1.2),  # Surprise: round open mouth, high brows, wide eyes
    6: (0.0, 0.0, 0.0, 1.0, 0.0),  # Neutral: flat mouth
}


def _draw_face(label: int, rng: np.random.Generator, xx: np.ndarray, yy: np.ndarray) -> np.ndarray:
    curve, openness, slant, eye, brow = _FACE_SHAPES[label]
    jitter = lambda s: rng.normal(0.0, s)  # noqa: E731 - tiny local helper
    cx, cy = 24 + jitter(1.5), 25 + jitter(1.5)
    scale = 1.0 + jitter(0.06)
    skin, dark = rng.uniform(120, 200), rng.uniform(10, 70)
    image = np.full(xx.shape, rng.uniform(20, 90), dtype=np.float32)
    face = ((xx - cx) / (17 * scale)) ** 2 + ((yy - cy) / (21 * scale)) ** 2 <= 1
    image[face] = skin
    for side in (-1, 1):
        ex, ey = cx + side * 7 * scale, cy - 5 * scale
        eye_r = 2.0 * eye * scale
        image[((xx - ex) / (2.6 * scale)) ** 2 + ((yy - ey) / max(eye_r * 0.8, 0.6)) ** 2 <= 1] = dark
        # Brow: a thick line whose inner end rises with `slant`.
        t = np.clip((xx - ex) * side / (4.5 * scale), -1, 1)
        brow_y = ey - (4.5 + 1.2 * brow) * scale - slant * 1.6 * scale * (-t)
        on_brow = (np.abs(yy - brow_y) <= 0.9) & (np.abs(xx - ex) <= 4.5 * scale)
        image[on_brow] = dark
    mx, my = cx + jitter(0.5), cy + 9 * scale
    if openness >= 0.5:
        ry = 2.0 + 3.0 * openness
        rx = 5.5 - 2.0 * openness
        image[((xx - mx) / (rx * scale)) ** 2 + ((yy - my) / (ry * scale)) ** 2 <= 1] = dark
    else:
        u = (xx - mx) / (7 * scale)
        mouth_y = my - curve * 3.0 * scale * (1 - u**2) + curve * 1.5 * scale
        thickness = 0.9 + 1.5 * openness
        image[(np.abs(u) <= 1) & (np.abs(yy - mouth_y) <= thickness)] = dark
    contrast, brightness = rng.uniform(0.7, 1.2), jitter(12)
    image = (image - 128) * contrast + 128 + brightness + rng.normal(0, 8, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------------------
# Splits
# --------------------------------------------------------------------------------------


def official_split(data: FER2013, *, validation_fraction: float = 0.1, seed: int = 0) -> Split:
    """FER2013's own split: validation carved (stratified) from ``Training``, test = ``PublicTest``.

    ``PrivateTest`` rows, when the file has them, are left out of every part:
    they stay an untouched final test set.
    """
    usage = data.usage
    if not np.any(usage == "Training"):
        raise DataError(
            f"{data.source}: no 'Training' rows, so the official split is impossible"
            + (" (the file has no Usage column; use protocol='tutorial')" if np.all(usage == USAGE_UNASSIGNED) else "")
            + "."
        )
    if not np.any(usage == "PublicTest"):
        raise DataError(f"{data.source}: no 'PublicTest' rows to test on; use protocol='tutorial'.")
    training = data.subset(usage == "Training")
    train, validation = _stratified_halves(training, validation_fraction, seed)
    return Split(train, validation, data.subset(usage == "PublicTest"), "official", seed)


def tutorial_split(data: FER2013) -> Split:
    """The tutorial's random split: 10% test (``random_state=42``), then 10% of the rest as
    validation (``random_state=41``), over all rows regardless of ``Usage``."""
    from sklearn.model_selection import train_test_split

    index = np.arange(len(data))
    if len(index) < 20:
        raise DataError(f"{data.source}: {len(index)} rows are too few for the tutorial split (need 20).")
    rest, test = train_test_split(index, test_size=0.1, random_state=42)
    train, validation = train_test_split(rest, test_size=0.1, random_state=41)
    return Split(data.subset(train), data.subset(validation), data.subset(test), "tutorial", None)


def validation_split(data: FER2013, *, fraction: float = 0.1, seed: int = 0) -> tuple[FER2013, FER2013]:
    """Carve a stratified validation part of ``fraction`` from ``data``: ``(train, validation)``."""
    return _stratified_halves(data, fraction, seed)


def stratified_sample(data: FER2013, size: int, *, seed: int = 0) -> FER2013:
    """A random subset of exactly ``size`` faces with the classes in their original proportions."""
    if size >= len(data):
        return data
    if size < 1:
        raise ValueError(f"sample size must be a positive number of faces; got {size}")
    from sklearn.model_selection import train_test_split

    counts = np.bincount(data.labels, minlength=NUM_CLASSES)
    can_stratify = counts[counts > 0].min() >= 2 and size >= NUM_CLASSES and len(data) - size >= NUM_CLASSES
    chosen, _ = train_test_split(np.arange(len(data)), train_size=size, random_state=seed,
                                 stratify=data.labels if can_stratify else None)
    return data.subset(np.sort(chosen))


def _stratified_halves(data: FER2013, fraction: float, seed: int) -> tuple[FER2013, FER2013]:
    from sklearn.model_selection import train_test_split

    if not 0 < fraction < 1:
        raise ValueError(f"validation fraction must be between 0 and 1; got {fraction}")
    index = np.arange(len(data))
    counts = np.bincount(data.labels, minlength=NUM_CLASSES)
    stratify = data.labels if counts[counts > 0].min() >= 2 and len(index) * fraction >= NUM_CLASSES else None
    train, validation = train_test_split(index, test_size=fraction, random_state=seed, stratify=stratify)
    return data.subset(np.sort(train)), data.subset(np.sort(validation))


def make_split(data: FER2013, protocol: str = "official", *, validation_fraction: float = 0.1, seed: int = 0) -> Split:
    """Split ``data`` by ``protocol``: ``"official"`` (Usage column) or ``"tutorial"`` (random).

    ``"official"`` falls back to nothing: a file without ``Usage`` raises with advice.
    """
    if protocol == "official":
        return official_split(data, validation_fraction=validation_fraction, seed=seed)
    if protocol == "tutorial":
        return tutorial_split(data)
    raise ValueError(f"unknown split protocol {protocol!r}; expected 'official' or 'tutorial'")


def save_split(split: Split, path: str | os.PathLike) -> Path:
    """Write a split's arrays to one ``.npz`` file, atomically (never half-written)."""
    path = Path(path)
    arrays = {}
    for part in ("train", "validation", "test"):
        data = getattr(split, part)
        arrays[f"{part}_images"] = data.images
        arrays[f"{part}_labels"] = data.labels
        arrays[f"{part}_usage"] = data.usage.astype(str)
    arrays["protocol"] = np.array(split.protocol)
    arrays["seed"] = np.array(-1 if split.seed is None else split.seed)
    source = split.train.source
    arrays["source"] = np.array(source)
    arrays["sha256"] = np.array(split.train.sha256)
    arrays["synthetic"] = np.array(split.train.synthetic)
    _write_cache_atomically(path, arrays)
    return path


def load_split(path: str | os.PathLike) -> Split:
    """Read a split written by :func:`save_split`."""
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(
            f"prepared split {path} does not exist; run notebooks/02_prepare_data.ipynb "
            "(or fer_lib.data.save_split) first."
        )
    try:
        with np.load(path, allow_pickle=False) as stored:
            arrays = {key: stored[key] for key in stored.files}
        common = {"source": str(arrays["source"]), "sha256": str(arrays["sha256"]),
                  "synthetic": bool(arrays["synthetic"])}
        parts = {
            part: FER2013(arrays[f"{part}_images"], arrays[f"{part}_labels"].astype(np.int64),
                          arrays[f"{part}_usage"].astype(str), **common)
            for part in ("train", "validation", "test")
        }
    except (KeyError, OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise DataError(f"{path}: not a split written by fer_lib.data.save_split ({exc}); write it again.") from exc
    seed = int(arrays["seed"])
    return Split(parts["train"], parts["validation"], parts["test"], str(arrays["protocol"]), None if seed < 0 else seed)


# --------------------------------------------------------------------------------------
# The one path from raw faces to model input
# --------------------------------------------------------------------------------------


def to_model_input(images: np.ndarray) -> np.ndarray:
    """Shape raw grey faces for a model: ``(n, 48, 48, 1)`` float32 holding 0..255.

    This is the only preprocessing outside a model and it does not rescale:
    every fer_lib model normalises inside itself (its first layer), so training,
    evaluation and the live view feed the same raw grey levels.

    Parameters
    ----------
    images : array of shape (48, 48), (n, 48, 48) or (n, 48, 48, 1)
        Grey levels 0..255 (any numeric dtype).

    Examples
    --------
    >>> to_model_input(np.zeros((48, 48), np.uint8)).shape
    (1, 48, 48, 1)
    """
    array = np.asarray(images)
    if array.ndim == 2:
        array = array[None]
    if array.ndim == 4 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim != 3 or array.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
        raise ValueError(
            f"expected grey faces of shape (n, {IMAGE_SIZE}, {IMAGE_SIZE}); got {np.shape(images)}. "
            "Crop and resize faces with fer_lib.detection.crop_face first."
        )
    return array.astype(np.float32, copy=False)[..., None]
