"""What the notebooks use beyond the library: set-up, concepts, plots, the two live widgets and the readers
of the results tables. ``concepts`` and ``plots`` are modules: ``from fer_lib.course import plots``."""

from fer_lib._lazy import lazy_attributes

_WHERE = {
    "notebook_setup": "._setup",
    **dict.fromkeys(["LiveView", "show_annotated"], "._liveview"),
    "BrowserCamera": "._webcam",
    "write_stand_in_faces": "._own_faces",
    **dict.fromkeys(["DEMO_CLIP", "read_reference_boxes", "score_detectors"], "._detector_scores"),
    **dict.fromkeys(["NOISE_POINTS", "load_claims", "load_recipe_study", "verdicts"], "._results"),
    "concepts": ".concepts",
    "plots": ".plots",
}
__all__ = ["BrowserCamera", "DEMO_CLIP", "LiveView", "NOISE_POINTS", "concepts", "load_claims",
           "load_recipe_study", "notebook_setup", "plots", "read_reference_boxes", "score_detectors",
           "show_annotated", "verdicts", "write_stand_in_faces"]

__getattr__, __dir__ = lazy_attributes(__name__, _WHERE)
