"""``labctl run``: listing, parameters, refusal, Ctrl-C, --resume."""

from __future__ import annotations

import json
import signal

import pytest
from typer.testing import CliRunner

import labctl.backends
from labctl.cli import app
from procedures import read_records
from sim_backend import SimulatedArray

runner = CliRunner()


def test_list_shows_every_procedure_with_units_and_defaults():
    result = runner.invoke(app, ["run", "--list"], terminal_width=200)
    assert result.exit_code == 0
    for name in ("ltp_ltd", "symmetry_point", "retention", "multistate", "transfer_curve", "array_map"):
        assert name in result.output
    assert "Pulse width" in result.output and "0.1" in result.output


def test_run_writes_csv_and_plot(tmp_path):
    result = runner.invoke(app, ["run", "ltp_ltd", "--out", str(tmp_path), "--seed", "4", "--param", "pulses=5",
                                 "--param", "n_devices=2"])
    assert result.exit_code == 0, result.output
    df = read_records(tmp_path / "ltp_ltd.csv")
    assert len(df) == 20
    text = (tmp_path / "ltp_ltd.csv").read_text()
    assert "#\tBackend: sim\n" in text and "#\tSeed: 4\n" in text and "#\tChip id: sim-seed4\n" in text


@pytest.mark.parametrize("args, name", [(["--param", "stop_amplitude_v=11"], "stop_amplitude_v"),
                                        (["--param", "pulses=0"], "pulses"),
                                        (["--param", "bogus=1"], "bogus")])
def test_bad_parameters_are_refused_naming_them(tmp_path, args, name):
    from labctl.errors import LabctlError

    result = runner.invoke(app, ["run", "ltp_ltd", "--out", str(tmp_path), *args])
    assert result.exit_code != 0
    assert isinstance(result.exception, LabctlError) and name in str(result.exception)
    assert not (tmp_path / "ltp_ltd.csv").exists()


def test_ctrl_c_stops_cleanly_and_closes_the_backend(tmp_path, monkeypatch):
    chips = []

    class InterruptedChip(SimulatedArray):
        def apply_pulses(self, *args, **kwargs):
            if len(chips[0].pulses_seen) == 40:
                signal.raise_signal(signal.SIGINT)  # what Ctrl-C delivers
            chips[0].pulses_seen.append(1)
            return super().apply_pulses(*args, **kwargs)

    def fake_open(spec, model, seed, **kw):
        chip = InterruptedChip(model, seed=seed)
        chip.pulses_seen = []
        chips.append(chip)
        return chip

    monkeypatch.setattr(labctl.backends, "open_backend", fake_open)
    result = runner.invoke(app, ["run", "ltp_ltd", "--out", str(tmp_path), "--param", "n_devices=2"])
    assert result.exit_code == 130
    assert "interrupted" in result.output
    assert chips[0].closed
    df = read_records(tmp_path / "ltp_ltd.csv")
    assert len(df) == 2 * 40  # the pulse in flight completes, then it stops before the next operation (its
    assert len(chips[0].pulses_seen) == 41  # read): that point's pulse is journalled, a resume goes on from it
    assert json.loads((tmp_path / "ltp_ltd.json").read_text())["status"] == "aborted"


def test_sigint_mid_map_then_resume_keeps_whole_rows_and_the_original_parameters(tmp_path, monkeypatch):
    """Ctrl-C (SIGINT, delivered to this process) once the map has written 40 lines; a real SIGINT to a
    process group, as a terminal sends it, is tests/reliability/test_interrupts.py's and the train's."""
    csv = tmp_path / "array_map.csv"

    class InterruptedChip(SimulatedArray):
        def read(self, *args, **kwargs):
            if not self.interrupted and csv.exists() and len(csv.read_text().splitlines()) > 40:
                self.interrupted = True
                signal.raise_signal(signal.SIGINT)  # what Ctrl-C delivers
            return super().read(*args, **kwargs)

    def fake_open(spec, model, seed, **kw):
        chip = InterruptedChip(model, seed=seed)
        chip.interrupted = False
        return chip

    args = ["run", "array_map", "--out", str(tmp_path), "--param", "tolerance=0.004", "--param", "reads_per_verify=4",
            "--param", "max_pulses=100", "--param", "rows=4"]
    with monkeypatch.context() as patched:
        patched.setattr(labctl.backends, "open_backend", fake_open)
        stopped = runner.invoke(app, args)
    assert stopped.exit_code == 130, stopped.output
    lines = [line for line in stopped.output.splitlines() if line.startswith("interrupted")]
    assert len(lines) == 1 and "--resume" in lines[0]
    partial = read_records(csv)
    assert 30 <= len(partial) < 4 * 30 and len(partial) % 30 == 0  # whole rows: the unit of the journal
    refused = runner.invoke(app, [*args[:4], "--resume", "--param", "max_pulses=60"])
    assert refused.exit_code != 0 and "max_pulses" in str(refused.exception)
    resumed = runner.invoke(app, [*args[:4], "--resume"])
    assert resumed.exit_code == 0, resumed.output
    full = read_records(csv)
    assert len(full) == 4 * 30 and not full.duplicated(["Device row", "Device col"]).any()
    assert "#\tPulse budget: 100\n" in csv.read_text()  # the original parameters, kept


def test_resume_on_simulated_instruments_does_not_compare_the_remainder_with_a_whole_run_estimate(tmp_path):
    runner = CliRunner()
    args = ["run", "ltp_ltd", "--backend", "sim-instruments", "--out", str(tmp_path), "--param", "n_devices=2",
            "--param", "pulses=20"]
    first = runner.invoke(app, [*args, "--fault", "timeout@1009"], terminal_width=200)
    assert first.exit_code != 0 and "estimated bench time" in first.output
    resumed = runner.invoke(app, ["run", "ltp_ltd", "--backend", "sim-instruments", "--out", str(tmp_path),
                                  "--resume"], terminal_width=200)
    assert resumed.exit_code == 0, resumed.output
    assert "estimated" not in resumed.output and "bench time (simulated)" in resumed.output
    assert len(read_records(tmp_path / "ltp_ltd.csv")) == 2 * 2 * 20
