"""Write ``docs/results.md`` from the measured results, so that the page never drifts from the data.

    python scripts/make_results_doc.py            # (re)write docs/results.md
    python scripts/make_results_doc.py --check    # exit 1 if docs/results.md is not what this would write

Every number on the page comes from the files the runs left behind: the model cards
(``fer_lib/model/shipped/default.json``, ``results/*.json``) and their training histories (``*.history.csv``), the
study tables (``results/claims*.csv``, ``results/recipe_study.csv``) with their ``.meta.json``,
and the teacher ensemble's scores (``results/teacher_ensemble.json``). The prose around the
numbers is fixed text in this file; the tutorial's own figures (quoted, not measured by us) are
:data:`TUTORIAL`. Each table states the command that made it: a study's ``.meta.json`` records
it; a card records its recipe, from which :func:`train_command` rebuilds the command line.
A section whose files are missing is left out. Speed figures (parsing, training throughput,
the live loop) are not kept as data: ``benchmarks/README.md`` has them, with their commands.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import functools
import hashlib
import json
import math
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: The tutorial's own figures (its notebook), quoted: not measured by this project.
TUTORIAL = {"train": 0.906, "test": 0.65, "epochs": 100, "test_set": "random 10% of all rows"}
#: The accuracy goal the project set itself on ``PublicTest``.
GOAL = 0.70
#: Options of ``python -m fer_lib train`` that are fields of ``TrainConfig`` (same names), in print order.
TRAIN_FLAGS = {
    "model_name": "--model",
    "protocol": "--protocol",
    "epochs": "--epochs",
    "batch_size": "--batch-size",
    "sample_size": "--sample-size",
    "seed": "--seed",
    "random_erasing": "--random-erasing",
    "max_minutes": "--max-minutes",
    "precision": "--precision",
}
#: Options ``python -m research train`` adds, the fields of ``research.knobs.Knobs`` (fer_lib's before 0.3.0).
KNOB_FLAGS = {
    "optimizer": "--optimizer",
    "mixup": "--mixup",
    "cutmix": "--cutmix",
    "class_weight": "--class-weight",
    "crop": "--crop",
}
#: Subcommands that moved from ``python -m fer_lib`` to ``python -m research`` in 0.2.0.
MOVED_COMMANDS = ("claims", "recipes", "finalize", "average", "ensemble")


# --------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------


@dataclasses.dataclass
class Sources:
    """The result files of one checkout, read once. Missing files are ``None``."""

    results: Path
    models: Path

    def card(self, where: str, stem: str) -> dict | None:
        """The model card ``<where>/<stem>.json`` (``where`` is "models" or "results"), or None."""
        path = (self.models if where == "models" else self.results) / f"{stem}.json"
        if not path.is_file():
            return None
        card = json.loads(path.read_text())
        folder = "fer_lib/model/shipped" if where == "models" else where
        card["_path"] = f"{folder}/{stem}.json"
        card["_stem"], card["_where"] = stem, where
        history = card.get("history", f"{stem}.history.csv")
        card["_history_path"] = f"{folder}/{history}"
        card["_history"] = read_csv(path.parent / history) if (path.parent / history).is_file() else []
        return card

    def table(self, stem: str) -> tuple[list[dict], dict] | None:
        """A study's rows (``results/<stem>.csv``) and its ``.meta.json`` (``{}`` when absent), or None."""
        path = self.results / f"{stem}.csv"
        if not path.is_file():
            return None
        meta = self.results / f"{stem}.meta.json"
        return read_csv(path), (json.loads(meta.read_text()) if meta.is_file() else {})

    def json(self, stem: str) -> dict | None:
        path = self.results / f"{stem}.json"
        return json.loads(path.read_text()) if path.is_file() else None

    @functools.cached_property
    def model_hashes(self) -> dict[str, str]:
        """SHA-256 -> path of each saved model shipped in ``fer_lib/model/shipped/``."""
        return {
            hashlib.sha256(path.read_bytes()).hexdigest(): f"fer_lib/model/shipped/{path.name}"
            for path in sorted(self.models.glob("*.keras"))
        }


def read_csv(path: Path) -> list[dict]:
    """Rows of a CSV file, numbers converted (int, float, bool), text left as it is."""

    def value(text: str):
        for kind in (int, float):
            try:
                return kind(text)
            except ValueError:
                pass
        return {"True": True, "False": False, "": None}.get(text, text)

    with open(path, newline="") as handle:
        return [{key: value(text) for key, text in row.items()} for row in csv.DictReader(handle)]


# --------------------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------------------


def pct(x: float, digits: int = 1) -> str:
    """0.6941 -> '69.4%'."""
    return f"{100 * x:.{digits}f}%"


def points(x: float) -> str:
    """A difference of accuracies in points: 0.186 -> '18.6'."""
    return f"{100 * x:.1f}"


def minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min"


def millions(n: int) -> str:
    return f"{n / 1e6:.2f} M" if n < 1e6 else f"{n / 1e6:.1f} M"


def table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


#: Sections left out by the last :func:`render`, with why (a test checks that none is, on the real files).
LEFT_OUT: list[str] = []


def optional(section):
    """A section that needs files or rows that may be missing: left out (empty) when they are."""

    @functools.wraps(section)
    def wrapper(*args, **kwargs) -> str:
        try:
            return section(*args, **kwargs)
        except (
            KeyError,
            TypeError,
            ValueError,
            StopIteration,
            ZeroDivisionError,
            IndexError,
            AttributeError,
        ) as exc:
            LEFT_OUT.append(f"{section.__name__}: {type(exc).__name__}: {exc}")
            return ""

    return wrapper


# --------------------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------------------


def modern_command(command: str) -> str:
    """A recorded command in 0.2.0's names (``python -m fer_lib claims`` -> ``python -m research claims``).

    >>> modern_command("python -m fer_lib claims --epochs 10")
    'python -m research claims --epochs 10'
    >>> modern_command("python -m fer_lib train --model fer_net --teacher a.keras b.keras")
    'python -m research distil --model fer_net --teacher a.keras b.keras'
    """
    words = command.split()
    if words[:3] == ["python", "-m", "fer_lib"] and len(words) > 3:
        if words[3] in MOVED_COMMANDS:
            words[2] = "research"
        elif words[3] == "train" and "--teacher" in words:
            words[2:4] = ["research", "distil"]
    return " ".join(words)


def _flag_value(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _config_from_recipe(recipe: dict):
    from fer_lib.train import TrainConfig

    # the commands leave the precision to the machine ("auto", float32 on a CPU): a card records what ran
    return dataclasses.replace(TrainConfig.from_identity(recipe), precision=recipe.get("precision", "auto"))


def _effective(config) -> dict:
    """A config's choices as a run sees them: its fields with the model's recipe filled in (model options
    through JSON, as a run's identity reads them: a tuple of widths and a card's list are the same)."""
    fields = {field.name: getattr(config, field.name) for field in dataclasses.fields(config)}
    return {**fields, **config.recipe(), "model_options": json.loads(json.dumps(config.model_options))}


def _flags(config, base, names) -> list[str] | None:
    """Options turning profile ``base`` into ``config`` (None when the command line cannot)."""
    chosen = {name: getattr(config, name) for name in names}
    widths = config.model_options.get("widths")
    if set(config.model_options) == {"widths"} and config.model_name == "fer_net":  # what --widths sets
        chosen["model_options"] = config.model_options
    candidate = dataclasses.replace(base, **chosen)
    if _effective(candidate) != _effective(config):  # a choice the command line does not set differs
        return None
    words = []
    for name in TRAIN_FLAGS:
        if name in names and getattr(config, name) != getattr(base, name):
            value = getattr(config, name)
            words += [TRAIN_FLAGS[name], _flag_value(0 if value is None else value)]
    if widths and _effective(config)["model_options"] != _effective(base)["model_options"]:
        words += ["--widths", ",".join(str(width) for width in widths)]
    return words


def train_command(recipe: dict, *, output: str | None = None) -> str:
    """The ``python -m fer_lib train`` command line that trains a card's recipe (``python -m research train``
    for a recipe with research's knobs, :data:`KNOB_FLAGS`).

    The profile (``fer_lib.train.PROFILES``) needing the fewest options is named, and the
    options that differ from it follow. A recipe the command line cannot express is given
    as the Python call instead.

    Parameters
    ----------
    recipe : dict
        A model card's ``recipe``.
    output : str, optional
        The ``--output`` path to add.
    """
    from fer_lib.train import PROFILES

    config = _config_from_recipe(recipe)
    knobs = {name: recipe[name] for name in KNOB_FLAGS if name in recipe}
    options = []
    for name, profile in PROFILES.items():
        words = _flags(config, profile, set(TRAIN_FLAGS))
        if words is not None:
            options.append((len(words), name != "student", name, words))
    suffix = [] if output is None else ["--output", output]
    if not options:
        fields = {
            field.name: getattr(config, field.name)
            for field in dataclasses.fields(config)
            if getattr(config, field.name) != field.default and field.name != "model_options"
        }
        if config.model_options:
            fields["model_options"] = config.model_options
        args = ", ".join(f"{key}={value!r}" for key, value in fields.items())
        hooks = ", hooks=Knobs(" + ", ".join(f"{k}={v!r}" for k, v in knobs.items()) + ")" if knobs else ""
        return f"fer_lib.train.train(TrainConfig({args}), data{hooks})"
    _, _, name, words = min(options)
    # student is the command line's default profile: not named when the model itself is chosen
    profile = [] if name == "student" and "--model" in words else ["--profile", name]
    words += [word for key, value in knobs.items() for word in (KNOB_FLAGS[key], _flag_value(value))]
    program = "python -m research train" if knobs else "python -m fer_lib train"
    return " ".join([program, *profile, *words, *suffix])


def card_commands(card: dict, sources: Sources) -> list[str]:
    """The command lines that made a card, in order (a run, then any step applied to it)."""
    recipe = dict(card["recipe"])
    output = (
        f"fer_lib/model/shipped/{card['_stem']}.keras" if card["_where"] == "models" else f"{card['_stem']}.keras"
    )
    averaging = recipe.pop("weight_averaging", None)
    teachers = recipe.pop("teachers", None)
    share, temperature = recipe.pop("distillation", None), recipe.pop("temperature", None)
    if teachers:  # `python -m research distil` takes train's options, the teachers on top
        names = [teacher_name(sha, sources) for sha in teachers]
        command = train_command(recipe, output=output)
        prefix = next((p for p in ("python -m fer_lib train", "python -m research train") if command.startswith(p)), None)
        if prefix is None:
            return [f"(distilled; the recipe in {card['_path']} needs options the command line lacks)"]
        teachers_words = ["--teacher", *names, "--distillation", _flag_value(share), "--temperature",
                          _flag_value(temperature)]
        return [" ".join(["python -m research distil", *teachers_words]) + command[len(prefix):]]
    if averaging:
        return [
            train_command(recipe),
            f"python -m research average ~/.cache/fer_lib/runs/<that run> --epochs {averaging['epochs']} "
            f"--learning-rate {_flag_value(averaging['learning_rate'])} "
            f"--ema-momentum {_flag_value(averaging['ema_momentum'])} --output {output}",
        ]
    stopped = card["epochs_trained"] < card["epochs_planned"] and not recipe.get("max_minutes")
    if stopped:  # interrupted on purpose, then scored from its checkpoint
        weights = "last" if str(card.get("weights", "")).startswith("last") else "best"
        return [
            train_command(recipe) + f"  # stopped after epoch {card['epochs_trained']}",
            f"python -m research finalize ~/.cache/fer_lib/runs/<that run> --weights {weights} "
            f"--output {output}",
        ]
    return [train_command(recipe, output=output)]


def teacher_name(sha256: str, sources: Sources) -> str:
    """A teacher's file: the shipped model with that SHA-256, else the ensemble's member of that hash."""
    if sha256 in sources.model_hashes:
        return sources.model_hashes[sha256]
    for member in (sources.json("teacher_ensemble") or {}).get("members", []):
        if member.get("sha256") == sha256:
            return Path(member["file"]).name
    return f"<model {sha256[:12]}>"


def commands_block(commands: list[str]) -> str:
    return "```bash\n" + "\n".join(commands) + "\n```"


# --------------------------------------------------------------------------------------
# Numbers read off cards and histories
# --------------------------------------------------------------------------------------


def acc(card: dict, part: str) -> float:
    return card["accuracy"][part]


def network(card: dict) -> str:
    widths = card["recipe"].get("model_options", {}).get("widths")
    text = f"`{card['architecture']}`" + (f" ({'-'.join(map(str, widths))} filters)" if widths else "")
    text += f", {millions(card['parameters']['total'])} parameters"
    if card["recipe"].get("crop"):
        text += f", {card['recipe']['crop']}x{card['recipe']['crop']} crops with a ten-crop test"
    elif card.get("flip_tta"):
        text += ", flip averaging"
    return text


def training_text(card: dict) -> str:
    epochs = card["epochs_trained"]
    planned = card["epochs_planned"]
    averaging = card["recipe"].get("weight_averaging")
    if averaging:
        done = f"{averaging['after_epoch']} epochs and {averaging['epochs']} more"
    elif epochs < planned:
        done = f"{epochs} of {planned} planned epochs"
    else:
        done = f"{epochs} epochs"
    return f"{done}, {minutes(card['seconds'])}"


def recall(card: dict, emotion: str) -> str:
    return pct(card["per_class_test_accuracy"][emotion], 0)


def macro_f1(card: dict) -> str:
    value = card.get("test_macro_f1")
    return "not recorded" if value is None else f"{value:.3f}"


def epoch_seconds(card: dict) -> list[float]:
    return [row["seconds"] for row in card["_history"]]


def first_epoch_reaching(card: dict, level: float) -> tuple[int, float] | None:
    """(epoch, minutes of training so far) of the first epoch whose validation accuracy reaches ``level``."""
    spent = 0.0
    for row in card["_history"]:
        spent += row["seconds"]
        if row["val_accuracy"] >= level:
            return row["epoch"], spent / 60
    return None


CARD_ROWS = {
    "network": network,
    "test set": lambda c: (
        f"FER2013 `{c['split']['test_part']}`"
        if c["split"]["protocol"] == "official"
        else c["split"]["test_part"]
    ),
    "train accuracy": lambda c: pct(acc(c, "train")),
    "validation accuracy, one view": lambda c: pct(acc(c, "validation_without_flip_tta")),
    "validation accuracy": lambda c: pct(acc(c, "validation")),
    "test accuracy": lambda c: f"**{pct(acc(c, 'test'))}**",
    "test macro-F1": macro_f1,
    "Disgust / Fear recall": lambda c: f"{recall(c, 'Disgust')} / {recall(c, 'Fear')}",
    "train minus validation": lambda c: f"{points(acc(c, 'train') - acc(c, 'validation'))} points",
    "train minus test": lambda c: f"{points(acc(c, 'train') - acc(c, 'test'))} points",
    "training": training_text,
}


#: The rows that set a long run beside the model it set out to beat.
LONG_RUN_ROWS = ["network", "train accuracy", "validation accuracy, one view", "validation accuracy", "test accuracy",
                 "test macro-F1", "Disgust / Fear recall", "training"]


def card_table(
    columns: list[tuple[str, dict]], rows: list[str], extra: dict[str, list[str]] | None = None
) -> str:
    """Cards side by side: one column per card, one row per entry of :data:`CARD_ROWS` named in ``rows``.

    ``extra`` adds a fixed column on the left (the tutorial's figures), one cell per row.
    """
    header = [""] + ([] if extra is None else [extra["header"][0]]) + [name for name, _ in columns]
    body = []
    for index, row in enumerate(rows):
        cells = [row] + ([] if extra is None else [extra["cells"][index]])
        body.append(cells + [CARD_ROWS[row](card) for _, card in columns])
    return table(header, body)


def link(card: dict) -> str:
    return f"`{card['_path']}`"


#: The card (in ``results/``) of the model shipped before the current one, once a later run replaced it.
PREVIOUS = "fer_net_erasing"


def replaced(sources: Sources) -> bool:
    """Whether a later run has replaced the model the studies below set out to beat."""
    return sources.card("results", PREVIOUS) is not None


def reference(sources: Sources) -> tuple[str, dict]:
    """The model the studies below set out to beat, and what to call it: the model shipped when they ran."""
    if replaced(sources):
        return "the previously shipped model", sources.card("results", PREVIOUS)
    return "the shipped model", sources.card("models", "default")


def wider_card(sources: Sources) -> dict | None:
    """The wider ``fer_net``'s card: in ``results/``, or the shipped one once it replaced the model before it."""
    shipped = sources.card("models", "default")
    if "widths" in shipped["recipe"].get("model_options", {}):
        return shipped
    return sources.card("results", "fer_net_wide")


# --------------------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------------------


HEADER = """# Results

<!-- Generated by `python scripts/make_results_doc.py` from results/ and fer_lib/model/shipped/: do not edit by hand. -->

Every figure on this page is read from the files the project's runs left behind (model cards with their
training histories in `fer_lib/model/shipped/` and `results/`, study tables with their provenance in `results/`), by
`python scripts/make_results_doc.py`; the command that made each table stands beside it. The runs trained on
a {cores}-core x86 CPU without a GPU, on the project's copy of FER2013 (SHA-256 `{sha}...`, the
`Training` and `PublicTest` rows). Times depend on how busy that CPU was: compare them only within one table.
Speed measurements (parsing, training throughput, the live loop) are in
[benchmarks/README.md](../benchmarks/README.md).

Models are selected on a validation part carved out of `Training` (stratified, 10%); accuracies are reported
on `PublicTest`, which no choice ever looked at; `PrivateTest` stays untouched."""


@optional
def header(sources: Sources) -> str:
    shipped = sources.card("models", "default")
    return HEADER.format(cores=shipped["machine"]["cpu_count"], sha=shipped["data"]["sha256"][:12])


@optional
def at_a_glance(sources: Sources) -> str:
    shipped = sources.card("models", "default")
    seed = sources.card("results", "seed_cnn_tutorial")
    tutorial_params = millions(seed["parameters"]["total"]) if seed else "5.9 M"
    rows = [
        [
            "test accuracy",
            f"{pct(TUTORIAL['test'], 0)} ({TUTORIAL['test_set']})",
            f"**{pct(acc(shipped, 'test'))}** (`PublicTest`; macro-F1 {macro_f1(shipped)})",
        ],
        [
            "train minus test accuracy",
            f"{points(TUTORIAL['train'] - TUTORIAL['test'])} points ({points(TUTORIAL['train'])} − "
            f"{points(TUTORIAL['test'])})",
            f"{points(acc(shipped, 'train') - acc(shipped, 'test'))} points "
            f"({points(acc(shipped, 'train'))} − "
            f"{points(acc(shipped, 'test'))})",
        ],
        ["parameters", tutorial_params, millions(shipped["parameters"]["total"])],
        ["training", f"{TUTORIAL['epochs']} epochs", training_text(shipped)],
        [
            "the tutorial's cures for overfitting",
            "claimed",
            "tested: [below](#the-tutorials-cures-for-overfitting-tested)",
        ],
    ]
    return (
        "## At a glance\n\n"
        + table(["", "the tutorial", "ours: `fer_lib/model/shipped/default.keras`"], rows)
        + (
            f"\n\nCommand: `{card_commands(shipped, sources)[0]}`. The tutorial's figures are quoted from "
            "its notebook; "
            "its test set is a random tenth of all rows, an easier test than `PublicTest`."
        )
    )


PROFILE_CARDS = [
    ("student", "results", "fer_net_small_default", "`make train`"),
    ("full", "models", "default", "`make train PROFILE=full`, the shipped model"),
    (None, "results", "fer_net_16_epochs", "the first edition's shipped model"),
]


@optional
def profiles(sources: Sources) -> str:
    rows, notes = [], []
    for _, where, stem, label in PROFILE_CARDS:
        card = sources.card(where, stem)
        if card is None:
            continue
        rows.append(
            [
                label,
                network(card),
                training_text(card),
                pct(acc(card, "train")),
                pct(acc(card, "validation")),
                f"**{pct(acc(card, 'test'))}**",
                link(card),
            ]
        )
        notes.append(f"{label}: `{train_command(card['recipe'])}`")
    if not rows:
        return ""
    text = [
        "## Training runs: what to expect",
        "",
        table(["run", "model", "training", "train", "validation", "`PublicTest`", "card"], rows),
        "",
        "Commands (each card records its data hash, split, recipe, time and machine):",
        "",
    ]
    text += [f"- {note}" for note in notes]
    small = sources.card("results", "fer_net_small_default")
    if small:
        per_class = sorted(small["per_class_test_accuracy"].items(), key=lambda item: item[1])
        weakest = ", ".join(f"{name} {pct(value, 0)}" for name, value in per_class[:2])
        strongest = ", ".join(f"{name} {pct(value, 0)}" for name, value in per_class[::-1][:2])
        seconds = epoch_seconds(small)
        text += [
            "",
            f"The small model's weakest classes are {weakest}, its strongest {strongest} (macro-F1 "
            f"{macro_f1(small)}): it almost never predicts *Disgust*, 1.5% of the training faces. Its epochs "
            f"took {min(seconds):.0f} to {max(seconds):.0f} s, validation included. Notebook 3's own "
            "`default` "
            "profile is shorter still (4 epochs of the same model), so that `make run-all` stays short.",
        ]
    return "\n".join(text)


@optional
def shipped_model(sources: Sources) -> str:
    card = sources.card("models", "default")
    first = sources.card("results", "fer_net_16_epochs")
    split, recipe = card["split"], card["recipe"]
    keras_file = sources.models / "default.keras"
    size = f", {keras_file.stat().st_size / 1e6:.1f} MB" if keras_file.is_file() else ""
    text = [
        "## The shipped model",
        "",
        f"`fer_lib/model/shipped/default.keras` ({millions(card['parameters']['total'])} parameters{size}) is "
        f"`{card['architecture']}` trained on the {split['sizes']['train']:,} `Training` faces left after "
        "carving "
        f"a stratified {split['validation_fraction']:.0%} validation part ({split['sizes']['validation']:,} "
        "faces), "
        f"selected on that part, and tested once on the {split['sizes']['test']:,} `{split['test_part']}` "
        "faces. "
        "The recipe: AdamW with weight decay, label smoothing, mirroring, small rotations, shifts and "
        "zooms, a "
        "warm-up then a cosine learning rate, flip averaging kept when validation prefers it, and **random "
        f"erasing** (a random rectangle of {pct(recipe.get('random_erasing', 0), 0)} of the training faces "
        f"blanked, the recipe study's best change) on a {recipe['epochs']}-epoch schedule. Its card is "
        "`fer_lib/model/shipped/default.json`.",
        "",
        commands_block(card_commands(card, sources)),
        "",
    ]
    columns = ([("first edition (`results/fer_net_16_epochs.json`)", first)] if first else []) + [
        ("ours: `fer_lib/model/shipped/default.keras`", card)
    ]
    rows = [
        "network",
        "test set",
        "train accuracy",
        "validation accuracy",
        "test accuracy",
        "test macro-F1",
        "Disgust / Fear recall",
        "train minus validation",
        "train minus test",
        "training",
    ]
    tutorial = {
        "header": ["the tutorial (its notebook)"],
        "cells": [
            "`seed_cnn`",
            TUTORIAL["test_set"],
            pct(TUTORIAL["train"]),
            "not reported",
            pct(TUTORIAL["test"], 0),
            "not reported",
            "not reported",
            "not reported",
            f"{points(TUTORIAL['train'] - TUTORIAL['test'])} points",
            f"{TUTORIAL['epochs']} epochs",
        ],
    }
    text += [card_table(columns, rows, tutorial), ""]
    test = acc(card, "test")
    correct = round(test * split["sizes"]["test"])
    short = math.ceil(GOAL * split["sizes"]["test"]) - correct
    reading = (
        f"Read this honestly: the shipped model reaches **{pct(test)} on `PublicTest`**, "
        + (f"{points(test - acc(first, 'test'))} points above the first edition and " if first else "")
        + f"{points(test - TUTORIAL['test'])} above the tutorial's {pct(TUTORIAL['test'], 0)} (measured on a "
        "random split, an easier test)"
    )
    if short > 0:
        reading += (
            f", and {points(GOAL - test)} points short of the project's {pct(GOAL, 0)} goal ({short} of "
            f"{split['sizes']['test']:,} faces)"
        )
    reading += (
        ". Per-class `PublicTest` accuracy: "
        + ", ".join(
            f"{name} {pct(value, 0)}"
            for name, value in sorted(card["per_class_test_accuracy"].items(), key=lambda item: -item[1])
        )
        + "."
    )
    if first:
        fell = [
            name
            for name, value in card["per_class_test_accuracy"].items()
            if value < first["per_class_test_accuracy"][name]
        ]
        reading += (
            " Against the first edition every class rose"
            + (f" but {', '.join(fell)}" if fell else "")
            + f"; *Disgust* went from {recall(first, 'Disgust')} to {recall(card, 'Disgust')} and *Fear* "
            "from "
            f"{recall(first, 'Fear')} to {recall(card, 'Fear')}."
        )
        if first.get("test_macro_f1") is None:
            reading += " The first edition's card predates macro-F1."
    text += [reading, "", _shipped_history(card, first)]
    return "\n".join(text)


@optional
def _shipped_history(card: dict, first: dict | None) -> str:
    history = card["_history"]
    reach65, reach67 = first_epoch_reaching(card, 0.65), first_epoch_reaching(card, 0.67)
    peak = max(history, key=lambda row: row["val_accuracy"])
    after = [row["val_accuracy"] for row in history if row["epoch"] > peak["epoch"]]
    seconds = epoch_seconds(card)
    gap = acc(card, "train") - acc(card, "test")
    parts = []
    if first:
        parts.append(
            "The gap between train and test accuracy grew from "
            f"{points(acc(first, 'train') - acc(first, 'test'))} "
            f"to {points(gap)} points: the long schedule let the network fit its training faces much better "
            f"({pct(acc(card, 'train'), 0)}, measured without augmentation or dropout) while validation rose "
            f"more slowly. That is overfitting in the tutorial's sense, still less of it than the tutorial's "
            f"{points(TUTORIAL['train'] - TUTORIAL['test'])} points, and unlike the tutorial's *more epochs* "
            "(see the claims below) these epochs also raised accuracy on faces the network never saw: "
            "augmentation, random erasing and the decaying learning rate kept the extra fitting useful."
        )
    line = "Validation accuracy (one view, without flip averaging)"
    if reach65:
        line += f" passed 65% at epoch {reach65[0]} ({reach65[1]:.0f} minutes of training)"
    if reach67:
        line += f" and 67% at epoch {reach67[0]}"
    line += f", peaked at {pct(peak['val_accuracy'])} at epoch {peak['epoch']}"
    if after:
        line += f" and stayed between {pct(min(after))} and {pct(max(after))} to the end"
    line += (
        "; flip averaging, chosen on validation, adds "
        f"{points(acc(card, 'validation') - acc(card, 'validation_without_flip_tta'))}"
        f" points ({pct(acc(card, 'validation_without_flip_tta'))} to {pct(acc(card, 'validation'))}). "
        f"The card keeps the {card['weights']}'s weights (the best validation epoch was "
        f"{card['best_epoch']}); "
        "`python -m research finalize <run folder> --weights best` gives the other."
    )
    parts.append(line)
    budget = card["recipe"].get("max_minutes")
    run = f"The run: {card['epochs_planned']} epochs planned (the cosine schedule's length)"
    if budget and card["epochs_trained"] < card["epochs_planned"]:
        peak_rate = card["recipe"]["learning_rate"]
        run += (
            f" with a {budget:g}-minute safety budget, which ended it during epoch {card['epochs_trained']} "
            "with "
            f"the learning rate at {history[-1]['learning_rate'] / peak_rate:.1%} of its peak (the budget "
            "is not "
            f"part of the `full` profile, so a faster machine completes all {card['epochs_planned']} epochs)"
        )
    run += (
        f". Epochs took {min(seconds[:-1] or seconds):.0f} to {max(seconds):.0f} s, validation included "
        f"(median {statistics.median(seconds):.0f} s). Run again after an interruption, the command resumes "
        "from "
        "its checkpoint in `~/.cache/fer_lib/runs/`. `tests/model/test_shipped_model.py` recomputes the "
        "`PublicTest` accuracy and macro-F1 from the raw faces and checks them against the card, and checks "
        "that "
        "the quantised LiteRT file the live loop runs (`fer_lib/model/shipped/default.quantized.tflite`) scores within "
        "half a "
        "point of the Keras model."
    )
    parts.append(run)
    return "\n\n".join(parts)


@optional
def weight_averaging(sources: Sources) -> str:
    (name, shipped), card = reference(sources), sources.card("results", "fer_net_weight_averaged")
    averaging = card["recipe"]["weight_averaging"]
    faces = round(
        abs(acc(shipped, "validation") - acc(card, "validation")) * shipped["split"]["sizes"]["validation"]
    )
    rows = ["train accuracy", "validation accuracy", "test accuracy", "test macro-F1", "training"]
    return "\n".join(
        [
            "### Weight averaging (not shipped)",
            "",
            f"`python -m research average` (`research.averaging.average_weights`) trains a finished run "
            f"{averaging['epochs']} more epochs at a small constant learning rate "
            f"({_flag_value(averaging['learning_rate'])}) "
            f"and keeps Keras' moving average of the weights (the optimiser's `use_ema`, momentum "
            f"{_flag_value(averaging['ema_momentum'])}), with batch normalisation re-measured for the "
            "averaged weights: the "
            "idea of stochastic weight averaging, which often buys a point on image benchmarks. Validation, "
            "the only "
            "judge, kept the weights it started from; the averaged model's `PublicTest` figure was computed after "
            "that choice.",
            "",
            card_table([(name, shipped), (f"weight averaging ({link(card)})", card)], rows),
            "",
            f"A validation difference of {points(acc(shipped, 'validation') - acc(card, 'validation'))} "
            f"points is {faces} of "
            f"the {shipped['split']['sizes']['validation']:,} validation faces, within the noise of one "
            "run: averaging "
            "neither helped nor hurt this run. Commands (the extra epochs are checkpointed inside the run "
            "folder that "
            "`train` prints, so the second command resumes and, once finished, repeats no training):",
            "",
            commands_block(card_commands(card, sources)),
        ]
    )


@optional
def crops(sources: Sources) -> str:
    (name, shipped), card = reference(sources), sources.card("results", "fer_net_crop44")
    crop = card["recipe"]["crop"]
    pixels = 10 * crop * crop / (2 * 48 * 48)
    seconds = epoch_seconds(card)
    return "\n".join(
        [
            "### The study's two leaders together on the long schedule (not shipped)",
            "",
            f"Random erasing and training on random {crop}x{crop} crops with a ten-crop test (four corners "
            "and the "
            f"centre, each mirrored), for {card['epochs_trained']} epochs ({minutes(card['seconds'])}, a "
            "median "
            f"{statistics.median(seconds):.0f} s an epoch, as the network sees fewer pixels). The rule "
            "fixed before it "
            f"started: replace the shipped model only if validation beats {pct(acc(shipped, 'validation'))}.",
            "",
            commands_block(card_commands(card, sources)),
            "",
            card_table([(name, shipped), (f"{crop}x{crop} crops ({link(card)})", card)], LONG_RUN_ROWS),
            "",
            f"Validation chose ten crops over the centre crop alone ({pct(acc(card, 'validation'))} against "
            f"{pct(acc(card, 'validation_without_flip_tta'))}) and then ranked the run "
            f"{points(acc(shipped, 'validation') - acc(card, 'validation'))} points below {name}, "
            "so it was not "
            "shipped; its `PublicTest` figure was computed after that choice. Ten crops of "
            f"{crop}x{crop} are {pixels:.1f} times the pixels of flip averaging's two whole faces, and so "
            f"{pixels:.1f} "
            "times the live loop's classification cost, for no gain.",
        ]
    )


@optional
def wider(sources: Sources) -> str:
    (name, before), card = reference(sources), wider_card(sources)
    if card is None:  # the run has not ended
        return ""
    shipped = card["_where"] == "models"
    widths = card["recipe"]["model_options"]["widths"]
    factors = {width / default for width, default in zip(widths, (32, 64, 128, 256))}
    scale = f"{factors.pop():g} times the filters in every block" if len(factors) == 1 else "other filter counts"
    ignore = ("model_options", "max_minutes", "precision")
    same = {k: v for k, v in card["recipe"].items() if k not in ignore} == {
        k: v for k, v in before["recipe"].items() if k not in ignore}
    gain = acc(card, "validation") - acc(before, "validation")
    verdict = f"Validation ranked it {points(abs(gain))} points {'above' if gain > 0 else 'below'} {name}" + (
        ", so it replaced it" if shipped else ", so it was not shipped" if gain <= 0 else "; it is not shipped")
    return "\n".join(
        [
            f"### A wider `fer_net` on the long schedule ({'shipped' if shipped else 'not shipped'})",
            "",
            f"`fer_net` with {scale} ({', '.join(map(str, widths))}): "
            f"{millions(card['parameters']['total'])} parameters against "
            f"{millions(before['parameters']['total'])}, "
            f"{card['parameters']['total'] / before['parameters']['total']:.1f} times as many, "
            + (f"on {name}'s recipe" if same else "on a long schedule")
            + f" ({training_text(card)}, a median {statistics.median(epoch_seconds(card)):.0f} s an epoch). In the "
            "recipe study, at equal minutes, the wider network fitted fewer epochs and lost. The rule fixed before "
            f"it started: replace the shipped model only if validation beats {pct(acc(before, 'validation'))}.",
            "",
            commands_block(card_commands(card, sources)),
            "",
            card_table([(name, before), (f"wider ({link(card)})", card)], LONG_RUN_ROWS),
            "",
            f"{verdict}; its `PublicTest` figure was computed after that choice.",
            *(["", capacity(name, before, card)] if overfitted(before, card) else []),
            *([] if shipped else _paired(sources)),
        ]
    )


def overfitted(before: dict, card: dict) -> bool:
    """Whether a run not shipped fitted its training faces more closely than ``before`` and did no better elsewhere."""
    return (card["_where"] != "models" and acc(card, "validation") <= acc(before, "validation")
            and acc(card, "train") > acc(before, "train")
            and acc(card, "validation_without_flip_tta") <= acc(before, "validation_without_flip_tta"))


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _relative(difference: float, name: str) -> str:
    """'2.0 points above the shipped model's', 'level with ...', '0.4 below ...'."""
    if round(100 * difference, 1) == 0:
        return f"level with {name}'s"
    return f"{points(abs(difference))} points {'above' if difference > 0 else 'below'} {name}'s"


def capacity(name: str, before: dict, card: dict) -> str:
    """Where an overfitted wider run's extra filters went (see :func:`overfitted`), read off the cards and histories."""
    one_view = "validation_without_flip_tta"
    gaps = [acc(c, "train") - acc(c, one_view) for c in (before, card)]
    text = (
        f"The extra filters went into memorising: it fitted its training faces more closely "
        f"({pct(acc(card, 'train'))} against {pct(acc(before, 'train'))}) but did no better on faces it had not seen "
        f"({pct(acc(card, one_view))} against {pct(acc(before, one_view))} on validation with one view), so the gap "
        f"between the two grew from {points(gaps[0])} to {points(gaps[1])} points."
    )
    theirs = {row["epoch"]: row["val_accuracy"] for row in before["_history"]}
    lead = [row["val_accuracy"] - theirs[row["epoch"]] for row in card["_history"] if row["epoch"] in theirs]
    if len(lead) < 2:
        return text + " More capacity wants more regularisation."
    half = len(lead) // 2
    first, second = statistics.mean(lead[:half]), statistics.mean(lead[half:])
    stalled = round(100 * first, 1) > 0 >= round(100 * second, 1)
    histories = " and ".join(f"`{c['_history_path']}`" for c in (card, before))
    return (
        f"{text} Epoch for epoch, its validation (one view) averaged {_relative(first, name)} over the first "
        f"{_plural(half, 'epoch')} and {_relative(second, name)} over the remaining {_plural(len(lead) - half, 'epoch')} "
        f"({histories})"
        + (": the wider network learned faster, then stopped gaining. More capacity wants more regularisation, not "
           "more epochs." if stalled else ". More capacity wants more regularisation.")
    )


def _paired(sources: Sources) -> list[str]:
    """The wider run averaged with the shipped model, and beside the first pair when that was scored too."""
    pair, first = sources.json("ensemble_shipped_wide"), sources.json("teacher_ensemble")
    if not pair:
        return []
    text = (f"Averaged with the shipped model it scores {pct(pair['validation_accuracy'])} on validation and "
            f"{pct(pair['test_accuracy'])} on `PublicTest` (macro-F1 {pair['test_macro_f1']:.3f})")
    if first:
        members = " and ".join(f"`{Path(member['file']).name}`" for member in first["members"])
        better = pair["validation_accuracy"] > first["validation_accuracy"]
        text += (f": as the shipped model's partner it did {'better' if better else 'no better'} on validation than "
                 f"the pair {members} ({pct(first['validation_accuracy'])}, `PublicTest` "
                 f"{pct(first['test_accuracy'])})")
    return ["", text + ". Scores: `results/ensemble_shipped_wide.json`, made by", "",
            commands_block([pair["command"] + " --output results/ensemble_shipped_wide.json"])]


@optional
def ensemble_and_distillation(sources: Sources) -> str:
    (name, shipped), student = reference(sources), sources.card("results", "fer_net_distilled")
    ensemble = sources.json("teacher_ensemble")
    members = []
    for member in ensemble["members"]:
        shipped_name = sources.model_hashes.get(member["sha256"])
        members.append(
            f"`{Path(member['file']).name}`"
            + (f" (the same file as `{shipped_name}`)" if shipped_name else "")
        )
    singles = [card for card in (sources.card("models", "default"), wider_card(sources)) if card]
    best = all(ensemble["validation_accuracy"] > acc(card, "validation") for card in singles)
    text = [
        "### An ensemble, distilled into one live-sized network (not shipped)",
        "",
        f"The saved models {' and '.join(members)}, averaged (`research.distillation.ensemble`), are "
        + ("the best classifier this project has measured" if best else "a strong classifier")
        + f": validation {pct(ensemble['validation_accuracy'])}, "
        "`PublicTest` "
        f"**{pct(ensemble['test_accuracy'])}** (macro-F1 {ensemble['test_macro_f1']:.3f}; Disgust / Fear "
        "recall "
        f"{pct(ensemble['per_class_test_accuracy']['Disgust'], 0)} / "
        f"{pct(ensemble['per_class_test_accuracy']['Fear'], 0)}), "
        "but they cost every member's passes on every face, too slow for the live loop. Scores: "
        "`results/teacher_ensemble.json`, made by",
        "",
        commands_block([modern_command(ensemble["command"]) + " --output results/teacher_ensemble.json"]),
        "",
    ]
    if student is None:
        return "\n".join(text)
    recipe = student["recipe"]
    rows = [
        "train accuracy",
        "validation accuracy, one view",
        "validation accuracy",
        "test accuracy",
        "test macro-F1",
        "Disgust / Fear recall",
        "training",
    ]
    text += [
        "So a plain `fer_net` was trained on what the pair says (`research.distillation`, after Hinton, "
        "Vinyals and "
        "Dean 2015): the teachers scored every training face once, their probabilities were softened "
        "(temperature "
        f"{_flag_value(recipe['temperature'])}) and blended with the true labels (the teachers' share "
        f"{_flag_value(recipe['distillation'])}), and the student fitted those targets with the shipped "
        "recipe's "
        f"augmentation, random erasing included, for {student['epochs_trained']} epochs "
        f"({minutes(student['seconds'])}). Validation ranked it below {name}, so it was not "
        "shipped.",
        "",
        commands_block(card_commands(student, sources)),
        "",
        card_table([(name, shipped), (f"distilled ({link(student)})", student)], rows),
        "",
        f"The student fitted its training faces less closely ({pct(acc(student, 'train'), 0)} against "
        f"{pct(acc(shipped, 'train'), 0)}) and its single view was about as good as {name}'s "
        f"({pct(acc(student, 'validation_without_flip_tta'))} against "
        f"{pct(acc(shipped, 'validation_without_flip_tta'))}"
        f" on validation), but flip averaging added only "
        f"{points(acc(student, 'validation') - acc(student, 'validation_without_flip_tta'))} points to it, "
        "against "
        f"{points(acc(shipped, 'validation') - acc(shipped, 'validation_without_flip_tta'))}. A likely "
        "reason: the "
        "teachers' soft targets already carry mirror-averaged knowledge, so the mirror image tells the "
        "student less "
        "that is new. The shorter schedule and one untuned setting of the blend and the temperature may "
        "also have "
        "cost it; one run cannot tell these apart.",
    ]
    return "\n".join(text)


@optional
def how_far(sources: Sources) -> str:
    steps = []

    def add(label: str, validation: float, test: float, bold: bool = False) -> None:
        figure = f"{pct(test)} ({pct(validation)})"
        steps.append(f"- {label}: " + (f"**{figure}**" if bold else figure))

    first = sources.card("results", "fer_net_16_epochs")
    if first:
        add("the first edition", acc(first, "validation"), acc(first, "test"))
    study = sources.table("recipe_study")
    if study:
        rows, meta = study
        erasing = next(row for row in rows if row["variant"] == "random_erasing")
        add(
            f"the recipe study's random erasing at {erasing['minutes_budget']:g} minutes",
            erasing["validation_accuracy"],
            erasing["test_accuracy"],
        )
    name, before = reference(sources)
    now = not replaced(sources)
    add(
        f"random erasing on {before['recipe']['epochs']} epochs, " + ("the shipped model" if now else "shipped before"),
        acc(before, "validation"),
        acc(before, "test"),
        bold=now,
    )
    for stem, label in (
        ("fer_net_weight_averaged", "weight averaging after it"),
        ("fer_net_crop44", "with crops and a ten-crop test"),
        ("fer_net_distilled", "the ensemble distilled into one network"),
    ):
        card = sources.card("results", stem)
        if card:
            add(label, acc(card, "validation"), acc(card, "test"))
    wide = wider_card(sources)
    if wide:
        add("a wider fer_net" + (", the shipped model" if wide["_where"] == "models" else ""),
            acc(wide, "validation"), acc(wide, "test"), bold=wide["_where"] == "models")
    ensemble = sources.json("teacher_ensemble")
    if ensemble:
        add(
            "the two long runs averaged (too slow for live)",
            ensemble["validation_accuracy"],
            ensemble["test_accuracy"],
        )
    pair = sources.json("ensemble_shipped_wide")
    if pair:
        add(f"{name} and the wider one averaged (too slow for live)", pair["validation_accuracy"],
            pair["test_accuracy"])
    wider_tried = wide is not None
    return "\n".join(
        [
            "### How far each step got",
            "",
            "On `PublicTest`, with validation (the only judge) in brackets:",
            "",
            *steps,
            "",
            "What would get further, in the order we would try it: distillation given the "
            "full schedule "
            "and a small sweep of the teachers' share and temperature on validation (`python -m research "
            "distil`); a "
            "third, different teacher (the residual `fer_resnet` on the long schedule) to strengthen the "
            "ensemble"
            + ("; a wider network on a long schedule (at equal time it lost, see the recipe study)" if not wider_tried
               else "; the wider network again with stronger regularisation (more dropout or erasing: it fitted its "
               "training faces more closely and no better elsewhere)" if overfitted(before, wide) else "")
            + ". The larger steps want more "
            "CPU hours or a GPU: `fer_lib` uses only `keras.*` APIs in models and training, so the same "
            "code trains on "
            "JAX or PyTorch.",
        ]
    )


@optional
def recipe_study(sources: Sources) -> str:
    rows, meta = sources.table("recipe_study")
    by_name = {row["variant"]: row for row in rows}
    described = meta.get("variants", {})
    best = {
        column: max(row[column] for row in rows)
        for column in ("validation_accuracy", "test_accuracy", "test_macro_f1", "test_Disgust", "test_Fear")
    }

    def cell(row, column, text):
        return f"**{text}**" if row[column] == best[column] else text

    body = [
        [
            f"{row['variant']}: {described.get(row['variant'], row['description'])}",
            row["epochs"],
            f"{row['minutes']:.0f}",
            cell(row, "validation_accuracy", pct(row["validation_accuracy"])),
            cell(row, "test_accuracy", pct(row["test_accuracy"])),
            cell(row, "test_macro_f1", f"{row['test_macro_f1']:.3f}"),
            cell(row, "test_Disgust", pct(row["test_Disgust"], 0)),
            cell(row, "test_Fear", pct(row["test_Fear"], 0)),
        ]
        for row in rows
    ]
    ranked = sorted(rows, key=lambda row: -row["validation_accuracy"])
    budget = meta.get("budget", {}).get("minutes_per_variant", rows[0]["minutes_budget"])
    text = [
        "## The recipe study",
        "",
        "Which changes to the shipped recipe help, each given the same training time? Every variant "
        "trained on all "
        f"{rows[0]['train_faces']:,} `Training` faces left after the validation part for {budget:g} minutes "
        "(as many "
        "epochs as fitted, the cosine schedule planned to end with the budget), kept its best validation "
        "epoch, and "
        "was scored once on `PublicTest`. The rows were measured in several sittings on a shared CPU, so "
        "how many "
        "epochs fitted varied with its load as much as with the variant. Table and provenance: "
        "`results/recipe_study.csv` and `.meta.json`, shown in notebook 7 (Going further).",
        "",
        commands_block([modern_command(meta["command"])]) if meta.get("command") else "",
        "",
        table(
            ["variant", "epochs", "minutes", "validation", "`PublicTest`", "macro-F1", "Disgust", "Fear"],
            body,
        ),
        "",
        f"One seed and one run each: a point is within the noise. Validation, the study's judge, ranks "
        f"{ranked[0]['variant']} first and {ranked[1]['variant']} second." + _study_notes(by_name, sources),
    ]
    return "\n".join(part for part in text if part is not None)


@optional
def _study_notes(by_name: dict, sources: Sources) -> str:
    base, balanced, wider = by_name["baseline"], by_name["balanced"], by_name["wider"]
    return (
        f" Class weights bought *Disgust* ({pct(base['test_Disgust'], 0)} to "
        f"{pct(balanced['test_Disgust'], 0)} "
        f"recall) with {points(base['test_accuracy'] - balanced['test_accuracy'])} points of overall "
        "accuracy. The "
        f"wider network runs at about half the speed, so its budget held only {wider['epochs']} epochs: at "
        "equal "
        "time, width lost. No single change closed the gap to 70% on this budget; what did most of it was "
        "the best "
        "change given time, random erasing on the long schedule"
        + (", the model shipped before the current one." if replaced(sources) else ": the shipped model.")
    )


@optional
def claims(sources: Sources) -> str:
    import pandas as pd

    from fer_lib.course import verdicts

    rows, meta = sources.table("claims")
    frame = pd.DataFrame(rows)
    verdict = {row["variant"]: row["verdict"].split(":")[0] for _, row in verdicts(frame).iterrows()}
    body = [
        [
            row["variant"],
            row["epochs"],
            pct(row["train_accuracy"]),
            f"{pct(row['validation_accuracy'])} ({pct(row['validation_last3'])})",
            pct(row["test_accuracy"]),
            points(row["gap"]),
            f"{row['minutes']:.0f}",
            verdict.get(row["variant"], "(reference)"),
        ]
        for row in rows
    ]
    budget = meta.get("budget", {})
    spent = sum(row["minutes"] for row in rows) - sum(
        row["minutes"] for row in rows if row["variant"] == "baseline"
    )
    return "\n".join(
        [
            "## The tutorial's cures for overfitting, tested",
            "",
            "The tutorial says its overfitting can be cured by more epochs, a smaller stride or more "
            "dropout. "
            "`research.claims` trains one network per claim, changing only what the claim names, on the same "
            f"{budget.get('train_faces', rows[0]['train_faces']):,} training faces (a stratified sample of "
            "`Training`), "
            "seed, optimiser (constant learning rate 1e-3, batch 64) and "
            f"{budget.get('epochs', rows[0]['epochs'])} "
            "epochs; *more epochs* continues the baseline's run; augmentation, which the tutorial did not "
            "try, runs "
            f"under the same budget. The base network is `{rows[0]['model']}`, because the tutorial's own "
            "network does not "
            "leave the majority-class prior within a CPU budget (next section). Train accuracy is measured "
            "without dropout "
            "or augmentation; validation on the final model, with the mean of the last three epochs in "
            "brackets (what the "
            "verdicts compare, as one epoch swings by several points; `fer_lib.course.verdicts`); gap = "
            "train minus "
            "validation, in points. Notebook 4 shows and explains the table.",
            "",
            commands_block([modern_command(meta["command"])]) if meta.get("command") else "",
            "",
            f"About {spent:.0f} minutes of training (*more epochs* includes the baseline's).",
            "",
            table(
                [
                    "variant",
                    "epochs",
                    "train",
                    "validation (last 3 epochs)",
                    "`PublicTest`",
                    "gap",
                    "minutes",
                    "verdict",
                ],
                body,
            ),
            "",
            "In plain words: more epochs widened the gap for about two points of validation accuracy; a "
            "smaller stride changed nothing measurable; more dropout and augmentation both cured it. One "
            "seed, a small sample, few epochs: a small study, stated as such.",
        ]
    )


@optional
def tutorial_network(sources: Sources) -> str:
    card = sources.card("results", "seed_cnn_tutorial")
    history = card["_history"]
    per_epoch = [row["seconds"] / 60 for row in history]
    speed = card["split"]["sizes"]["train"] / statistics.median(row["seconds"] for row in history)
    left = card["epochs_planned"] - card["epochs_trained"]
    never = [name for name, value in card["per_class_test_accuracy"].items() if value == 0]
    predicted = [name for name, value in card["per_class_test_accuracy"].items() if value > 0]
    rows = [
        ["train accuracy", pct(TUTORIAL["train"]), pct(acc(card, "train"))],
        ["validation accuracy", "not reported", pct(acc(card, "validation"))],
        ["test accuracy (random 10% of rows)", pct(TUTORIAL["test"], 0), pct(acc(card, "test"))],
        [
            "time",
            "not reported",
            f"{minutes(card['seconds'])} (epochs of "
            + ", ".join(f"{value:.0f}" for value in per_epoch)
            + " minutes)",
        ],
    ]
    text = [
        "## Reproducing the tutorial's network",
        "",
        "`fer_lib.model.seed_cnn()` is the tutorial's network layer for layer "
        f"({card['parameters']['trainable']:,} "
        "trainable parameters, pinned by a test, with the tutorial's per-pixel standardisation moved inside "
        "the "
        "model). Training it under the tutorial's protocol (random 81/9/10 split, batch 64, Adam 1e-3, "
        f"{card['epochs_planned']} epochs) is one resumable command; it was run as far as the CPU allowed, "
        f"**{card['epochs_trained']} of its {card['epochs_planned']} epochs**, then scored from its "
        "checkpoint "
        f"(card and history: `results/seed_cnn_tutorial.{{json,history.csv}}`):",
        "",
        commands_block(card_commands(card, sources)),
        "",
        table(
            [
                "",
                f"the tutorial ({TUTORIAL['epochs']} epochs)",
                f"ours, same network and protocol, after {card['epochs_trained']} epochs",
            ],
            rows,
        ),
        "",
        "Validation accuracy by epoch: "
        + ", ".join(pct(row["val_accuracy"]) for row in history)
        + f". The network predicts {', '.join(predicted)} and never {', '.join(never) or 'any other class'} "
        "yet. At "
        f"about {speed:.0f} faces a second, the remaining {left} epochs are about "
        f"{left * statistics.median(row['seconds'] for row in history) / 3600:.0f} hours of that CPU, "
        "beyond the "
        "project's budget; the run's checkpoint stays in `~/.cache/fer_lib/runs/`, so the same command "
        "resumes it, "
        "and the code is backend-neutral for a GPU.",
    ]
    small = sources.table("claims_seed_cnn")
    if small:
        rows, meta = small
        row = rows[0]
        text += [
            "",
            f"The same slow start shows on a smaller scale: `{row['model']}` (the same blocks, dense head, "
            f"dropout and optimiser with fewer filters), trained on {row['train_faces']:,} `Training` faces "
            "for "
            f"{row['epochs']} epochs ({row['minutes']:.0f} minutes), still answered one class for nearly "
            "every "
            f"face: {pct(row['train_accuracy'])} train, {pct(row['validation_accuracy'])} validation, "
            f"{pct(row['test_accuracy'])} `PublicTest` accuracy. The tutorial's network, with heavy dropout "
            "after every block, learns slowly at first; its figures need its long schedule.",
            "",
            commands_block([modern_command(meta["command"])]) if meta.get("command") else "",
        ]
    return "\n".join(text)


#: The precision study's runs (issue 27): ``results/precision_<stem>.json``, float32 with two seeds, then bf16.
PRECISION_RUNS = [("float32", "student_float32_seed0"), ("float32", "student_float32_seed1"),
                  ("mixed_bfloat16", "student_mixed_bfloat16_seed0")]


@optional
def precision_parity(sources: Sources) -> str:
    cards = [(name, sources.card("results", f"precision_{stem}")) for name, stem in PRECISION_RUNS]
    if any(card is None for _, card in cards):
        raise KeyError("precision study cards")
    rows = [[f"`{name}`", str(card["recipe"]["seed"]), pct(acc(card, "validation_without_flip_tta")),
             pct(acc(card, "validation")), pct(acc(card, "test")),
             f"{statistics.median(epoch_seconds(card)):.0f} s", link(card)] for name, card in cards]
    def gaps(part: str) -> tuple[float, float]:  # bf16 minus float32 (same seed), and the two float32 seeds apart
        float32 = [acc(card, part) for name, card in cards if name == "float32"]
        bf16 = next(acc(card, part) for name, card in cards if name != "float32")
        return bf16 - float32[0], abs(float32[0] - float32[1])

    def verdict(part: str, what: str) -> str:
        gap, noise = gaps(part)
        return (f"{points(gap)} points {what}, {'within' if abs(gap) <= noise else 'outside'} the {points(noise)} "
                "points the two float32 seeds differ by")
    last = [epoch_seconds(card)[-6:] for name, card in cards[1:]]  # float32 seed 1, then bf16
    speed = sources.table("training_speed")
    speed = None if speed is None else [row["vs_first_precision"] for row in speed[0]
                                        if row["precision"] == "mixed_bfloat16"]

    def spread(values: list[float]) -> str:
        return f"{min(values):.0f}-{max(values):.0f}"

    return "\n".join([
        "## Training precision: accuracy parity",
        "",
        f"The same recipe (`fer_net_small`, the `student` profile: {cards[0][1]['epochs_trained']} epochs on all "
        f"{cards[0][1]['split']['sizes']['train']:,} training faces) in float32 with two seeds, to measure run-to-run noise, "
        "and in `mixed_bfloat16` (bf16 arithmetic on the CPU's AMX tiles, float32 weights and softmax) with the "
        "first seed. `PublicTest` is shown for completeness; the comparison is on validation.",
        "",
        table(["precision", "seed", "validation, one view", "validation", "`PublicTest`", "median epoch", "card"],
              rows),
        "",
        commands_block([command for _, card in cards for command in card_commands(card, sources)]),
        "",
        f"bf16 against float32 with the same seed: {verdict('validation', 'with flip averaging')}; "
        f"{verdict('validation_without_flip_tta', 'on one view')}. One bf16 run against two float32 seeds finds no "
        "accuracy cost at this scale; it cannot rule out a smaller one.",
        "",
        "The epochs' times say more about the machine than about the precision: other jobs shared the CPU during "
        "the first run and the first half of the other two (noted when they ran). In the quiet stretch at the end, "
        "float32's last six "
        f"epochs (seed 1) took {spread(last[0])} s and bf16's {spread(last[1])} s, "
        f"{statistics.median(last[0]) / statistics.median(last[1]):.2f}x" + (
            "" if speed is None else "; the throughput benchmark below, whose turns alternate, puts bf16 at "
            f"{min(speed):.2f}x to {max(speed):.2f}x float32") + ".",
    ])


FOOTER = """## Speed

Training throughput, parsing FER2013, the live loop and the face detectors' calibration are measured by the
scripts in `benchmarks/`; their latest figures, with the commands that produced them, are in
[benchmarks/README.md](../benchmarks/README.md)."""


def _load(meta: dict) -> str:
    low, high = meta.get("load_average", [None, None])
    return "" if low is None else f", load average {low} before and {high} after"


@optional
def training_speed(sources: Sources) -> str:
    """What bf16 buys in time (``results/training_speed.csv``) and where an epoch goes (``epoch_profile.csv``)."""
    from fer_lib.train._config import BFLOAT16_ON_CPU

    text = ["## Training speed"]
    speed = sources.table("training_speed")
    if speed:
        rows, meta = speed
        bf16 = [row["vs_first_precision"] for row in rows if row["precision"] == "mixed_bfloat16"]
        text += [
            "",
            "`benchmarks/bench_train.py` fits each network on the same batches in float32 and in `mixed_bfloat16`, "
            "in turns that alternate so a drifting machine speed hits both; a turn is one `fit` after an untimed "
            f"warm-up, and the table gives the median and the spread of the turns ({meta['date']}, {meta['cpu']}"
            f"{_load(meta)}; the share of peak is against {meta['peaks_gflops']['float32']:,.0f} GFLOP/s float32 "
            f"and {meta['peaks_gflops']['mixed_bfloat16']:,.0f} GFLOP/s bf16):",
            "",
            table(["model", "precision", "faces/s (median)", "min-max", "share of peak", "vs float32"],
                  [[f"`{row['model']}`", row["precision"], f"{row['faces_per_second']:.0f}",
                    f"{row['min']:.0f}-{row['max']:.0f}", pct(row["share_of_peak"], 0),
                    f"{row['vs_first_precision']:.2f}x"] for row in rows]),
            "",
            commands_block([meta["command"]]),
            "",
            f"In this run bf16 ran at {min(bf16):.2f}x to {max(bf16):.2f}x float32's faces per second. "
            + ("`TrainConfig(precision=\"auto\")` trains in bf16 on CPUs with bf16 instructions."
               if BFLOAT16_ON_CPU else
               "Two earlier runs of the same script that day, kept in "
               "[benchmarks/README.md](../benchmarks/README.md#training-throughput), gave `fer_net` 0.80x and 1.03x "
               "and `fer_net_small` 1.15x: bf16's turns sit at one of two levels from run to run (about 190 or "
               "330-380 faces/s for `fer_net`) while float32's stay put, so its gain is not one a run can count "
               "on. With no reliable gain, and no accuracy cost measured either way, "
               "`TrainConfig(precision=\"auto\")` trains in float32 on CPUs "
               "(`fer_lib.train._config.BFLOAT16_ON_CPU = False`); on a GPU it picks `mixed_float16`."),
        ]
    profile = sources.table("epoch_profile")
    if profile:
        rows, meta = profile
        seconds = {row["part"]: row for row in rows}
        inline = seconds["steps: inline (as train runs it)"]["seconds"]
        around = sum(row["seconds"] for part, row in seconds.items()
                     if part.startswith(("validation, batch 32", "batch-norm", "checkpoint")))
        epoch = inline + around  # the inline steps build their batches: augmentation is inside them

        def share(part: str) -> str:
            return pct(seconds[part]["seconds"] / epoch, 1)

        text += [
            "",
            f"**Where an epoch goes.** `benchmarks/profile_epoch.py` timed each part of one epoch of `train()` on its "
            f"own (`--profile {meta['profile']}`: `{meta['model']}`, {meta['batches']} batches, "
            f"{meta['validation_faces']:,} validation faces; {meta['date']}{_load(meta)}), in seconds an epoch:",
            "",
            table(["part of an epoch", "seconds (median)", "min-max", "share of an epoch"],
                  [[row["part"], f"{row['seconds']:.1f}", f"{row['min']:.1f}-{row['max']:.1f}",
                    share(row["part"]) if not row["part"].startswith(
                        ("steps: prepared", "steps: workers", "steps: inline,", "validation, batch 256"))
                    else ""] for row in rows]),
            "",
            commands_block([meta["command"]]),
            "",
            f"The training steps are {pct(inline / epoch, 0)} of an epoch (building the batches, inside them, "
            f"{pct(seconds['augmentation']['seconds'] / epoch, 1)}, which is all that overlapping them with the steps "
            "could save; differences beyond that are the machine's noise). Batches prepared beforehand ran at "
            f"{inline / seconds['steps: prepared beforehand']['seconds']:.2f}x the inline steps' speed, worker "
            f"threads at {inline / seconds['steps: workers=2 (threads)']['seconds']:.2f}x and XLA at "
            f"{inline / seconds['steps: inline, jit_compile=True']['seconds']:.2f}x, and a validation batch of 256 "
            f"takes {seconds['validation, batch 256']['seconds']:.1f} s against "
            f"{seconds['validation, batch 32']['seconds']:.1f} s at 32.",
        ]
    if len(text) == 1:
        raise KeyError("training_speed.csv and epoch_profile.csv")
    return "\n".join(text)

SECTIONS = [
    header,
    at_a_glance,
    profiles,
    shipped_model,
    weight_averaging,
    crops,
    ensemble_and_distillation,
    wider,
    how_far,
    recipe_study,
    claims,
    tutorial_network,
    precision_parity,
    training_speed,
]


def render(results: str | os.PathLike, models: str | os.PathLike) -> str:
    """The text of ``docs/results.md`` for the result files in ``results`` and ``models``.

    Parameters
    ----------
    results, models : str or Path
        The folders holding the study tables and cards (``results/``) and the shipped model's card
        (``fer_lib/model/shipped/``). A section whose files are missing is left out.

    Returns
    -------
    str
    """
    sources = Sources(Path(results), Path(models))
    LEFT_OUT.clear()
    parts = [section(sources) for section in SECTIONS]
    if parts[0] == "":
        parts[0] = (
            "# Results\n\n<!-- Generated by `python scripts/make_results_doc.py`: do not edit by hand. -->"
        )
    return "\n\n".join(part.strip() for part in [*parts, FOOTER] if part.strip()) + "\n"


def readme_table(results: str | os.PathLike, models: str | os.PathLike) -> str:
    """The README's one results table (a test checks that README.md carries it as written here)."""
    sources = Sources(Path(results), Path(models))
    seed = sources.card("results", "seed_cnn_tutorial")
    parameters = f", {millions(seed['parameters']['total'])} parameters" if seed else ""
    rows = [
        [
            "the tutorial (its notebook)",
            f"`seed_cnn`{parameters}",
            f"{TUTORIAL['epochs']} epochs",
            f"{pct(TUTORIAL['test'], 0)} ({TUTORIAL['test_set']})",
            "quoted",
        ]
    ]
    for label, where, stem in (
        ("`student` profile (`make train`)", "results", "fer_net_small_default"),
        ("the shipped model (`make train PROFILE=full`)", "models", "default"),
    ):
        card = sources.card(where, stem)
        if card:
            rows.append(
                [
                    label,
                    network(card).split(", flip")[0],
                    training_text(card),
                    f"**{pct(acc(card, 'test'))}** (macro-F1 {macro_f1(card)})",
                    f"`{train_command(card['recipe'])}`",
                ]
            )
    ensemble = sources.json("teacher_ensemble")
    if ensemble:
        rows.append(
            [
                "two long runs averaged (too slow for live, not shipped)",
                "2 × `fer_net`",
                "an erasing run and a crop run",
                f"{pct(ensemble['test_accuracy'])} (macro-F1 {ensemble['test_macro_f1']:.3f})",
                "`python -m research ensemble`",
            ]
        )
    return table(["", "model", "training", "`PublicTest` accuracy", "command"], rows)


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python scripts/make_results_doc.py", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--results", type=Path, default=ROOT / "results", help="study tables and cards (results/)"
    )
    parser.add_argument(
        "--models", type=Path, default=ROOT / "fer_lib" / "model" / "shipped", help="the shipped model's card (fer_lib/model/shipped/)"
    )
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "results.md", help="the page to write")
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if the page is out of date"
    )
    args = parser.parse_args(argv)
    text = render(args.results, args.models)
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.is_file() else None
        if current != text:
            print(f"{args.output} is out of date: run `python scripts/make_results_doc.py`", file=sys.stderr)
            return 1
        print(f"{args.output} is up to date")
        return 0
    write_atomically(args.output, text)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
