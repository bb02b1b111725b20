"""Atomic file writing: every file fer_lib writes appears whole or not at all."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator

from fer_lib.errors import FerError

__all__ = ["atomic_target", "atomic_write_text"]


@contextlib.contextmanager
def atomic_target(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``target``: it replaces ``target`` on success, is removed on failure."""
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}", dir=target.parent)
    except OSError as exc:
        raise FerError(f"cannot write {target}: {exc.strerror or exc}; check that its folder is writable") from exc
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        umask = os.umask(0)  # read it (and put it back): mkstemp makes 0600 files; give the usual permissions
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, target)
    except BaseException as exc:
        temporary.unlink(missing_ok=True)
        if isinstance(exc, OSError) and not isinstance(exc, FerError):  # a DataNotFoundError is both
            raise FerError(f"cannot write {target}: {exc.strerror or exc}") from exc
        raise


def atomic_write_text(target: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``target`` atomically and return the path."""
    with atomic_target(target) as temporary:
        temporary.write_text(text, encoding="utf-8")
    return Path(target)
