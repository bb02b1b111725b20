"""Data sets as image folders: FER2013's Kaggle image copy and your own faces."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fer_lib.data import _folders as folders
from fer_lib.data import load_fer2013, load_image_folder, synthetic_fer2013
from fer_lib.errors import DataError, FerWarning
from fer_lib.labels import EMOTIONS


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("FER_LIB_CACHE_DIR", str(tmp_path / "cache"))


def _listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def _kaggle_copy(faces, root: Path, *, prefixes: bool = True) -> Path:
    """FER2013 rows written the way the Kaggle image copy lays them out (PNG, so the pixels survive)."""
    for index, (image, label, usage) in enumerate(zip(faces.images, faces.labels, faces.usage)):
        split = "train" if usage == "Training" else "test"
        name = f"{usage}_{index}.png" if prefixes else f"{index}.png"
        target = root / split / EMOTIONS[label].lower() / name
        target.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(target), image)
    return root


@pytest.fixture(scope="module")
def rows(shared_fer2013):
    """A few FER2013 rows of every emotion from both parts the file holds."""
    faces = load_fer2013(shared_fer2013)
    pick = np.concatenate([np.flatnonzero((faces.labels == label) & (faces.usage == usage))[:3]
                           for label in range(7) for usage in ("Training", "PublicTest")])
    return faces.subset(np.sort(pick))


def test_the_kaggle_image_copy_gives_the_csv_rows(rows, tmp_path):
    root = _kaggle_copy(rows, tmp_path / "fer2013")
    before = _listing(root)
    with pytest.warns(FerWarning, match="differs from FER2013's image copy"):  # 42 faces, not 35,887
        loaded = load_fer2013(root)
    order = np.argsort([int(Path(f).stem.split("_")[1]) for f in loaded.files])
    np.testing.assert_array_equal(loaded.images[order], rows.images)
    np.testing.assert_array_equal(loaded.labels[order], rows.labels)
    np.testing.assert_array_equal(loaded.usage[order], rows.usage)
    assert _listing(root) == before  # nothing written inside the user's folder

    archive = tmp_path / "fer2013.zip"  # the download as it comes: a zip with one folder around it
    with zipfile.ZipFile(archive, "w") as zipped:
        for file in root.rglob("*.png"):
            zipped.write(file, f"archive/{file.relative_to(root)}")
    with pytest.warns(FerWarning):
        from_zip = load_fer2013(archive)
    np.testing.assert_array_equal(from_zip.images, loaded.images)


def test_usage_from_the_split_folder_is_said(rows, tmp_path):
    root = _kaggle_copy(rows, tmp_path / "plain", prefixes=False)
    with pytest.warns(FerWarning) as caught:
        loaded = load_image_folder(root)
    assert any("usage taken from the folder" in str(w.message) for w in caught)
    assert any("train/ 21 faces (FER2013: 28,709)" in str(w.message) for w in caught)
    assert set(loaded.usage) == {"Training", "PublicTest"}
    assert (loaded.usage == "Training").sum() == (rows.usage == "Training").sum()


def _own_faces(root: Path, counts: dict[str, int], seed: int = 0) -> Path:
    faces = synthetic_fer2013(sum(counts.values()) + 7, seed=seed)
    index = 0
    for folder, count in counts.items():
        (root / folder).mkdir(parents=True, exist_ok=True)
        for i in range(count):
            cv2.imwrite(str(root / folder / f"s1_{i}.png"), faces.images[index])
            index += 1
    return root


def test_own_faces_in_english_or_indonesian_folders_and_photos(media, tmp_path):
    root = _own_faces(tmp_path / "mine", {"happy": 3, "Sedih": 2})
    shutil.copy(media / "obama.jpg", root / "happy" / "photo.jpg")  # one face: detected and cropped
    shutil.copy(media / "two_people.jpg", root / "happy" / "group.jpg")  # two faces: skipped, said
    cv2.imwrite(str(root / "Sedih" / "blank.png"), np.full((200, 200), 128, np.uint8))  # no face: skipped
    with pytest.warns(FerWarning, match=r"skipped 2 photo.*no face found: Sedih/blank.png.*more than one face"):
        loaded = load_image_folder(root)
    assert loaded.class_counts()["Happy"] == 4 and loaded.class_counts()["Sad"] == 2
    assert set(loaded.usage) == {"Unassigned"}
    assert loaded.skip_reasons == {"no_face": 1, "several_faces": 1}
    photo = loaded.images[list(loaded.files).index("happy/photo.jpg")]
    assert photo.shape == (48, 48) and photo.std() > 10


def test_bad_folders_are_named(tmp_path):
    root = _own_faces(tmp_path / "a", {"happy": 1, "grumpy": 1})
    with pytest.raises(DataError, match="unknown emotion folder 'grumpy'.*emotions="):
        load_image_folder(root)
    assert load_image_folder(root, emotions={"grumpy": "Angry"}).class_counts()["Angry"] == 1

    root = _own_faces(tmp_path / "b", {"happy": 1})
    (root / "sad").mkdir()
    (root / "sad" / "notes.txt").write_text("no faces yet")
    with pytest.warns(FerWarning, match="not images"), pytest.raises(DataError, match="sad is empty"):
        load_image_folder(root)

    root = _own_faces(tmp_path / "c", {"happy": 1})
    (root / "happy" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match="broken.png in .* is not a readable image"):
        load_image_folder(root)

    root = _own_faces(tmp_path / "d", {"happy": 1})
    _own_faces(root / "train", {"sad": 1})
    with pytest.raises(DataError, match="mixed or unknown layout"):
        load_image_folder(root)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="holds no images"):
        load_image_folder(tmp_path / "empty")


def test_a_folder_is_cached_by_its_contents(tmp_path, monkeypatch):
    root = _own_faces(tmp_path / "mine", {"happy": 2, "sad": 2})
    first = load_image_folder(root)
    monkeypatch.setattr(folders, "_read_faces", lambda *a: pytest.fail("decoded again"))
    np.testing.assert_array_equal(load_image_folder(root).images, first.images)
    cv2.imwrite(str(root / "sad" / "s1_0.png"), np.zeros((48, 48), np.uint8))  # changed contents: read again
    with pytest.raises(pytest.fail.Exception, match="decoded again"):
        load_image_folder(root)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from([*EMOTIONS, "marah", "SENANG", "netral"]), st.integers(1, 3),
                       min_size=1, max_size=4))
def test_every_face_keeps_its_folder_label(tmp_path_factory, counts):
    names = {name.lower(): label for names in folders.EMOTION_NAMES.values() for label, name in enumerate(names)}
    if len({names[k.lower()] for k in counts}) < len(counts) or len({k.lower() for k in counts}) < len(counts):
        return  # two folders of one emotion: not a layout this property is about
    loaded = load_image_folder(_own_faces(tmp_path_factory.mktemp("faces"), counts), cache=False)
    for folder, count in counts.items():
        assert loaded.class_counts()[EMOTIONS[names[folder.lower()]]] == count


def test_captured_faces_are_saved_by_session_and_found_from_a_sub_folder(tmp_path, monkeypatch):
    face = synthetic_fer2013(1).images[0]
    first = folders.save_face(face, "Senang", "20261202-101500", folder=tmp_path / "my_faces")
    assert first.parent.name == "happy" and folders.session_of(first) == "20261202-101500"
    np.testing.assert_array_equal(cv2.imread(str(first), cv2.IMREAD_GRAYSCALE), face)
    with pytest.raises(DataError, match="must not contain '_'"):
        folders.save_face(face, "happy", "a_b", folder=tmp_path)
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")
    assert folders.my_faces_folder() == tmp_path / "my_faces"
    assert load_image_folder(folders.my_faces_folder()).files.tolist() == [f"happy/{first.name}"]


def test_a_phone_photo_is_turned_upright_and_a_face_folder_given_alone_is_explained(media, tmp_path):
    from PIL import Image

    (tmp_path / "mine" / "happy").mkdir(parents=True)
    upright = Image.open(media / "obama.jpg")
    exif = upright.getexif()
    exif[0x0112] = 6  # stored turned; the viewer must rotate it 90 degrees clockwise
    upright.transpose(Image.Transpose.ROTATE_90).save(tmp_path / "mine" / "happy" / "phone.jpg", exif=exif)
    assert len(load_image_folder(tmp_path / "mine", cache=False)) == 1
    with pytest.raises(DataError, match="one folder per emotion: pass the folder above"):
        load_image_folder(tmp_path / "mine" / "happy")
