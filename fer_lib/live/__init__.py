"""From frames to emotions: frame checks and crops, face detectors, sources, the loop, smoothing,
drawing and outputs. It imports no Keras or TensorFlow: the classifier runs on LiteRT.

>>> import cv2, fer_lib                                       # doctest: +SKIP
>>> records = fer_lib.analyze_frame(cv2.imread("tests/photos/obama.jpg"))   # doctest: +SKIP
"""

from fer_lib._lazy import lazy_attributes

_WHERE = {
    **dict.fromkeys(["box_iou", "check_frame", "crop_face", "crop_faces", "face_record", "to_bgr", "to_gray"],
                    "._frames"),
    **dict.fromkeys(["DETECTORS", "BlazeFaceDetector", "FaceDetector", "HaarFaceDetector", "make_detector"],
                    "._detectors"),
    **dict.fromkeys(["FrameSource", "IMAGE_EXTENSIONS", "image_files", "open_source", "source_kind"],
                    "._sources"),
    **dict.fromkeys(["analyze_frame", "classify_boxes", "default_classifier", "default_detector",
                     "iter_analyzed", "run_loop"], "._loop"),
    "ProbabilitySmoother": "._smoothing",
    **dict.fromkeys(["annotate", "hex_color"], "._drawing"),
    "FpsMeter": "._timing",
    **dict.fromkeys(["REPORT_FORMATS", "annotated_writer", "expand_inputs", "output_targets", "write_report",
                     "format_report", "report_rows"], "._outputs"),
}
__all__ = ["BlazeFaceDetector", "DETECTORS", "FaceDetector", "FpsMeter", "HaarFaceDetector",
           "ProbabilitySmoother", "analyze_frame", "annotate", "box_iou", "crop_faces", "iter_analyzed",
           "make_detector", "open_source", "run_loop", "to_gray"]
__getattr__, __dir__ = lazy_attributes(__name__, _WHERE)
