"""The byte-level FER2013 parser: the bytes of a CSV file in, validated arrays and named row problems out.

Two paths share one contract (identical pixels, every row validated): a fast one for
well-formed files and a careful one that names every bad row.
"""

from __future__ import annotations

import dataclasses
import enum
import io
import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Iterable, Literal, Sequence

import numpy as np
import pandas as pd

from fer_lib.errors import DOWNLOAD_HELP, DataError
from fer_lib.labels import IMAGE_SIZE, NUM_CLASSES, NUM_PIXELS, USAGE_UNASSIGNED, USAGE_VALUES

__all__ = ["SkipReason", "ParsedRows", "parse_csv_bytes"]

#: Rows per chunk of the fast path (about 0.5 MB of text: a chunk's arrays stay in the CPU cache).
_FAST_CHUNK_ROWS = 64

#: Rows per chunk of the careful path (about 35 MB of text): bounds its peak memory.
_CAREFUL_CHUNK_ROWS = 4096

_SPACE = 32
_ZERO = 48
_CARRIAGE_RETURN = 13


class SkipReason(str, enum.Enum):
    """Why a row of a FER2013 file was rejected; recorded where the problem is found.

    A ``str`` enum: each member equals its value (``SkipReason.LABEL == "label"``), which the cache stores;
    :attr:`fer_lib.FER2013.skip_reasons` is keyed by the members, in this order (the order of the checks).

    Examples
    --------
    >>> SkipReason.PIXEL_RANGE == "pixel_range", SkipReason("label").description
    (True, 'bad emotion label')
    """

    LABEL = "label"
    USAGE = "usage"
    NON_INTEGER_PIXEL = "non_integer_pixel"
    PIXEL_COUNT = "pixel_count"
    PIXEL_RANGE = "pixel_range"

    def __str__(self) -> str:
        return self.value

    @property
    def description(self) -> str:
        """A few words for people: ``"wrong pixel count"``, ``"bad emotion label"``..."""
        return _DESCRIPTIONS[self]


_DESCRIPTIONS = {
    SkipReason.LABEL: "bad emotion label",
    SkipReason.USAGE: "unknown Usage",
    SkipReason.NON_INTEGER_PIXEL: "non-integer pixel",
    SkipReason.PIXEL_COUNT: "wrong pixel count",
    SkipReason.PIXEL_RANGE: "pixel out of range",
}


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


def parse_csv_bytes(
    raw: bytes,
    *,
    source: str | os.PathLike = "fer2013.csv",
    on_error: Literal["raise", "skip"] = "raise",
    progress: bool = False,
    workers: int | None = None,
) -> ParsedRows:
    """Turn the bytes of a FER2013 CSV file into validated arrays."""
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip'; got {on_error!r}")
    if workers is None:
        workers = _available_cpus()
    if workers < 1:
        raise ValueError(f"workers must be a positive number of threads; got {workers}")
    fast = _fast_parse(raw, progress=progress, name=Path(source).name, workers=workers)
    if fast is not None:
        return fast
    return _careful_parse(raw, Path(source), on_error, progress)


def _available_cpus() -> int:
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        count = os.cpu_count() or 1
    return max(1, min(8, count))


def _progress(iterable: Iterable, total: int, enabled: bool, description: str) -> Iterable:
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=description, unit="chunk", leave=False)


# --------------------------------------------------------------------------------------
# Fast path: clean Kaggle-layout files
# --------------------------------------------------------------------------------------

_LABEL_CODES = {str(label).encode(): label for label in range(NUM_CLASSES)}
_USAGE_CODES = {usage.encode(): code for code, usage in enumerate(USAGE_VALUES)}


def _fast_parse(raw: bytes, *, progress: bool, name: str, workers: int) -> ParsedRows | None:
    """Parse a clean, unquoted file straight from its bytes; ``None`` if anything is unusual."""
    start = 3 if raw[:3] == b"\xef\xbb\xbf" else 0
    end = len(raw)
    header_end = raw.find(b"\n", start)
    if header_end < 0:
        return None
    columns = [c.strip().lower() for c in raw[start:header_end].decode("ascii", "replace").split(",")]
    if sorted(columns) not in (["emotion", "pixels"], ["emotion", "pixels", "usage"]):
        return None
    n_left = columns.index("pixels")
    n_right = len(columns) - 1 - n_left
    found = _find_fields(raw, header_end + 1, end, n_left, n_right)
    if found is None:
        return None
    pixel_start, pixel_end, left, right = found
    n_rows = pixel_start.size
    if n_rows == 0:
        return None
    fields = dict(zip(columns[:n_left], left))
    fields.update(zip(reversed(columns[n_left + 1 :]), right))

    labels = np.array([_LABEL_CODES.get(text, -1) for text in fields["emotion"]], dtype=np.int64)
    if labels.min() < 0:
        return None
    if "usage" in fields:
        codes = [_USAGE_CODES.get(text, -1) for text in fields["usage"]]
        if min(codes) < 0:
            return None
        usage = np.array(USAGE_VALUES)[codes]
    else:
        usage = np.full(n_rows, USAGE_UNASSIGNED)

    buffer = np.frombuffer(raw, dtype=np.uint8)
    images = np.empty((n_rows, NUM_PIXELS), dtype=np.uint8)
    firsts = range(0, n_rows, _FAST_CHUNK_ROWS)

    def parse_chunk(first: int) -> bool:
        last = min(first + _FAST_CHUNK_ROWS, n_rows)
        return _parse_pixel_rows(buffer, pixel_start[first:last], pixel_end[first:last], images[first:last])

    if workers == 1:
        results = map(parse_chunk, firsts)
        return _finish_fast(results, len(firsts), progress, name, images, labels, usage)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fer_lib-parse") as pool:
        results = pool.map(parse_chunk, firsts)
        parsed = _finish_fast(results, len(firsts), progress, name, images, labels, usage)
        if parsed is None:
            pool.shutdown(wait=True, cancel_futures=True)
        return parsed


def _finish_fast(results, total, progress, name, images, labels, usage) -> ParsedRows | None:
    for ok in _progress(results, total, progress, f"parsing {name}"):
        if not ok:
            return None
    return ParsedRows(images.reshape(-1, IMAGE_SIZE, IMAGE_SIZE), labels, usage)


def _find_fields(
    raw: bytes, position: int, end: int, n_left: int, n_right: int
) -> tuple[np.ndarray, np.ndarray, list[list[bytes]], list[list[bytes]]] | None:
    """Locate each line's pixel field and cut out its other fields; ``None`` on a blank or short line."""
    find, rfind = raw.find, raw.rfind
    starts: list[int] = []
    ends: list[int] = []
    left: list[list[bytes]] = [[] for _ in range(n_left)]
    right: list[list[bytes]] = [[] for _ in range(n_right)]
    while position < end:
        newline = find(b"\n", position, end)
        if newline < 0:
            newline = end
        line_end = newline - 1 if newline > position and raw[newline - 1] == _CARRIAGE_RETURN else newline
        field_start = position
        for fields in left:
            comma = find(b",", field_start, line_end)
            if comma < 0:
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
    return np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64), left, right


def _parse_pixel_rows(buffer: np.ndarray, starts: np.ndarray, ends: np.ndarray, out: np.ndarray) -> bool:
    """Parse the pixel fields ``buffer[starts[i]:ends[i]]`` into ``out`` (rows of 2304); False if any is off.
    """
    n_rows = starts.size
    base = int(starts[0]) - 3  # bytes before the first field: the tens and hundreds views may look there
    scratch = buffer[base : int(ends[-1]) + 1].copy()
    field_starts = starts - base
    field_ends = ends - base
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
    has_hundreds = hundreds < 10
    has_hundreds &= has_tens
    tens *= has_tens
    hundreds *= has_hundreds
    digits_read = 2 * spaces.size + np.count_nonzero(has_tens) + np.count_nonzero(has_hundreds)
    if digits_read != int((field_ends - field_starts + 1).sum()):
        return False
    values = hundreds.astype(np.uint16)
    values *= 10
    values += tens
    values *= 10
    values += ones
    if values.max() > 255:
        return False
    out[:] = values.reshape(n_rows, NUM_PIXELS)
    return True


# --------------------------------------------------------------------------------------
# Careful path: find and name every problem
# --------------------------------------------------------------------------------------


class _RowProblems:
    """Collects bad rows: raises on the first in ``raise`` mode, records them in ``skip`` mode."""

    def __init__(self, path: Path, on_error: str):
        self.path = path
        self.on_error = on_error
        self.bad_rows: dict[int, tuple[SkipReason, str]] = {}  # 0-based data row -> (kind, words)

    def add(self, rows: np.ndarray, kind: SkipReason, reason_of_row: Callable[[int], str]) -> None:
        """Record bad 0-based data ``rows`` of one ``kind``; ``reason_of_row(row)`` words the problem."""
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
            self.bad_rows.setdefault(int(row), (kind, reason_of_row(int(row))))


class _OffsetProblems:
    """Adapter: a chunk reports rows by position in ``rows``; translate them to file rows."""

    def __init__(self, problems: _RowProblems, rows: np.ndarray):
        self.problems = problems
        self.rows = rows

    def add(self, positions: np.ndarray, kind: SkipReason, reason_of_position: Callable[[int], str]) -> None:
        positions = np.asarray(positions)
        if positions.size == 0:
            return
        position_of_row = {int(self.rows[p]): int(p) for p in positions}
        self.problems.add(self.rows[positions], kind, lambda row: reason_of_position(position_of_row[row]))


def _find_column(columns: Sequence[str], wanted: str) -> str | None:
    for column in columns:
        if str(column).strip().lower() == wanted.lower():
            return column
    return None


def _careful_parse(raw: bytes, path: Path, on_error: str, progress: bool) -> ParsedRows:
    """Read the file with pandas and validate every row, naming each problem."""
    raw = bytes(raw)  # no copy for bytes; an mmap has no strip()
    if not raw.strip():
        raise DataError(
            f"{path}: the file is empty; expected a header 'emotion,pixels,Usage' and rows. {DOWNLOAD_HELP}"
        )
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
        found = ",".join(map(str, frame.columns))
        shown = found if len(found) <= 60 else found[:57] + "..."
        if str(frame.columns[0]).strip().isdigit():  # the first row is data: there is no header row
            raise DataError(f"{path}: no header row; expected emotion,pixels,Usage as the first line, "
                            f"found {shown!r}. Add the header line and load it again.")
        raise DataError(
            f"{path}: missing column(s) {', '.join(missing)}; found {shown!r}. "
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
        SkipReason.LABEL,
        lambda row: f"has emotion {emotion_text[row]!r}; expected an integer 0..{NUM_CLASSES - 1}",
    )
    good[bad_label] = False

    if usage_col is not None:
        usage = frame[usage_col].str.strip().to_numpy(dtype=object)
        bad_usage = rows[~np.isin(usage[rows], USAGE_VALUES)]
        problems.add(
            bad_usage,
            SkipReason.USAGE,
            lambda row: f"has Usage {usage[row]!r}; expected one of {', '.join(USAGE_VALUES)}",
        )
        good[bad_usage] = False
    else:
        usage = np.full(len(frame), USAGE_UNASSIGNED, dtype=object)

    pixel_text = frame[pixels_col].to_numpy(dtype=object)  # stray spaces are handled by the parser
    image_chunks = []
    chunk_starts = range(0, len(frame), _CAREFUL_CHUNK_ROWS)
    for start in _progress(chunk_starts, len(chunk_starts), progress, f"parsing {path.name}"):
        stop = min(start + _CAREFUL_CHUNK_ROWS, len(frame))
        chunk_rows = np.arange(start, stop)
        wanted = chunk_rows[good[start:stop]]
        if wanted.size == 0:
            continue
        # Parse only rows still good, then map their results back by position.
        images, ok = _parse_pixel_text(list(pixel_text[wanted]), _OffsetProblems(problems, wanted))
        good[wanted[~ok]] = False
        image_chunks.append(images)

    images = np.concatenate(image_chunks) if image_chunks else np.zeros((0, IMAGE_SIZE, IMAGE_SIZE), np.uint8)
    kinds = Counter(kind for kind, _ in problems.bad_rows.values())
    first_skipped = [(row, words) for row, (_, words) in sorted(problems.bad_rows.items())[:5]]
    return ParsedRows(
        images=images,
        labels=labels[good].astype(np.int64),
        usage=np.asarray(usage[good], dtype=str),
        skip_reasons={kind: kinds[kind] for kind in SkipReason if kind in kinds},
        first_skipped=first_skipped,
    )


def _parse_pixel_text(pixels: Sequence[str], problems: _OffsetProblems) -> tuple[np.ndarray, np.ndarray]:
    """Parse space-separated pixel strings into ``(images, good_mask)`` without a per-pixel loop."""
    n_rows = len(pixels)
    text = "\n".join(pixels).encode("ascii", errors="replace")
    buffer = np.frombuffer(text, dtype=np.uint8)
    digits = buffer - np.uint8(_ZERO)
    is_digit = digits < 10
    is_newline = buffer == 10
    is_space = buffer == _SPACE
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
            start = max(text.rfind(b" ", 0, pos), text.rfind(b"\n", 0, pos)) + 1  # the pixel's own row only
            end_space = text.find(b" ", pos)
            end_line = text.find(b"\n", pos)
            ends = [e for e in (end_space, end_line) if e != -1]
            token = text[start : min(ends) if ends else len(text)].decode("ascii", "replace")
            return f"has a pixel {token[:20]!r} that is not an integer 0..255"

        problems.add(bad, SkipReason.NON_INTEGER_PIXEL, reason)
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
            SkipReason.PIXEL_COUNT,
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
            SkipReason.PIXEL_RANGE,
            lambda row: (
                f"has a pixel {text[starts[first_bad[row]]:ends[first_bad[row]]].decode()[:20]!r} "
                "outside 0..255"
            ),
        )
        good[bad] = False

    keep_token = good[token_row]
    images = values[keep_token].astype(np.uint8).reshape(-1, IMAGE_SIZE, IMAGE_SIZE)
    return images, good
