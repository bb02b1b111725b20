"""The user-facing documents: README.md, docs/*.md and benchmarks/README.md.

- The README stays short (at most 12,000 bytes); the rest lives in ``docs/``.
- ``docs/results.md`` is exactly what ``scripts/make_results_doc.py`` writes from ``results/`` and
  ``models/``, and the README's results table is the one the script renders.
- The quick commands in the documents' ``bash``, ``sh`` and ``console`` code blocks run. The
  convention: a line is run when, after an optional ``$ `` prompt and ``.venv/bin/``, it starts with
  one of :data:`FAST_COMMANDS`; ``python`` is replaced by this interpreter, the command runs from a
  folder that mirrors the repository root (so files it writes land in a temporary folder) and must
  exit 0 within 60 s. ``make``, training, studies and anything needing a camera are never run.
- No document points into the development machine's private folders.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = [README, *sorted((ROOT / "docs").glob("*.md")), ROOT / "benchmarks" / "README.md"]
README_LIMIT = 12_000

#: Commands quick enough to run in the tests, without a camera (see the module docstring).
FAST_COMMANDS = (
    "python -m fer_lib predict",
    "python -m fer_lib info",
    "python -m fer_lib --help",
    "python -m research --help",
    "python scripts/make_results_doc.py --check",
)
SHELL_BLOCK = re.compile(r"^```(?:bash|sh|console)[ \t]*\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _generator():
    spec = importlib.util.spec_from_file_location(
        "make_results_doc", ROOT / "scripts" / "make_results_doc.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_results_doc", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generator():
    return _generator()


# --------------------------------------------------------------------------------------
# Size and wording
# --------------------------------------------------------------------------------------


def test_readme_is_short():
    size = README.stat().st_size
    assert size <= README_LIMIT, (
        f"README.md is {size:,} bytes; keep it under {README_LIMIT:,} (move detail to docs/)"
    )


@pytest.mark.parametrize("path", DOCS, ids=lambda path: str(path.relative_to(ROOT)))
def test_docs_do_not_point_at_the_development_machine(path):
    text = path.read_text(encoding="utf-8")
    assert "../shared" not in text
    assert "this machine" not in text.lower()


def test_readme_links_to_the_docs():
    text = README.read_text(encoding="utf-8")
    for target in ("docs/results.md", "docs/architecture.md", "docs/changelog.md", "benchmarks/README.md"):
        assert f"]({target})" in text, target
        assert (ROOT / target).is_file(), target


# --------------------------------------------------------------------------------------
# docs/results.md and its generator
# --------------------------------------------------------------------------------------


def test_results_page_is_up_to_date(generator, capsys):
    assert generator.main(["--check"]) == 0, capsys.readouterr().err
    assert generator.LEFT_OUT == [], f"sections left out of docs/results.md: {generator.LEFT_OUT}"


def test_readme_carries_the_rendered_results_table(generator):
    table = generator.readme_table(ROOT / "results", ROOT / "fer_lib" / "model" / "shipped")
    assert table in README.read_text(encoding="utf-8"), (
        "README.md's results table differs from make_results_doc.readme_table(); paste its output into "
        "README.md"
    )


def test_every_card_command_trains_the_recipe_of_its_card(generator):
    from fer_lib.cli import build_parser, config_from_arguments
    from fer_lib.train import TrainConfig
    from research import cli as research_cli

    cards = [ROOT / "fer_lib" / "model" / "shipped" / "default.json", *sorted((ROOT / "results").glob("*.json"))]
    checked = 0
    for path in cards:
        card = json.loads(path.read_text())
        if "recipe" not in card or {"teachers", "weight_averaging"} & set(card["recipe"]):
            continue
        command = generator.train_command(card["recipe"])
        words = shlex.split(command)
        assert words[:3] == ["python", "-m", "fer_lib"] or words[:3] == ["python", "-m", "research"], command
        assert words[3] == "train", command
        parser = build_parser() if words[2] == "fer_lib" else research_cli.build_parser()
        args = parser.parse_args(words[3:])
        config = config_from_arguments(args)
        recorded = TrainConfig.from_identity(card["recipe"])  # the commands leave the precision to the machine
        assert generator._effective(config) == generator._effective(
            dataclasses.replace(recorded, precision=config.precision)), path
        knobs = {key: getattr(args, key, None) for key in generator.KNOB_FLAGS}
        assert {k: v for k, v in knobs.items() if v is not None} == {
            k: v for k, v in card["recipe"].items() if k in generator.KNOB_FLAGS}, path
        checked += 1
    assert checked >= 3


@pytest.mark.parametrize("full_is_wide", [False, True], ids=["full narrow", "full wide"])
def test_a_wider_fer_net_has_a_command_that_trains_its_recipe(generator, full_is_wide, monkeypatch):
    from fer_lib.cli import build_parser, config_from_arguments
    from fer_lib.train import PROFILES, TrainConfig

    widths = (48, 96, 192, 384)
    if full_is_wide:  # the profile as it reads once the wider network is the shipped one
        monkeypatch.setitem(PROFILES, "full", dataclasses.replace(PROFILES["full"], model_options={"widths": widths}))
    recipe = {**TrainConfig.from_identity({}).recipe(), **TrainConfig("fer_net", epochs=72, random_erasing=0.5,
              model_options={"widths": list(widths)}).identity(FakeData()), "precision": "float32"}
    command = generator.train_command(recipe)
    assert ("--widths 48,96,192,384" in command) != full_is_wide and "--profile full" in command, command
    config = config_from_arguments(build_parser().parse_args(shlex.split(command)[3:]))
    recorded = dataclasses.replace(TrainConfig.from_identity(recipe), precision=config.precision)
    assert generator._effective(config) == generator._effective(recorded)  # a tuple of widths and a list alike
    narrow = dict(recipe, model_options={})
    command = generator.train_command(narrow)  # the narrow network: never the wide profile's widths
    config = config_from_arguments(build_parser().parse_args(shlex.split(command)[3:]))
    assert config.model_options in ({}, {"widths": (32, 64, 128, 256)}), command


class FakeData:
    sha256, synthetic = "ab" * 32, False


FAKE_CARD = {
    "name": "fer_net_small",
    "architecture": "fer_net_small",
    "parameters": {"trainable": 294615, "non_trainable": 960, "total": 295575},
    "flip_tta": True,
    "data": {"file": "fer2013.csv", "sha256": "ab" * 32, "synthetic": False, "skipped_rows": 0},
    "split": {
        "protocol": "official",
        "validation_fraction": 0.1,
        "seed": 0,
        "sizes": {"train": 1350, "validation": 150, "test": 3589},
        "test_part": "PublicTest",
    },
    "recipe": {
        "model_name": "fer_net_small",
        "protocol": "official",
        "validation_fraction": 0.1,
        "sample_size": 1500,
        "epochs": 2,
        "batch_size": 64,
        "seed": 0,
        "augment": True,
        "schedule": "cosine",
        "learning_rate": 0.002,
        "flip_tta": "auto",
    },
    "epochs_trained": 2,
    "epochs_planned": 2,
    "weights": "last epoch",
    "best_epoch": 2,
    "seconds": 95.0,
    "machine": {"cpu_count": 2, "keras": "3.15.1", "backend": "tensorflow"},
    "accuracy": {
        "train": 0.4321,
        "validation": 0.4012,
        "validation_without_flip_tta": 0.3987,
        "test": 0.4123,
    },
    "per_class_test_accuracy": {
        "Angry": 0.3,
        "Disgust": 0.01,
        "Fear": 0.12,
        "Happy": 0.71,
        "Sad": 0.22,
        "Surprise": 0.55,
        "Neutral": 0.41,
    },
    "test_macro_f1": 0.3456,
    "history": "default.history.csv",
}


def _fake_checkout(tmp_path: Path) -> tuple[Path, Path]:
    results, models = tmp_path / "results", tmp_path / "models"
    results.mkdir()
    models.mkdir()
    (models / "default.json").write_text(json.dumps(FAKE_CARD))
    (models / "default.history.csv").write_text(
        "epoch,accuracy,loss,val_accuracy,val_loss,learning_rate,seconds\n"
        "1,0.30,1.8,0.33,1.7,0.002,50.0\n2,0.40,1.6,0.3987,1.6,0.0001,45.0\n"
    )
    return results, models


def test_generator_renders_a_card_with_its_command(generator, tmp_path):
    results, models = _fake_checkout(tmp_path)
    text = generator.render(results, models)
    assert text.startswith("# Results\n")
    assert "**41.2%** (`PublicTest`; macro-F1 0.346)" in text  # test accuracy and macro-F1, formatted
    assert "| train accuracy | 90.6% | 43.2% |" in text  # the tutorial's quoted figure beside the card's
    assert "python -m fer_lib train --profile fast --output fer_lib/model/shipped/default.keras" in text  # from the recipe
    assert "Happy 71%, Surprise 55%" in text  # per-class accuracy, best first
    assert "(median 48 s)" in text  # from the history
    assert (
        "The recipe study" not in text and "cures for overfitting, tested\n" not in text
    )  # no tables: left out
    assert "benchmarks/README.md" in text


def test_generator_renders_a_wider_run_in_each_outcome(generator, tmp_path, monkeypatch):
    from fer_lib.train import PROFILES

    results, models = _fake_checkout(tmp_path)
    recipe = {**FAKE_CARD["recipe"], "model_name": "fer_net", "sample_size": None, "epochs": 72,
              "random_erasing": 0.5, "model_options": {"widths": [48, 96, 192, 384]}}
    wide = dict(FAKE_CARD, name="fer_net", architecture="fer_net", recipe=recipe, history="fer_net_wide.history.csv",
                parameters={"total": 2_642_359})
    history = (models / "default.history.csv").read_text()
    (results / "fer_net_wide.history.csv").write_text(history.replace(",0.33,", ",0.36,").replace(",0.3987,", ",0.38,"))

    def render(validation: float, **accuracy: float) -> str:
        (results / "fer_net_wide.json").write_text(
            json.dumps(dict(wide, accuracy=dict(FAKE_CARD["accuracy"], validation=validation, **accuracy))))
        return generator.render(results, models)

    text = render(0.39)  # worse on validation: not shipped
    assert "python -m fer_lib train --profile full --widths 48,96,192,384 --output fer_net_wide.keras" in text
    assert "`fer_net` (48-96-192-384 filters), 2.6 M parameters" in text
    assert "### A wider `fer_net` on the long schedule (not shipped)" in text
    assert "ranked it 1.1 points below the shipped model, so it was not shipped" in text
    assert "- a wider fer_net: 41.2% (39.0%)" in text
    assert "a wider network on a long schedule" not in text  # no longer among the things to try
    assert "memorising" not in text and "stronger regularisation" not in text  # it fitted no more closely
    # fitted its training faces more closely, no better on validation: read as overfitting, and what to try next
    text = render(0.39, train=0.60, validation_without_flip_tta=0.38)
    assert "(60.0% against 43.2%)" in text and "grew from 3.3 to 22.0 points" in text  # one-view gaps
    assert "3.0 points above the shipped model's over the first 1 epoch and 1.9 points below" in text
    assert "the wider network again with stronger regularisation" in text
    # averaged with the shipped model: its scores and command always, the first pair beside it when it was scored
    pair = {"validation_accuracy": 0.5, "test_accuracy": 0.45, "test_macro_f1": 0.4,
            "command": "python -m research ensemble a.keras b.keras"}
    (results / "ensemble_shipped_wide.json").write_text(json.dumps(pair))
    text = render(0.39)
    assert "scores 50.0% on validation and 45.0% on `PublicTest`" in text and "than the pair" not in text
    assert "python -m research ensemble a.keras b.keras --output results/ensemble_shipped_wide.json" in text
    assert "- the shipped model and the wider one averaged (too slow for live): 45.0% (50.0%)" in text
    first = dict(pair, members=[{"file": "x/one.keras"}, {"file": "two.keras"}])
    (results / "teacher_ensemble.json").write_text(json.dumps(dict(first, validation_accuracy=0.55)))
    assert "did no better on validation than the pair `one.keras` and `two.keras`" in render(0.39)
    (results / "teacher_ensemble.json").write_text(json.dumps(dict(first, validation_accuracy=0.45)))
    assert "did better on validation than the pair" in render(0.39)
    for name in ("teacher_ensemble.json", "ensemble_shipped_wide.json"):
        (results / name).unlink()
    text = render(0.45)  # better, but its card is only in results/: it is not the shipped model (yet)
    assert "(not shipped)" in text and "above the shipped model; it is not shipped" in text
    assert "replaced" not in text
    text = render(0.45, train=0.60, validation_without_flip_tta=0.38)  # better with flips, worse with one view
    assert "memorising" not in text and "stronger regularisation" not in text  # validation chose it: no overfitting
    # shipped: the card is the package's, the model it replaced keeps its card in results/, `full` is the wide recipe
    monkeypatch.setitem(PROFILES, "full", dataclasses.replace(PROFILES["full"], model_options={"widths": (48, 96, 192, 384)}))
    (results / "fer_net_erasing.json").write_text(json.dumps(dict(FAKE_CARD, history="fer_net_erasing.history.csv")))
    (results / "fer_net_erasing.history.csv").write_text(history)
    (models / "default.json").write_text(json.dumps(dict(wide, history="default.history.csv",
                                                         accuracy=dict(FAKE_CARD["accuracy"], validation=0.45))))
    (results / "ensemble_shipped_wide.json").write_text(json.dumps(pair))
    text = generator.render(results, models)
    assert "### A wider `fer_net` on the long schedule (shipped)" in text
    assert "Averaged with the shipped model" not in text and "memorising" not in text
    assert "- the previously shipped model and the wider one averaged (too slow for live): 45.0% (50.0%)" in text
    assert "ranked it 4.9 points above the previously shipped model, so it replaced it" in text
    assert "python -m fer_lib train --profile full --output fer_lib/model/shipped/default.keras" in text
    assert "- a wider fer_net, the shipped model: **41.2% (45.0%)**" in text
    assert "- random erasing on 2 epochs, shipped before: 41.2% (40.1%)" in text


def test_generator_writes_atomically_and_checks(generator, tmp_path, capsys):
    results, models = _fake_checkout(tmp_path)
    page = tmp_path / "docs" / "results.md"
    options = ["--results", str(results), "--models", str(models), "--output", str(page)]
    assert generator.main([*options, "--check"]) == 1  # nothing written yet
    assert generator.main(options) == 0
    assert page.read_text() == generator.render(results, models)
    assert [path.name for path in page.parent.iterdir()] == ["results.md"]  # no temporary file left
    assert generator.main([*options, "--check"]) == 0
    card = dict(FAKE_CARD, accuracy=dict(FAKE_CARD["accuracy"], test=0.5))
    (models / "default.json").write_text(json.dumps(card))
    assert generator.main([*options, "--check"]) == 1  # the data changed: the page is stale
    assert "out of date" in capsys.readouterr().err


def test_recorded_commands_get_their_new_names(generator):
    assert (
        generator.modern_command("python -m fer_lib recipes --minutes 18")
        == "python -m research recipes --minutes 18"
    )
    assert generator.modern_command("python -m fer_lib ensemble a.keras b.keras").startswith(
        "python -m research ensemble"
    )
    assert generator.modern_command("python -m fer_lib train --teacher a.keras").startswith(
        "python -m research distil"
    )
    assert generator.modern_command("python -m fer_lib predict x.jpg") == "python -m fer_lib predict x.jpg"


# --------------------------------------------------------------------------------------
# The commands in the documents
# --------------------------------------------------------------------------------------


def shell_commands(text: str) -> list[str]:
    """The command lines of a Markdown text's bash/sh/console code blocks (continuations joined)."""
    commands = []
    for block in SHELL_BLOCK.findall(text):
        pending = ""
        for line in block.splitlines():
            line = line.strip()
            if line.startswith("$ "):
                line = line[2:]
            if line.endswith("\\"):
                pending += line[:-1] + " "
                continue
            line, pending = pending + line, ""
            if line and not line.startswith("#"):
                commands.append(line)
    return commands


def fast_command(line: str) -> str | None:
    """``line`` with ``python`` made this interpreter when it is one of :data:`FAST_COMMANDS`, else None."""
    bare = line.removeprefix(".venv/bin/")
    if not any(bare == prefix or bare.startswith(prefix + " ") for prefix in FAST_COMMANDS):
        return None
    return shlex.quote(sys.executable) + bare.removeprefix("python")


def test_command_extraction():
    text = (
        "```bash\n$ .venv/bin/python -m fer_lib predict a.jpg   # a comment\nmake test\n"
        "python -m research \\\n  --help\n```\n```python\nprint(1)\n```\n"
    )
    lines = shell_commands(text)
    assert lines == [
        ".venv/bin/python -m fer_lib predict a.jpg   # a comment",
        "make test",
        "python -m research  --help",
    ]
    assert fast_command(lines[0]).endswith(" -m fer_lib predict a.jpg   # a comment")
    assert fast_command(lines[1]) is None
    assert fast_command(".venv/bin/python -m fer_lib train --profile fast") is None
    assert fast_command("python -m fer_lib information") is None


DOC_COMMANDS = [
    (path.relative_to(ROOT), line)
    for path in DOCS
    for line in shell_commands(path.read_text(encoding="utf-8"))
    if fast_command(line)
]


def test_the_documents_have_fast_commands():
    assert len(DOC_COMMANDS) >= 5
    assert any("predict" in line for _, line in DOC_COMMANDS)


@pytest.fixture(scope="module")
def mirror(tmp_path_factory) -> Path:
    """A folder whose entries link to the repository root's: commands see the repository, write elsewhere."""
    folder = tmp_path_factory.mktemp("repo")
    for entry in ROOT.iterdir():
        if entry.name not in (".git", ".venv"):
            (folder / entry.name).symlink_to(entry)
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("where,line", DOC_COMMANDS, ids=[f"{path}: {line}" for path, line in DOC_COMMANDS])
def test_documented_command_runs(where, line, mirror):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", MPLBACKEND="Agg")
    done = subprocess.run(
        fast_command(line), shell=True, cwd=mirror, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, (
        f"{where}: `{line}` exited {done.returncode}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    )
