"""``labctl bench check`` / ``bench safe`` through the CLI, on simulated instruments."""

import shutil

import pytest
from typer.testing import CliRunner

from labctl.backends import SIM_BENCH_FILE, open_backend
from labctl.cli import app
from labctl.visalog import read_log

runner = CliRunner()


def test_check_passes_on_the_simulated_bench_and_only_queries(tmp_path):
    log = tmp_path / "check.log"
    result = runner.invoke(app, ["bench", "check", "--config", "sim-instruments", "--visa-log", str(log)])
    assert result.exit_code == 0, result.output
    assert "swB card 3" in result.output and "measured round trip 0.02" in result.output
    writes = [m for _, _, kind, m in read_log(log) if kind == "write"]
    assert writes == []  # queries only: the check changes nothing


def test_check_fails_when_the_bench_file_expects_a_missing_module(tmp_path):
    bench = tmp_path / "bench.yaml"
    shutil.copy(SIM_BENCH_FILE, bench)
    shutil.copy(SIM_BENCH_FILE.parent / "sim-instruments-probecard.yaml", tmp_path)
    text = bench.read_text().replace("9: B1517A}", "9: B1517A, 10: B1517A}")
    bench.write_text(text)
    from sim_backend.instruments import bench as simbench

    original = simbench.FakeB1500
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(simbench, "FakeB1500", lambda world, modules: original(world, {s: m for s, m in modules.items()
                                                                               if s != 10}))
        result = runner.invoke(app, ["bench", "check", "--config", str(bench)])
    assert result.exit_code != 0
    assert "b1500 slot 10" in result.output and "NO" in result.output


def test_bad_bench_file_is_one_line_error(tmp_path):
    bench = tmp_path / "bench.yaml"
    bench.write_text("b1500: {resource: sim://b1500}\n")
    from labctl.cli import main
    import sys

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sys, "argv", ["labctl", "bench", "check", "--config", str(bench)])
        with pytest.raises(SystemExit) as exit_:
            main()
    assert exit_.value.code == 2


def test_safe_switches_off_then_opens(tmp_path):
    log = tmp_path / "safe.log"
    result = runner.invoke(app, ["bench", "safe", "--config", "sim-instruments", "--visa-log", str(log)])
    assert result.exit_code == 0, result.output
    messages = [m for _, _, kind, m in read_log(log) if kind == "write"]
    assert messages[0] == "SPP;CL" and messages[-1] == ":ROUT:OPEN:CARD ALL"


def test_sim_resources_in_any_bench_file_run_on_the_simulator(tmp_path):
    bench = tmp_path / "mybench.yaml"
    shutil.copy(SIM_BENCH_FILE, bench)
    shutil.copy(SIM_BENCH_FILE.parent / "sim-instruments-probecard.yaml", tmp_path)
    with open_backend(str(bench), seed=1) as chip:
        assert chip.simulation.world is not None and chip.shape == (30, 30)


def test_a_real_bench_file_can_be_dry_run_on_simulated_instruments(tmp_path):
    bench = tmp_path / "lab.yaml"
    bench.write_text(SIM_BENCH_FILE.read_text().replace("sim://", "GPIB0::").replace("round_trip_s: 0.02",
                                                                                       "round_trip_s: 0.05"))
    shutil.copy(SIM_BENCH_FILE.parent / "sim-instruments-probecard.yaml", tmp_path)
    import numpy as np

    with open_backend(str(bench), simulate=True) as chip:
        t0 = chip.time_s
        chip.read(np.eye(30, dtype=bool))
        assert chip.stats.estimated_s == pytest.approx(chip.time_s - t0, rel=0.1)
        assert chip.stats.messages * 0.05 < chip.time_s - t0


def test_check_stores_the_measured_round_trip(tmp_path):
    bench = tmp_path / "bench.yaml"
    shutil.copy(SIM_BENCH_FILE, bench)
    shutil.copy(SIM_BENCH_FILE.parent / "sim-instruments-probecard.yaml", tmp_path)
    text = bench.read_text()
    bench.write_text(text.replace("round_trip_s: 0.02 ", "round_trip_s: 0.5 "))
    result = runner.invoke(app, ["bench", "check", "--config", str(bench), "--store"])
    assert result.exit_code == 0, result.output
    from labctl.benchfile import load_bench

    # the simulated bus answers in the file's own round trip (0.5 s), so that is what is measured and stored
    assert load_bench(bench).timings.round_trip_s == 0.5
    assert "# GPIB, NI-VISA" in bench.read_text()  # comments kept


def test_store_round_trip_appends_when_missing(tmp_path):
    from labctl.benchcheck import store_round_trip

    path = tmp_path / "b.yaml"
    path.write_text("b1500: {resource: x}\n")
    store_round_trip(path, 0.0123)
    assert path.read_text().endswith("timings: {round_trip_s: 0.0123}\n")


def test_store_round_trip_replaces_the_value_keeping_comments(tmp_path):
    from labctl.benchcheck import store_round_trip

    path = tmp_path / "b.yaml"
    shutil.copy(SIM_BENCH_FILE, path)
    store_round_trip(path, 0.0037)
    text = path.read_text()
    assert "round_trip_s: 0.0037      # GPIB" in text and text.count("round_trip_s") == 1


def test_check_measures_the_bus_not_the_file(tmp_path, monkeypatch):
    """The simulated bus answers in 37 ms while the file says 20 ms: --store writes what was measured."""
    import dataclasses

    from labctl.benchfile import load_bench
    from sim_backend.instruments import bench as simbench

    original = simbench.simulated_bench

    def slower_bus(config, *args, **kwargs):
        world, adapters = original(config, *args, **kwargs)
        world.timings = dataclasses.replace(world.timings, round_trip_s=0.037)
        return world, adapters
    monkeypatch.setattr(simbench, "simulated_bench", slower_bus)
    bench = tmp_path / "bench.yaml"
    shutil.copy(SIM_BENCH_FILE, bench)
    shutil.copy(SIM_BENCH_FILE.parent / "sim-instruments-probecard.yaml", tmp_path)
    result = runner.invoke(app, ["bench", "check", "--config", str(bench), "--store"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "measured round trip 0.037 s" in result.output
    assert load_bench(bench).timings.round_trip_s == pytest.approx(0.037)
