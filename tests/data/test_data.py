"""Tests for fer_lib.data._loading: reading files and archives, the cache, discovery, load_fer2013 end to end.

The parser itself is tested in test_parsing.py, the container, splits and synthetic faces in their own files.
"""

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

import fer_lib
from fer_lib.data import _loading as fdata
from fer_lib.errors import DataError, DataNotFoundError, FerWarning
from fer_lib.labels import EMOTIONS, IMAGE_SIZE
from fer_lib.data._parsing import SkipReason
from fer_lib.data._splits import make_split

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


# ----------------------------------------------------------------------------------- reading


def test_round_trip_exact_pixels_labels_usage(tmp_path):
    rows, images, labels = make_rows(5)
    rows[3] = rows[3].replace(",Training", ",PublicTest")
    loaded = fer_lib.load_fer2013(write_csv(tmp_path / "f.csv", rows))
    assert loaded.images.dtype == np.uint8 and loaded.images.shape == (5, 48, 48)
    np.testing.assert_array_equal(loaded.images, images)
    np.testing.assert_array_equal(loaded.labels, labels)
    assert loaded.usage.tolist() == ["Training"] * 3 + ["PublicTest", "Training"]
    assert loaded.skipped == 0 and len(loaded) == 5
    assert loaded.source == str(tmp_path / "f.csv") and not loaded.synthetic


@pytest.mark.parametrize("cache", [True, False])
def test_sha256_is_the_file_hash_with_or_without_cache(tmp_path, cache):
    rows, images, _ = make_rows(3)
    path = write_csv(tmp_path / "f.csv", rows)
    loaded = fer_lib.load_fer2013(path, cache=cache)
    assert loaded.sha256 == fdata.file_sha256(path)
    np.testing.assert_array_equal(loaded.images, images)


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


def test_folder_is_not_a_file(tmp_path):
    with pytest.raises(DataNotFoundError, match=r"FER2013 file .* is a folder without images\. Download FER2013"):
        fer_lib.load_fer2013(tmp_path)


@pytest.mark.parametrize("content", [b"", b"   \n\n"])
def test_empty_file(tmp_path, content):
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    with pytest.raises(DataError, match=r"empty\.csv: the file is empty.*Download FER2013"):
        fer_lib.load_fer2013(path)


def test_skip_keeps_every_good_row_and_reports(tmp_path):
    rows, images, labels = make_rows(6)
    rows[1] = "9" + rows[1][1:]
    rows[4] = rows[4].rsplit(" ", 1)[0] + " 999,Training"
    path = write_csv(tmp_path / "f.csv", rows)
    with pytest.warns(FerWarning, match=r"f\.csv: skipped 2 bad row\(s\) \(bad emotion label: 1, pixel out of range: 1\); "
                                        r"first: row 2: has emotion '9'"):
        loaded = fer_lib.load_fer2013(path, on_error="skip")
    keep = [0, 2, 3, 5]
    np.testing.assert_array_equal(loaded.images, images[keep])
    np.testing.assert_array_equal(loaded.labels, labels[keep])
    assert loaded.skipped == 2
    assert loaded.skip_reasons == {SkipReason.LABEL: 1, SkipReason.PIXEL_RANGE: 1}
    # The cached copy reports the same.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = fer_lib.load_fer2013(path, on_error="skip")
    assert again.skipped == 2 and again.skip_reasons == loaded.skip_reasons
    assert all(isinstance(kind, SkipReason) for kind in again.skip_reasons)


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


# ----------------------------------------------------------------------------------- discovery


@pytest.fixture
def no_data_anywhere(tmp_path, monkeypatch):
    """Working in a sub-folder of a project without data_input/ files and no FER2013_PATH: nothing found."""
    (tmp_path / "repo" / "notebooks").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "repo" / "notebooks")  # data_input/ is looked for here, then in the parents
    monkeypatch.delenv("FER2013_PATH", raising=False)
    return tmp_path / "repo"


def test_discovery_order(tmp_path, monkeypatch, no_data_anywhere):
    assert fdata.discover_fer2013() is None
    local = no_data_anywhere / "data_input" / "fer2013.csv.gz"
    local.parent.mkdir(parents=True)
    local.write_bytes(b"x")
    assert fdata.discover_fer2013() == local
    named = tmp_path / "elsewhere" / "faces.csv"
    named.parent.mkdir()
    named.write_bytes(b"x")
    monkeypatch.setenv("FER2013_PATH", str(named))
    assert fdata.discover_fer2013() == named  # the variable wins over data_input/
    explicit = tmp_path / "mine.csv"
    explicit.write_text("x")
    assert fdata.discover_fer2013(explicit) == explicit  # an explicit path wins over both
    with pytest.raises(DataNotFoundError, match="missing.csv does not exist"):
        fdata.discover_fer2013(tmp_path / "missing.csv")


def test_discovery_names_a_variable_that_points_nowhere(tmp_path, monkeypatch, no_data_anywhere):
    local = no_data_anywhere / "data_input" / "fer2013.csv"
    local.parent.mkdir(parents=True)
    local.write_bytes(b"x")
    monkeypatch.setenv("FER2013_PATH", str(tmp_path / "gone.csv.gz"))
    with pytest.raises(DataNotFoundError, match=r"environment variable FER2013_PATH names .*gone\.csv\.gz, which does not exist"):
        fdata.discover_fer2013()  # no silent fall back to data_input/
    monkeypatch.setenv("FER2013_PATH", "")
    assert fdata.discover_fer2013() == local  # set but empty counts as unset


def test_the_library_names_no_path_outside_the_repository():
    for path in Path(fer_lib.__file__).parent.rglob("*.py"):
        source = path.read_text()
        assert "../shared" not in source and "shared/data" not in source and '"shared"' not in source, path


def test_synthetic_fallback_prints_banner(no_data_anywhere, capsys):
    loaded = fdata.load_default_data(synthetic_size=70)
    assert loaded.synthetic and len(loaded) == 70
    assert "SYNTHETIC DATA" in capsys.readouterr().out


def test_default_data_loads_the_discovered_file(tmp_path, monkeypatch, no_data_anywhere, capsys):
    rows, images, _ = make_rows(2)
    monkeypatch.setenv("FER2013_PATH", str(write_csv(tmp_path / "f.csv", rows)))
    loaded = fdata.load_default_data(cache=False)
    np.testing.assert_array_equal(loaded.images, images)
    assert capsys.readouterr().out == "FER2013 from f.csv (named by $FER2013_PATH)\n"
    fdata.load_default_data(tmp_path / "f.csv", cache=False)
    assert capsys.readouterr().out == "FER2013 from f.csv (the path given)\n"


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
    split = make_split(faces, "official", seed=0)
    assert len(split.test) == 3589 and len(split.train) + len(split.validation) == 28709
