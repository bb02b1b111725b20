"""Command line: ``python -m fer_lib {train,finalize,average,ensemble,export,claims,recipes,predict,live,info}``.

Each subcommand parses arguments and calls the library: :mod:`fer_lib.live` does
the detecting and classifying, :mod:`fer_lib.drawing` the drawing, and
:mod:`fer_lib.outputs` expands the inputs and writes annotated copies and reports
(atomically: a failure never leaves a half-written file). What lives here is only
what a command line adds: printing, the OpenCV window of ``live`` and the
machine report of ``info``.

Examples::

    python -m fer_lib predict photo.jpg --output annotated.jpg
    python -m fer_lib predict assets/white_house_clip.mp4 --every 5 --report faces.csv --output out.mp4
    python -m fer_lib live --source 0 --detector haar
    python -m fer_lib export models/default.keras
    python -m fer_lib info

``predict``, ``live`` and ``info`` never import TensorFlow: they run the exported
LiteRT model, so they start in about a second.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import sys
import threading
from pathlib import Path

__all__ = ["main", "build_parser"]

_WINDOW_ADVICE = (
    "for a window install OpenCV with GUI support (pip uninstall opencv-python-headless && "
    "pip install 'opencv-python>=4.9,<5'); without one, write an annotated video with "
    "`python -m fer_lib predict VIDEO --output annotated.mp4` or use the live notebook's ipywidgets view"
)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {text!r}")
    return value


def _default_model(*, keras: bool = False) -> Path:
    from .classifier import DEFAULT_KERAS_PATH, DEFAULT_MODEL_PATH

    return DEFAULT_KERAS_PATH if keras else DEFAULT_MODEL_PATH


# --------------------------------------------------------------------------------------
# train
# --------------------------------------------------------------------------------------


def _train(args: argparse.Namespace) -> int:
    from .training import PROFILES, train

    options = dict(PROFILES[args.profile])
    for key in ("model_name", "epochs", "sample_size", "batch_size", "seed", "optimizer", "mixup", "cutmix",
                "random_erasing", "class_weight", "crop", "teachers", "distillation", "temperature", "max_minutes",
                "average_epochs"):
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
    _print_scores(result.card)
    if args.output:
        _export(argparse.Namespace(model=args.output))
    return 0


def _finalize(args: argparse.Namespace) -> int:
    from .training import finalize

    result = finalize(args.run_dir, data=args.data, output=args.output, weights=args.weights)
    _print_scores(result.card)
    if args.output:
        _export(argparse.Namespace(model=args.output))
    return 0


def _average(args: argparse.Namespace) -> int:
    from .training import average_weights

    result = average_weights(args.run_dir, epochs=args.epochs, learning_rate=args.learning_rate,
                             ema_momentum=args.ema_momentum, data=args.data, output=args.output,
                             verbose=2 if args.quiet else "auto")
    _print_scores(result.card)
    if args.output:
        _export(argparse.Namespace(model=args.output))
    return 0


def _ensemble(args: argparse.Namespace) -> int:
    import json

    from .distillation import evaluate_ensemble
    from .fileio import atomic_write_text

    if len(args.models) < 2:
        print("error: an ensemble needs two or more models", file=sys.stderr)
        return 2
    scores = evaluate_ensemble(args.models, args.data)
    print(f"validation {scores['validation_accuracy']:.1%}, PublicTest {scores['test_accuracy']:.1%}, "
          f"macro-F1 {scores['test_macro_f1']:.3f}")
    if args.output:
        scores["command"] = "python -m fer_lib ensemble " + " ".join(args.models)
        atomic_write_text(args.output, json.dumps(scores, indent=2) + "\n")
        print(f"saved {args.output}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from .export import export_litert

    with _quiet_conversion():
        paths = export_litert(args.model)
    for name, path in paths.items():
        print(f"{name}: {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


@contextlib.contextmanager
def _quiet_conversion():
    """TensorFlow's converter prints pages of C++ and Python logging: keep them off the terminal."""
    import logging

    from .quiet import hidden_startup_lines

    previous = logging.getLogger("tensorflow").level
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    try:
        with hidden_startup_lines(), contextlib.redirect_stdout(open(os.devnull, "w")):  # noqa: SIM115
            yield
    finally:
        logging.getLogger("tensorflow").setLevel(previous)


def _claims(args: argparse.Namespace) -> int:
    from .claims import run_claims, verdicts

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
    from .recipes import run_recipe_study

    table = run_recipe_study(args.data, minutes=args.minutes, variants=args.variants, seed=args.seed,
                             sample_size=args.sample_size or None, output=args.output)
    columns = ["variant", "epochs", "minutes", "validation_accuracy", "test_accuracy", "test_macro_f1",
               "test_Disgust", "test_Fear"]
    print(table[columns].to_string(index=False))
    print(f"saved {args.output}")
    return 0


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number; got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number; got {text}")
    return value


def _print_scores(card: dict) -> None:
    accuracy = card["accuracy"]
    macro_f1 = card.get("test_macro_f1")
    print(
        f"{card['name']}: train {accuracy['train']:.3f}  validation {accuracy['validation']:.3f}  "
        f"test ({card['split']['test_part']}) {accuracy['test']:.3f}"
        + (f"  test macro-F1 {macro_f1:.3f}" if macro_f1 is not None else "")
    )


# --------------------------------------------------------------------------------------
# predict: a table on stdout; files through fer_lib.outputs
# --------------------------------------------------------------------------------------


class _Table:
    """The readable table ``predict`` prints, one line per face (or per frame without a face)."""

    def __init__(self, stream, sources: list[str]) -> None:
        self.stream = stream
        self.width = max([len("source")] + [len(source) for source in sources])
        self._line("source", "frame", "face", "box (x, y, w, h)", "emotion", "confidence")

    def _line(self, *cells) -> None:
        source, frame, face, box, emotion, confidence = cells
        print(f"{source:<{self.width}}  {frame:>5}  {face:>4}  {box:<20}  {emotion:<8}  {confidence:>10}",
              file=self.stream, flush=True)

    def add(self, source: str, frame_index: int, rows: list[dict]) -> None:
        if not rows:
            self._line(source, frame_index, "-", "-", "no face", "-")
        for row in rows:
            box = ", ".join(str(v) for v in row["box"])
            self._line(source, frame_index, row["face"], box, row["emotion"], f"{row['confidence']:.1%}")


def _predict(args: argparse.Namespace) -> int:
    from . import drawing, live, outputs
    from .classifier import EmotionClassifier

    items = outputs.expand_inputs(args.paths)
    targets = outputs.output_targets(items, args.output)
    classifier = EmotionClassifier(args.model)
    video_detector = live.default_detector(args.detector)
    image_detector = video_detector
    if args.detector == "blazeface" and not args.no_tiles:
        from .detection import make_detector

        image_detector = make_detector("blazeface", tiles=True)
    table = None if (args.report is None and args.format) else _Table(sys.stdout, [s for s, _ in items])
    rows: list[dict] = []
    frames_analysed = 0
    for (source, kind), target in zip(items, targets):
        smooth = kind == "video" and not args.no_smooth
        with contextlib.ExitStack() as stack:
            analyzed = stack.enter_context(contextlib.closing(live.iter_analyzed(
                source, every=args.every, smooth=smooth, classifier=classifier,
                detector=video_detector if kind == "video" else image_detector,
            )))
            writer = None
            if target is not None:
                fps = outputs.video_fps(source) if kind == "video" else 25.0
                writer = stack.enter_context(outputs.annotated_writer(target, kind, fps=fps))
            for frame_index, (frame, faces) in enumerate(analyzed):
                if writer is not None:
                    writer.write(drawing.annotate(frame, faces))
                if frame_index % args.every == 0:
                    frames_analysed += 1
                    new_rows = outputs.report_rows(source, frame_index, faces)
                    rows.extend(new_rows)
                    if table is not None:
                        table.add(source, frame_index, new_rows)
    if args.report is not None:
        outputs.write_report(rows, args.report, report_format=args.format)
    elif args.format is not None:  # without --report: that format on stdout instead of the table
        sys.stdout.write(outputs.format_report(rows, args.format))
    summary = f"{len(items)} input(s), {frames_analysed} frame(s) analysed, {len(rows)} face(s)"
    if args.report is not None:
        summary += f"; report: {args.report}"
    if args.output is not None:
        summary += f"; annotated: {args.output}"
    print(summary, file=sys.stdout if table is not None else sys.stderr)
    return 0


# --------------------------------------------------------------------------------------
# live: an OpenCV window
# --------------------------------------------------------------------------------------


def _open_window(name: str) -> None:
    """Create the OpenCV window, or raise FerError saying why there is none and what to use instead."""
    import cv2

    from .errors import FerError

    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise FerError(
            "no display: DISPLAY is not set, so `live` cannot open a window here (run it on a machine "
            f"with a screen, or ssh -X); {_WINDOW_ADVICE}"
        )
    try:
        cv2.namedWindow(name, cv2.WINDOW_NORMAL)
    except cv2.error as exc:
        raise FerError(
            f"this OpenCV {cv2.__version__} has no window support (opencv-python-headless?): "
            f"{str(exc).strip().splitlines()[-1][:120]}; {_WINDOW_ADVICE}"
        ) from exc


def _live(args: argparse.Namespace) -> int:
    import cv2

    from . import drawing, live
    from .timing import FpsMeter

    window = "fer_lib live (q or Esc quits)"
    _open_window(window)  # before loading the model or opening the camera
    seen_visible = []
    meter = FpsMeter()

    def show(frame, faces) -> bool:
        fps = meter.tick()
        canvas = drawing.annotate(frame, faces)
        text = f"{fps:.1f} fps  {len(faces)} face(s)"
        cv2.putText(canvas, text, (10, 25), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (0, 0, 0), 4, cv2.LINE_AA)
        cv2.putText(canvas, text, (10, 25), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (0, 255, 0), 2, cv2.LINE_AA)
        cv2.imshow(window, canvas)
        key = cv2.waitKey(1) & 0xFF
        if key in (ord("q"), ord("Q"), 27):
            return False
        visible = cv2.getWindowProperty(window, cv2.WND_PROP_VISIBLE) >= 1
        if visible:
            seen_visible.append(True)
        return not (seen_visible and not visible)  # the user closed the window

    try:
        from .classifier import EmotionClassifier

        classifier = EmotionClassifier(args.model)
        count = live.run_loop(
            args.source,
            every=args.every,
            detect_every=args.detect_every,
            smooth=not args.no_smooth,
            max_frames=args.max_frames,
            detector=args.detector,
            classifier=classifier,
            on_frame=show,
        )
    finally:
        with contextlib.suppress(cv2.error):
            cv2.destroyWindow(window)
            cv2.waitKey(1)
    print(f"{count} frames from {args.source}, {meter.mean:.1f} fps on average")
    return 0


# --------------------------------------------------------------------------------------
# info
# --------------------------------------------------------------------------------------


def _version(module_name: str) -> str:
    try:
        module = __import__(module_name)
    except ImportError:
        return "not installed"
    return str(getattr(module, "__version__", "?"))


def _distribution_version(name: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def _camera_status(index: int, timeout: float = 5.0) -> str:
    """Whether camera ``index`` opens, released at once; gives up after ``timeout`` seconds."""
    import cv2

    result: dict = {}

    def probe() -> None:
        try:
            capture = cv2.VideoCapture(index)
        except Exception as exc:  # noqa: BLE001 - any failure means "does not open"
            result["error"] = f"{type(exc).__name__}: {exc}"
            return
        try:
            result["opened"] = bool(capture.isOpened())
        finally:
            capture.release()

    logging = getattr(getattr(cv2, "utils", None), "logging", None)
    previous = None
    if logging is not None:  # silence OpenCV's "can't open camera by index" warnings
        previous = logging.getLogLevel()
        logging.setLogLevel(logging.LOG_LEVEL_ERROR)
    try:
        thread = threading.Thread(target=probe, name="fer_lib-camera-probe", daemon=True)
        thread.start()
        thread.join(timeout)
    finally:
        if logging is not None:
            logging.setLogLevel(previous)
    if thread.is_alive():
        return f"no answer within {timeout:g} s"
    if "error" in result:
        return f"does not open ({result['error']})"
    if result.get("opened"):
        return "opens (released again)"
    return "does not open (no camera, busy, or not allowed for this user); use a video file instead"


def _info(args: argparse.Namespace) -> int:
    import re

    import cv2

    from . import __version__, data

    gui = re.search(r"GUI:\s*(\S+)", cv2.getBuildInformation())
    gui_text = gui.group(1) if gui else "unknown"
    window = "no (headless build: `live` needs opencv-python)" if gui_text.upper() == "NONE" else f"yes ({gui_text})"
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        window += "; no DISPLAY set"
    backend = "?"
    with contextlib.suppress(Exception):
        import keras

        backend = keras.backend.backend()
    model = Path(args.model)
    if model.is_file():
        model_text = f"{model} (exists, {model.stat().st_size / 1e6:.1f} MB)"
    else:
        model_text = f"{model} (missing: train it with `make train-full`, or pass --model PATH)"
    found = data.discover_fer2013()
    data_text = str(found) if found is not None else (
        "not found: set FER2013_PATH or put fer2013.csv in data_input/ (notebooks fall back to synthetic faces)"
    )
    lines = [
        ("fer_lib", f"{__version__} ({Path(__file__).resolve().parent})"),
        ("python", f"{platform.python_version()} on {platform.platform()}"),
        ("numpy", _version("numpy")),
        ("opencv", cv2.__version__),
        ("keras", f"{_version('keras')} (backend {backend})"),
        ("tensorflow", _version("tensorflow")),
        ("ai-edge-litert", _distribution_version("ai-edge-litert")),
        ("ipywidgets", _version("ipywidgets")),
        ("anywidget", _distribution_version("anywidget")),
        ("matplotlib", _version("matplotlib")),
        ("model", model_text),
        ("FER2013", data_text),
        ("OpenCV window", window),
        (f"camera {args.camera}", _camera_status(args.camera)),
    ]
    width = max(len(name) for name, _ in lines)
    for name, value in lines:
        print(f"{name:<{width}}  {value}")
    return 0


# --------------------------------------------------------------------------------------
# The parser
# --------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m fer_lib``."""
    parser = argparse.ArgumentParser(prog="python -m fer_lib", description=__doc__.splitlines()[0])
    verbose_help = "also show TensorFlow's start-up lines (hidden by default; see fer_lib.quiet)"
    parser.add_argument("--verbose", action="store_true", help=verbose_help)
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train a model (checkpointed, resumable)")
    train.add_argument("--profile", choices=["smoke", "default", "full"], default="default",
                       help="budget: smoke (minutes), default (6 min on 2 quiet cores), "
                            "full (the shipped model, about 105 min there)")
    train.add_argument("--model", dest="model_name", help="model name (seed_cnn, fer_net, fer_net_small, fer_resnet)")
    train.add_argument("--data", help="FER2013 file (default: $FER2013_PATH, then data_input/)")
    train.add_argument("--protocol", choices=["official", "tutorial"], default="official")
    train.add_argument("--epochs", type=int)
    train.add_argument("--batch-size", dest="batch_size", type=int)
    train.add_argument("--sample-size", dest="sample_size", type=int)
    train.add_argument("--seed", type=int)
    train.add_argument("--optimizer", choices=["adamw", "sgd"], help="adamw (default) or sgd with Nesterov momentum")
    train.add_argument("--mixup", type=float, help="mixup's Beta alpha, e.g. 0.2 (default 0: off)")
    train.add_argument("--cutmix", type=float, help="CutMix's Beta alpha, e.g. 1.0 (default 0: off)")
    train.add_argument("--random-erasing", dest="random_erasing", type=float,
                       help="probability of erasing a random rectangle of each training face (default 0)")
    train.add_argument("--class-weight", dest="class_weight", choices=["balanced"],
                       help="weight each face's loss so that every emotion counts alike")
    train.add_argument("--crop", type=int,
                       help="train on random crops of this side (e.g. 44) and test on ten crops (default: whole faces)")
    train.add_argument("--teacher", dest="teachers", nargs="+", metavar="MODEL",
                       help="distil these saved models (averaged) into the network: fit their softened "
                            "probabilities blended with the labels")
    train.add_argument("--distillation", type=float,
                       help="the teachers' share of the targets, 0 to 1 (default 0.5; with --teacher)")
    train.add_argument("--temperature", type=_positive_float,
                       help="temperature softening the teachers' probabilities (default 2; with --teacher)")
    train.add_argument("--max-minutes", dest="max_minutes", type=_positive_float,
                       help="stop after this many minutes of training (counted across resumed calls)")
    train.add_argument("--average-epochs", dest="average_epochs", type=int,
                       help="then train this many epochs more and keep the moving average of the weights")
    train.add_argument("--run-dir", dest="run_dir", help="checkpoint folder (default ~/.cache/fer_lib/runs/...)")
    train.add_argument("--restart", action="store_true", help="ignore an existing checkpoint")
    train.add_argument("--output", help="where to save the .keras model (card saved beside it)")
    train.add_argument("--quiet", action="store_true", help="one line per epoch instead of progress bars")
    train.set_defaults(handler=_train)

    final = commands.add_parser("finalize", help="model and card from a stopped run's checkpoint, no more training")
    final.add_argument("run_dir", help="the run's checkpoint folder (in ~/.cache/fer_lib/runs/)")
    final.add_argument("--weights", choices=["best", "last"], default="best",
                       help="the best-validation epoch (default) or the last one")
    final.add_argument("--data", help="the FER2013 file the run was trained on (default: discovery)")
    final.add_argument("--output", help="where to save the .keras model (card saved beside it)")
    final.set_defaults(handler=_finalize)

    average = commands.add_parser(
        "average", help="train a run a few epochs more at a small constant rate; keep the average of the weights")
    average.add_argument("run_dir", help="the run's checkpoint folder (in ~/.cache/fer_lib/runs/)")
    average.add_argument("--epochs", type=int, default=10, help="extra epochs (default 10)")
    average.add_argument("--learning-rate", dest="learning_rate", type=_positive_float, default=3e-4,
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

    export = commands.add_parser("export", help="write the LiteRT files (float32, quantised) of a .keras model")
    export.add_argument("model", nargs="?", default=None, help="a .keras model (default models/default.keras)")
    export.set_defaults(handler=_export, keras_model=True)

    claims = commands.add_parser("claims", help="test the tutorial's cures for overfitting on equal budgets")
    claims.add_argument("--data", help="FER2013 file (default: $FER2013_PATH, then data_input/)")
    claims.add_argument("--sample-size", dest="sample_size", type=int, default=5000,
                        help="training faces per variant, a stratified subset (0: all; default 5000)")
    claims.add_argument("--epochs", type=_positive_int, default=10, help="epochs per variant (default 10)")
    claims.add_argument("--seed", type=int, default=0)
    claims.add_argument("--base", choices=["fer_net_small", "seed_cnn"], default="fer_net_small",
                        help="the network every variant changes (default fer_net_small; see fer_lib.claims)")
    claims.add_argument("--width", type=_positive_int, default=16,
                        help="with --base seed_cnn: first-block filters (64 is the tutorial's; default 16)")
    claims.add_argument("--variants", nargs="+", metavar="NAME",
                        help="subset of: baseline more_epochs smaller_stride more_dropout augmentation")
    claims.add_argument("--output", default="results/claims.csv", help="CSV to write (default results/claims.csv)")
    claims.set_defaults(handler=_claims)

    recipes = commands.add_parser("recipes", help="the recipe study: training changes on equal time budgets")
    recipes.add_argument("--minutes", type=_positive_float, required=True,
                         help="training minutes per variant (the 'longer' variant gets twice as many)")
    recipes.add_argument("--data", help="FER2013 file (default: $FER2013_PATH, then data_input/)")
    recipes.add_argument("--variants", nargs="+", metavar="NAME",
                         help="subset of: baseline wider residual deeper mixup cutmix random_erasing sgd balanced "
                              "ten_crop longer")
    recipes.add_argument("--seed", type=int, default=0)
    recipes.add_argument("--sample-size", dest="sample_size", type=int, default=0,
                         help="train on a stratified subset of this many faces (0: all, the study proper)")
    recipes.add_argument("--output", default="results/recipe_study.csv",
                         help="CSV to write (default results/recipe_study.csv)")
    recipes.set_defaults(handler=_recipes)

    predict = commands.add_parser(
        "predict", help="emotions of the faces in images, folders or videos: table, CSV/JSON, annotated copies"
    )
    predict.add_argument("paths", nargs="+", metavar="PATH", help="image, folder of images, or video")
    predict.add_argument("--model", default=None, help="model: .tflite (LiteRT, no TensorFlow) or .keras "
                              "(default models/default.quantized.tflite)")
    predict.add_argument("--detector", choices=["blazeface", "haar"], default="blazeface",
                         help="face detector: BlazeFace, a CNN (default), or the tutorial's Haar cascade")
    predict.add_argument("--no-tiles", dest="no_tiles", action="store_true",
                         help="images: BlazeFace on the whole image only (by default also on overlapping tiles, "
                              "which finds small faces in group photos at about 40-100 ms an image here)")
    predict.add_argument("--format", choices=["csv", "json"],
                         help="report format (default: from --report's suffix, else csv); "
                              "without --report, print this format instead of the table")
    predict.add_argument("--report", help="write every face of every analysed frame to this CSV/JSON file")
    predict.add_argument("--output", help="annotated image or .mp4 for one input; a folder for several")
    predict.add_argument("--every", type=_positive_int, default=1,
                         help="analyse every N-th video frame (frames between reuse the last faces)")
    predict.add_argument("--no-smooth", action="store_true", help="no smoothing of probabilities over video frames")
    predict.set_defaults(handler=_predict)

    live = commands.add_parser("live", help="OpenCV window of a camera or video, annotated, with fps")
    live.add_argument("--source", default="0", help="camera index or video file (default 0)")
    live.add_argument("--model", default=None, help="model: .tflite (LiteRT, no TensorFlow) or .keras "
                           "(default models/default.quantized.tflite)")
    live.add_argument("--detector", choices=["blazeface", "haar"], default="blazeface",
                      help="face detector: BlazeFace, a CNN (default), or the tutorial's Haar cascade")
    live.add_argument("--no-smooth", action="store_true", help="no smoothing of probabilities over frames")
    live.add_argument("--max-frames", dest="max_frames", type=_positive_int, help="stop after N frames")
    live.add_argument("--every", type=_positive_int, default=1, help="analyse every N-th frame")
    live.add_argument("--detect-every", dest="detect_every", type=_positive_int, default=1,
                      help="run the face detector on every N-th analysed frame only (faster; default 1)")
    live.set_defaults(handler=_live)

    info = commands.add_parser("info", help="versions, model, data and camera found on this machine")
    info.add_argument("--model", default=None, help="model file to check (default models/default.quantized.tflite)")
    info.add_argument("--camera", type=int, default=0, help="camera index to try (default 0)")
    info.set_defaults(handler=_info)
    for command in commands.choices.values():  # --verbose after the command as well as before it
        command.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS, help=verbose_help)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    Parameters
    ----------
    argv : list of str, optional
        The arguments after ``python -m fer_lib``; default ``sys.argv[1:]``.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = build_parser().parse_args(argv)
    from . import quiet
    from .errors import FerError

    if args.verbose:  # the start-up lines hidden while fer_lib was imported
        sys.stderr.write("".join(quiet.startup_lines()))
    if args.command in ("train", "finalize", "average", "export", "claims", "recipes", "info"):  # these load Keras (and TensorFlow)
        with quiet.hidden_startup_lines(enabled=not args.verbose):
            import keras  # noqa: F401

    if getattr(args, "model", "") is None:
        args.model = _default_model(keras=getattr(args, "keras_model", False))
    try:
        return args.handler(args)
    except FerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
