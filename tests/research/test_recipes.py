"""Tests for research.recipes: the recipe study runs end to end on equal budgets, resumes, and is read back."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from research import recipes
from fer_lib.labels import EMOTIONS
from fer_lib.data._synthetic import synthetic_fer2013

TINY = recipes.RecipeVariant("tiny", "a small fer_net", model_options={"widths": (8, 16)})
TINY_MIXUP = recipes.RecipeVariant("tiny_mixup", "a small fer_net with mixup", model_options={"widths": (8, 16)},
                                   train_options={"mixup": 0.2, "class_weight": "balanced"})


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    root = tmp_path_factory.mktemp("recipes")
    faces = synthetic_fer2013(700, seed=0)
    output = root / "results" / "recipe_study.csv"
    table = recipes.run_recipe_study(faces, minutes=0.1, variants=[TINY, TINY_MIXUP], sample_size=256,
                                     batch_size=32, run_root=root / "runs", output=output, verbose=0)
    return table, output, root, faces


def test_every_variant_gets_a_row_within_its_budget(study):
    table, _, _, _ = study
    assert list(table["variant"]) == ["tiny", "tiny_mixup"]
    assert (table["minutes"] <= table["minutes_budget"] + 0.2).all()  # a validation may follow
    assert (table["epochs"] >= 1).all() and (table["epochs"] <= table["epochs_planned"]).all()
    for column in ["train_accuracy", "validation_accuracy", "test_accuracy", "test_macro_f1",
                   *(f"test_{emotion}" for emotion in EMOTIONS)]:
        assert table[column].between(0, 1).all(), column
    assert set(table["train_faces"]) == {256} and (table["parameters"] > 0).all()


def test_study_is_saved_with_its_provenance(study):
    table, output, _, faces = study
    pd.testing.assert_frame_equal(recipes.load_recipe_study(output), table, check_dtype=False)
    meta = json.loads(output.with_suffix(".meta.json").read_text())
    assert meta["data"] == {"file": "synthetic", "sha256": faces.sha256}
    assert meta["budget"]["minutes_per_variant"] == 0.1 and meta["machine"]["cpu_count"]
    assert meta["command"].startswith("python -m research recipes --minutes 0.1 --seed 0 --sample-size 256 "
                                      "--batch-size 32 --variants tiny tiny_mixup --output")
    assert set(output.parent.iterdir()) == {output, output.with_suffix(".meta.json")}


def test_a_second_call_skips_finished_variants(study, monkeypatch):
    table, _, root, faces = study

    def no_training(*args, **kwargs):
        raise AssertionError("a finished variant was trained again")

    monkeypatch.setattr(recipes, "train", no_training)
    again = recipes.run_recipe_study(faces, minutes=0.1, variants=[TINY, TINY_MIXUP], sample_size=256,
                                     batch_size=32, run_root=root / "runs", output=None, verbose=0)
    pd.testing.assert_frame_equal(again, table)


def test_variants_are_known_to_the_library():
    names = [variant.name for variant in recipes.RECIPE_VARIANTS]
    assert names[0] == "baseline" and len(set(names)) == len(names)
    from fer_lib.model._architectures import MODEL_BUILDERS

    for variant in recipes.RECIPE_VARIANTS:
        assert variant.model_name in MODEL_BUILDERS
        assert set(variant.train_options) <= {"optimizer", "mixup", "cutmix", "random_erasing", "class_weight", "crop"}
    assert recipes.plan_epochs(0.01, 130.0) == 1


def test_errors_name_the_problem(tmp_path):
    with pytest.raises(ValueError, match="unknown recipe variant 'dropconnect'"):
        recipes.run_recipe_study(synthetic_fer2013(50), minutes=1, variants=["dropconnect"], output=None, verbose=0)
    with pytest.raises(ValueError, match="minutes must be positive; got 0"):
        recipes.run_recipe_study(synthetic_fer2013(50), minutes=0, output=None, verbose=0)
    with pytest.raises(FileNotFoundError, match="python -m research recipes --minutes"):
        recipes.load_recipe_study(tmp_path / "missing.csv")
    (tmp_path / "other.csv").write_text("variant,accuracy\nbaseline,0.5\n")
    with pytest.raises(ValueError, match="not a recipe study"):
        recipes.load_recipe_study(tmp_path / "other.csv")

def test_rows_of_the_saved_table_are_kept_when_checkpoints_are_gone(study, monkeypatch, tmp_path):
    table, output, _, faces = study
    copy = tmp_path / "recipe_study.csv"
    copy.write_bytes(output.read_bytes())
    copy.with_suffix(".meta.json").write_bytes(output.with_suffix(".meta.json").read_bytes())

    def no_training(*args, **kwargs):
        raise AssertionError("a variant in the saved table was trained again")

    monkeypatch.setattr(recipes, "train", no_training)
    kept = recipes.run_recipe_study(faces, minutes=0.1, variants=[TINY, TINY_MIXUP], sample_size=256,
                                    batch_size=32, run_root=tmp_path / "no-checkpoints", output=copy, verbose=0)
    pd.testing.assert_frame_equal(kept, table, check_dtype=False)
    with pytest.raises(AssertionError, match="trained again"):  # another budget is another study
        recipes.run_recipe_study(faces, minutes=0.2, variants=[TINY], sample_size=256, batch_size=32,
                                 run_root=tmp_path / "no-checkpoints", output=copy, verbose=0)
    changed = recipes.RecipeVariant("tiny", "a small fer_net", model_options={"widths": (8, 24)})
    with pytest.raises(AssertionError, match="trained again"):  # same name and words, another network
        recipes.run_recipe_study(faces, minutes=0.1, variants=[changed], sample_size=256, batch_size=32,
                                 run_root=tmp_path / "no-checkpoints", output=copy, verbose=0)


def test_estimate_epoch_seconds_scales_timed_batches_to_the_epoch():
    from fer_lib.model import _architectures as models
    from fer_lib.train import AugmentedFaces

    faces = synthetic_fer2013(256, seed=0)
    batches = AugmentedFaces(faces.images, faces.labels, batch_size=32)
    ticks = iter(np.arange(0.0, 100.0, 1.0))  # every clock call one second later
    model = models.fer_net(widths=(4, 8))
    seconds = recipes.estimate_epoch_seconds(model, batches, batches=3, clock=lambda: float(next(ticks)))
    assert seconds == pytest.approx(1.0 / 3 * len(batches))
    validation = (faces.images[:100, ..., None].astype("float32"), batches.targets[:100])
    real = recipes.estimate_epoch_seconds(model, batches, validation=validation)
    assert 0 < real < 60
    with pytest.raises(ValueError, match="batches must be at least 1; got 0"):
        recipes.estimate_epoch_seconds(model, batches, batches=0)
