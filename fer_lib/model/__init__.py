"""The networks, test-time averaging, loading a saved model, the one batched prediction path
(:class:`EmotionClassifier`), model cards and LiteRT export. Importing it imports no Keras."""

from fer_lib._lazy import lazy_attributes

_WHERE = {
    **dict.fromkeys(["MODEL_BUILDERS", "build_model", "compile_model", "count_parameters", "fer_net", "seed_cnn",
                     "with_flip_averaging"], "._architectures"),
    **dict.fromkeys(["DEFAULT_KERAS_PATH", "DEFAULT_MODEL_PATH", "EmotionClassifier", "load_saved_model",
                     "predict_probabilities"], "._classifier"),
    "ModelCard": "._cards",
    "export_litert": "._export",
}
__all__ = ["DEFAULT_KERAS_PATH", "DEFAULT_MODEL_PATH", "EmotionClassifier", "ModelCard", "build_model",
           "compile_model", "count_parameters", "export_litert", "fer_net", "load_saved_model",
           "predict_probabilities", "seed_cnn", "with_flip_averaging"]
__getattr__, __dir__ = lazy_attributes(__name__, _WHERE)
