"""The project's exceptions: one base class, messages that say what to do."""

from __future__ import annotations

__all__ = ["FerError", "DataError", "DataNotFoundError", "ModelError", "SourceError", "FerWarning", "DOWNLOAD_HELP"]

#: Where to get FER2013 and where to put it; part of every message about a missing or unusable data file.
DOWNLOAD_HELP = ("Download FER2013 from Kaggle (https://www.kaggle.com/datasets/deadskull7/fer2013, the file "
                 "fer2013.csv, or the challenge archive) and put it at data_input/fer2013.csv (.csv.gz and .zip work "
                 "too) in the folder you work in or one above it, or name it with the FER2013_PATH environment "
                 "variable or pass its path explicitly.")


class FerError(Exception):
    """Base class of every error fer_lib raises on purpose."""


class DataError(FerError, ValueError):
    """A FER2013 file is malformed: the message names the file, the row and the fix."""


class DataNotFoundError(FerError, FileNotFoundError):
    """A data file is missing: the message says where to get it and where to put it."""


class ModelError(FerError, ValueError):
    """A model name, model file or checkpoint cannot be used."""


class SourceError(FerError, RuntimeError):
    """A camera, video, image or folder cannot be opened or yields no frame."""


class FerWarning(UserWarning):
    """A problem fer_lib worked around (skipped rows, an unreadable cache): the message says what happened."""
