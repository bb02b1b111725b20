"""FER2013 files: reading archives, the parsed-array cache, discovery and :func:`load_fer2013`."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import mmap
import os
import tarfile
import warnings
import zipfile
import zlib
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Iterable, Literal

import numpy as np

from fer_lib.data._container import FER2013
from fer_lib.errors import DOWNLOAD_HELP, DataError, DataNotFoundError, FerError, FerWarning
from fer_lib._fileio import atomic_target
from fer_lib.data._parsing import SkipReason, parse_csv_bytes
from fer_lib.data._synthetic import SYNTHETIC_BANNER, synthetic_fer2013
from fer_lib.language import tr

__all__ = ["FER2013_PATH_VARIABLE", "load_fer2013", "discover_fer2013", "load_default_data", "file_sha256",
           "cache_dir"]

FER2013_PATH_VARIABLE = "FER2013_PATH"
_CACHE_VERSION = 3  # bump when the cache layout or the parser's output changes
# FER2013's usual names in data_input/, in the order discovery tries them; the last is the image folder.
_DATA_NAMES = ("fer2013.csv", "fer2013.csv.gz", "fer2013.zip", "fer2013.tar.gz", "fer2013")
_READ_BLOCK = 8 << 20


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes as ``sha256sum`` prints it (64 hex digits).

    Parameters
    ----------
    path : str or path-like
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _pick_csv_member(names: Iterable[str], path: Path) -> str:
    csvs = [n for n in names if n.lower().endswith(".csv") and not Path(n).name.startswith("._")]
    named = [n for known in ("fer2013.csv", "icml_face_data.csv") for n in csvs
             if Path(n).name.lower() == known]
    if named or len(csvs) == 1:
        return (named or csvs)[0]
    raise DataError(f"{path}: the archive holds {len(csvs)} CSV files ({', '.join(csvs) or 'none'}); "
                    "expected fer2013.csv. Extract the right one and pass its path.")


def _read_and_hash(path: Path, hasher: ThreadPoolExecutor) -> tuple[mmap.mmap, Future]:
    """Read the whole file, hashing each block in ``hasher`` while the next one is read."""
    size = path.stat().st_size
    file_bytes = mmap.mmap(-1, size)  # slices are bytes
    view = memoryview(file_bytes)
    digest = hashlib.sha256()
    position = 0
    try:
        with open(path, "rb", buffering=0) as handle:
            while count := handle.readinto(view[position : position + _READ_BLOCK]):
                hasher.submit(digest.update, view[position : position + count])
                position += count
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc}).") from exc
    if position != size:
        raise DataError(f"{path}: the file shrank while it was read ({position} of {size} bytes); "
                        "load it again.")
    return file_bytes, hasher.submit(digest.hexdigest)


def _csv_bytes(file_bytes: mmap.mmap, path: Path) -> bytes | mmap.mmap:
    """The CSV inside ``file_bytes`` (the file itself when plain), with clear errors for bad archives."""
    name = path.name.lower()
    try:
        if name.endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(file_bytes)) as archive:
                members = archive.namelist()
                inner_tars = [m for m in members if m.lower().endswith((".tar.gz", ".tgz"))]
                if not any(m.lower().endswith(".csv") for m in members) and inner_tars:
                    with archive.open(inner_tars[0]) as inner:
                        return _read_tar_bytes(io.BytesIO(inner.read()), path)
                return archive.read(_pick_csv_member(members, path))
        if name.endswith((".tar.gz", ".tgz")):
            return _read_tar_bytes(io.BytesIO(file_bytes), path)
        if name.endswith(".gz"):
            return gzip.decompress(file_bytes)
        return file_bytes
    except (EOFError, zlib.error, zipfile.BadZipFile, tarfile.TarError, gzip.BadGzipFile) as exc:
        raise DataError(f"{path}: the file is truncated or corrupt ({type(exc).__name__}: {exc}). "
                        "Download it again; " + DOWNLOAD_HELP) from exc
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc}).") from exc


def _read_tar_bytes(fileobj, path: Path) -> bytes:
    with tarfile.open(fileobj=fileobj, mode="r:*") as archive:
        members = {m.name: m for m in archive.getmembers() if m.isfile()}
        return archive.extractfile(members[_pick_csv_member(members, path)]).read()


def cache_dir() -> Path:
    """Folder of parsed-array caches: ``$FER_LIB_CACHE_DIR`` or ``~/.cache/fer_lib/data``."""
    root = os.environ.get("FER_LIB_CACHE_DIR")
    return Path(root) if root else Path.home() / ".cache" / "fer_lib" / "data"


def _read_cache(target: Path) -> dict | None:
    try:
        with np.load(target, allow_pickle=False) as stored:
            arrays = {key: stored[key] for key in stored.files}
        reasons = json.loads(str(arrays["skip_reasons"]))
        return arrays | {"skip_reasons": {SkipReason(kind): int(count) for kind, count in reasons.items()}}
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as exc:
        warnings.warn(f"ignoring unreadable cache {target} ({exc}); parsing the source again", FerWarning,
                      stacklevel=3)
        return None


def load_fer2013(path: str | os.PathLike, *, cache: bool = True, on_error: Literal["raise", "skip"] = "raise",
                 progress: bool = False) -> FER2013:
    """Load FER2013 from a Kaggle-layout CSV file (columns ``emotion``, ``pixels``, optional ``Usage``).

    Parameters
    ----------
    path : str or path-like
        Also ``.csv.gz``, ``.zip``, ``.tar.gz`` or the image copy (:func:`fer_lib.data.load_image_folder`).
    cache : bool, default True
        Reuse (and write) parsed arrays in :func:`cache_dir`, keyed by the file's SHA-256.
    on_error : {"raise", "skip"}, default "raise"
        ``"skip"`` drops bad rows, warns, and counts them in ``skipped`` and ``skip_reasons``.
    progress : bool, default False

    Raises
    ------
    DataNotFoundError
        The file does not exist (the message says where to get FER2013).
    DataError
        The file is empty, truncated, lacks columns or (with ``on_error="raise"``) has a bad row.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> csv = pathlib.Path(tempfile.mkdtemp()) / "tiny.csv"
    >>> _ = csv.write_text("emotion,pixels,Usage\\n3," + " ".join(["128"] * 2304) + ",Training\\n")
    >>> faces = load_fer2013(csv, cache=False)
    >>> faces.images.shape, faces.labels.tolist(), faces.usage.tolist()
    ((1, 48, 48), [3], ['Training'])
    """
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip'; got {on_error!r}")
    path = Path(path).expanduser()
    from fer_lib.data._folders import is_image_folder, load_image_folder

    if is_image_folder(path):
        return load_image_folder(path, cache=cache)
    if not path.is_file():
        inside = sorted(p.name for p in path.glob("*.csv*")) if path.is_dir() else []
        what = ("is a folder without images" + (f"; it holds {inside[0]}: pass that file" if inside else "")
                if path.is_dir() else "does not exist")
        raise DataNotFoundError(f"FER2013 file {path} {what}. {DOWNLOAD_HELP}")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty (0 bytes). {DOWNLOAD_HELP}")

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="fer_lib-sha256") as hasher:
        file_bytes, digest = _read_and_hash(path, hasher)
        stored, target = None, None
        if cache:
            name = f"{path.name.split('.')[0]}-{digest.result()[:20]}-{on_error}-v{_CACHE_VERSION}.npz"
            target = cache_dir() / name
            stored = _read_cache(target) if target.is_file() else None
        if stored is None:
            csv_bytes = _csv_bytes(file_bytes, path)
            parsed = parse_csv_bytes(csv_bytes, source=path, on_error=on_error, progress=progress)
            stored = {"images": parsed.images, "labels": parsed.labels, "usage": parsed.usage,
                      "skip_reasons": parsed.skip_reasons}
            if parsed.skipped:
                reasons = ", ".join(f"{kind.description}: {n}" for kind, n in parsed.skip_reasons.items())
                examples = "; ".join(f"row {row + 1}: {words}" for row, words in parsed.first_skipped)
                warnings.warn(f"{path}: skipped {parsed.skipped} bad row(s) ({reasons}); first: {examples}",
                              FerWarning, stacklevel=2)
            try:
                if target is not None:
                    with atomic_target(target) as temporary:  # never half-written
                        np.savez(temporary, **stored | {"skip_reasons": json.dumps(stored["skip_reasons"])})
            except (OSError, FerError) as exc:
                warnings.warn(f"could not write the cache {target} ({exc}); continuing without it", FerWarning,
                              stacklevel=2)
        sha256 = digest.result()
    reasons = stored["skip_reasons"]
    return FER2013(stored["images"], stored["labels"].astype(np.int64), stored["usage"].astype(str),
                   source=str(path), sha256=sha256, skipped=int(sum(reasons.values())), skip_reasons=reasons)


def discover_fer2013(path: str | os.PathLike | None = None) -> Path | None:
    """Find FER2013: ``path``, then ``$FER2013_PATH``, then ``data_input/`` here or above; None if absent.

    There: ``fer2013.csv`` (``.gz``, ``.zip``, ``.tar.gz``), the image folder ``fer2013/``, or ``train/``.

    Parameters
    ----------
    path : str or path-like, optional

    Raises
    ------
    DataNotFoundError
        ``path``, or ``$FER2013_PATH``'s file, does not exist: an explicit choice never falls back.
    """
    explicit = path not in (None, "")
    chosen = path if explicit else os.environ.get(FER2013_PATH_VARIABLE, "")
    if chosen:
        chosen = Path(chosen).expanduser()
        if not chosen.exists():
            what = (f"FER2013 file {chosen}" if explicit
                    else f"the environment variable {FER2013_PATH_VARIABLE} names {chosen}, which")
            fix = "" if explicit else "; point it at a FER2013 file or unset it"
            raise DataNotFoundError(f"{what} does not exist{fix}. {DOWNLOAD_HELP}")
        return chosen
    here = Path.cwd()
    candidates = (folder / "data_input" / name for folder in (here, *here.parents)
                  for name in (*_DATA_NAMES, ""))
    return next((found for found in candidates
                 if found.is_file() or (found.is_dir() and (found / "train").is_dir())), None)


def load_default_data(path: str | os.PathLike | None = None, *, synthetic_size: int = 4000, seed: int = 0,
                      verbose: bool = True, **load_options) -> FER2013:
    """Load FER2013 from the first place :func:`discover_fer2013` finds, else synthetic faces (saying so).

    Parameters
    ----------
    path : str or path-like, optional
    synthetic_size, seed : int, default 4000 and 0
        Number and seed of the synthetic faces drawn when no file is found.
    verbose : bool, default True
        Print where the faces come from (or the synthetic-data banner).
    **load_options
        Passed to :func:`load_fer2013`.
    """
    found = discover_fer2013(path)
    if found is None:
        if verbose:
            print(tr(SYNTHETIC_BANNER))
        return synthetic_fer2013(synthetic_size, seed=seed)
    if verbose:  # the file's name, never the machine's folders: notebooks save this line
        how = (tr("the path given") if path not in (None, "")
               else tr("named by ${variable}", variable=FER2013_PATH_VARIABLE)
               if os.environ.get(FER2013_PATH_VARIABLE, "") else tr("found in {folder}/", folder=found.parent.name))
        print(tr("FER2013 from {name} ({how})", name=found.name, how=how))
    return load_fer2013(found, **load_options)
