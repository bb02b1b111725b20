"""Folders of images (FER2013's ``train/<emotion>/`` copy, ``my_faces/``) read into :class:`FER2013`."""

from __future__ import annotations

import hashlib
import os
import time
import warnings
import zipfile
from pathlib import Path, PurePosixPath
from typing import Mapping

import cv2
import numpy as np

from fer_lib._fileio import atomic_target
from fer_lib.data._container import FER2013
from fer_lib.data._loading import cache_dir
from fer_lib.data._parsing import SkipReason
from fer_lib.errors import DataError, DataNotFoundError, FerWarning
from fer_lib.labels import EMOTIONS, IMAGE_SIZE
from fer_lib.language import EMOTION_NAMES
from fer_lib.live._detectors import FaceDetector, make_detector
from fer_lib.live._frames import crop_faces, to_gray

__all__ = ["load_image_folder", "is_image_folder", "my_faces_folder", "save_face", "session_of", "IMAGE_SUFFIXES"]

#: Suffixes read as images (case-insensitive).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
#: FER2013's image-folder copy: split folders, and the usage a file-name prefix gives.
_SPLIT_FOLDERS = {"train": "Training", "test": "PublicTest"}
_PREFIXES = ("Training", "PublicTest", "PrivateTest")
#: Faces per emotion (FER2013's label order) in FER2013's Training rows, and in PublicTest + PrivateTest.
FER2013_COUNTS = {"train": (3995, 436, 4097, 7215, 4830, 3171, 4965), "test": (958, 111, 1024, 1774, 1247, 831, 1233)}
_CACHE_VERSION = 1
#: Folder name (lower case, English or Indonesian) -> label.
_FOLDER_LABELS = {name.lower(): label for names in EMOTION_NAMES.values() for label, name in enumerate(names)}


def emotion_label(name: str) -> int:
    """The label of an emotion named in English or Indonesian, any case; a DataError naming the choices else."""
    label = _FOLDER_LABELS.get(str(name).lower())
    if label is None:
        raise DataError(f"unknown emotion {name!r}; choose one of {', '.join(EMOTIONS)}")
    return label


def _files(path: Path) -> tuple[list[PurePosixPath], callable]:
    """The image files under a folder or in a ``.zip`` (relative, sorted), and a function reading one's bytes."""
    if path.is_dir():
        names = [PurePosixPath(p.relative_to(path).as_posix()) for p in path.rglob("*") if p.is_file()]
        open_bytes = lambda name: (path / name).read_bytes()  # noqa: E731
    else:
        try:
            with zipfile.ZipFile(path) as archive:
                members = {PurePosixPath(name): archive.read(name) for name in archive.namelist()
                           if not name.endswith("/") and name.lower().endswith(IMAGE_SUFFIXES)}
                names = [PurePosixPath(name) for name in archive.namelist() if not name.endswith("/")]
        except (zipfile.BadZipFile, OSError) as exc:
            raise DataError(f"{path} is neither a folder nor a readable .zip archive ({exc})") from exc
        open_bytes = members.__getitem__
    names = [n for n in names if not any(part.startswith((".", "__MACOSX")) for part in n.parts)]
    images = sorted(n for n in names if n.suffix.lower() in IMAGE_SUFFIXES)
    if len(images) < len(names):
        others = sorted(set(names) - set(images))
        warnings.warn(f"{path}: ignored {len(others)} file(s) that are not images ({others[0]}, ...); images are "
                      f"{', '.join(IMAGE_SUFFIXES)}", FerWarning, stacklevel=3)
    # Folders around everything (a zip of archive/train/...) are not part of the layout.
    outer = PurePosixPath()
    while images and all(len(n.parts) > 2 for n in images) and len({n.parts[0] for n in images}) == 1 \
            and images[0].parts[0].lower() not in _SPLIT_FOLDERS:
        outer, images = outer / images[0].parts[0], [PurePosixPath(*n.parts[1:]) for n in images]
    return images, lambda name: open_bytes(outer / name)


def is_image_folder(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a folder, or a ``.zip`` without a CSV, that holds images (not a FER2013 CSV)."""
    path = Path(path)
    if path.is_dir():
        return any(p.suffix.lower() in IMAGE_SUFFIXES for p in path.rglob("*"))
    if path.suffix.lower() == ".zip" and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
        return not any(n.lower().endswith(".csv") for n in names) and any(
            n.lower().endswith(IMAGE_SUFFIXES) for n in names)
    return False


def load_image_folder(path: str | os.PathLike, *, emotions: Mapping[str, int | str] | None = None,
                      detector: FaceDetector | str = "blazeface", cache: bool = True) -> FER2013:
    """Load a folder (or ``.zip``) of images, ``<emotion>/*.png`` or FER2013's ``train|test/<emotion>/*.jpg``.

    The result also has ``files`` (paths inside ``path``) and ``skip_reasons`` (photos skipped per reason).

    Parameters
    ----------
    path : str or path-like
    emotions : mapping, optional
        Folder name -> emotion (a label 0..6 or an English name), for folders named otherwise.
    detector : FaceDetector or {"blazeface", "haar"}, default "blazeface"
        Crops photos that are not 48x48 crops as the live loop does (not one face: skipped, with a warning).
    cache : bool, default True
        Reuse the arrays of an earlier call on the same files.

    Raises
    ------
    DataNotFoundError
        ``path`` does not exist.
    DataError
        Unknown or empty emotion folder, unreadable image or mixed layout (the message names it).
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise DataNotFoundError(f"image folder {path} does not exist; give a folder with one sub-folder per "
                                "emotion (happy/, sad/, ...) or FER2013's train/ and test/ folders")
    files, read = _files(path)
    if not files:
        raise DataError(f"{path} holds no images ({', '.join(IMAGE_SUFFIXES)}); expected <emotion>/<image> or "
                        "train/<emotion>/<image>")
    depths = {len(f.parts) for f in files}
    if depths == {1}:
        raise DataError(f"{path} holds images directly; they must sit in one folder per emotion: pass the folder "
                        f"above it (e.g. {path.parent}) with {path.name}/ as one of its emotion folders")
    if len(depths) > 1 or depths - {2, 3}:
        odd = next(f for f in files if len(f.parts) != min(depths) or len(f.parts) not in (2, 3))
        raise DataError(f"{path}: mixed or unknown layout ({odd} beside {files[0]}); put every image in "
                        "<emotion>/ or every one in train|test/<emotion>/")
    names = _FOLDER_LABELS | {k.lower(): (EMOTIONS.index(v) if isinstance(v, str) else int(v))
                                for k, v in (emotions or {}).items()}
    split = depths == {3}
    for folder in sorted({f.parts[-2] for f in files}):
        if folder.lower() not in names:
            raise DataError(f"{path}: unknown emotion folder {folder!r}; name the folders {', '.join(EMOTIONS)} "
                            "(English or Indonesian, any case) or pass emotions={folder_name: emotion}")
    if split and {f.parts[0].lower() for f in files} - set(_SPLIT_FOLDERS):
        bad = sorted({f.parts[0] for f in files if f.parts[0].lower() not in _SPLIT_FOLDERS})
        raise DataError(f"{path}: unknown split folder {bad[0]!r}; FER2013's image copy has train/ and test/")
    if path.is_dir():
        for folder in sorted(p for p in path.rglob("*") if p.is_dir() and p.name.lower() in names):
            if not any(p.suffix.lower() in IMAGE_SUFFIXES for p in folder.iterdir()):
                raise DataError(f"emotion folder {folder} is empty; add images to it or remove it")

    digest = hashlib.sha256()  # the files' names and contents: the data set's identity
    contents = [read(f) for f in files]
    for name, data in zip(files, contents):
        digest.update(f"{name}\0{len(data)}\0".encode() + hashlib.sha256(data).digest())
    key = f"v{_CACHE_VERSION} {digest.hexdigest()} {detector} {sorted(names.items())}"
    target = cache_dir() / f"folder-{path.stem}-{hashlib.sha256(key.encode()).hexdigest()[:20]}.npz"
    cache = cache and isinstance(detector, str)  # a detector object's settings are not in the key
    if cache and target.is_file():
        with np.load(target, allow_pickle=False) as stored:
            arrays = {key: stored[key] for key in stored.files}
    else:
        arrays = _read_faces(path, files, contents, names, detector)
        if cache:
            with atomic_target(target) as temporary:
                np.savez(temporary, **arrays)
    skip_reasons = {SkipReason(str(kind)): int(count)
                    for kind, count in zip(arrays["skip_kinds"], arrays["skip_counts"]) if count}
    if skip_reasons:
        examples = "; ".join(f"{SkipReason(str(kind)).description}: {files}"
                             for kind, files in zip(arrays["skip_kinds"], arrays["skip_examples"]) if files)
        warnings.warn(f"{path}: skipped {sum(skip_reasons.values())} photo(s) ({examples}); crop them by hand or "
                      "take them again", FerWarning, stacklevel=2)
    if len(arrays["labels"]) == 0:
        raise DataError(f"{path}: no face in any of its {len(files)} image(s); use photos with one face each, or "
                        "48x48 face crops")
    guessed = sorted({f.parts[0] for f in files if f.name.split("_")[0] not in _PREFIXES}) if split else []
    if guessed:
        warnings.warn(f"{path}: file names in {', '.join(guessed)}/ do not say Training_, PublicTest_ or "
                      "PrivateTest_; usage taken from the folder (train -> Training, test -> PublicTest)",
                      FerWarning, stacklevel=2)
    if split:
        _report_counts(path, arrays)
    return FER2013(arrays["images"], arrays["labels"], arrays["usage"], source=str(path),
                   sha256=digest.hexdigest(), skipped=sum(skip_reasons.values()), skip_reasons=skip_reasons,
                   files=arrays["files"])


def _read_faces(path: Path, files, contents, names, detector) -> dict:
    """Decode every image; photos go through the detector and the live loop's crop."""
    detector = make_detector(detector) if isinstance(detector, str) else detector
    images, labels, usage, kept = [], [], [], []
    skipped = {SkipReason.NO_FACE: [], SkipReason.SEVERAL_FACES: []}
    for name, data in zip(files, contents):
        # As predict and the live loop read a photo: 8-bit colour, turned upright by its EXIF orientation.
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            raise DataError(f"{name} in {path} is not a readable image; delete it or save it again as PNG or JPEG")
        if image.shape[:2] == (IMAGE_SIZE, IMAGE_SIZE):  # already a face crop
            face = to_gray(image)
        else:
            boxes = np.asarray(detector.detect(image)).reshape(-1, 4)
            if len(boxes) != 1:
                skipped[SkipReason.NO_FACE if len(boxes) == 0 else SkipReason.SEVERAL_FACES].append(str(name))
                continue
            face = crop_faces(to_gray(image), boxes)[0]
        prefix = name.name.split("_")[0]
        images.append(face)
        labels.append(names[name.parts[-2].lower()])
        usage.append(prefix if prefix in _PREFIXES else
                     _SPLIT_FOLDERS[name.parts[0].lower()] if len(name.parts) == 3 else "Unassigned")
        kept.append(str(name))
    return {"images": np.asarray(images, np.uint8).reshape(-1, IMAGE_SIZE, IMAGE_SIZE),
            "labels": np.asarray(labels, np.int64), "usage": np.asarray(usage, dtype="<U11"),
            "files": np.asarray(kept, dtype=str), "skip_kinds": np.asarray([kind.value for kind in skipped]),
            "skip_counts": np.asarray([len(v) for v in skipped.values()]),
            "skip_examples": np.asarray([", ".join(v[:3]) + (", ..." if len(v) > 3 else "") for v in skipped.values()])}


def _report_counts(path: Path, arrays: dict) -> None:
    """Compare the faces per split and emotion with FER2013's; warn where they differ."""
    differences = []
    for split, usages in (("train", ("Training",)), ("test", ("PublicTest", "PrivateTest"))):
        found = np.bincount(arrays["labels"][np.isin(arrays["usage"], usages)], minlength=len(EMOTIONS))
        expected = FER2013_COUNTS[split]
        if found.sum() != sum(expected):
            differences.append(f"{split}/ {int(found.sum()):,} faces (FER2013: {sum(expected):,})")
        else:
            differences += [f"{split}/{EMOTIONS[i].lower()} {int(n):,} (FER2013: {m:,})"
                            for i, (n, m) in enumerate(zip(found, expected)) if n != m]
    if differences:
        warnings.warn(f"{path} differs from FER2013's image copy: {'; '.join(differences)}; its results will "
                      "not compare with FER2013's", FerWarning, stacklevel=3)


def my_faces_folder(create: bool = False) -> Path:
    """``my_faces/`` here or in the nearest parent with one, else beside the nearest ``data_input/`` or here.

    Parameters
    ----------
    create : bool, default False
        Create the folder when it does not exist.
    """
    here = Path.cwd()
    folders = (here, *here.parents)
    found = next((folder / "my_faces" for folder in folders if (folder / "my_faces").is_dir()), None) or next(
        (folder / "my_faces" for folder in folders if (folder / "data_input").is_dir()), here / "my_faces")
    if create:
        found.mkdir(parents=True, exist_ok=True)
    return found


def session_of(file: str | os.PathLike) -> str:
    """The recording session of a captured face, from its name ``<emotion>/<session>_<time>.png``."""
    return PurePosixPath(file).name.split("_")[0]


def save_face(face: np.ndarray, emotion: str, session: str, *, folder: str | os.PathLike | None = None) -> Path:
    """Save a 48x48 uint8 grey face atomically as ``<folder>/<emotion>/<session>_<time>.png``."""
    label = emotion_label(emotion)
    if "_" in session:
        raise DataError(f"session {session!r} must not contain '_' (it separates session and time in file names)")
    face = np.asarray(face)
    if face.shape != (IMAGE_SIZE, IMAGE_SIZE) or face.dtype != np.uint8:
        raise DataError(f"a face crop is a 48x48 uint8 grey image; got {face.shape} {face.dtype}")
    target = Path(folder or my_faces_folder()) / EMOTIONS[label].lower() / f"{session}_{time.time_ns() // 1000}.png"
    with atomic_target(target) as temporary:
        temporary.write_bytes(cv2.imencode(".png", face)[1].tobytes())
    return target
