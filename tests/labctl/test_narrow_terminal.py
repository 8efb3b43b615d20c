"""At 80 columns the tables wrap, never cut, what one must type: preset names, run ids and names, option help."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from device_models import preset_names
from labctl.backends import open_backend
from labctl.cli import app
from procedures import run_procedure


def narrow(*args) -> str:
    result = CliRunner().invoke(app, list(args), terminal_width=80, env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert all(len(line) <= 80 for line in result.output.splitlines() if line[:1] in "┏┃┡│└")  # table lines
    return result.output


def test_models_shows_every_preset_name_whole():
    printed = narrow("models")
    for name in preset_names():
        assert re.search(rf"│ {re.escape(name)} +│", printed), name


def test_runs_list_keeps_ids_and_names_whole(tmp_path):
    with open_backend("sim", model="ning-mos2-fefet") as chip:
        run_procedure("ltp_ltd", chip, tmp_path / "r", chip_id="wafer-17-die-C7", n_devices=1, pulses=5)
    printed = narrow("runs", "list")
    cells = lambda column: "".join(line.split("│")[column].strip() for line in printed.splitlines()
                                   if line.count("│") > 2)
    assert len(cells(1)) == 12 and cells(3) == "ltp_ltd"
    assert cells(5) == "wafer-17-die-C7" and cells(6) == "ning-mos2-fefet"  # folded over lines, not cut
    assert "…" not in printed


def test_train_help_keeps_the_option_text():
    printed = " ".join(narrow("train", "--help").split())
    assert "run directory (required): metrics.csv, training_curve.png, checkpoint.npz" in printed
    assert "…" not in printed
