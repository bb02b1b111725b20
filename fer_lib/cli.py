"""Command line: ``python -m fer_lib {train,finetune,export,predict,live,capture,info}``; each calls the library.

``predict``, ``live`` and ``info`` never import Keras or TensorFlow (LiteRT: they start in about a second).
The experiments have their own: ``python -m research --help``. Examples::

    python -m fer_lib predict photo.jpg --output annotated.jpg
    python -m fer_lib predict assets/white_house_clip.mp4 --every 5 --report faces.csv --output out.webm
    python -m fer_lib live --source 0 --detector haar
    python -m fer_lib export models/mine.keras
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import sys
import threading
from pathlib import Path

__all__ = ["main", "build_parser", "add_train_options", "config_from_arguments", "export_files", "positive_float", "positive_int", "print_scores"]

_WINDOW_ADVICE = (
    "for a window install OpenCV's GUI build (pip uninstall -y opencv-python-headless opencv-python && "
    "pip install 'opencv-python>=4.9,<5'; on Linux it needs libGL); without one, write an annotated video with "
    "`python -m fer_lib predict VIDEO --output annotated.webm` or use the live notebook's ipywidgets view"
)


def positive_int(text: str) -> int:
    """argparse type: a whole number above zero.

    Parameters
    ----------
    text : str
    """
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {text!r}")
    return value


def _non_negative_int(text: str) -> int:
    return 0 if text.strip() == "0" else positive_int(text)


def _widths(text: str) -> tuple[int, ...]:
    """argparse type: filters per convolutional block, comma-separated (``48,96,192,384``)."""
    try:
        return tuple(positive_int(part) for part in text.split(","))
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected positive integers separated by commas; got {text!r}") from None


def positive_float(text: str) -> float:
    """argparse type: a number above zero.

    Parameters
    ----------
    text : str
    """
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number; got {text}")
    return value


# train and export


def _train(args: argparse.Namespace) -> int:
    from fer_lib.train import train

    result = train(config_from_arguments(args), args.data, run_dir=args.run_dir, resume=not args.restart,
                   output=args.output, verbose=2 if args.quiet or not sys.stdout.isatty() else "auto")
    print_scores(result.card)
    if args.output:
        export_files(args.output)
    return 0


def config_from_arguments(args: argparse.Namespace):
    """The :class:`fer_lib.train.TrainConfig` that ``train``'s options name: the profile, then each option given.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed by a parser with :func:`add_train_options`.
    """
    import dataclasses

    from fer_lib.errors import ModelError
    from fer_lib.train import PROFILES

    profile = PROFILES[args.profile]
    fields = {field.name for field in dataclasses.fields(profile)}
    chosen = {key: value for key, value in vars(args).items() if key in fields and value is not None}
    model = chosen.get("model_name", profile.model_name)
    if model != profile.model_name:  # the profile's model options belong to its own model
        chosen["model_options"] = {}
    if getattr(args, "widths", None):
        if model != "fer_net":
            raise ModelError(f"--widths sets fer_net's filters; this run trains {model} "
                             "(add --model fer_net, or use --profile full)")
        if len(args.widths) > 6:  # each block but the last halves the 48x48 face: 48, 24, 12, 6, 3, 1
            raise ModelError(f"--widths takes at most 6 blocks for a 48x48 face; got {len(args.widths)}")
        chosen["model_options"] = {**profile.model_options, "widths": args.widths}
    return dataclasses.replace(profile, **chosen)


def _export(args: argparse.Namespace) -> int:
    export_files(args.model)
    return 0


def export_files(model: str | os.PathLike) -> None:
    """Write and list the LiteRT files of a saved ``.keras`` model.

    Parameters
    ----------
    model : str or path
    """
    from fer_lib.model import export_litert

    for name, path in export_litert(model).items():
        print(f"{name}: {path} ({path.stat().st_size / 1e6:.1f} MB)")


def print_scores(card: dict) -> None:
    """Print one line: a model card's train, validation and test accuracy and macro-F1.

    Parameters
    ----------
    card : dict
    """
    accuracy, macro_f1 = card["accuracy"], card.get("test_macro_f1")
    print(f"{card['name']}: train {accuracy['train']:.3f}  validation {accuracy['validation']:.3f}  "
          f"test ({card['split']['test_part']}) {accuracy['test']:.3f}"
          + (f"  test macro-F1 {macro_f1:.3f}" if macro_f1 is not None else ""))


# predict: a table on stdout; files through fer_lib.live._outputs


def _table_printer(sources: list[str]):
    """Print the table's header; returns the function that prints a frame's rows (one line per face)."""
    width = max(len(source) for source in ["source", *sources])

    def line(source, frame, face, box, emotion, confidence) -> None:
        print(f"{source:<{width}}  {frame:>5}  {face:>4}  {box:<20}  {emotion:<8}  {confidence:>10}", flush=True)

    def add(source: str, frame_index: int, rows: list[dict]) -> None:
        if not rows:
            line(source, frame_index, "-", "-", "no face", "-")
        for row in rows:
            box = ", ".join(str(v) for v in row["box"])
            line(source, frame_index, row["face"], box, row["emotion"], f"{row['confidence']:.1%}")

    line("source", "frame", "face", "box (x, y, w, h)", "emotion", "confidence")
    return add


def _predict(args: argparse.Namespace) -> int:
    import cv2

    from fer_lib.errors import FerError
    from fer_lib.live import _drawing as drawing
    from fer_lib.live import _loop as live
    from fer_lib.live import _outputs as outputs
    from fer_lib.live._detectors import make_detector
    from fer_lib.live._smoothing import ProbabilitySmoother
    from fer_lib.model._classifier import EmotionClassifier

    keep_going = args.on_error == "continue"
    failed: list[tuple[str, str]] = []  # (input, why), reported as they happen
    if args.report is not None:
        outputs.report_format_of(args.report, args.format)  # a bad --report fails before any work
    items = outputs.expand_inputs(args.paths, problems=failed if keep_going else None)
    for source, why in failed:
        print(f"error: {why}", file=sys.stderr)
    if not items:
        return 1 if failed else 2
    targets = outputs.output_targets(items, args.output)
    classifier = EmotionClassifier(args.model)
    video_detector = live.default_detector(args.detector)
    tiled = args.detector == "blazeface" and not args.no_tiles
    image_detector = make_detector("blazeface", tiles=True) if tiled else video_detector
    # A table on the terminal only when nothing else is asked for: a report file gets a summary line.
    table = None if (args.report is not None or args.format) else _table_printer([s for s, _ in items])
    rows: list[dict] = []
    good = frames_analysed = 0
    for (source, kind), target in zip(items, targets):
        video = kind == "video"
        # A video's faces are tracked from frame to frame (a track number in the report); --no-smooth keeps the
        # tracking and averages over one frame only.
        smooth = (ProbabilitySmoother(window=1) if args.no_smooth else True) if video else False
        fps = outputs.video_fps(source) if video else None
        analyzed = live.iter_analyzed(source, every=args.every, smooth=smooth, classifier=classifier,
                                      detector=video_detector if video else image_detector)
        writing = outputs.annotated_writer(target, kind, fps=fps or 25.0) if target else contextlib.nullcontext()
        found: list[dict] = []
        frames_here = 0
        try:
            with contextlib.closing(analyzed), writing as writer:
                for frame_index, (frame, faces) in enumerate(analyzed):
                    if writer is not None:
                        writer.write(drawing.annotate(frame, faces))
                    if frame_index % args.every == 0:
                        frames_here += 1
                        new_rows = outputs.report_rows(source, frame_index, faces, fps=fps)
                        found += new_rows
                        if table is not None:
                            table(source, frame_index, new_rows)
        except (FerError, ValueError, OSError, cv2.error) as exc:  # its annotated copy was never written (atomic)
            if not keep_going:
                raise
            failed.append((source, str(exc)))
            print(f"error: {source}: {exc}" if source not in str(exc) else f"error: {exc}", file=sys.stderr)
            continue
        rows += found
        good += 1
        frames_analysed += frames_here
    if args.report is not None:
        outputs.write_report(rows, args.report, report_format=args.format)
    elif args.format is not None:  # without --report: that format on stdout instead of the table
        sys.stdout.write(outputs.format_report(rows, args.format))
    summary = f"{good} input(s), {frames_analysed} frame(s) analysed, {len(rows)} face(s)" + "".join(
        part for part, wanted in [(f"; report: {args.report}", args.report is not None),
                                  (f"; annotated: {args.output}", args.output is not None),
                                  (f"; {len(failed)} input(s) failed (listed above)", failed)] if wanted)
    print(summary, file=sys.stdout if args.format is None or args.report is not None else sys.stderr)
    return 1 if failed else 0


# live: an OpenCV window


def _no_display() -> bool:
    """Linux without an X or Wayland display: no window can open."""
    return sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _open_window(name: str) -> None:
    """Create the OpenCV window, or raise FerError saying why there is none and what to use instead."""
    import cv2

    from fer_lib.errors import FerError

    if _no_display():
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

    from fer_lib.live import _drawing as drawing
    from fer_lib.live import _loop as live
    from fer_lib.live._drawing import FpsMeter

    window = "fer_lib live (q or Esc quits)"
    _open_window(window)  # before loading the model or opening the camera
    seen_visible = False
    meter = FpsMeter()

    def show(frame, faces) -> bool:
        nonlocal seen_visible
        fps = meter.tick()
        canvas = drawing.annotate(frame, faces)
        for colour, thickness in (((0, 0, 0), 4), ((0, 255, 0), 2)):  # green on a black outline
            cv2.putText(canvas, f"{fps:.1f} fps  {len(faces)} face(s)", (10, 25), cv2.FONT_HERSHEY_SIMPLEX, 0.7,
                        colour, thickness, cv2.LINE_AA)
        cv2.imshow(window, canvas)
        key = cv2.waitKey(1) & 0xFF
        if key in (ord("q"), ord("Q"), 27):
            return False
        visible = cv2.getWindowProperty(window, cv2.WND_PROP_VISIBLE) >= 1
        seen_visible = seen_visible or visible
        return visible or not seen_visible  # False once the user has closed the window

    try:
        from fer_lib.model._classifier import EmotionClassifier

        classifier = EmotionClassifier(args.model)
        count = live.run_loop(args.source, every=args.every, detect_every=args.detect_every,
                              smooth=not args.no_smooth, max_frames=args.max_frames, detector=args.detector,
                              classifier=classifier, on_frame=show)
    finally:
        with contextlib.suppress(cv2.error):
            cv2.destroyWindow(window)
            cv2.waitKey(1)
    print(f"{count} frames from {args.source}, {meter.mean:.1f} fps on average")
    return 0


# your own faces: capture and finetune


def _capture(args: argparse.Namespace) -> int:
    from fer_lib.live._capture import capture_faces, face_counts
    from fer_lib.model._classifier import EmotionClassifier

    recorder = capture_faces(args.source, args.emotion, args.count, folder=args.folder, every=args.every,
                             detector=args.detector, classifier=EmotionClassifier(args.model))
    where = Path(args.folder) if args.folder else (recorder.saved[0].parents[1] if recorder.saved else None)
    print(f"saved {len(recorder.saved)} of {args.count} faces of {recorder.emotion} (session {recorder.session}) "
          f"in {where or 'no folder'}; {recorder.skipped} frame(s) had no face or several")
    if where is not None:
        print("faces per emotion: " + ", ".join(f"{k} {n}" for k, n in face_counts(where).items() if n))
    return 0 if len(recorder.saved) == args.count else 1


def _finetune(args: argparse.Namespace) -> int:
    import warnings

    from fer_lib.data import load_fer2013, load_image_folder, make_split
    from fer_lib.errors import FerWarning
    from fer_lib.model import load_saved_model
    from fer_lib.train._finetune import finetune, write_finetuned

    with warnings.catch_warnings():
        warnings.simplefilter("always", FerWarning)  # skipped photos are said on every run
        data = load_image_folder(args.folder)
    reference = make_split(load_fer2013(args.fer2013), "official").test if args.fer2013 else None
    result = finetune(load_saved_model(args.model), data, epochs=args.epochs, unfreeze_epochs=args.unfreeze_epochs,
                      seed=args.seed, reference=reference, verbose=0 if args.quiet else 2)
    accuracy = result.accuracy
    print(f"fine-tuned on {result.sizes['train']} faces of {', '.join(result.emotions)} in {result.seconds:.0f} s; "
          f"held out ({result.sizes['held_out']} faces of later sessions): {accuracy['held_out_before']:.1%} before, "
          f"{accuracy['held_out_after']:.1%} after" + (f"; FER2013 PublicTest after: {accuracy['reference_after']:.1%}"
                                                        if reference is not None else ""))
    print(f"model: {write_finetuned(result, data, args.output, base=args.model)} (card beside it)")
    export_files(args.output)
    return 0


# info


def _distribution_version(name: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def _camera_status(index: int, timeout: float = 5.0) -> str:
    """Whether camera ``index`` opens, released at once; gives up after ``timeout`` seconds."""
    import cv2

    result: list[str] = []

    def probe() -> None:
        try:
            capture = cv2.VideoCapture(index)
            result.append("opens (released again)" if capture.isOpened() else "does not open (no camera, busy, "
                          "or not allowed for this user); use a video file instead")
            capture.release()
        except Exception as exc:  # noqa: BLE001 - any failure means "does not open"
            result.insert(0, f"does not open ({type(exc).__name__}: {exc})")

    previous = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)  # no "can't open camera by index" warnings
    try:
        thread = threading.Thread(target=probe, name="fer_lib-camera-probe", daemon=True)
        thread.start()
        thread.join(timeout)
    finally:
        cv2.utils.logging.setLogLevel(previous)
    return result[0] if result else f"no answer within {timeout:g} s"


def _info(args: argparse.Namespace) -> int:
    import re

    import cv2

    from fer_lib import __version__
    from fer_lib.data import _loading as data

    gui = re.search(r"GUI:\s*(\S+)", cv2.getBuildInformation())
    gui_text = gui.group(1) if gui else "unknown"
    window = "no (headless build: `live` needs opencv-python)" if gui_text.upper() == "NONE" else f"yes ({gui_text})"
    if _no_display():
        window += "; no DISPLAY set"
    backend = os.environ.get("KERAS_BACKEND") or "tensorflow"  # Keras' default; read without importing Keras
    model = Path(args.model)
    model_text = f"{model} (exists, {model.stat().st_size / 1e6:.1f} MB)" if model.is_file() else (
        f"{model} (missing: export one with `python -m fer_lib export MODEL.keras`, or pass --model PATH)")
    found = data.discover_fer2013()
    data_text = str(found) if found is not None else (
        "not found: set FER2013_PATH or put fer2013.csv in data_input/ (notebooks fall back to synthetic faces)")
    # which OpenCV distribution: the GUI build opens windows, the headless one cannot
    builds = ("opencv-python", "opencv-contrib-python", "opencv-python-headless", "opencv-contrib-python-headless")
    build = next((name for name in builds if _distribution_version(name) != "not installed"), "unknown build")
    lines = [
        ("fer_lib", f"{__version__} ({Path(__file__).resolve().parent})"),
        ("python", f"{platform.python_version()} on {platform.platform()}"),
        ("opencv", f"{cv2.__version__} ({build})"),
        ("keras", f"{_distribution_version('keras')} (backend {backend})"),
        *((name, _distribution_version(name))
          for name in ("numpy", "tensorflow", "ai-edge-litert", "ipywidgets", "anywidget", "matplotlib")),
        ("model", model_text),
        ("FER2013", data_text),
        ("OpenCV window", window),
        (f"camera {args.camera}", _camera_status(args.camera)),
    ]
    width = max(len(name) for name, _ in lines)
    for name, value in lines:
        print(f"{name:<{width}}  {value}")
    return 0


# the parser


def add_train_options(parser: argparse.ArgumentParser, *, profile: str = "student") -> None:
    """The options of ``train`` (a profile, then :class:`fer_lib.train.TrainConfig` fields and the run's folder).

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The sub-command to add them to (``python -m research distil`` adds them too).
    profile : str, default "student"
        The default profile.
    """
    parser.add_argument("--profile", choices=["fast", "default", "student", "full"], default=profile,
                       help="a named TrainConfig (fer_lib.train.PROFILES): fast (a minute), default (notebook 3's "
                            "4 epochs), student (12 epochs, 6 min on 2 quiet cores), full (the "
                            "shipped model's recipe, about 105 min there)")
    parser.add_argument("--model", dest="model_name", help="model name (seed_cnn, fer_net, fer_net_small)")
    parser.add_argument("--data", help="FER2013 file (default: $FER2013_PATH, then data_input/)")
    parser.add_argument("--protocol", choices=["official", "tutorial"], default="official")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--sample-size", type=int)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--widths", type=_widths, help="fer_net's filters per convolutional block, "
                        "comma-separated (default 32,64,128,256; 48,96,192,384 is 1.5 times as wide)")
    parser.add_argument("--random-erasing", type=float,
                       help="probability of erasing a random rectangle of each training face (default 0)")
    parser.add_argument("--max-minutes", type=positive_float,
                       help="stop after this many minutes of training (counted across resumed calls)")
    parser.add_argument("--precision", choices=["auto", "float32", "mixed_bfloat16", "mixed_float16"])
    parser.add_argument("--run-dir", help="checkpoint folder (default ~/.cache/fer_lib/runs/...)")
    parser.add_argument("--restart", action="store_true", help="ignore an existing checkpoint")
    parser.add_argument("--output", help="where to save the .keras model (card saved beside it)")
    parser.add_argument("--quiet", action="store_true", help="one line per epoch instead of progress bars")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m fer_lib``."""
    parser = argparse.ArgumentParser(prog="python -m fer_lib", description=__doc__.splitlines()[0])
    verbose_help = "also show TensorFlow's start-up lines (hidden by default; see fer_lib.quiet)"
    parser.add_argument("--verbose", action="store_true", help=verbose_help)
    commands = parser.add_subparsers(dest="command", required=True)
    faces = argparse.ArgumentParser(add_help=False)  # the options of predict, live and capture
    faces.add_argument("--model", default=None, help="model: .tflite (LiteRT, no TensorFlow) or .keras "
                       "(default: the shipped model's quantised export)")
    faces.add_argument("--detector", choices=["blazeface", "haar"], default="blazeface",
                       help="face detector: BlazeFace, a CNN (default), or the tutorial's Haar cascade")
    camera = argparse.ArgumentParser(add_help=False, parents=[faces])  # live and capture
    camera.add_argument("--source", default="0", help="camera index or video file (default 0)")

    train = commands.add_parser("train", help="train a model (checkpointed, resumable)")
    add_train_options(train)
    train.set_defaults(handler=_train)

    export = commands.add_parser("export", help="write the LiteRT files (float32, quantised) of a .keras model")
    export.add_argument("model", nargs="?", default=None, help="a .keras model (default: the shipped model, fer_lib/model/shipped/default.keras)")
    export.set_defaults(handler=_export, keras_model=True)

    predict = commands.add_parser(
        "predict", parents=[faces],
        help="emotions of the faces in images, folders or videos: table, CSV/JSON, annotated copies",
    )
    predict.add_argument("paths", nargs="+", metavar="PATH", help="image, folder of images, or video")
    predict.add_argument("--no-tiles", action="store_true",
                         help="images: BlazeFace on the whole image only (by default also on overlapping tiles, "
                              "which finds small faces in group photos at about 40-100 ms an image here)")
    predict.add_argument("--format", choices=["csv", "json"],
                         help="report format (default: from --report's suffix, else csv); "
                              "without --report, print this format instead of the table")
    predict.add_argument("--report", help="write every face of every analysed frame (a video's: with its time "
                              "and track number; JSON adds a summary per tracked face) to this .csv or .json file "
                              "(its folder is created if missing); prints a summary instead of the table")
    predict.add_argument("--output", help="annotated image or video for one input (.webm plays in browsers and "
                              "notebooks, slower to encode; .mp4 is written as mp4v); a folder for several, videos "
                              "as .webm there (created if missing, as --report's folder is)")
    predict.add_argument("--on-error", choices=["continue", "stop"], default="continue",
                         help="a bad input: report it on stderr and go on with the rest, exit status 1 at the end "
                              "(continue, the default), or stop at once with status 2 (stop)")
    predict.add_argument("--every", type=positive_int, default=1,
                         help="analyse every N-th video frame (frames between reuse the last faces)")
    predict.add_argument("--no-smooth", action="store_true",
                         help="no smoothing of probabilities over video frames (faces are still tracked)")
    predict.set_defaults(handler=_predict)

    live = commands.add_parser("live", parents=[camera], help="OpenCV window of a camera or video, annotated, with fps")
    live.add_argument("--no-smooth", action="store_true", help="no smoothing of probabilities over frames")
    live.add_argument("--max-frames", type=positive_int, help="stop after N frames")
    live.add_argument("--every", type=positive_int, default=1, help="analyse every N-th frame")
    live.add_argument("--detect-every", type=positive_int, default=1,
                      help="run the face detector on every N-th analysed frame only (faster; default 1)")
    live.set_defaults(handler=_live)

    capture = commands.add_parser("capture", parents=[camera],
                                  help="save your own face crops, one emotion at a time, for finetune")
    capture.add_argument("--emotion", required=True, help="the emotion you show (English or Indonesian name)")
    capture.add_argument("--count", type=positive_int, default=30, help="faces to save (default 30)")
    capture.add_argument("--every", type=positive_int, default=3,
                         help="save every N-th frame with one face (default 3: neighbours are near-copies)")
    capture.add_argument("--folder", help="where the emotion folders go (default: my_faces/ in the working folder "
                                          "or the nearest parent that has one)")
    capture.set_defaults(handler=_capture)

    finetune = commands.add_parser("finetune", help="fine-tune the shipped model on a folder of your own faces")
    finetune.add_argument("folder", help="<emotion>/<image> folder, e.g. my_faces/ (see `capture`)")
    finetune.add_argument("--output", required=True, help="the .keras file to write (card and LiteRT files beside)")
    finetune.add_argument("--model", default=None, help="the .keras model to start from (default: the shipped one)")
    finetune.add_argument("--epochs", type=positive_int, default=10, help="epochs of the head alone (default 10)")
    finetune.add_argument("--unfreeze-epochs", type=_non_negative_int, default=10,
                          help="then epochs with the last convolutional block unfrozen too (default 10; 0: head only)")
    finetune.add_argument("--seed", type=int, default=0)
    finetune.add_argument("--fer2013", help="FER2013 file: also score PublicTest after (what was forgotten)")
    finetune.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    finetune.set_defaults(handler=_finetune, keras_model=True)

    info = commands.add_parser("info", help="versions, model, data and camera found on this machine")
    info.add_argument("--model", default=None, help="model file to check (default: the shipped model's quantised export)")
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
    from fer_lib import quiet
    from fer_lib.errors import FerError

    if args.verbose:  # the start-up lines hidden while fer_lib was imported
        sys.stderr.write("".join(quiet.startup_lines()))
    if args.command in ("train", "export", "finetune"):  # these load Keras (and TensorFlow)
        with quiet.hidden_startup_lines(enabled=not args.verbose):
            import keras  # noqa: F401

    if getattr(args, "model", "") is None:
        from fer_lib.model._classifier import DEFAULT_KERAS_PATH, DEFAULT_MODEL_PATH

        args.model = DEFAULT_KERAS_PATH if getattr(args, "keras_model", False) else DEFAULT_MODEL_PATH
    try:
        return args.handler(args)
    except FerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
