"""Tests of fer_lib.model._classifier: loading a saved model, the one batched prediction path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import fer_lib
from fer_lib.model import _classifier as classifier_module
from fer_lib.model._classifier import EmotionClassifier, load_saved_model, predict_probabilities
from fer_lib.errors import ModelError
from fer_lib.labels import IMAGE_SIZE, NUM_CLASSES

REPO = Path(fer_lib.__file__).resolve().parents[1]


def test_default_model_paths_are_in_the_repo():
    assert classifier_module.DEFAULT_KERAS_PATH == REPO / "fer_lib" / "model" / "shipped" / "default.keras"
    assert classifier_module.DEFAULT_MODEL_PATH == REPO / "fer_lib" / "model" / "shipped" / "default.quantized.tflite"
    assert classifier_module.DEFAULT_MODEL_PATH.is_file()


def test_predict_shapes_and_probabilities(classifier):
    rng = np.random.default_rng(0)
    for count in (0, 1, 3, 5):
        faces = rng.integers(0, 256, (count, IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
        probabilities = classifier.predict(faces)
        assert probabilities.shape == (count, NUM_CLASSES) and probabilities.dtype == np.float32
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


def test_bucket_padding_matches_the_plain_model(classifier):
    faces = np.random.default_rng(1).integers(0, 256, (5, IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    expected = np.asarray(classifier.model(faces[..., None].astype(np.float32), training=False))
    np.testing.assert_allclose(classifier.predict(faces), expected, atol=1e-5)
    np.testing.assert_allclose(classifier.predict(faces[..., None]), expected, atol=1e-5)
    np.testing.assert_allclose(classifier.predict(faces[2:3]), expected[2:3], atol=1e-5)


def test_more_faces_than_the_largest_bucket(classifier):
    small = EmotionClassifier(classifier.model, buckets=(1, 2))
    faces = np.random.default_rng(2).integers(0, 256, (5, IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    np.testing.assert_allclose(small.predict(faces), classifier.predict(faces), atol=1e-5)


def test_predict_rejects_wrong_face_shape(classifier):
    with pytest.raises(ValueError, match="crop_face"):
        classifier.predict(np.zeros((2, 32, 32), np.uint8))


def test_missing_model_file(tmp_path):
    with pytest.raises(ModelError, match="missing.keras"):
        EmotionClassifier(tmp_path / "missing.keras")


def test_corrupt_model_file(tmp_path):
    bad = tmp_path / "corrupt.keras"
    bad.write_bytes(b"not a zip archive")
    with pytest.raises(ModelError, match="corrupt.keras"):
        EmotionClassifier(bad)


def test_model_with_wrong_shapes():
    import keras

    inputs = keras.Input(shape=(10,))
    model = keras.Model(inputs, keras.layers.Dense(3)(inputs))
    with pytest.raises(ModelError, match="expected"):
        EmotionClassifier(model)


@pytest.mark.parametrize("content", [None, b"not a keras archive"])
def test_load_saved_model_missing_or_corrupt(tmp_path, content):
    path = tmp_path / "broken.keras"
    if content is not None:
        path.write_bytes(content)
    expected = "does not exist" if content is None else "cannot be loaded .* corrupt"
    with pytest.raises(ModelError, match=rf"broken\.keras {expected}"):
        load_saved_model(path)


def test_load_saved_model_reads_a_saved_model(tiny_model_path):
    model = load_saved_model(tiny_model_path, compile=False)
    assert model.output_shape == (None, NUM_CLASSES)


def test_predict_probabilities_is_the_classifiers_path(classifier, monkeypatch):
    faces = np.random.default_rng(5).integers(0, 256, (7, IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    expected = classifier.predict(faces)
    calls = []
    real_predict = EmotionClassifier.predict

    def spy(self, images):
        calls.append(self.buckets)
        return real_predict(self, images)

    monkeypatch.setattr(EmotionClassifier, "predict", spy)
    got = predict_probabilities(classifier.model, faces, batch_size=4)
    assert calls == [(1, 2, 4)]  # chunks of 4, the last one padded to a power of two
    assert got.shape == (7, NUM_CLASSES) and got.dtype == np.float32
    np.testing.assert_allclose(got, expected, atol=1e-5)
    np.testing.assert_allclose(predict_probabilities(classifier, faces), expected, atol=1e-5)
    assert predict_probabilities(classifier.model, faces[:0]).shape == (0, NUM_CLASSES)


@pytest.mark.parametrize("batch_size", [0, -3, 2.5])
def test_predict_probabilities_rejects_bad_batch_size(classifier, batch_size):
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        predict_probabilities(classifier.model, np.zeros((1, IMAGE_SIZE, IMAGE_SIZE), np.uint8), batch_size=batch_size)


def test_buckets_must_be_positive(classifier):
    with pytest.raises(ValueError, match="buckets must be positive"):
        EmotionClassifier(classifier.model, buckets=(0, 4))


@pytest.fixture(scope="module")
def tiny_litert_path(tiny_model_path, tmp_path_factory) -> Path:
    """The tiny model exported to LiteRT (float32 and quantised) beside a copy of it."""
    import shutil

    from fer_lib.model._export import export_litert

    copy = tmp_path_factory.mktemp("litert") / "tiny.keras"
    shutil.copy(tiny_model_path, copy)
    return export_litert(copy)["float32"]


def test_litert_gives_the_keras_probabilities(tiny_litert_path, classifier):
    litert = EmotionClassifier(tiny_litert_path)
    assert litert.backend == "litert" and classifier.backend == "keras"
    faces = np.random.default_rng(3).integers(0, 256, (5, IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    np.testing.assert_allclose(litert.predict(faces), classifier.predict(faces), atol=1e-5)
    np.testing.assert_allclose(litert.predict(faces[1:2]), classifier.predict(faces[1:2]), atol=1e-5)
    assert litert.predict(faces[:0]).shape == (0, NUM_CLASSES)
    small = EmotionClassifier(tiny_litert_path, buckets=(1, 2))
    np.testing.assert_allclose(small.predict(faces), litert.predict(faces), atol=1e-6)


def test_missing_or_corrupt_litert_file(tmp_path):
    with pytest.raises(ModelError, match=r"missing\.tflite does not exist.*fer_lib export"):
        EmotionClassifier(tmp_path / "missing.tflite")
    bad = tmp_path / "corrupt.tflite"
    bad.write_bytes(b"not a flatbuffer")
    with pytest.raises(ModelError, match=r"corrupt\.tflite cannot be loaded by LiteRT"):
        EmotionClassifier(bad)


def test_litert_file_of_another_model_is_refused():
    from fer_lib.live._detectors import BLAZEFACE_FILE

    with pytest.raises(ModelError, match=r"expected \(48, 48, 1\) grey faces in"):
        EmotionClassifier(BLAZEFACE_FILE.with_suffix(".tflite"))


def test_litert_classifier_and_detector_can_be_shared_between_threads(tiny_litert_path, media):
    """LiveView's thread and a BrowserCamera may share one classifier and one detector."""
    from concurrent.futures import ThreadPoolExecutor

    import cv2

    from fer_lib.live._detectors import BlazeFaceDetector

    litert, detector = EmotionClassifier(tiny_litert_path), BlazeFaceDetector()
    faces = np.random.default_rng(4).integers(0, 256, (6, IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    photo = cv2.imread(str(media / "two_people.jpg"))
    expected_probabilities, expected_boxes = litert.predict(faces), detector.detect(photo)

    def work(index: int):
        return litert.predict(faces[index % 3:]), detector.detect(photo)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(work, range(24)))
    for index, (probabilities, boxes) in enumerate(results):
        np.testing.assert_allclose(probabilities, expected_probabilities[index % 3:], atol=1e-6)
        np.testing.assert_array_equal(boxes, expected_boxes)


def test_a_model_without_softmax_is_refused_with_what_to_add(tmp_path):
    import keras

    from fer_lib.model import export_litert

    inputs = keras.Input((48, 48, 1))
    logits = keras.Model(inputs, keras.layers.Dense(7)(keras.layers.Flatten()(inputs)))
    with pytest.raises(ModelError, match=r"does not return probabilities .* end the network with a softmax"):
        EmotionClassifier(logits)
    path = tmp_path / "logits.keras"
    logits.save(path)
    with pytest.raises(ModelError, match="does not return probabilities"):
        export_litert(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["logits.keras"]  # nothing exported


def test_a_folder_as_model_is_named_a_folder_before_tensorflow_loads(tmp_path):
    code = ("import sys\nfrom fer_lib.model import EmotionClassifier\nfrom fer_lib.errors import ModelError\n"
            f"try:\n    EmotionClassifier({str(tmp_path)!r})\nexcept ModelError as error:\n    print(error)\n"
            "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "is a folder" in out and out.strip().endswith("[]")
