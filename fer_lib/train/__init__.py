"""Training: :class:`TrainConfig` (one typed object for every choice), augmentation, the loop and its runs.

>>> from fer_lib.train import PROFILES, TrainConfig, train    # doctest: +SKIP
>>> result = train(TrainConfig("fer_net_small", epochs=4), "data_input/fer2013.csv")   # doctest: +SKIP

Importing this package imports no Keras (``TrainConfig`` and ``PROFILES`` never do); the
other names load their module on first use.
"""

from fer_lib._lazy import lazy_attributes
from fer_lib.train._config import OPTIMIZERS, PROFILES, RECIPES, TrainConfig  # noqa: F401 (OPTIMIZERS, RECIPES: the CLI)

_WHERE = {
    **dict.fromkeys(["AugmentedFaces", "augment_batch", "balanced_class_weights", "centre_crop", "crop_batch",
                     "erase_batch", "mix_batch", "training_batches", "validation_arrays"], "._augment"),
    **dict.fromkeys(["EpochCheckpoint", "Run", "TimeBudget", "default_run_dir", "open_run", "save_model"],
                    "._runs"),
    **dict.fromkeys(["Targets", "TrainingResult", "build_model_for", "finalize", "learning_rate_schedule", "prepare_split",
                     "reopen_run", "train", "write_results"], "._loop"),
    "set_seed": "._seeding",
    **dict.fromkeys(["FineTuneResult", "finetune", "split_by_session", "write_finetuned"], "._finetune"),
}
__all__ = ["PROFILES", "FineTuneResult", "Targets", "TrainConfig", "TrainingResult", "augment_batch", "build_model_for",
           "finalize", "finetune", "learning_rate_schedule", "prepare_split", "reopen_run", "train",
           "training_batches", "validation_arrays", "write_results"]
__getattr__, __dir__ = lazy_attributes(__name__, _WHERE)
