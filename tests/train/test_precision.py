"""Training precision: TrainConfig.precision, what ``auto`` resolves to, building under a dtype policy, and a
bf16-trained network's way through its card, the LiteRT export and the live loop."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import keras
import numpy as np
import pytest

from fer_lib.data import synthetic_fer2013
from fer_lib.errors import ModelError
from fer_lib.labels import EMOTIONS
from fer_lib.model import _architectures as architectures
from fer_lib.train import TrainConfig, _config
from fer_lib.train._config import fingerprint, resolve_precision

DATA = SimpleNamespace(sha256="ab" * 32, synthetic=False)


def policies(model) -> set[str]:
    """The dtype policies of a network's layers, nested ones included."""
    return {layer.dtype_policy.name for layer in architectures.all_layers(model)}


def test_precision_is_validated_with_the_choices():
    with pytest.raises(ModelError, match="unknown precision 'bfloat16'; choose one of auto, float32, "
                                         "mixed_bfloat16, mixed_float16"):
        TrainConfig(precision="bfloat16")
    assert TrainConfig().precision == "auto"


@pytest.mark.parametrize(("gpus", "cpuinfo", "supported", "expected"), [
    (["GPU:0"], "flags\t: fpu avx512_bf16", True, "mixed_float16"),
    ([], "flags\t: fpu avx2 avx512_bf16 amx_tile", False, "float32"),  # today: bf16 bought no reliable time
    ([], "flags\t: fpu avx2 avx512_bf16 amx_tile", True, "mixed_bfloat16"),
    ([], "flags\t: fpu amx_bf16", True, "mixed_bfloat16"),
    ([], "flags\t: fpu avx2 avx512f", True, "float32"),
    ([], None, True, "float32"),  # no /proc/cpuinfo (macOS, Windows)
])
def test_auto_follows_what_the_machine_is(monkeypatch, tmp_path, gpus, cpuinfo, supported, expected):
    import tensorflow as tf

    cpuinfo_path = tmp_path / "cpuinfo"
    if cpuinfo is not None:
        cpuinfo_path.write_text(f"processor\t: 0\n{cpuinfo}\nbugs\t: spectre_v1\n")
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: gpus if kind == "GPU" else [])
    monkeypatch.setattr(_config, "Path", lambda _: cpuinfo_path)
    monkeypatch.setattr(_config, "BFLOAT16_ON_CPU", supported)
    assert resolve_precision("auto") == resolve_precision() == expected
    for chosen in ("float32", "mixed_bfloat16", "mixed_float16"):  # a choice is kept, whatever the machine
        assert resolve_precision(chosen) == chosen


def test_a_float32_run_keeps_its_identity_and_a_bf16_run_gets_its_own(float32_machine):
    auto, plain, bf16 = (TrainConfig("fer_net_small", precision=p) for p in ("auto", "float32", "mixed_bfloat16"))
    assert "precision" not in auto.identity(DATA) and auto.identity(DATA) == plain.identity(DATA)
    assert bf16.identity(DATA) == {**plain.identity(DATA), "precision": "mixed_bfloat16"}
    assert fingerprint(bf16.identity(DATA)) != fingerprint(plain.identity(DATA))
    # a recorded identity gives its config back; a float32 run's (every run before 0.3.0) records no precision
    assert TrainConfig.from_identity(bf16.identity(DATA)).identity(DATA) == bf16.identity(DATA)
    assert TrainConfig.from_identity(plain.identity(DATA)).identity(DATA) == plain.identity(DATA)


def test_a_network_is_built_under_the_policy_and_nothing_leaks():
    before = keras.config.dtype_policy().name
    model = architectures.build_model("fer_net_small", precision="mixed_bfloat16", compile=False)
    assert keras.config.dtype_policy().name == before == "float32"
    assert policies(model) == {"float32", "mixed_bfloat16"}  # the input and the softmax are float32
    assert model.get_layer("block1a_conv").compute_dtype == "bfloat16"
    assert model.get_layer("block1a_conv").kernel.dtype == "float32"  # the weights stay float32
    assert model.outputs[0].dtype == "float32"  # the softmax too
    tutorial = architectures.build_model("seed_cnn", precision="mixed_bfloat16", width=2, compile=False)
    assert tutorial.outputs[0].dtype == "float32" and "mixed_bfloat16" in policies(tutorial)
    with pytest.raises(TypeError):  # a builder that fails restores the policy all the same
        architectures.build_model("fer_net_small", precision="mixed_bfloat16", colour="blue")
    assert keras.config.dtype_policy().name == "float32"


def test_mixed_float16_scales_the_loss():
    model = architectures.build_model("fer_net_small", precision="mixed_float16")
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    assert not isinstance(architectures.build_model("fer_net_small").optimizer, keras.optimizers.LossScaleOptimizer)


def test_the_float32_copy_is_a_float32_network_with_the_same_weights():
    bf16 = architectures.with_flip_averaging(
        architectures.build_model("fer_net_small", precision="mixed_bfloat16", compile=False))
    copy = architectures.rebuilt(bf16, float32=True)
    float32 = architectures.with_flip_averaging(architectures.build_model("fer_net_small", compile=False))
    assert policies(copy) == {"float32"} and copy.get_config() == float32.get_config()
    faces = synthetic_fer2013(8, seed=0).images[..., None].astype(np.float32)
    np.testing.assert_allclose(copy.predict_on_batch(faces), bf16.predict_on_batch(faces), atol=0.02)


def test_the_command_line_chooses_the_precision():
    from fer_lib.cli import build_parser, config_from_arguments

    for given, expected in (([], "auto"), (["--precision", "mixed_bfloat16"], "mixed_bfloat16")):
        assert config_from_arguments(build_parser().parse_args(["train", *given])).precision == expected


@pytest.mark.slow
def test_a_bf16_trained_network_exports_and_runs_in_the_live_loop(tmp_path, media):
    import cv2
    from ai_edge_litert.interpreter import Interpreter

    from fer_lib.live import analyze_frame
    from fer_lib.model import EmotionClassifier, export_litert, load_saved_model
    from fer_lib.train import train

    faces = synthetic_fer2013(300, seed=0)
    config = TrainConfig("fer_net_small", epochs=1, batch_size=32, sample_size=64, flip_tta=False,
                         precision="mixed_bfloat16")
    result = train(config, faces, run_dir=tmp_path / "run", output=tmp_path / "bf16.keras", verbose=0)
    assert result.card["precision"] == result.card["recipe"]["precision"] == "mixed_bfloat16"
    assert keras.config.dtype_policy().name == "float32"
    saved = load_saved_model(tmp_path / "bf16.keras")  # loads and predicts as usual
    assert "mixed_bfloat16" in policies(saved)
    inputs = faces.images[:6, ..., None].astype(np.float32)
    expected = saved.predict_on_batch(inputs)
    assert expected.dtype == np.float32 and np.allclose(expected.sum(axis=1), 1.0, atol=1e-5)

    paths = export_litert(tmp_path / "bf16.keras")  # from a float32 copy: a float32 model's files
    for variant in ("float32", "quantized"):
        interpreter = Interpreter(str(paths[variant]))
        ends = interpreter.get_input_details() + interpreter.get_output_details()
        assert [(end["dtype"], list(end["shape_signature"])) for end in ends] == [
            (np.float32, [-1, 48, 48, 1]), (np.float32, [-1, 7])]
        assert {np.dtype(t["dtype"]).name for t in interpreter.get_tensor_details()} <= {"float32", "int32", "int8"}
        classifier = EmotionClassifier(paths[variant])
        np.testing.assert_allclose(classifier.predict(inputs[..., 0]), expected, atol=0.03)
        records = analyze_frame(cv2.imread(str(media / "obama.jpg")), classifier=classifier)
        assert len(records) == 1 and records[0]["emotion"] in EMOTIONS
        np.testing.assert_allclose(sum(records[0]["probabilities"]), 1.0, atol=1e-4)


class OptimiserSpy(keras.callbacks.Callback):
    """The training network's optimiser and its step count when fit begins and ends."""

    def on_train_begin(self, logs=None):
        self.optimizer, self.first = self.model.optimizer, int(self.model.optimizer.iterations.numpy())

    def on_train_end(self, logs=None):
        self.last = int(self.model.optimizer.iterations.numpy())


@pytest.mark.slow
def test_a_resumed_mixed_float16_run_keeps_its_loss_scaling_and_optimiser_state(tmp_path):
    from fer_lib.train import train

    faces = synthetic_fer2013(300, seed=0)
    config = TrainConfig("fer_net_small", epochs=1, batch_size=32, sample_size=64, flip_tta=False,
                         schedule="constant", precision="mixed_float16")  # constant: a run can be extended
    before, after = OptimiserSpy(), OptimiserSpy()
    train(config, faces, run_dir=tmp_path / "run", callbacks=[before], verbose=0)
    longer = dataclasses.replace(config, epochs=2)
    result = train(longer, faces, run_dir=tmp_path / "run", callbacks=[after], verbose=0)
    assert result.card["epochs_trained"] == 2 and result.card["precision"] == "mixed_float16"
    assert isinstance(before.optimizer, keras.optimizers.LossScaleOptimizer)
    assert isinstance(after.optimizer, keras.optimizers.LossScaleOptimizer)
    assert before.last > 0 and after.first == before.last  # Adam's state went on, not restarted


def test_a_hand_built_network_decides_the_precision_on_its_card(tmp_path):
    from fer_lib.train import train

    faces = synthetic_fer2013(300, seed=0)
    config = TrainConfig("fer_net_small", epochs=1, batch_size=32, sample_size=64, flip_tta=False,
                         precision="mixed_bfloat16")
    network = architectures.build_model("fer_net_small", precision="float32")
    result = train(config, faces, model=network, run_dir=tmp_path / "run", verbose=0)
    assert result.card["precision"] == "float32"


def test_an_old_identity_is_a_float32_run():
    assert TrainConfig.from_identity({"model_name": "fer_net"}).precision == "float32"
