"""From frames to emotions: frame checks and crops, face detectors, sources, the loop, smoothing,
drawing and outputs. It imports no Keras or TensorFlow: the classifier runs on LiteRT."""

from fer_lib._lazy import lazy_attributes

_WHERE = {
    **dict.fromkeys(["box_iou", "check_frame", "crop_face", "crop_faces", "face_record", "to_bgr", "to_gray"],
                    "._frames"),
    **dict.fromkeys(["DETECTORS", "BlazeFaceDetector", "FaceDetector", "HaarFaceDetector", "make_detector"],
                    "._detectors"),
    "open_source": "._sources",
    **dict.fromkeys(["analyze_frame", "default_classifier", "default_detector", "iter_analyzed", "run_loop"],
                    "._loop"),
    "ProbabilitySmoother": "._smoothing",
    **dict.fromkeys(["FpsMeter", "annotate"], "._drawing"),
    **dict.fromkeys(["annotated_writer", "write_report"], "._outputs"),
}
__all__ = ["BlazeFaceDetector", "FaceDetector", "FpsMeter", "HaarFaceDetector", "ProbabilitySmoother",
           "analyze_frame", "annotate", "box_iou", "crop_faces", "iter_analyzed", "make_detector",
           "open_source", "run_loop", "to_gray"]
__getattr__, __dir__ = lazy_attributes(__name__, _WHERE)
