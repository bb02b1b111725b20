"""Command line: ``python -m fer_lib {train,predict,live,info}``.

Each subcommand only parses arguments and calls the library; no logic lives here.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

__all__ = ["main"]


def _train(args: argparse.Namespace) -> int:
    from .training import PROFILES, train

    options = dict(PROFILES[args.profile])
    for key in ("model_name", "epochs", "sample_size", "batch_size", "seed"):
        value = getattr(args, key)
        if value is not None:
            options[key] = value
    result = train(
        data=args.data,
        protocol=args.protocol,
        run_dir=args.run_dir,
        resume=not args.restart,
        output=args.output,
        verbose=2 if args.quiet else "auto",
        **options,
    )
    accuracy = result.card["accuracy"]
    print(
        f"{result.card['name']}: train {accuracy['train']:.3f}  validation {accuracy['validation']:.3f}  "
        f"test ({result.card['split']['test_part']}) {accuracy['test']:.3f}"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m fer_lib``."""
    parser = argparse.ArgumentParser(prog="python -m fer_lib", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train a model (checkpointed, resumable)")
    train.add_argument("--profile", choices=["smoke", "default", "full"], default="default",
                       help="budget: smoke (minutes), default (about an hour), full (the shipped model)")
    train.add_argument("--model", dest="model_name", help="model name (seed_cnn, fer_net, fer_net_small)")
    train.add_argument("--data", help="FER2013 file (default: data_input/, then ../shared/data/)")
    train.add_argument("--protocol", choices=["official", "tutorial"], default="official")
    train.add_argument("--epochs", type=int)
    train.add_argument("--batch-size", dest="batch_size", type=int)
    train.add_argument("--sample-size", dest="sample_size", type=int)
    train.add_argument("--seed", type=int)
    train.add_argument("--run-dir", dest="run_dir", help="checkpoint folder (default ~/.cache/fer_lib/runs/...)")
    train.add_argument("--restart", action="store_true", help="ignore an existing checkpoint")
    train.add_argument("--output", help="where to save the .keras model (card saved beside it)")
    train.add_argument("--quiet", action="store_true", help="one line per epoch instead of progress bars")
    train.set_defaults(handler=_train)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = build_parser().parse_args(argv)
    from .errors import FerError

    try:
        return args.handler(args)
    except FerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
