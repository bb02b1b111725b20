"""Tests for research.claims: the claims table is built from real runs and read back honestly."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from research import claims
from fer_lib.errors import ModelError
from fer_lib.data._synthetic import synthetic_fer2013


@pytest.fixture(scope="module")
def table_and_files(tmp_path_factory):
    root = tmp_path_factory.mktemp("claims")
    faces = synthetic_fer2013(700, seed=0)
    output = root / "results" / "claims.csv"
    table = claims.run_claims(faces, sample_size=128, epochs=1, variants=["baseline", "more_epochs", "more_dropout"],
                              run_root=root / "runs", output=output, verbose=0)
    return table, output, root


def test_every_variant_gets_a_row_with_its_own_budget(table_and_files):
    table, _, _ = table_and_files
    assert list(table["variant"]) == ["baseline", "more_epochs", "more_dropout"]
    assert list(table["epochs"]) == [1, 2, 1]
    assert set(table["train_faces"]) == {128}
    assert set(table["model"]) == {"fer_net_small"}
    for column in ("train_accuracy", "validation_accuracy", "validation_last3", "test_accuracy", "fit_train_accuracy"):
        assert table[column].between(0, 1).all()
    pd.testing.assert_series_equal(table["gap"], (table["train_accuracy"] - table["validation_accuracy"]).round(4),
                                   check_names=False, atol=1e-4)


def test_the_tutorials_network_can_be_the_base(tmp_path):
    faces = synthetic_fer2013(700, seed=0)
    table = claims.run_claims(faces, sample_size=128, epochs=1, base="seed_cnn", width=8,
                              variants=["baseline", "smaller_stride"], run_root=tmp_path, verbose=0)
    assert set(table["model"]) == {"seed_cnn (width 8)"}
    # A smaller last pooling stride keeps a larger feature map, so the first dense layer grows.
    params = table.set_index("variant")["parameters"]
    assert params["smaller_stride"] > params["baseline"]
    assert (tmp_path / "claims-seed_cnn-w8-smaller_stride-n128-e1-s0" / "state.json").is_file()


def test_more_epochs_continues_the_baseline_run(table_and_files):
    _, _, root = table_and_files
    base = pd.read_csv(root / "runs" / "claims-fer_net_small-baseline-n128-e1-s0" / "history.csv")
    longer = pd.read_csv(root / "runs" / "claims-fer_net_small-more_epochs-n128-e1-s0" / "history.csv")
    assert len(base) == 1 and len(longer) == 2
    pd.testing.assert_frame_equal(base, longer.iloc[:1])


def test_table_is_saved_with_its_provenance(table_and_files):
    table, output, _ = table_and_files
    pd.testing.assert_frame_equal(claims.load_claims(output), table, check_dtype=False)
    meta = json.loads(output.with_suffix(".meta.json").read_text())
    assert meta["data"]["file"] == "synthetic"
    assert meta["budget"] == {"train_faces": 128, "epochs": 1, "seed": 0, "base": "fer_net_small",
                              "seed_cnn_width": None,
                              "validation": "10% of Training, stratified", "test": "PublicTest"}
    assert ("python -m research claims --sample-size 128 --epochs 1 --seed 0 --base fer_net_small --variants baseline "
            "more_epochs more_dropout --output") in meta["command"]
    assert set(output.parent.iterdir()) == {output, output.with_suffix(".meta.json")}  # no temporary files left


def test_a_rerun_resumes_finished_runs_without_training(table_and_files):
    table, _, root = table_and_files
    faces = synthetic_fer2013(700, seed=0)
    again = claims.run_claims(faces, sample_size=128, epochs=1, variants=["baseline"], run_root=root / "runs", verbose=0)
    row = again.iloc[0]
    assert row["minutes"] == table.iloc[0]["minutes"]  # no training seconds were added
    assert row["validation_accuracy"] == table.iloc[0]["validation_accuracy"]


def _table(**rows):
    return pd.DataFrame([{"variant": name, "claim": name, "train_accuracy": t, "validation_accuracy": v,
                          "test_accuracy": v, "gap": round(t - v, 4)} for name, (t, v) in rows.items()])


def test_verdicts_call_a_cure_only_when_the_gap_shrinks_and_accuracy_rises():
    table = _table(baseline=(0.90, 0.55), cure=(0.70, 0.60), costly=(0.60, 0.45), worse=(0.95, 0.55),
                   noise=(0.92, 0.565), accurate=(0.97, 0.62), underfit=(0.70, 0.56))
    verdict = claims.verdicts(table).set_index("variant")
    assert verdict.loc["cure", "verdict"].startswith("Cures overfitting")
    assert verdict.loc["cure", "gap_change"] == pytest.approx(-25.0)
    assert verdict.loc["cure", "validation_change"] == pytest.approx(5.0)
    assert verdict.loc["underfit", "verdict"].startswith("Narrows the gap, but the network does not generalise better")
    assert verdict.loc["costly", "verdict"].startswith("Narrows the gap only by losing accuracy")
    assert verdict.loc["worse", "verdict"].startswith("Does not cure overfitting: widens")
    assert verdict.loc["noise", "verdict"].startswith("Does not cure overfitting: leaves")
    assert verdict.loc["accurate", "verdict"].startswith("Helps accuracy but not through less overfitting")
    # With the last-three-epoch mean present, it is the accuracy compared.
    table["validation_last3"] = table["validation_accuracy"]
    table.loc[table["variant"] == "cure", "validation_last3"] = 0.40
    assert claims.verdicts(table).set_index("variant").loc["cure", "verdict"].startswith(
        "Narrows the gap only by losing accuracy")


def test_errors_name_the_problem(tmp_path):
    with pytest.raises(ValueError, match="unknown variant 'bigger_kernel'"):
        claims.run_claims(synthetic_fer2013(200), variants=["bigger_kernel"], verbose=0)
    with pytest.raises(ValueError, match="unknown base 'resnet'"):
        claims.run_claims(synthetic_fer2013(200), base="resnet", verbose=0)
    with pytest.raises(ModelError, match="extends 'baseline', which must run before it"):
        claims.run_claims(synthetic_fer2013(700), sample_size=128, epochs=1, variants=["more_epochs"],
                          run_root=tmp_path, verbose=0)
    with pytest.raises(FileNotFoundError, match="python -m research claims --output"):
        claims.load_claims(tmp_path / "missing.csv")
    with pytest.raises(ValueError, match="no 'baseline' row"):
        claims.verdicts(_table(cure=(0.7, 0.6)))
