"""Tests for fer_lib.data: parsing, validation, cache, discovery, synthetic data, splits."""

from __future__ import annotations

import gzip
import io
import os
import tarfile
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import fer_lib
from fer_lib import data as fdata
from fer_lib.errors import DataError, DataNotFoundError
from fer_lib.labels import EMOTIONS, IMAGE_SIZE, NUM_PIXELS

HEADER = "emotion,pixels,Usage"


def pixel_text(values) -> str:
    return " ".join(str(int(v)) for v in np.ravel(values))


def make_rows(n: int, seed: int = 0, usage: str | None = "Training") -> tuple[list[str], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    labels = rng.integers(0, 7, size=n)
    rows = [f"{label},{pixel_text(image)}" + (f",{usage}" if usage else "") for label, image in zip(labels, images)]
    return rows, images, labels


def write_csv(path: Path, rows: list[str], header: str = HEADER, newline: str = "\n") -> Path:
    path.write_text(newline.join([header, *rows]) + newline)
    return path


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Every test gets its own cache folder."""
    monkeypatch.setenv("FER_LIB_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


# ----------------------------------------------------------------------------------- parsing


def test_round_trip_exact_pixels_labels_usage(tmp_path):
    rows, images, labels = make_rows(5)
    rows[3] = rows[3].replace(",Training", ",PublicTest")
    loaded = fer_lib.load_fer2013(write_csv(tmp_path / "f.csv", rows))
    assert loaded.images.dtype == np.uint8 and loaded.images.shape == (5, 48, 48)
    np.testing.assert_array_equal(loaded.images, images)
    np.testing.assert_array_equal(loaded.labels, labels)
    assert loaded.usage.tolist() == ["Training"] * 3 + ["PublicTest", "Training"]
    assert loaded.skipped == 0 and len(loaded) == 5


def test_parses_crlf_and_quoted_pixels_and_column_order(tmp_path):
    rows, images, labels = make_rows(3)
    quoted = [f'{r.split(",")[0]},Training,"{r.split(",")[1]}"' for r in rows]
    path = write_csv(tmp_path / "f.csv", quoted, header="emotion, Usage, pixels", newline="\r\n")
    loaded = fer_lib.load_fer2013(path)
    np.testing.assert_array_equal(loaded.images, images)
    np.testing.assert_array_equal(loaded.labels, labels)


def test_usage_column_is_optional(tmp_path):
    rows, images, _ = make_rows(2, usage=None)
    loaded = fer_lib.load_fer2013(write_csv(tmp_path / "f.csv", rows, header="emotion,pixels"))
    assert loaded.usage.tolist() == ["Unassigned", "Unassigned"]
    np.testing.assert_array_equal(loaded.images, images)


def test_blank_lines_are_ignored_but_row_numbers_stay_true(tmp_path):
    rows, _, _ = make_rows(3)
    rows.insert(1, "")
    rows[3] = rows[3].replace(",Training", ",Bogus")
    with pytest.raises(DataError, match=r"row 4 \(line 5\).*Usage 'Bogus'"):
        fer_lib.load_fer2013(write_csv(tmp_path / "f.csv", rows))


@pytest.mark.parametrize("suffix", [".csv.gz", ".zip", ".tar.gz"])
def test_compressed_and_archived_files(tmp_path, suffix):
    rows, images, _ = make_rows(4)
    text = "\n".join([HEADER, *rows]).encode()
    path = tmp_path / f"fer2013{suffix}"
    if suffix == ".csv.gz":
        path.write_bytes(gzip.compress(text))
    elif suffix == ".zip":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("README.txt", "not data")
            archive.writestr("fer2013/fer2013.csv", text)
    else:
        with tarfile.open(path, "w:gz") as archive:
            info = tarfile.TarInfo("fer2013/fer2013.csv")
            info.size = len(text)
            archive.addfile(info, io.BytesIO(text))
    np.testing.assert_array_equal(fer_lib.load_fer2013(path).images, images)


# ----------------------------------------------------------------------------------- errors


def test_missing_file_says_where_to_get_it(tmp_path):
    with pytest.raises(DataNotFoundError, match=r"nope\.csv does not exist.*Kaggle.*data_input/fer2013\.csv"):
        fer_lib.load_fer2013(tmp_path / "nope.csv")


def test_missing_file_is_also_a_filenotfounderror(tmp_path):
    with pytest.raises(FileNotFoundError):
        fer_lib.load_fer2013(tmp_path / "nope.csv")


@pytest.mark.parametrize("content", [b"", b"   \n\n"])
def test_empty_file(tmp_path, content):
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    with pytest.raises(DataError, match=r"empty\.csv: the file is empty"):
        fer_lib.load_fer2013(path)


def test_header_only(tmp_path):
    with pytest.raises(DataError, match="header but no rows"):
        fer_lib.load_fer2013(write_csv(tmp_path / "f.csv", []))


def test_missing_columns(tmp_path):
    path = write_csv(tmp_path / "f.csv", ["3,Training"], header="emotion,Usage")
    with pytest.raises(DataError, match=r"f\.csv: missing column\(s\) pixels"):
        fer_lib.load_fer2013(path)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda r: r.replace(" 1", "", 1) if " 1" in r else r.rsplit(" ", 1)[0] + ",Training",
         r"row 2 \(line 3\) has 2303 pixels; expected 2304"),
        (lambda r: r.replace(",Training", " 7,Training"), r"row 2 \(line 3\) has 2305 pixels"),
        (lambda r: r.replace(",Training", " 3x,Training").rsplit(" ", 2)[0] + " 3x,Training",
         r"row 2 \(line 3\) has a pixel '3x' that is not an integer 0\.\.255"),
        (lambda r: r.rsplit(" ", 1)[0] + " 256,Training", r"row 2 \(line 3\) has a pixel '256' outside 0\.\.255"),
        (lambda r: r.rsplit(" ", 1)[0] + " -1,Training", r"row 2 .*pixel '-1' that is not an integer"),
        (lambda r: "7" + r[1:], r"row 2 \(line 3\) has emotion '7'; expected an integer 0\.\.6"),
        (lambda r: "happy" + r[1:], r"row 2 .*has emotion 'happy'"),
        (lambda r: r.replace(",Training", ",Validation"), r"row 2 .*Usage 'Validation'; expected one of"),
        (lambda r: r.split(",")[0] + ",,Training", r"row 2 .*has 0 pixels"),
    ],
)
def test_bad_row_names_file_row_and_problem(tmp_path, mutate, message):
    rows, _, _ = make_rows(3)
    rows[1] = mutate(rows[1])
    path = write_csv(tmp_path / "bad.csv", rows)
    with pytest.raises(DataError, match=r"bad\.csv: " + message):
        fer_lib.load_fer2013(path)


def test_skip_keeps_every_good_row_and_reports(tmp_path):
    rows, images, labels = make_rows(6)
    rows[1] = "9" + rows[1][1:]
    rows[4] = rows[4].rsplit(" ", 1)[0] + " 999,Training"
    path = write_csv(tmp_path / "f.csv", rows)
    with pytest.warns(UserWarning, match=r"skipped 2 bad row\(s\).*row 2"):
        loaded = fer_lib.load_fer2013(path, on_error="skip")
    keep = [0, 2, 3, 5]
    np.testing.assert_array_equal(loaded.images, images[keep])
    np.testing.assert_array_equal(loaded.labels, labels[keep])
    assert loaded.skipped == 2
    assert loaded.skip_reasons == {"bad emotion label": 1, "pixel out of range": 1}
    # The cached copy reports the same.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = fer_lib.load_fer2013(path, on_error="skip")
    assert again.skipped == 2 and again.skip_reasons == loaded.skip_reasons


def test_on_error_is_validated(tmp_path):
    rows, _, _ = make_rows(1)
    with pytest.raises(ValueError, match="on_error must be 'raise' or 'skip'"):
        fer_lib.load_fer2013(write_csv(tmp_path / "f.csv", rows), on_error="ignore")


@pytest.mark.parametrize("suffix", [".csv.gz", ".zip"])
def test_truncated_archive(tmp_path, suffix):
    rows, _, _ = make_rows(20)
    text = "\n".join([HEADER, *rows]).encode()
    path = tmp_path / f"fer2013{suffix}"
    if suffix == ".csv.gz":
        blob = gzip.compress(text)
    else:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("fer2013.csv", text)
        blob = buffer.getvalue()
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(DataError, match=rf"fer2013{suffix.replace('.', chr(92) + '.')}: the file is truncated or corrupt"):
        fer_lib.load_fer2013(path)


def test_zip_without_csv(tmp_path):
    path = tmp_path / "x.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.txt", "x")
    with pytest.raises(DataError, match="holds 0 CSV files"):
        fer_lib.load_fer2013(path)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(garbage=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40),
       position=st.integers(min_value=0, max_value=NUM_PIXELS))
def test_malformed_pixels_never_crash_and_skip_keeps_good_rows(tmp_path, garbage, position):
    """Any junk spliced into a pixel string: a DataError naming row 2, or a clean parse, nothing else."""
    rows, images, _ = make_rows(3, seed=1)
    label, pixels, usage = rows[1].split(",")
    tokens = pixels.split(" ")
    junk = garbage.replace(",", ";").replace("\n", " ").replace("\r", " ").replace('"', "'")
    tokens.insert(position, junk)
    rows[1] = f"{label},{' '.join(tokens)},{usage}"
    path = write_csv(tmp_path / "h.csv", rows)
    try:
        loaded = fer_lib.load_fer2013(path, cache=False)
    except DataError as exc:
        assert "h.csv: row 2 (line 3)" in str(exc)
    else:  # junk that is only whitespace leaves a valid row
        assert len(loaded) == 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        skipped = fer_lib.load_fer2013(path, cache=False, on_error="skip")
    np.testing.assert_array_equal(skipped.images[0], images[0])
    np.testing.assert_array_equal(skipped.images[-1], images[2])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pixels=arrays(np.uint8, NUM_PIXELS), label=st.integers(0, 6))
def test_any_valid_row_round_trips(tmp_path, pixels, label):
    path = write_csv(tmp_path / "v.csv", [f"{label},{pixel_text(pixels)},PublicTest"])
    loaded = fer_lib.load_fer2013(path, cache=False)
    np.testing.assert_array_equal(loaded.images.ravel(), pixels)
    assert loaded.labels.tolist() == [label]


# ----------------------------------------------------------------------------------- cache


def test_cache_is_used_and_invalidated_by_content(tmp_path, private_cache):
    rows, images, _ = make_rows(3)
    path = write_csv(tmp_path / "f.csv", rows)
    first = fer_lib.load_fer2013(path)
    cached = list(private_cache.glob("*.npz"))
    assert len(cached) == 1
    second = fer_lib.load_fer2013(path)
    np.testing.assert_array_equal(first.images, second.images)
    # Same size, same name, same modification time, different pixels: must not be served stale.
    stat = path.stat()
    new_rows, new_images, _ = make_rows(3, seed=9)
    write_csv(path, new_rows)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    np.testing.assert_array_equal(fer_lib.load_fer2013(path).images, new_images)


def test_corrupt_cache_is_ignored(tmp_path, private_cache):
    rows, images, _ = make_rows(2)
    path = write_csv(tmp_path / "f.csv", rows)
    fer_lib.load_fer2013(path)
    (cache_file,) = private_cache.glob("*.npz")
    cache_file.write_bytes(b"PK\x03\x04 half written")
    with pytest.warns(UserWarning, match="ignoring unreadable cache"):
        loaded = fer_lib.load_fer2013(path)
    np.testing.assert_array_equal(loaded.images, images)


def test_cache_write_is_atomic(tmp_path, private_cache, monkeypatch):
    """An interrupted cache write leaves no file behind (neither the target nor a temporary)."""
    rows, _, _ = make_rows(2)
    path = write_csv(tmp_path / "f.csv", rows)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(fdata.np, "savez", interrupted)
    with pytest.raises(KeyboardInterrupt):
        fer_lib.load_fer2013(path)
    assert list(private_cache.iterdir()) == []


def test_no_cache_writes_nothing(tmp_path, private_cache):
    rows, _, _ = make_rows(2)
    fer_lib.load_fer2013(write_csv(tmp_path / "f.csv", rows), cache=False)
    assert not private_cache.exists() or list(private_cache.iterdir()) == []


# ----------------------------------------------------------------------------------- discovery, synthetic


def test_discovery_order(tmp_path, monkeypatch):
    monkeypatch.setattr(fdata, "_REPO_ROOT", tmp_path / "repo")
    assert fdata.discover_fer2013() is None
    shared = tmp_path / "shared" / "data" / "fer2013.csv.gz"
    shared.parent.mkdir(parents=True)
    shared.write_bytes(b"x")
    assert fdata.discover_fer2013() == shared
    local = tmp_path / "repo" / "data_input" / "fer2013.csv.gz"
    local.parent.mkdir(parents=True)
    local.write_bytes(b"x")
    assert fdata.discover_fer2013() == local
    explicit = tmp_path / "mine.csv"
    explicit.write_text("x")
    assert fdata.discover_fer2013(explicit) == explicit
    with pytest.raises(DataNotFoundError, match="missing.csv does not exist"):
        fdata.discover_fer2013(tmp_path / "missing.csv")


def test_synthetic_fallback_prints_banner(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(fdata, "_REPO_ROOT", tmp_path / "repo")
    loaded = fdata.load_default_data(synthetic_size=70)
    assert loaded.synthetic and len(loaded) == 70
    assert "SYNTHETIC DATA" in capsys.readouterr().out


def test_synthetic_is_reproducible_balanced_and_learnable():
    first = fdata.synthetic_fer2013(700, seed=3)
    second = fdata.synthetic_fer2013(700, seed=3)
    np.testing.assert_array_equal(first.images, second.images)
    assert first.class_counts().tolist() == [100] * 7
    assert set(first.usage) == {"Training", "PublicTest"}
    # Learnable without a CNN: a linear model on pixels beats chance (1/7) by far.
    from sklearn.linear_model import LogisticRegression

    train, test = fdata.synthetic_fer2013(1400, seed=4), fdata.synthetic_fer2013(350, seed=5)
    model = LogisticRegression(max_iter=300).fit(train.images.reshape(len(train), -1) / 255.0, train.labels)
    assert model.score(test.images.reshape(len(test), -1) / 255.0, test.labels) > 0.5


# ----------------------------------------------------------------------------------- splits


def test_official_split_uses_usage_and_keeps_private_test_out():
    faces = fdata.synthetic_fer2013(700, seed=0)
    usage = faces.usage.copy()
    usage[:50] = "PrivateTest"
    faces = fdata.FER2013(faces.images, faces.labels, usage)
    split = fdata.official_split(faces, validation_fraction=0.1, seed=0)
    assert set(split.train.usage) == {"Training"} and set(split.validation.usage) == {"Training"}
    assert set(split.test.usage) == {"PublicTest"}
    n_training = int(np.sum(usage == "Training"))
    assert len(split.train) + len(split.validation) == n_training
    assert abs(len(split.validation) - round(0.1 * n_training)) <= 1
    # Stratified: every class is in the validation part.
    assert (split.validation.class_counts() > 0).all()
    again = fdata.official_split(faces, validation_fraction=0.1, seed=0)
    np.testing.assert_array_equal(split.validation.labels, again.validation.labels)


def test_official_split_without_usage_explains():
    faces = fdata.synthetic_fer2013(70)
    faces = fdata.FER2013(faces.images, faces.labels, np.full(70, "Unassigned"), source="x.csv")
    with pytest.raises(DataError, match="no Usage column; use protocol='tutorial'"):
        fdata.make_split(faces, "official")


def test_tutorial_split_matches_sklearn_protocol():
    from sklearn.model_selection import train_test_split

    faces = fdata.synthetic_fer2013(500, seed=2)
    split = fdata.make_split(faces, "tutorial")
    x_train, x_test, _, _ = train_test_split(faces.images, faces.labels, test_size=0.1, random_state=42)
    x_train, x_valid, _, _ = train_test_split(x_train, np.zeros(len(x_train)), test_size=0.1, random_state=41)
    np.testing.assert_array_equal(split.test.images, x_test)
    np.testing.assert_array_equal(split.validation.images, x_valid)
    np.testing.assert_array_equal(split.train.images, x_train)
    assert split.sizes() == {"train": 405, "validation": 45, "test": 50}


def test_unknown_protocol():
    with pytest.raises(ValueError, match="unknown split protocol 'random'"):
        fdata.make_split(fdata.synthetic_fer2013(50), "random")


def test_save_and_load_split(tmp_path):
    split = fdata.make_split(fdata.synthetic_fer2013(300, seed=1), "official")
    path = fdata.save_split(split, tmp_path / "prepared" / "split.npz")
    again = fdata.load_split(path)
    assert again.sizes() == split.sizes() and again.protocol == "official" and again.seed == 0
    np.testing.assert_array_equal(again.test.images, split.test.images)
    assert again.train.synthetic
    with pytest.raises(DataNotFoundError, match="run notebooks/02_prepare_data.ipynb"):
        fdata.load_split(tmp_path / "none.npz")


# ----------------------------------------------------------------------------------- preprocessing


@pytest.mark.parametrize("shape", [(48, 48), (3, 48, 48), (3, 48, 48, 1)])
def test_to_model_input_shapes_without_rescaling(shape):
    images = np.full(shape, 200, dtype=np.uint8)
    prepared = fdata.to_model_input(images)
    assert prepared.dtype == np.float32 and prepared.shape[1:] == (48, 48, 1)
    assert prepared.max() == 200.0  # no rescaling outside the model


@pytest.mark.parametrize("shape", [(47, 48), (2, 48, 48, 3), (48,)])
def test_to_model_input_rejects_wrong_shapes(shape):
    with pytest.raises(ValueError, match="expected grey faces of shape"):
        fdata.to_model_input(np.zeros(shape))


def test_emotion_names_defined_once():
    assert fer_lib.EMOTIONS == EMOTIONS == ("Angry", "Disgust", "Fear", "Happy", "Sad", "Surprise", "Neutral")
    assert fer_lib.IMAGE_SIZE == 48


# ----------------------------------------------------------------------------------- real data


@pytest.mark.shared_data
def test_real_fer2013_file(shared_fer2013):
    faces = fer_lib.load_fer2013(shared_fer2013)
    assert faces.images.shape == (32298, 48, 48) and faces.skipped == 0
    assert dict(zip(*np.unique(faces.usage, return_counts=True))) == {"Training": 28709, "PublicTest": 3589}
    assert faces.class_counts()["Disgust"] == 492  # the famous imbalance
    split = fdata.make_split(faces, "official", seed=0)
    assert len(split.test) == 3589 and len(split.train) + len(split.validation) == 28709
