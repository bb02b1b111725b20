"""Tests for fer_lib.data._parsing: both field readers, row problems and their kinds, chunks and threads."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from fer_lib.data import _parsing as parsing
from fer_lib.errors import DataError
from fer_lib.labels import IMAGE_SIZE, NUM_PIXELS
from fer_lib.data._parsing import SkipReason, parse_csv_bytes

HEADER = "emotion,pixels,Usage"
CHUNK = parsing._CHUNK_ROWS


def pixel_text(values) -> str:
    return " ".join(str(int(v)) for v in np.ravel(values))


def make_rows(n: int, seed: int = 0, usage: str | None = "Training"):
    """``n`` random valid rows, and the images and labels they hold."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    labels = rng.integers(0, 7, size=n)
    suffix = f",{usage}" if usage else ""
    rows = [f"{label},{pixel_text(image)}{suffix}" for label, image in zip(labels, images)]
    return rows, images, labels


def csv_bytes(rows: list[str], header: str = HEADER, newline: str = "\n", final_newline: bool = True):
    return (newline.join([header, *rows]) + (newline if final_newline else "")).encode()


@pytest.fixture
def fast_only(monkeypatch):
    """Fail the test if pandas reads the file: a clean file must be cut into fields from its bytes."""

    def careful(*args, **kwargs):
        raise AssertionError("the careful reader ran; this clean file should take the fast path")

    monkeypatch.setattr(parsing, "_careful_fields", careful)


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of 2 rows, so that a few rows make many chunks and chunk boundaries."""
    monkeypatch.setattr(parsing, "_CHUNK_ROWS", 2)


# ----------------------------------------------------------------------------------- good files


def test_round_trip_exact_pixels_labels_usage():
    rows, images, labels = make_rows(5)
    rows[3] = rows[3].replace(",Training", ",PublicTest")
    parsed = parse_csv_bytes(csv_bytes(rows))
    assert parsed.images.dtype == np.uint8 and parsed.images.shape == (5, 48, 48)
    np.testing.assert_array_equal(parsed.images, images)
    np.testing.assert_array_equal(parsed.labels, labels)
    assert parsed.usage.tolist() == ["Training"] * 3 + ["PublicTest", "Training"]
    assert parsed.skipped == 0 and parsed.skip_reasons == {}


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("final_newline", [True, False])
@pytest.mark.parametrize("workers", [1, 3])
def test_fast_path_over_several_chunks(fast_only, newline, final_newline, workers):
    rows, images, labels = make_rows(2 * CHUNK + 5, seed=2)
    rows[CHUNK] = rows[CHUNK].replace(",Training", ",PrivateTest")
    parsed = parse_csv_bytes(csv_bytes(rows, newline=newline, final_newline=final_newline), workers=workers)
    np.testing.assert_array_equal(parsed.images, images)
    np.testing.assert_array_equal(parsed.labels, labels)
    assert parsed.usage[CHUNK] == "PrivateTest" and parsed.usage[CHUNK + 1] == "Training"


@pytest.mark.parametrize(
    "header, build",
    [
        ("emotion,pixels", lambda label, pixels: f"{label},{pixels}"),
        ("pixels,emotion", lambda label, pixels: f"{pixels},{label}"),
        ("Usage,pixels,emotion", lambda label, pixels: f"PublicTest,{pixels},{label}"),
        ("\ufeffEmotion, Pixels ,USAGE", lambda label, pixels: f"{label},{pixels},Training"),
    ],
)
def test_fast_path_takes_any_column_order(fast_only, small_chunks, header, build):
    _, images, labels = make_rows(5, seed=3)
    rows = [build(label, pixel_text(image)) for label, image in zip(labels, images)]
    parsed = parse_csv_bytes(csv_bytes(rows, header=header), workers=2)
    np.testing.assert_array_equal(parsed.images, images)
    np.testing.assert_array_equal(parsed.labels, labels)
    expected_usage = {"emotion,pixels": "Unassigned", "pixels,emotion": "Unassigned",
                      "Usage,pixels,emotion": "PublicTest"}
    assert set(parsed.usage) == {expected_usage.get(header, "Training")}


def test_last_line_without_newline_and_without_usage(fast_only):
    rows, images, _ = make_rows(2, usage=None)
    parsed = parse_csv_bytes(csv_bytes(rows, header="emotion,pixels", final_newline=False))
    np.testing.assert_array_equal(parsed.images, images)


def test_extreme_and_zero_padded_pixels(fast_only):
    pixels = np.array([0, 9, 10, 99, 100, 255] * (NUM_PIXELS // 6))
    text = " ".join(f"{v:03d}" if i % 5 == 0 else str(v) for i, v in enumerate(pixels))  # "007" is 7
    parsed = parse_csv_bytes(csv_bytes([f"6,{text},Training"]))
    np.testing.assert_array_equal(parsed.images.ravel(), pixels)


def test_careful_path_reads_crlf_quoted_pixels_and_column_order():
    rows, images, labels = make_rows(3)
    quoted = [f'{r.split(",")[0]},Training,"{r.split(",")[1]}"' for r in rows]
    parsed = parse_csv_bytes(csv_bytes(quoted, header="emotion, Usage, pixels", newline="\r\n"))
    np.testing.assert_array_equal(parsed.images, images)
    np.testing.assert_array_equal(parsed.labels, labels)


@pytest.mark.parametrize("quote", ['3,"{pixels}",Training', '3,{pixels},"Training"', '"3",{pixels},Training'])
def test_a_quote_anywhere_takes_the_careful_path(quote):
    rows, images, _ = make_rows(2)
    rows[1] = quote.format(pixels=pixel_text(images[1]))
    parsed = parse_csv_bytes(csv_bytes(rows))
    np.testing.assert_array_equal(parsed.images, images)
    assert parsed.labels[1] == 3 and parsed.usage[1] == "Training"


def test_careful_path_tolerates_stray_spaces():
    rows, images, _ = make_rows(2)
    rows[1] = rows[1].replace(" ", "  ", 3).replace(",Training", " ,Training")
    parsed = parse_csv_bytes(csv_bytes(rows))
    np.testing.assert_array_equal(parsed.images, images)


def test_usage_column_is_optional():
    rows, images, _ = make_rows(2, usage=None)
    parsed = parse_csv_bytes(csv_bytes(rows, header="emotion,pixels"))
    assert parsed.usage.tolist() == ["Unassigned", "Unassigned"]
    np.testing.assert_array_equal(parsed.images, images)


def test_blank_lines_are_ignored_but_row_numbers_stay_true():
    rows, _, _ = make_rows(3)
    rows.insert(1, "")
    rows[3] = rows[3].replace(",Training", ",Bogus")
    with pytest.raises(DataError, match=r"row 4 \(line 5\).*Usage 'Bogus'"):
        parse_csv_bytes(csv_bytes(rows), source="f.csv")


# ----------------------------------------------------------------------------------- bad files


@pytest.mark.parametrize("content", [b"   \n\n", b"\n"])
def test_blank_content(content):
    with pytest.raises(DataError, match=r"empty\.csv: the file is empty; expected a header"):
        parse_csv_bytes(content, source="empty.csv")


def test_header_only():
    with pytest.raises(DataError, match=r"f\.csv: the file has a header but no rows"):
        parse_csv_bytes(csv_bytes([]), source="f.csv")


def test_missing_columns():
    with pytest.raises(DataError, match=r"f\.csv: missing column\(s\) pixels; found 'emotion,Usage'"):
        parse_csv_bytes(csv_bytes(["3,Training"], header="emotion,Usage"), source="f.csv")


def test_options_are_validated():
    with pytest.raises(ValueError, match="on_error must be 'raise' or 'skip'; got 'ignore'"):
        parse_csv_bytes(csv_bytes(make_rows(1)[0]), on_error="ignore")
    with pytest.raises(ValueError, match="workers must be a positive number of threads; got 0"):
        parse_csv_bytes(csv_bytes(make_rows(1)[0]), workers=0)


def last_pixel(text: str):
    """A mutation that replaces a row's last pixel by ``text``."""
    return lambda row: row.rsplit(" ", 1)[0] + f" {text},Training"


BAD_ROWS = [  # (mutation of a good row, the problem in the message, its kind)
    (lambda r: r.replace(" 1", "", 1) if " 1" in r else r.rsplit(" ", 1)[0] + ",Training",
     r"has 2303 pixels; expected 2304", SkipReason.PIXEL_COUNT),
    (lambda r: r.replace(",Training", " 7,Training"), r"has 2305 pixels", SkipReason.PIXEL_COUNT),
    (last_pixel("3x"), r"has a pixel '3x' that is not an integer 0\.\.255", SkipReason.NON_INTEGER_PIXEL),
    (last_pixel("256"), r"has a pixel '256' outside 0\.\.255", SkipReason.PIXEL_RANGE),
    (last_pixel("1000"), r"has a pixel '1000' outside 0\.\.255", SkipReason.PIXEL_RANGE),
    (last_pixel("-1"), r"has a pixel '-1' that is not an integer", SkipReason.NON_INTEGER_PIXEL),
    (lambda r: r.replace(" ", ";", 1), r"has a pixel '\d+;\d+' that is not an integer",
     SkipReason.NON_INTEGER_PIXEL),
    (lambda r: "7" + r[1:], r"has emotion '7'; expected an integer 0\.\.6", SkipReason.LABEL),
    (lambda r: "happy" + r[1:], r"has emotion 'happy'", SkipReason.LABEL),
    (lambda r: r.replace(",Training", ",Validation"), r"has Usage 'Validation'; expected one of",
     SkipReason.USAGE),
    (lambda r: r.split(",")[0] + ",,Training", r"has 0 pixels", SkipReason.PIXEL_COUNT),
]


@pytest.mark.parametrize("mutate, message, kind", BAD_ROWS)
def test_bad_row_names_file_row_and_problem(mutate, message, kind):
    rows, _, _ = make_rows(3)
    rows[1] = mutate(rows[1])
    with pytest.raises(DataError, match=r"^bad\.csv: row 2 \(line 3\) " + message):
        parse_csv_bytes(csv_bytes(rows), source="bad.csv")


@pytest.mark.parametrize("mutate, message, kind", BAD_ROWS)
@pytest.mark.parametrize("bad_row", [1, 2, 6])  # the end of a chunk, the start of the next, alone in the last
def test_bad_row_at_a_chunk_boundary_is_named_and_skipped(small_chunks, mutate, message, kind, bad_row):
    rows, images, labels = make_rows(7, seed=4)
    rows[bad_row] = mutate(rows[bad_row])
    raw = csv_bytes(rows, newline="\r\n")
    with pytest.raises(DataError, match=rf"^big\.csv: row {bad_row + 1} \(line {bad_row + 2}\) {message}"):
        parse_csv_bytes(raw, source="big.csv", workers=2)
    parsed = parse_csv_bytes(raw, source="big.csv", on_error="skip", workers=2)
    keep = np.arange(len(rows)) != bad_row
    np.testing.assert_array_equal(parsed.images, images[keep])
    np.testing.assert_array_equal(parsed.labels, labels[keep])
    assert parsed.skip_reasons == {kind: 1} and parsed.skipped == 1
    assert parsed.first_skipped[0][0] == bad_row


def test_skip_counts_each_kind_where_it_is_found():
    rows, images, _ = make_rows(6)
    rows[1] = "9" + rows[1][1:]
    rows[4] = rows[4].rsplit(" ", 1)[0] + " 999,Training"
    rows[5] = rows[5].replace(",Training", ",Nope")
    parsed = parse_csv_bytes(csv_bytes(rows), on_error="skip")
    np.testing.assert_array_equal(parsed.images, images[[0, 2, 3]])
    assert parsed.skip_reasons == {SkipReason.LABEL: 1, SkipReason.PIXEL_RANGE: 1, SkipReason.USAGE: 1}
    assert parsed.skip_reasons == {"label": 1, "pixel_range": 1, "usage": 1}  # a str enum
    assert [row for row, _ in parsed.first_skipped] == [1, 4, 5]
    assert "has emotion '9'" in parsed.first_skipped[0][1]


def test_skip_reason_is_a_str_enum_with_descriptions():
    assert SkipReason("pixel_count") is SkipReason.PIXEL_COUNT and str(SkipReason.USAGE) == "usage"
    assert {reason.description for reason in SkipReason} == {
        "wrong pixel count", "non-integer pixel", "pixel out of range", "bad emotion label", "unknown Usage",
        "no face found", "more than one face",
    }


# ----------------------------------------------------------------------------------- properties


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(garbage=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40),
       row=st.integers(min_value=0, max_value=6),
       position=st.integers(min_value=0, max_value=NUM_PIXELS))
def test_malformed_pixels_never_crash_and_skip_keeps_good_rows(small_chunks, garbage, row, position):
    """Junk spliced into any row of a many-chunk file: a DataError naming that row, or a clean parse."""
    rows, images, _ = make_rows(7, seed=1)
    label, pixels, usage = rows[row].split(",")
    tokens = pixels.split(" ")
    junk = garbage.replace(",", ";").replace("\n", " ").replace("\r", " ").replace('"', "'")
    tokens.insert(position, junk)
    rows[row] = f"{label},{' '.join(tokens)},{usage}"
    raw = csv_bytes(rows)
    try:
        parsed = parse_csv_bytes(raw, source="h.csv", workers=2)
    except DataError as exc:
        assert str(exc).startswith(f"h.csv: row {row + 1} (line {row + 2}) ")
    else:  # junk that is only whitespace leaves a valid row
        assert len(parsed.labels) == 7
    skipped = parse_csv_bytes(raw, source="h.csv", on_error="skip", workers=2)
    keep = np.arange(7) != row if skipped.skipped else np.ones(7, bool)
    np.testing.assert_array_equal(skipped.images, images[keep])


@settings(max_examples=25, deadline=None)
@given(pixels=arrays(np.uint8, NUM_PIXELS), label=st.integers(0, 6))
def test_any_valid_row_round_trips(pixels, label):
    parsed = parse_csv_bytes(csv_bytes([f"{label},{pixel_text(pixels)},PublicTest"]))
    np.testing.assert_array_equal(parsed.images.ravel(), pixels)
    assert parsed.labels.tolist() == [label]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n_rows=st.integers(1, 9), seed=st.integers(0, 2**16), newline=st.sampled_from(["\n", "\r\n"]),
       final_newline=st.booleans(), workers=st.integers(1, 3))
def test_both_readers_agree(small_chunks, monkeypatch, n_rows, seed, newline, final_newline, workers):
    rows, images, labels = make_rows(n_rows, seed=seed)
    raw = csv_bytes(rows, newline=newline, final_newline=final_newline)
    assert parsing._fast_fields(raw) is not None
    fast = parse_csv_bytes(raw, workers=workers)
    with monkeypatch.context() as patch:
        patch.setattr(parsing, "_fast_fields", lambda raw: None)  # pandas reads it instead
        careful = parse_csv_bytes(raw, workers=workers)
    for parsed in (fast, careful):
        np.testing.assert_array_equal(parsed.images, images)
        np.testing.assert_array_equal(parsed.labels, labels)
        assert parsed.usage.tolist() == ["Training"] * n_rows


def test_a_file_without_header_row_says_so_briefly(tmp_path):
    from fer_lib.data import load_fer2013

    pixels = " ".join(["128"] * 2304)
    path = tmp_path / "nohdr.csv"
    path.write_text(f"3,{pixels},Training\n4,{pixels},PublicTest\n")
    for on_error in ("raise", "skip"):
        with pytest.raises(DataError, match="no header row; expected emotion,pixels,Usage") as caught:
            load_fer2013(path, cache=False, on_error=on_error)
        assert len(str(caught.value)) < len(str(path)) + 200  # not the pixels of the first row


def test_column_names_match_whatever_their_case(tmp_path):
    from fer_lib.data import load_fer2013

    pixels = " ".join(["128"] * 2304)
    path = tmp_path / "lower.csv"
    path.write_text(f"Emotion,PIXELS,usage\n3,{pixels},Training\n4,{pixels},PublicTest\n")
    for on_error in ("raise", "skip"):
        faces = load_fer2013(path, cache=False, on_error=on_error)
        assert faces.usage.tolist() == ["Training", "PublicTest"] and faces.labels.tolist() == [3, 4]
