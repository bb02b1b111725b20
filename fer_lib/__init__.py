"""fer_lib: facial emotion recognition on FER2013, from CSV to live webcam.

The public API is small and lives here; modules hold one concept each
(see the README's layout section).
"""

from __future__ import annotations

import os as _os
import sys as _sys

# TensorFlow's C++ start-up chatter would fill every notebook and CLI run; warnings still show.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
if "ipykernel" in _sys.modules:
    # A notebook kernel shows whatever reaches descriptor 2 as a cell's output, and TensorFlow may
    # first be imported in any later cell: filter its start-up lines for the kernel's whole life.
    from IPython import get_ipython as _get_ipython

    if type(_get_ipython()).__name__ == "ZMQInteractiveShell":  # a kernel, not a process that imported one
        from .quiet import hide_startup_lines_from_now_on as _hide_startup_lines

        _hide_startup_lines()

from .data import load_fer2013
from .dataset import FER2013
from .errors import DataError, DataNotFoundError, FerError, FerWarning, ModelError, SourceError
from .labels import EMOTIONS, IMAGE_SHAPE, IMAGE_SIZE, NUM_CLASSES
from .parsing import SkipReason
from .splits import Split

# Importing fer_lib does not import Keras or TensorFlow: inference runs on LiteRT. fer_lib.models
# registers the custom layers (fer_lib.classifier.load_saved_model imports it before loading).
from .detection import FaceDetector  # noqa: E402
from .classifier import EmotionClassifier  # noqa: E402
from .drawing import annotate  # noqa: E402
from .live import analyze_frame, iter_analyzed  # noqa: E402
from .sources import open_source  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "EMOTIONS",
    "FER2013",
    "IMAGE_SHAPE",
    "IMAGE_SIZE",
    "NUM_CLASSES",
    "DataError",
    "EmotionClassifier",
    "FaceDetector",
    "DataNotFoundError",
    "FerError",
    "FerWarning",
    "ModelError",
    "SkipReason",
    "SourceError",
    "Split",
    "analyze_frame",
    "annotate",
    "iter_analyzed",
    "load_fer2013",
    "open_source",
]
