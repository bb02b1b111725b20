"""Training: :class:`TrainConfig` (every choice of a run), augmentation, the loop and its runs.

Importing this package imports no Keras; the other names load their module on first use.
"""

from fer_lib._lazy import lazy_attributes
from fer_lib.train._config import PROFILES, RECIPES, TrainConfig  # noqa: F401 (RECIPES: research, benchmarks)

_WHERE = {
    **dict.fromkeys(["AugmentedFaces", "augment_batch"], "._augment"),
    **dict.fromkeys(["TimeBudget", "default_run_dir"], "._runs"),
    **dict.fromkeys(["TrainingResult", "learning_rate_schedule", "train"], "._loop"),
    "set_seed": "._seeding",
    **dict.fromkeys(["FineTuneResult", "finetune", "split_by_session", "write_finetuned"], "._finetune"),
}
__all__ = ["PROFILES", "TrainConfig", "TrainingResult", "augment_batch", "finetune",
           "learning_rate_schedule", "split_by_session", "train", "write_finetuned"]
__getattr__, __dir__ = lazy_attributes(__name__, _WHERE)
