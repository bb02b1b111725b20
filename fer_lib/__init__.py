"""fer_lib: facial emotion recognition on FER2013, from the CSV to the live webcam.

The packages follow the data: :mod:`fer_lib.data` (FER2013 as arrays, splits),
:mod:`fer_lib.model` (the networks, loading, LiteRT), :mod:`fer_lib.train`
(:class:`~fer_lib.train.TrainConfig`, the training loop), :mod:`fer_lib.evaluation`
(metrics, saliency), :mod:`fer_lib.live` (frames -> faces -> emotions) and
:mod:`fer_lib.course` (what the notebooks add). The names below are the short list a
student needs; ``docs/architecture.md`` draws the map.

Importing fer_lib imports neither Keras nor TensorFlow and changes nothing in the process.

>>> import fer_lib
>>> fer_lib.EMOTIONS
('Angry', 'Disgust', 'Fear', 'Happy', 'Sad', 'Surprise', 'Neutral')
"""

from __future__ import annotations

from fer_lib.data import FER2013, Split, load_fer2013, make_split
from fer_lib.errors import DataError, DataNotFoundError, FerError, FerWarning, ModelError, SourceError
from fer_lib.labels import EMOTIONS, IMAGE_SHAPE, IMAGE_SIZE, NUM_CLASSES
from fer_lib.live._detectors import FaceDetector, make_detector
from fer_lib.live._drawing import annotate
from fer_lib.live._loop import analyze_frame, iter_analyzed
from fer_lib.live._sources import open_source
from fer_lib.model._classifier import EmotionClassifier
from fer_lib.train._config import TrainConfig

__version__ = "0.3.0"

__all__ = ["EMOTIONS", "FER2013", "IMAGE_SHAPE", "IMAGE_SIZE", "NUM_CLASSES", "DataError", "DataNotFoundError",
           "EmotionClassifier", "FaceDetector", "FerError", "FerWarning", "ModelError", "SourceError", "Split",
           "TrainConfig", "analyze_frame", "annotate", "iter_analyzed", "load_fer2013", "make_detector",
           "make_split", "open_source"]
