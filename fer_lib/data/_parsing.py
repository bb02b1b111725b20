"""The FER2013 CSV parser: bytes in, validated arrays and named row problems out. Pixels are parsed in
vectorised chunks; a chunk that fails is parsed again row by row to name each bad row."""

from __future__ import annotations

import dataclasses
import enum
import io
import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from fer_lib.errors import DOWNLOAD_HELP, DataError
from fer_lib.labels import IMAGE_SIZE, NUM_CLASSES, NUM_PIXELS, USAGE_UNASSIGNED, USAGE_VALUES

__all__ = ["SkipReason", "ParsedRows", "parse_csv_bytes"]

_CHUNK_ROWS = 64  # about 0.5 MB of text: a chunk's arrays stay in the CPU cache

_SPACE, _ZERO = ord(" "), ord("0")
_LABEL_CODES = {str(label).encode(): label for label in range(NUM_CLASSES)}
_USAGE_CODES = {usage.encode(): code for code, usage in enumerate(USAGE_VALUES)}


class SkipReason(str, enum.Enum):
    """Why a row of a FER2013 file (or a photo of an image folder) was rejected.

    A ``str`` enum (the cache stores the values); ``FER2013.skip_reasons`` lists them in this order.
    """

    LABEL = "label"
    USAGE = "usage"
    NON_INTEGER_PIXEL = "non_integer_pixel"
    PIXEL_COUNT = "pixel_count"
    PIXEL_RANGE = "pixel_range"
    NO_FACE = "no_face"  # a photo of an image folder data set
    SEVERAL_FACES = "several_faces"

    def __str__(self) -> str:
        return self.value

    @property
    def description(self) -> str:
        """A few words for people: ``"wrong pixel count"``..."""
        return {"label": "bad emotion label", "usage": "unknown Usage", "pixel_count": "wrong pixel count",
                "non_integer_pixel": "non-integer pixel", "pixel_range": "pixel out of range",
                "no_face": "no face found", "several_faces": "more than one face"}[self.value]


@dataclasses.dataclass(frozen=True, eq=False)
class ParsedRows:
    """The good rows of a parsed file, and what was wrong with the others."""

    images: np.ndarray
    labels: np.ndarray
    usage: np.ndarray
    skip_reasons: dict = dataclasses.field(default_factory=dict)
    first_skipped: list = dataclasses.field(default_factory=list)

    @property
    def skipped(self) -> int:
        """Number of rows dropped."""
        return int(sum(self.skip_reasons.values()))


def parse_csv_bytes(raw: bytes, *, source: str | os.PathLike = "fer2013.csv",
                    on_error: Literal["raise", "skip"] = "raise", progress: bool = False,
                    workers: int | None = None) -> ParsedRows:
    """Turn the bytes of a FER2013 CSV file into validated arrays."""
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip'; got {on_error!r}")
    if workers is None:
        cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 1)
        workers = min(8, len(cpus))
    if workers < 1:
        raise ValueError(f"workers must be a positive number of threads; got {workers}")
    path = Path(source)
    rows, label_text, usage_text, buffer, starts, ends = _fast_fields(raw) or _careful_fields(raw, path)
    n_rows = len(rows)
    problems = {}  # index into ``rows`` -> (SkipReason, words); the first check that fails wins

    labels = np.array([_LABEL_CODES.get(text.strip(), -1) for text in label_text], dtype=np.int64)
    for i in np.flatnonzero(labels < 0):
        emotion = label_text[i].strip().decode(errors="replace")
        problems[i] = SkipReason.LABEL, f"has emotion {emotion!r}; expected an integer 0..{NUM_CLASSES - 1}"
    if usage_text is None:
        usage = np.full(n_rows, USAGE_UNASSIGNED)
    else:
        codes = np.array([_USAGE_CODES.get(text.strip(), -1) for text in usage_text], dtype=np.int64)
        for i in np.flatnonzero(codes < 0):
            words = f"has Usage {usage_text[i].strip().decode(errors='replace')!r}; expected one of "
            problems.setdefault(i, (SkipReason.USAGE, words + ", ".join(USAGE_VALUES)))
        usage = np.array(USAGE_VALUES)[codes]

    images = np.empty((n_rows, NUM_PIXELS), dtype=np.uint8)

    def parse_chunk(first: int) -> dict:
        last = min(first + _CHUNK_ROWS, n_rows)
        if _parse_pixel_rows(buffer, starts[first:last], ends[first:last], images[first:last]):
            return {}
        found = {row: _parse_row(buffer[starts[row] : ends[row]].tobytes(), images[row])
                 for row in range(first, last)}
        return {row: problem for row, problem in found.items() if problem}

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fer_lib-parse") as pool:
        chunks = pool.map(parse_chunk, range(0, n_rows, _CHUNK_ROWS))
        if progress:
            from tqdm.auto import tqdm

            chunks = tqdm(chunks, total=-(-n_rows // _CHUNK_ROWS), desc=f"parsing {path.name}", unit="chunk",
                          leave=False)
        for found in chunks:
            for i, problem in found.items():
                problems.setdefault(i, problem)

    if problems and on_error == "raise":
        row = int(rows[min(problems)])
        raise DataError(f"{path}: row {row + 1} (line {row + 2}) {problems[min(problems)][1]}. "
                        "Fix or delete that row, or load with on_error='skip' to drop bad rows.")
    if problems:
        good = np.ones(n_rows, dtype=bool)
        good[list(problems)] = False
        images, labels, usage = images[good], labels[good], usage[good]
    kinds = Counter(kind for kind, _ in problems.values())
    return ParsedRows(images.reshape(-1, IMAGE_SIZE, IMAGE_SIZE), labels, usage,
                      skip_reasons={kind: kinds[kind] for kind in SkipReason if kind in kinds},
                      first_skipped=[(int(rows[i]), problems[i][1]) for i in sorted(problems)[:5]])


def _fast_fields(raw: bytes) -> tuple | None:
    """Cut a clean file into (rows, emotion and Usage fields, pixel buffer, starts, ends); None if odd."""
    start = 3 if raw[:3] == b"\xef\xbb\xbf" else 0
    header_end = raw.find(b"\n", start)
    if header_end < 0 or raw.find(b'"') >= 0:
        return None
    columns = [c.strip().lower() for c in raw[start:header_end].decode("ascii", "replace").split(",")]
    if sorted(columns) not in (["emotion", "pixels"], ["emotion", "pixels", "usage"]):
        return None
    n_left = columns.index("pixels")
    left = [[] for _ in range(n_left)]
    right = [[] for _ in range(len(columns) - 1 - n_left)]
    starts, ends = [], []
    find, rfind = raw.find, raw.rfind
    position, end = header_end + 1, len(raw)
    while position < end:
        newline = find(b"\n", position, end)
        newline = end if newline < 0 else newline
        line_end = newline - 1 if newline > position and raw[newline - 1] == 13 else newline  # \r\n
        field_start = position
        for fields in left:
            comma = find(b",", field_start, line_end)
            if comma < 0:  # a blank or short line
                return None
            fields.append(raw[field_start:comma])
            field_start = comma + 1
        for fields in right:
            comma = rfind(b",", field_start, line_end)
            if comma < 0:
                return None
            fields.append(raw[comma + 1 : line_end])
            line_end = comma
        starts.append(field_start)
        ends.append(line_end)
        position = newline + 1
    if not starts:
        return None
    named = dict(zip(columns[:n_left], left)) | dict(zip(reversed(columns[n_left + 1 :]), right))
    buffer, starts, ends = np.frombuffer(raw, dtype=np.uint8), np.array(starts), np.array(ends)
    return np.arange(starts.size), named["emotion"], named.get("usage"), buffer, starts, ends


def _careful_fields(raw: bytes, path: Path) -> tuple:
    """Read a file with pandas: ``(rows, emotion, usage, buffer, starts, ends)`` as :func:`_fast_fields`."""
    raw = bytes(raw)  # no copy for bytes; an mmap has no strip()
    if not raw.strip():
        raise DataError(f"{path}: the file is empty; expected a header 'emotion,pixels,Usage' and rows. "
                        f"{DOWNLOAD_HELP}")
    try:
        frame = pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False, skip_blank_lines=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not a readable CSV file ({exc}). {DOWNLOAD_HELP}") from exc
    columns = {str(column).strip().lower(): column for column in reversed(frame.columns)}
    missing = [name for name in ("emotion", "pixels") if name not in columns]
    if missing:
        found = ",".join(map(str, frame.columns))
        shown = found if len(found) <= 60 else found[:57] + "..."
        if str(frame.columns[0]).strip().isdigit():  # the first row is data: there is no header row
            raise DataError(f"{path}: no header row; expected emotion,pixels,Usage as the first line, "
                            f"found {shown!r}. Add the header line and load it again.")
        raise DataError(f"{path}: missing column(s) {', '.join(missing)}; found {shown!r}. "
                        "A FER2013 file has the header 'emotion,pixels,Usage' (Usage is optional).")
    frame = frame.fillna("")
    rows = np.flatnonzero((frame != "").any(axis=1).to_numpy())  # blank lines keep their place, then go
    if rows.size == 0:
        raise DataError(f"{path}: the file has a header but no rows. {DOWNLOAD_HELP}")

    def field(name: str) -> list[bytes] | None:
        return [text.encode() for text in frame[columns[name]].to_numpy()[rows]] if name in columns else None

    pixels = field("pixels")
    lengths = np.array([len(text) for text in pixels], dtype=np.int64)
    starts = 3 + np.cumsum(lengths + 1) - (lengths + 1)  # after 3 separators: the parser looks 3 bytes back
    buffer = np.frombuffer(b"\n\n\n" + b"\n".join(pixels) + b"\n", dtype=np.uint8)
    return rows, field("emotion"), field("usage"), buffer, starts, starts + lengths


def _parse_pixel_rows(buffer: np.ndarray, starts: np.ndarray, ends: np.ndarray, out: np.ndarray) -> bool:
    """Parse pixel fields ``buffer[starts[i]:ends[i]]`` into ``out`` (rows of 2304); False if one is odd."""
    n_rows = starts.size
    base = int(starts[0]) - 3  # bytes before the first field: the tens and hundreds views may look there
    scratch = np.append(buffer[base : int(ends[-1])], np.uint8(_SPACE))
    field_starts, field_ends = starts - base, ends - base
    scratch[field_ends] = _SPACE
    spaces = np.flatnonzero(scratch[3:] == _SPACE)  # pixel k ends at scratch[spaces[k] + 3]
    if spaces.size != n_rows * NUM_PIXELS:
        return False
    first_spaces, last_spaces = spaces[::NUM_PIXELS] + 3, spaces[NUM_PIXELS - 1 :: NUM_PIXELS] + 3
    if np.any(last_spaces != field_ends) or np.any(first_spaces < field_starts):
        return False  # a space outside the pixel fields, or a row with the wrong number of pixels
    ones, tens, hundreds = scratch[2:][spaces], scratch[1:][spaces], scratch[spaces]
    for digits in (ones, tens, hundreds):
        digits -= np.uint8(_ZERO)  # digits become 0..9; every other byte wraps to 10 or more
    if ones.max() > 9:
        return False
    has_tens = tens < 10
    has_hundreds = (hundreds < 10) & has_tens
    tens *= has_tens
    hundreds *= has_hundreds
    digits_read = 2 * spaces.size + np.count_nonzero(has_tens) + np.count_nonzero(has_hundreds)
    if digits_read != int((field_ends - field_starts + 1).sum()):
        return False
    values = hundreds.astype(np.uint16)  # in place: no temporaries
    values *= 10
    values += tens
    values *= 10
    values += ones
    if values.max() > 255:
        return False
    out[:] = values.reshape(n_rows, NUM_PIXELS)
    return True


def _parse_row(field: bytes, out: np.ndarray) -> tuple[SkipReason, str] | None:
    """Parse one pixel field into ``out`` the slow way (stray spaces allowed), or say what is wrong."""
    tokens = [token for token in field.split(b" ") if token]
    bad = next((token for token in tokens if not token.isdigit()), None)
    if bad is not None:
        pixel = bad.decode(errors="replace")[:20]
        return SkipReason.NON_INTEGER_PIXEL, f"has a pixel {pixel!r} that is not an integer 0..255"
    if len(tokens) != NUM_PIXELS:
        expected = f"{NUM_PIXELS} ({IMAGE_SIZE}x{IMAGE_SIZE} space-separated integers)"
        return SkipReason.PIXEL_COUNT, f"has {len(tokens)} pixels; expected {expected}"
    values = [int(token) if len(token) <= 6 else 10**6 for token in tokens]
    bad = next((token for token, value in zip(tokens, values) if value > 255), None)
    if bad is not None:
        return SkipReason.PIXEL_RANGE, f"has a pixel {bad.decode()[:20]!r} outside 0..255"
    out[:] = values
    return None
