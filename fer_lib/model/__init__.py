"""The networks (build only), test-time averaging, loading a saved model, the one batched
prediction path (:class:`EmotionClassifier`: LiteRT, or Keras when asked), model cards and
LiteRT export.

Importing this package imports no Keras: each name loads its module on first use.
"""

from fer_lib._lazy import lazy_attributes

_WHERE = {
    **dict.fromkeys(["HorizontalFlip", "MODEL_BUILDERS", "build_model", "compile_model", "count_parameters",
                     "fer_net", "fer_resnet", "seed_cnn", "with_crop_averaging", "with_flip_averaging"],
                    "._architectures"),
    **dict.fromkeys(["DEFAULT_KERAS_PATH", "DEFAULT_MODEL_PATH", "EmotionClassifier", "load_saved_model",
                     "predict_probabilities"], "._classifier"),
    "ModelCard": "._cards",
    **dict.fromkeys(["export_litert", "litert_paths", "read_manifest"], "._export"),
}
__all__ = ["DEFAULT_KERAS_PATH", "DEFAULT_MODEL_PATH", "EmotionClassifier", "ModelCard", "build_model", "compile_model", "count_parameters", "export_litert", "fer_net", "fer_resnet", "load_saved_model", "predict_probabilities", "seed_cnn", "with_crop_averaging", "with_flip_averaging"]
__getattr__, __dir__ = lazy_attributes(__name__, _WHERE)
