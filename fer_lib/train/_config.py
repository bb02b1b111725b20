"""TrainConfig: every choice of a training run in one typed, validated object (no Keras import)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

from fer_lib.errors import ModelError

__all__ = ["TrainConfig", "PROFILES", "RECIPES", "PRECISIONS", "resolve_precision"]

#: Per-model recipe where the config leaves it open (``seed_cnn``: the tutorial's Adam 1e-3, no augmentation);
#: research registers its own models here.
RECIPES: dict[str, dict[str, Any]] = {
    "seed_cnn": {"augment": False, "schedule": "constant", "learning_rate": 1e-3, "flip_tta": False},
    **{name: {"augment": True, "schedule": "cosine", "learning_rate": 2e-3, "flip_tta": "auto"}
       for name in ("fer_net", "fer_net_small")},
}

# Options recorded in a run's identity only when not at their default, so older runs keep their folders.
_OPTIONAL = {"random_erasing": 0.0, "max_minutes": None, "precision": "float32"}

PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")
#: Whether ``auto`` trains in bf16 on CPUs: no, bf16 bought no measurable time (benchmarks/README.md).
BFLOAT16_ON_CPU = False


def resolve_precision(precision: str = "auto") -> str:
    """What ``precision`` trains in; ``auto`` by what the machine is, never by a timing: ``mixed_float16`` where
    TensorFlow sees a GPU, ``mixed_bfloat16`` on a CPU with bf16 instructions if :data:`BFLOAT16_ON_CPU`, else
    ``float32``."""
    if precision != "auto":
        return precision
    import tensorflow as tf  # fer_lib's Keras backend (requirements.txt): imported here, not with the config

    if tf.config.list_physical_devices("GPU"):
        return "mixed_float16"
    cpuinfo = Path("/proc/cpuinfo")  # Linux lists the processor's features there; elsewhere none are assumed
    flags = set(cpuinfo.read_text().split()) if cpuinfo.is_file() else set()
    return "mixed_bfloat16" if BFLOAT16_ON_CPU and {"avx512_bf16", "amx_bf16"} & flags else "float32"


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Every choice of a training run; :data:`PROFILES` holds the named ones.

    Parameters
    ----------
    model_name : str, default "fer_net"
        A key of :data:`RECIPES`: ``"seed_cnn"`` (the tutorial's), ``"fer_net"``, ``"fer_net_small"``, ...
    epochs, batch_size, seed : int, default 24, 64, 0
        The seed sets the split, the sample, the batch order, augmentation and the weights.
    protocol : {"official", "tutorial"}
        ``official``: validation carved from Training, test = PublicTest; ``tutorial``: random 81/9/10.
    validation_fraction : float, default 0.1
    sample_size : int, optional
        Train on a stratified random subset of this many faces.
    learning_rate, schedule, augment, flip_tta : optional
        Override :data:`RECIPES`; ``flip_tta="auto"`` keeps flip averaging if it helps on validation.
    random_erasing : float, default 0.0
        Probability of erasing a random rectangle of each training face.
    model_options : dict
        Extra keyword arguments for the model builder.
    max_minutes : float, optional
        Stop when this many minutes of training are spent (across resumed calls).
    early_stopping, reduce_lr : int, optional
        Patience in epochs: stop early on validation accuracy; halve a constant rate on a plateau.
    precision : {"auto", "float32", "mixed_bfloat16", "mixed_float16"}
        Keras' dtype policy while the network is built (:func:`resolve_precision`); the output stays float32.

    Raises
    ------
    ModelError
        For any choice out of range, with the choices that exist.

    Examples
    --------
    >>> TrainConfig("fer_net_small", epochs=4).recipe()["schedule"]
    'cosine'
    """

    model_name: str = "fer_net"
    epochs: int = 24
    batch_size: int = 64
    seed: int = 0
    protocol: str = "official"
    validation_fraction: float = 0.1
    sample_size: int | None = None
    learning_rate: float | None = None
    schedule: str | None = None
    augment: bool | None = None
    flip_tta: bool | str | None = None
    random_erasing: float = 0.0
    model_options: dict = dataclasses.field(default_factory=dict)
    max_minutes: float | None = None
    early_stopping: int | None = None
    reduce_lr: int | None = None
    precision: str = "auto"

    def __post_init__(self) -> None:
        def fail(message: str):
            raise ModelError(message)

        if self.model_name not in RECIPES:
            fail(f"unknown model {self.model_name!r}; choose one of {', '.join(sorted(RECIPES))}")
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if not (isinstance(value, int) and not isinstance(value, bool) and value > 0):
                fail(f"{name} must be a positive whole number; got {value!r}")
        if self.sample_size is not None and not (isinstance(self.sample_size, int) and self.sample_size > 0):
            fail(f"sample_size must be a positive whole number or None; got {self.sample_size!r}")
        if self.protocol not in ("official", "tutorial"):
            fail(f"protocol must be 'official' or 'tutorial'; got {self.protocol!r}")
        if self.precision not in PRECISIONS:
            fail(f"unknown precision {self.precision!r}; choose one of {', '.join(PRECISIONS)}")
        if not 0.0 < self.validation_fraction < 1.0:
            fail(f"validation_fraction must be between 0 and 1; got {self.validation_fraction}")
        if not 0.0 <= self.random_erasing <= 1.0:
            fail(f"random_erasing is a probability in [0, 1]; got {self.random_erasing}")
        if self.max_minutes is not None and not self.max_minutes > 0:
            fail(f"max_minutes must be positive (or None for no budget); got {self.max_minutes}")
        schedule = self.recipe()["schedule"]
        if schedule not in ("constant", "cosine"):
            fail(f"unknown schedule {schedule!r}; expected 'constant' or 'cosine'")
        if self.reduce_lr and schedule != "constant":
            fail(f"reduce_lr works with schedule='constant' only; this run uses {schedule!r}, "
                 "which already sets the rate. Pass schedule='constant' or drop reduce_lr.")

    @classmethod
    def from_identity(cls, identity: dict) -> TrainConfig:
        """The config of a saved run from its recorded :meth:`identity` (other keys are ignored).

        Parameters
        ----------
        identity : dict
        """
        names = {field.name for field in dataclasses.fields(cls)}
        # an identity without "precision" is a float32 run's: never "auto", which is mixed on a GPU
        return cls(**{"precision": "float32", **{key: value for key, value in identity.items() if key in names}})

    def recipe(self) -> dict[str, Any]:
        """The model's :data:`RECIPES` entry with this config's overrides."""
        recipe = dict(RECIPES[self.model_name])
        for key in ("learning_rate", "schedule", "augment", "flip_tta"):
            if getattr(self, key) is not None:
                recipe[key] = getattr(self, key)
        return recipe

    def identity(self, data) -> dict[str, Any]:
        """What makes a run this run (saved in its state and card, hashed into its folder name).

        Parameters
        ----------
        data : FER2013
            The data set (its SHA-256 is part of the identity).
        """
        identity = {
            "model_name": self.model_name, "protocol": self.protocol,
            "validation_fraction": self.validation_fraction, "sample_size": self.sample_size,
            "epochs": self.epochs, "batch_size": self.batch_size, "seed": self.seed,
            "data_sha256": data.sha256, "synthetic": data.synthetic, **self.recipe(),
        }
        if self.model_options:  # through JSON so tuples and lists compare equal when a run resumes
            identity["model_options"] = json.loads(json.dumps(self.model_options))
        chosen = {**{key: getattr(self, key) for key in _OPTIONAL}, "precision": resolve_precision(self.precision)}
        identity.update({key: value for key, value in chosen.items() if value != _OPTIONAL[key]})
        return identity


def fingerprint(identity) -> str:
    """16 hex digits of SHA-256 over a run's identity or any JSON value (a constant-rate run's: no epochs)."""
    if isinstance(identity, dict) and identity.get("schedule") == "constant":  # such a run can be extended
        identity = {key: value for key, value in identity.items() if key != "epochs"}
    return hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()[:16]


#: Named configs: ``python -m fer_lib train --profile NAME``, ``make train``, notebook 3.
PROFILES: dict[str, TrainConfig] = {
    "fast": TrainConfig("fer_net_small", epochs=2, sample_size=1500),  # a minute: tests, nbval
    "default": TrainConfig("fer_net_small", epochs=4),  # notebook 3 in `make run-all`: a few minutes
    # `make train`: 6 min on 2 quiet CPU cores, 61.7% PublicTest (results/fer_net_small_default.json)
    "student": TrainConfig("fer_net_small", epochs=12),
    "full": TrainConfig("fer_net", epochs=72, random_erasing=0.5),  # the shipped model's recipe
}
