"""Model cards: a JSON file beside every saved model saying what it is, its data, recipe and scores."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import os
import platform
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from fer_lib.errors import ModelError
from fer_lib._fileio import atomic_write_text
from fer_lib.labels import EMOTIONS, NUM_CLASSES

if TYPE_CHECKING:
    from fer_lib.data._container import FER2013
    from fer_lib.data._splits import Split

__all__ = ["ModelCard", "machine_description", "INPUT_DESCRIPTION", "OUTPUT_DESCRIPTION"]

INPUT_DESCRIPTION = "float32 (n, 48, 48, 1), raw grey levels 0..255 (the model normalises itself)"

OUTPUT_DESCRIPTION = f"(n, {NUM_CLASSES}) probabilities, classes {list(EMOTIONS)}"

# Keys of the run's configuration that the card keeps under "data" rather than "recipe".
_DATA_KEYS = ("data_sha256", "synthetic")


def machine_description() -> dict[str, Any]:
    """Where a run happened: platform, processor, core count, Python, Keras and its backend."""
    import keras

    return {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(), "python": platform.python_version(), "keras": keras.__version__,
            "backend": keras.backend.backend()}


@dataclasses.dataclass(frozen=True, kw_only=True)
class ModelCard:
    """A model card: one field per key of the card's JSON file, in the file's order.

    Parameters
    ----------
    name, architecture : str
    parameters : dict
    flip_tta : bool
        Whether the saved model averages each face with its mirror image (or ten crops).
    precision : str, optional
        Keras' dtype policy it was trained in (``"mixed_bfloat16"``...); None in cards from before it was recorded.
    data, split, recipe : dict
        ``recipe`` is the run's identity (:meth:`fer_lib.train.TrainConfig.identity`) without the data's keys.
    epochs_trained, epochs_planned, best_epoch : int
    weights : str
        Which checkpoint the model holds (``"last epoch"``, ``"best validation epoch (15)"``).
    seconds : float
    machine, accuracy, per_class_test_accuracy : dict
    test_macro_f1 : float or None
    history : str
        The history CSV (a file name beside the model, or a path in the run folder).
    created, input, output : str, optional
    """

    name: str
    created: str = dataclasses.field(default_factory=lambda: _dt.datetime.now(_dt.timezone.utc).isoformat(
        timespec="seconds"))
    architecture: str
    parameters: dict[str, int]
    flip_tta: bool
    precision: str | None = None
    input: str = INPUT_DESCRIPTION
    output: str = OUTPUT_DESCRIPTION
    data: dict[str, Any]
    split: dict[str, Any]
    recipe: dict[str, Any]
    epochs_trained: int
    epochs_planned: int
    weights: str
    best_epoch: int | None
    seconds: float
    machine: dict[str, Any]
    accuracy: dict[str, float | None]
    per_class_test_accuracy: dict[str, float] | None
    test_macro_f1: float | None = None
    history: str

    @classmethod
    def from_run(cls, *, config: Mapping[str, Any], state: Mapping[str, Any], data: FER2013, split: Split,
                 train_size: int, parameters: dict[str, int], flip_tta: bool,
                 accuracy: Mapping[str, float | None], per_class_test_accuracy: Mapping[str, float],
                 test_macro_f1: float | None = None, weights: str, history: str | os.PathLike) -> ModelCard:
        """Assemble the card of a finished training run.

        Parameters
        ----------
        config, state : mapping
            The run's identity and saved state.
        data, split : FER2013, Split
        train_size : int
        parameters, flip_tta, accuracy, per_class_test_accuracy, test_macro_f1, weights, history
            The card's fields of these names (``precision``: the config's, float32 without one).
        """
        return cls(
            name=config["model_name"], architecture=config["model_name"], parameters=dict(parameters),
            flip_tta=bool(flip_tta), precision=config.get("precision", "float32"),
            data={"file": "synthetic" if data.synthetic else Path(data.source).name,
                  "sha256": data.sha256, "synthetic": data.synthetic, "skipped_rows": data.skipped},
            split={"protocol": config["protocol"], "validation_fraction": config["validation_fraction"],
                   "seed": config["seed"],
                   "sizes": {"train": int(train_size), "validation": len(split.validation), "test": len(split.test)},
                   "test_part": "PublicTest" if config["protocol"] == "official" else "random 10% (tutorial)"},
            recipe={key: value for key, value in config.items() if key not in _DATA_KEYS},
            epochs_trained=state["epoch"], epochs_planned=config["epochs"], weights=weights,
            best_epoch=state.get("best_epoch"), seconds=round(state["seconds"], 1),
            machine=machine_description(),
            accuracy=dict(accuracy), per_class_test_accuracy=dict(per_class_test_accuracy),
            test_macro_f1=None if test_macro_f1 is None else float(test_macro_f1), history=str(history),
        )

    def to_dict(self) -> dict[str, Any]:
        """The card as a JSON-ready dict in the file's order (``test_macro_f1``, ``precision`` left out when None)."""
        return {key: value for key, value in dataclasses.asdict(self).items()
                if value is not None or key not in ("test_macro_f1", "precision")}

    def to_json(self) -> str:
        """The card as indented JSON text (what :meth:`write` saves)."""
        return json.dumps(self.to_dict(), indent=2)

    def write(self, path: str | os.PathLike) -> Path:
        """Save the card as JSON, atomically, and return ``path``.

        Parameters
        ----------
        path : str or path
        """
        return atomic_write_text(path, self.to_json())

    @classmethod
    def from_dict(cls, mapping: Mapping[str, Any]) -> ModelCard:
        """A card from a mapping like :meth:`to_dict`'s; ModelError for missing or unknown keys.

        Parameters
        ----------
        mapping : mapping
        """
        fields = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(mapping) - fields)
        if unknown:
            raise ModelError(f"not a model card: unknown key(s) {', '.join(unknown)}; "
                             f"expected the keys of fer_lib.model.ModelCard")
        try:
            return cls(**mapping)
        except TypeError as exc:  # a required key is missing
            raise ModelError(f"not a model card: {exc}") from None

    @classmethod
    def read(cls, path: str | os.PathLike) -> ModelCard:
        """Read a card file written by :meth:`write` (ModelError if it is missing, not JSON or not a card).

        Parameters
        ----------
        path : str or path
        """
        path = Path(path)
        if not path.is_file():
            raise ModelError(f"model card {path} does not exist; a card is saved beside every trained model "
                             "(`python -m fer_lib train --output MODEL.keras` writes MODEL.json)")
        try:
            mapping = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ModelError(f"model card {path} is not valid JSON ({exc}); restore it from git or retrain") from None
        try:
            return cls.from_dict(mapping)
        except ModelError as exc:
            raise ModelError(f"{path}: {exc}") from None
