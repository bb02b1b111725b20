"""``python -m research``: its parser mirrors the studies' constants and passes options through."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from research import cli

ROOT = Path(__file__).resolve().parents[2]


def _option(command: str, dest: str):
    parser = cli.build_parser()
    commands = next(a for a in parser._actions if a.dest == "command")
    return next(a for a in commands.choices[command]._actions if a.dest == dest)


def _fake_result(name: str):
    card = {"name": name, "accuracy": {"train": 0.8, "validation": 0.7, "test": 0.69},
            "split": {"test_part": "PublicTest"}, "test_macro_f1": 0.6123}
    return type("Result", (), {"card": card})()


def test_choices_match_the_studies():
    from research.claims import BASES, VARIANTS
    from research.recipes import RECIPE_VARIANTS

    assert list(_option("claims", "base").choices) == list(BASES)
    assert _option("claims", "variants").help.split(": ", 1)[1].split() == [v.name for v in VARIANTS]
    assert _option("recipes", "variants").help.split(": ", 1)[1].split() == [v.name for v in RECIPE_VARIANTS]


def test_recipes_needs_positive_minutes_and_takes_the_batch_size_it_records(capsys):
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["recipes", "--minutes", "0"])
    assert "expected a positive number; got 0" in capsys.readouterr().err
    args = cli.build_parser().parse_args(["recipes", "--minutes", "30", "--variants", "baseline", "mixup",
                                          "--batch-size", "128"])
    assert (args.minutes, args.variants, args.batch_size, args.output) == (
        30.0, ["baseline", "mixup"], 128, "results/recipe_study.csv")


def test_train_takes_the_knobs_as_hooks(monkeypatch, capsys):
    from research.knobs import OPTIMIZERS, Knobs

    assert list(_option("train", "optimizer").choices) == list(OPTIMIZERS)
    calls: list = []

    def fake_train(config, data=None, **options):
        calls.append((config, options))
        return _fake_result(config.model_name)

    monkeypatch.setattr("fer_lib.train.train", fake_train)
    assert cli.main(["train", "--profile", "full", "--epochs", "3", "--random-erasing", "0.25", "--mixup", "0.2",
                     "--class-weight", "balanced", "--optimizer", "sgd", "--max-minutes", "5", "--crop", "44"]) == 0
    ((config, options),) = calls
    assert config.model_name == "fer_net" and config.epochs == 3  # the profile, then --epochs
    assert (config.random_erasing, config.max_minutes, config.learning_rate) == (0.25, 5.0, OPTIMIZERS["sgd"])
    assert options["hooks"] == Knobs(optimizer="sgd", mixup=0.2, class_weight="balanced", crop=44)
    assert options["targets"] is None and options["resume"] is True
    assert "test macro-F1 0.612" in capsys.readouterr().out
    calls.clear()
    assert cli.main(["train", "--model", "fer_resnet", "--profile", "fast"]) == 0  # research's network
    assert calls[0][0].model_name == "fer_resnet" and calls[0][1]["hooks"] == Knobs()


def test_average_passes_its_options(monkeypatch, capsys):
    seen: list = []

    def fake_average(run_dir, **options):
        seen.append((run_dir, options))
        return _fake_result("fer_net")

    monkeypatch.setattr("research.averaging.average_weights", fake_average)
    assert cli.main(["average", "runs/x", "--epochs", "4", "--learning-rate", "1e-4", "--quiet"]) == 0
    ((run_dir, options),) = seen
    assert run_dir == "runs/x" and (options["epochs"], options["learning_rate"], options["ema_momentum"]) == (
        4, 1e-4, 0.999)
    assert "test macro-F1 0.612" in capsys.readouterr().out
    with pytest.raises(SystemExit):  # argparse: "expected a positive number"
        cli.main(["average", "runs/x", "--learning-rate", "0"])


def test_distil_passes_the_teachers_as_a_targets_hook(monkeypatch):
    calls: list = []

    def fake_train(config, data=None, **options):
        calls.append((config, options))
        return _fake_result(config.model_name)

    monkeypatch.setattr("fer_lib.train.train", fake_train)
    monkeypatch.setattr("research.distillation.teacher_sha256", lambda paths: [f"sha-{p}" for p in paths])
    assert cli.main(["distil", "--teacher", "a.keras", "b.keras", "--distillation", "0.6", "--temperature", "3",
                     "--epochs", "5"]) == 0
    ((config, options),) = calls
    assert config.model_name == "fer_net_small" and config.epochs == 5  # the student profile, as `train`
    assert options["targets"].identity == {"teachers": ["sha-a.keras", "sha-b.keras"], "distillation": 0.6,
                                           "temperature": 3.0}
    calls.clear()
    assert cli.main(["distil", "--teacher", "a.keras", "--profile", "full", "--seed", "3", "--restart"]) == 0
    ((config, options),) = calls
    assert (config.model_name, config.random_erasing, config.seed, options["resume"]) == ("fer_net", 0.5, 3, False)
    assert cli.main(["distil", "--teacher", "a.keras", "--model", "seed_cnn"]) == 2  # distil into the fer_net models


def test_python_dash_m_research_lists_its_commands():
    result = subprocess.run([sys.executable, "-m", "research", "--help"], capture_output=True, text=True,
                            cwd=ROOT, timeout=120, check=True)
    for command in ("recipes", "claims", "distil", "average", "ensemble", "finalize"):
        assert command in result.stdout
