"""``python -m research {train,recipes,claims,distil,average,ensemble,finalize}``: the project's experiments.

They train and score through :mod:`fer_lib`'s public steps and leave their results as data
in ``results/``, which the notebooks and ``docs/results.md`` read.
"""

from __future__ import annotations

import argparse
import os
import sys

from fer_lib.cli import export_files as _export_files
from fer_lib.cli import add_train_options, config_from_arguments, positive_float, positive_int, print_scores

__all__ = ["main", "build_parser", "add_knob_options"]


def _finalize(args: argparse.Namespace) -> int:
    from research.runs import finalize

    result = finalize(args.run_dir, data=args.data, output=args.output, weights=args.weights)
    print_scores(result.card)
    if args.output:
        _export_files(args.output)
    return 0


def _average(args: argparse.Namespace) -> int:
    from research.averaging import average_weights

    result = average_weights(args.run_dir, epochs=args.epochs, learning_rate=args.learning_rate,
                             ema_momentum=args.ema_momentum, data=args.data, output=args.output,
                             verbose=2 if args.quiet else "auto")
    print_scores(result.card)
    if args.output:
        _export_files(args.output)
    return 0


def _ensemble(args: argparse.Namespace) -> int:
    import json

    from research.distillation import evaluate_ensemble
    from fer_lib._fileio import atomic_write_text

    if len(args.models) < 2:
        print("error: an ensemble needs two or more models", file=sys.stderr)
        return 2
    scores = evaluate_ensemble(args.models, args.data)
    print(f"validation {scores['validation_accuracy']:.1%}, PublicTest {scores['test_accuracy']:.1%}, "
          f"macro-F1 {scores['test_macro_f1']:.3f}")
    if args.output:
        scores["command"] = "python -m research ensemble " + " ".join(args.models)
        atomic_write_text(args.output, json.dumps(scores, indent=2) + "\n")
        print(f"saved {args.output}")
    return 0


def _train(args: argparse.Namespace) -> int:
    """``train`` and ``distil``: fer_lib's training with research's knobs (and teachers)."""
    from fer_lib.errors import ModelError
    from fer_lib.train import train
    from research.distillation import DistillationTargets
    from research.knobs import Knobs

    knobs = Knobs.from_identity({key: value for key, value in vars(args).items() if value is not None})
    config = knobs.configure(config_from_arguments(args))
    targets = None
    if getattr(args, "teachers", None):
        if config.model_name == "seed_cnn":
            raise ModelError("seed_cnn keeps the tutorial's recipe; distil into the fer_net models")
        targets = DistillationTargets(args.teachers, share=args.distillation, temperature=args.temperature)
    result = train(config, args.data, targets=targets, hooks=knobs, run_dir=args.run_dir, resume=not args.restart,
                   output=args.output, verbose=2 if args.quiet or not sys.stdout.isatty() else "auto")
    print_scores(result.card)
    if args.output:
        _export_files(args.output)
    return 0


def _claims(args: argparse.Namespace) -> int:
    from research.claims import run_claims, verdicts

    table = run_claims(args.data, sample_size=args.sample_size or None, epochs=args.epochs, seed=args.seed,
                       base=args.base, width=args.width, variants=args.variants, output=args.output)
    columns = ["variant", "epochs", "train_accuracy", "validation_accuracy", "test_accuracy", "gap", "minutes"]
    print(table[columns].to_string(index=False))
    if "baseline" in set(table["variant"]):
        for _, row in verdicts(table).iterrows():
            print(f"{row['claim']}: {row['verdict']}")
    if args.output:
        print(f"saved {args.output}")
    return 0


def _recipes(args: argparse.Namespace) -> int:
    from research.recipes import run_recipe_study

    table = run_recipe_study(args.data, minutes=args.minutes, variants=args.variants, seed=args.seed,
                             sample_size=args.sample_size or None, batch_size=args.batch_size,
                             output=args.output)
    columns = ["variant", "epochs", "minutes", "validation_accuracy", "test_accuracy", "test_macro_f1",
               "test_Disgust", "test_Fear"]
    print(table[columns].to_string(index=False))
    print(f"saved {args.output}")
    return 0


def add_knob_options(parser: argparse.ArgumentParser) -> None:
    """``train``'s options plus the knobs of :class:`research.knobs.Knobs` (fer_lib's ``train`` before 0.3.0).

    Parameters
    ----------
    parser : argparse.ArgumentParser
    """
    add_train_options(parser)  # the student profile unless --profile says otherwise
    parser.add_argument("--optimizer", choices=["adamw", "sgd"], help="adamw (default) or sgd with Nesterov momentum")
    parser.add_argument("--mixup", type=float, help="mixup's Beta alpha, e.g. 0.2 (default 0: off)")
    parser.add_argument("--cutmix", type=float, help="CutMix's Beta alpha, e.g. 1.0 (default 0: off)")
    parser.add_argument("--class-weight", dest="class_weight", choices=["balanced"],
                        help="weight each face's loss so that every emotion counts alike")
    parser.add_argument("--crop", type=int,
                        help="train on random crops of this side (e.g. 44) and test on ten crops (default: whole faces)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m research``."""
    parser = argparse.ArgumentParser(prog="python -m research", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="fer_lib's train with research's knobs (SGD, mixup, crops, fer_resnet)")
    add_knob_options(train)
    train.set_defaults(handler=_train)
    recipes = commands.add_parser("recipes", help="the recipe study: training changes on equal time budgets")
    recipes.add_argument("--minutes", type=positive_float, required=True,
                         help="training minutes per variant (the 'longer' variant gets twice as many)")
    recipes.add_argument("--data", help="FER2013 file (default: $FER2013_PATH, then data_input/)")
    recipes.add_argument("--variants", nargs="+", metavar="NAME",
                         help="subset of: baseline wider residual deeper mixup cutmix random_erasing sgd balanced "
                              "ten_crop longer")
    recipes.add_argument("--seed", type=int, default=0)
    recipes.add_argument("--sample-size", dest="sample_size", type=int, default=0,
                         help="train on a stratified subset of this many faces (0: all, the study proper)")
    recipes.add_argument("--batch-size", dest="batch_size", type=positive_int, default=64,
                         help="batch size of every variant (default 64)")
    recipes.add_argument("--output", default="results/recipe_study.csv",
                         help="CSV to write (default results/recipe_study.csv)")
    recipes.set_defaults(handler=_recipes)

    claims = commands.add_parser("claims", help="test the tutorial's cures for overfitting on equal budgets")
    claims.add_argument("--data", help="FER2013 file (default: $FER2013_PATH, then data_input/)")
    claims.add_argument("--sample-size", dest="sample_size", type=int, default=5000,
                        help="training faces per variant, a stratified subset (0: all; default 5000)")
    claims.add_argument("--epochs", type=positive_int, default=10, help="epochs per variant (default 10)")
    claims.add_argument("--seed", type=int, default=0)
    claims.add_argument("--base", choices=["fer_net_small", "seed_cnn"], default="fer_net_small",
                        help="the network every variant changes (default fer_net_small; see research.claims)")
    claims.add_argument("--width", type=positive_int, default=16,
                        help="with --base seed_cnn: first-block filters (64 is the tutorial's; default 16)")
    claims.add_argument("--variants", nargs="+", metavar="NAME",
                        help="subset of: baseline more_epochs smaller_stride more_dropout augmentation")
    claims.add_argument("--output", default="results/claims.csv", help="CSV to write (default results/claims.csv)")
    claims.set_defaults(handler=_claims)

    distil = commands.add_parser("distil", help="train a network on saved models' softened probabilities")
    distil.add_argument("--teacher", dest="teachers", nargs="+", metavar="MODEL", required=True,
                        help="the saved models (averaged) whose probabilities are blended with the labels")
    distil.add_argument("--distillation", type=float, default=0.5,
                        help="the teachers' share of the targets, 0 to 1 (default 0.5)")
    distil.add_argument("--temperature", type=positive_float, default=2.0,
                        help="temperature softening the teachers' probabilities (default 2)")
    add_knob_options(distil)
    distil.set_defaults(handler=_train)

    average = commands.add_parser(
        "average", help="train a run a few epochs more at a small constant rate; keep the average of the weights")
    average.add_argument("run_dir", help="the run's checkpoint folder (in ~/.cache/fer_lib/runs/)")
    average.add_argument("--epochs", type=int, default=10, help="extra epochs (default 10)")
    average.add_argument("--learning-rate", dest="learning_rate", type=positive_float, default=3e-4,
                         help="the constant learning rate (default 3e-4)")
    average.add_argument("--ema-momentum", dest="ema_momentum", type=float, default=0.999,
                         help="momentum of the weights' moving average (default 0.999)")
    average.add_argument("--data", help="the FER2013 file the run was trained on (default: discovery)")
    average.add_argument("--output", help="where to save the .keras model (card saved beside it)")
    average.add_argument("--quiet", action="store_true", help="one line per epoch instead of progress bars")
    average.set_defaults(handler=_average)

    ensemble = commands.add_parser(
        "ensemble", help="score saved models averaged together on validation and PublicTest")
    ensemble.add_argument("models", nargs="+", help="two or more .keras models (as train saves them)")
    ensemble.add_argument("--data", help="FER2013 file (default: $FER2013_PATH, then data_input/)")
    ensemble.add_argument("--output", help="write the scores as JSON here")
    ensemble.set_defaults(handler=_ensemble)

    final = commands.add_parser("finalize", help="model and card from a stopped run's checkpoint, no more training")
    final.add_argument("run_dir", help="the run's checkpoint folder (in ~/.cache/fer_lib/runs/)")
    final.add_argument("--weights", choices=["best", "last"], default="best",
                       help="the best-validation epoch (default) or the last one")
    final.add_argument("--data", help="the FER2013 file the run was trained on (default: discovery)")
    final.add_argument("--output", help="where to save the .keras model (card saved beside it)")
    final.set_defaults(handler=_finalize)

    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``python -m research``; returns the exit status.

    Parameters
    ----------
    argv : list of str, optional
        The arguments; default ``sys.argv[1:]``.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = build_parser().parse_args(argv)
    from fer_lib.errors import FerError
    from fer_lib.quiet import hidden_startup_lines

    with hidden_startup_lines():
        import keras  # noqa: F401
    try:
        return args.handler(args)
    except FerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # checkpoints are written after every epoch: the same command resumes
        print("interrupted; run the same command again to resume", file=sys.stderr)
        return 130
