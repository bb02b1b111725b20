"""The package works where it is installed: a wheel, installed elsewhere, predicts from another folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """``pip wheel`` of the repository, installed with ``--target`` into a folder of its own (nothing downloaded)."""
    wheels = tmp_path_factory.mktemp("wheels")
    target = tmp_path_factory.mktemp("site")
    # Built from a copy of the tracked files, so no build/ or egg-info of the checkout can leak into it.
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=False)
    if listed.returncode != 0:
        pytest.skip("not a git checkout: the wheel is built from the tracked files")
    source = tmp_path_factory.mktemp("source")
    for name in filter(None, listed.stdout.decode().split("\0")):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(source)],
                   check=True, capture_output=True, timeout=600)
    (wheel,) = wheels.glob("fer_lib-*.whl")
    subprocess.run([*pip, "install", "--no-deps", "--no-index", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, timeout=600)
    return target


def _run_installed(target: Path, cwd: Path, *arguments: str) -> subprocess.CompletedProcess:
    """Python with the installed copy first on the path, from ``cwd`` (outside the repository)."""
    env = dict(os.environ, PYTHONPATH=str(target), FER_LIB_RUNS_DIR=str(cwd / "runs"))
    env.pop("FER2013_PATH", None)
    return subprocess.run([sys.executable, *arguments], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300, check=False)


@pytest.mark.slow
def test_the_wheel_carries_the_shipped_model_and_predicts_from_another_folder(installed, tmp_path, media):
    photo = tmp_path / "photo.jpg"
    photo.write_bytes((media / "obama.jpg").read_bytes())
    code = (
        "import json, cv2, fer_lib\n"
        "from fer_lib.model import DEFAULT_MODEL_PATH\n"
        "records = fer_lib.analyze_frame(cv2.imread('photo.jpg'))\n"
        "print(json.dumps({'file': fer_lib.__file__, 'model': str(DEFAULT_MODEL_PATH),"
        " 'emotions': [r['emotion'] for r in records]}))\n"
    )
    result = _run_installed(installed, tmp_path, "-c", code)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert Path(seen["file"]).is_relative_to(installed) and Path(seen["model"]).is_relative_to(installed)
    assert seen["emotions"] == ["Happy"]
    packaged = {path.relative_to(installed / "fer_lib").as_posix() for path in (installed / "fer_lib").rglob("*.*")}
    assert {"course/webcam.js", "language_id.json", "live/detectors/face_detection_full_range.tflite", "model/shipped/default.keras",
            "model/shipped/default.quantized.tflite", "model/shipped/default.json"} <= packaged
    assert not (installed / "research").exists()  # the project's experiments are not installed

    result = _run_installed(installed, tmp_path, "-m", "fer_lib", "predict", "photo.jpg", "--report", "faces.csv")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "faces.csv").read_text().count("\n") == 2  # header and one face
    assert not (ROOT / "faces.csv").exists()


@pytest.mark.slow
def test_the_installed_package_finds_the_users_data_where_they_work(installed, tmp_path):
    (tmp_path / "project" / "data_input").mkdir(parents=True)
    (tmp_path / "project" / "data_input" / "fer2013.csv").write_text("emotion,pixels,Usage\n")
    (tmp_path / "project" / "notebooks").mkdir()
    code = "from fer_lib.data import discover_fer2013\nprint(discover_fer2013())"
    result = _run_installed(installed, tmp_path / "project" / "notebooks", "-c", code)
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()) == tmp_path / "project" / "data_input" / "fer2013.csv"
