"""Export a trained Keras model to LiteRT (``.tflite``), which the live loop, ``predict`` and the widgets run
without TensorFlow; a manifest ties the files to their model."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import tempfile
from pathlib import Path

from fer_lib._fileio import atomic_target, atomic_write_text
from fer_lib.data._loading import file_sha256
from fer_lib.errors import ModelError
from fer_lib.quiet import hidden_startup_lines

__all__ = ["LITERT_VARIANTS", "export_litert", "litert_paths", "read_manifest"]

#: The files :func:`export_litert` writes, by variant: suffix that replaces ``.keras``.
LITERT_VARIANTS: dict[str, str] = {"float32": ".tflite", "quantized": ".quantized.tflite"}


def litert_paths(model_path: str | os.PathLike) -> dict[str, Path]:
    """Where the LiteRT files of a ``.keras`` model live, by variant, plus ``"manifest"``."""
    model_path = Path(model_path)
    stem = model_path.name.removesuffix(".keras")
    paths = {name: model_path.with_name(stem + suffix) for name, suffix in LITERT_VARIANTS.items()}
    paths["manifest"] = model_path.with_name(stem + ".litert.json")
    return paths


def export_litert(model_path: str | os.PathLike, *, verbose: bool = False) -> dict[str, Path]:
    """Write a ``.keras`` model's float32 and quantised LiteRT files and manifest (made from a float32 copy of the
    network, whatever precision it was trained in); returns their paths.

    Parameters
    ----------
    model_path : str or Path
    verbose : bool, default False
        Let TensorFlow's converter print its own progress.

    Raises
    ------
    ModelError
        If the model cannot be loaded or converted; nothing is half-written.
    """
    import tensorflow as tf

    from fer_lib.model._architectures import rebuilt
    from fer_lib.model._classifier import EmotionClassifier, load_saved_model

    model_path = Path(model_path)
    model = rebuilt(load_saved_model(model_path, compile=False), float32=True)  # a bf16-trained one's float32 copy
    EmotionClassifier(model)  # the live loop's checks: shapes, and probabilities out (a softmax last)
    paths = litert_paths(model_path)
    try:
        with contextlib.ExitStack() as quiet:
            if not verbose:  # the converter prints pages of C++ and Python logging
                quiet.enter_context(hidden_startup_lines())
                quiet.enter_context(contextlib.redirect_stdout(io.StringIO()))
                quiet.callback(logging.getLogger("tensorflow").setLevel, logging.getLogger("tensorflow").level)
                logging.getLogger("tensorflow").setLevel(logging.ERROR)
            with atomic_target(paths["float32"]) as temporary:
                model.export(str(temporary), format="litert", verbose=verbose)
            with tempfile.TemporaryDirectory(prefix="fer_lib_export_") as folder:
                model.export(folder, format="tf_saved_model", verbose=verbose)
                converter = tf.lite.TFLiteConverter.from_saved_model(folder)
                converter.optimizations = [tf.lite.Optimize.DEFAULT]
                quantized = converter.convert()
        with atomic_target(paths["quantized"]) as temporary:
            temporary.write_bytes(quantized)
    except (ValueError, RuntimeError, TypeError, tf.errors.OpError) as exc:
        raise ModelError(f"cannot export {model_path} to LiteRT: {type(exc).__name__}: {str(exc)[:300]}") from exc
    manifest = {
        "source": model_path.name, "source_sha256": file_sha256(model_path),
        "made_by": f"python -m fer_lib export {model_path.as_posix()}",
        "files": {name: {"file": paths[name].name, "sha256": file_sha256(paths[name]),
                         "bytes": paths[name].stat().st_size} for name in LITERT_VARIANTS},
        "quantization": {"quantized": "dynamic range: int8 weights, float32 activations (tf.lite.Optimize.DEFAULT)"},
    }
    atomic_write_text(paths["manifest"], json.dumps(manifest, indent=2) + "\n")
    return paths


def read_manifest(model_path: str | os.PathLike) -> dict:
    """The manifest :func:`export_litert` wrote for a ``.keras`` model."""
    path = litert_paths(model_path)["manifest"]
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError as exc:
        raise ModelError(f"{path} does not exist: {model_path} was never exported; run "
                         f"python -m fer_lib export {model_path}") from exc
    except json.JSONDecodeError as exc:
        raise ModelError(f"{path} is not valid JSON ({exc}); export the model again") from exc
