"""Hardware in the loop: the same training loop on HardwareArray over the simulated instruments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from labctl.devicefault import DeviceFaultError
from labctl.errors import ConfigError
from labctl.layout import CellLayout, Role
from labctl.training import train
from labctl.training.analog import AnalogLayer
from labctl.visalog import audit, read_log
from sim_backend.array import SimulatedArray


def test_single_layer_trains_on_sim_instruments_and_leaves_the_bench_safe(tmp_path):
    log = tmp_path / "visa.log"
    df = train(backend="sim-instruments", model="garg-hzo-2us", algo="mpsgd", epochs=1, layers=(30, 10), seed=1,
               train_samples=3000, test_samples=300, progress=False, visa_log=str(log))
    assert df.loc[0, "pulses"] > 0
    assert df.attrs["chip_time_s"][0] > 0
    assert df.loc[0, "test_accuracy"] > 0.15  # above chance (0.10) after one short epoch
    entries = read_log(log)
    # every bus message of the epoch counts (its reads too, most of them), not only the pulses' set-ups
    sent = sum(kind in ("write", "query") for _, _, kind, _ in entries)
    assert 0.5 * sent < df.attrs["transactions"][0] < sent
    hot_switches, outputs_on = audit(entries)
    assert hot_switches == [] and not outputs_on


def test_a_dead_line_stops_training_with_the_bench_safe(tmp_path):
    log = tmp_path / "visa.log"
    with pytest.raises(DeviceFaultError, match="dead line or open path at row line 4"):
        train(backend="sim-instruments", model="garg-hzo-2us", algo="mpsgd", layers=(16, 10), seed=1,
              train_samples=300, test_samples=100, progress=False, visa_log=str(log), faults=("dead-line@4",))
    hot_switches, outputs_on = audit(read_log(log))
    assert hot_switches == [] and not outputs_on


def test_a_device_read_back_at_the_floor_stops_training():
    """A line that dies mid-run: the read-back after the update names the device (simulated chip, one layer)."""
    chip = SimulatedArray("garg-hzo-2us", seed=3, layout=CellLayout.with_reference(8, 6), initial_state=0.5)
    layer = AnalogLayer(chip, chip.model, 8, 3)
    layer.apply_counts_at(np.array([4]), np.array([2]))  # healthy: no error
    chip.faults.dead_cols.append(2)  # device column of cell column 1: cells 1, 4, 7, ...
    with pytest.raises(DeviceFaultError, match=r"dead line or open path at device 1:2"):
        layer.apply_counts_at(np.array([4]), np.array([2]))


def test_a_bench_file_dry_run_trains_on_its_simulated_copy_and_opens_no_instrument(tmp_path):
    """GPIB resources that do not exist here: the dry run prices the training on that bench's timings."""
    import json
    import shutil

    from typer.testing import CliRunner

    from labctl.backends import SIM_BENCH_FILE
    from labctl.cli import app

    bench = tmp_path / "lab.yaml"
    bench.write_text(SIM_BENCH_FILE.read_text().replace("sim://", "GPIB0::").replace("round_trip_s: 0.02",
                                                                                    "round_trip_s: 0.04"))
    shutil.copy(SIM_BENCH_FILE.parent / "sim-instruments-probecard.yaml", tmp_path)
    args = ["train", "--model", "garg-hzo-2us", "--algo", "sgd", "--layers", "8,10", "--train-samples", "100",
            "--test-samples", "50", "--no-progress"]
    runner = CliRunner()
    dry = runner.invoke(app, [*args, "--backend", str(bench), "--dry-run", "--out", str(tmp_path / "dry")],
                        terminal_width=200)
    assert dry.exit_code == 0, dry.output
    assert "nothing was sent" in dry.output
    sim = runner.invoke(app, [*args, "--backend", "sim-instruments", "--out", str(tmp_path / "sim")],
                        terminal_width=200)
    assert sim.exit_code == 0, sim.output
    for run in (dry, sim):  # the simulated clock is named as such, beside the seconds waited (issue 23)
        lines = [line for line in run.output.splitlines() if "bench time" in line
                 and not line.startswith("train on ")]  # the estimate printed before a run (not a dry run)
        assert (run is sim) == any(line.startswith("train on sim-instruments: estimated bench time")
                                   for line in run.output.splitlines())
        assert any(line.startswith("mid-range setup:") for line in lines), run.output
        assert len(lines) == 3 and all("bench time (simulated)" in line and "wall time" in line for line in lines)
        assert "backend time" not in run.output
    cost = {name: json.loads((tmp_path / name / "run.json").read_text()) for name in ("dry", "sim")}
    assert cost["dry"]["blas_threads"] == cost["sim"]["blas_threads"]  # (what a bit-for-bit repeat needs)
    assert cost["dry"]["transactions"] == cost["sim"]["transactions"]  # the same chip and messages ...
    assert cost["dry"]["chip_time_s"][0] > 1.5 * cost["sim"]["chip_time_s"][0]  # ... at twice the round trip
    with pytest.raises(ConfigError, match="sim has no instruments"):
        train(backend="sim", dry_run=True, layers=(8, 10), train_samples=10, test_samples=10, progress=False)


def test_a_run_on_simulated_instruments_resumes_to_the_uninterrupted_result(tmp_path):
    """The checkpoint keeps the whole simulated bench (chip, clock, relays), as a real bench keeps its chip."""
    small = dict(backend="sim-instruments", model="garg-hzo-2us", algo="sgd", layers=(8, 10), train_samples=200,
                 test_samples=50, progress=False)
    whole = train(epochs=2, out=tmp_path / "whole", **small)
    train(epochs=1, out=tmp_path / "cut", **small)
    resumed = train(epochs=2, out=tmp_path / "cut", resume=True, **small)
    assert whole["pulses"].iloc[1] > 0
    pd.testing.assert_frame_equal(whole.drop(columns="wall_s"), resumed.drop(columns="wall_s"))
    assert whole.attrs["transactions"] == resumed.attrs["transactions"]
    assert whole.attrs["chip_time_s"] == resumed.attrs["chip_time_s"]


def test_a_resumed_bench_layer_reads_its_weights_from_the_chip(tmp_path):
    """A real chip keeps the interrupted epoch's updates, which the last checkpoint does not have."""
    from labctl.backends import open_backend
    from labctl.training.checkpoint import load_checkpoint, save_checkpoint

    chip = open_backend("sim-instruments", model="garg-hzo-2us", seed=1, layout=CellLayout.with_reference(30, 30),
                        initial_state=0.5)
    chip.simulation = None  # as on a real bench: nothing behind the instruments to snapshot
    try:
        layer = AnalogLayer(chip, chip.model, 4, 3)
        rng = np.random.default_rng(0)
        save_checkpoint(tmp_path, {}, 1, [], [layer], [None], rng, {})
        saved = layer.w.copy()
        layer.apply_counts_at(np.arange(12), np.full(12, 10))  # updates after the checkpoint reach the chip
        load_checkpoint(tmp_path, {}, [layer], [None], rng)
        assert (layer.w - saved).mean() > 0.1  # the weights as the chip holds them, not as checkpointed
    finally:
        chip.close()


def test_between_read_backs_the_weights_follow_the_device_model():
    """``read_every=3``: the first two updates send pulses only (no read on the bench clock, the forward
    pass in software) and the weights move by the model's mean steps, near the chip's truth; the third
    reads every pulsed cell back."""
    from labctl.backends import open_backend

    chip = open_backend("sim-instruments", model="garg-hzo-2us", seed=1,
                        layout=CellLayout.with_reference(30, 30, cells=3), initial_state=0.5)
    try:
        layer = AnalogLayer(chip, chip.model, 4, 3, read_every=3)
        truth, lay = chip.simulation.world.chip, chip.layout
        before, reads = layer.w.copy(), chip.stats.split_s["reads"]
        layer.apply_counts_at(np.arange(6), np.array([8, 8, 8, -8, -8, -8]))
        layer.apply_counts_at(np.array([9]), np.array([4]))
        x = np.random.default_rng(0).uniform(-1, 1, (5, 4)).astype(np.float32)
        assert np.isfinite(layer.forward(x)).all()
        assert chip.stats.split_s["reads"] == reads  # pulses only: the forward pass ran on the predicted weights
        g = truth.true_conductance()
        true_w = ((lay.to_cells(g) - lay.to_cells(g, Role.REFERENCE)) / layer.half_range_s)[:4, :3].ravel()
        moved = (layer.w - before).ravel()
        assert (moved[:3] > 0.05).all() and (moved[3:6] < -0.05).all() and moved[9] > 0.02
        np.testing.assert_allclose(layer.w.ravel()[[0, 1, 2, 3, 4, 5, 9]], true_w[[0, 1, 2, 3, 4, 5, 9]], atol=0.12)
        predicted = layer.w.copy()
        layer.apply_counts_at(np.array([], dtype=np.int64), np.array([], dtype=np.int64))  # third update: read back
        assert chip.stats.split_s["reads"] > reads
        pulsed = [0, 1, 2, 3, 4, 5, 9]
        assert (layer.w.ravel()[pulsed] != predicted.ravel()[pulsed]).all()  # readings replaced the predictions
        np.testing.assert_allclose(layer.w.ravel()[pulsed], true_w[pulsed], atol=0.2)  # (read noise of two devices)
        assert (layer.w.ravel()[6:9] == predicted.ravel()[6:9]).all()  # cells not pulsed are not re-read
    finally:
        chip.close()


def test_read_every_k_costs_less_bench_time_and_each_epoch_reports_where_it_went(tmp_path):
    import json

    small = dict(backend="sim-instruments", model="garg-hzo-2us", algo="sgd", layers=(8, 10), train_samples=300,
                 test_samples=50, progress=False)
    runs = {k: train(out=tmp_path / str(k), read_every=k, **small) for k in (1, 5)}
    # the forward pass reads the array every batch either way; K = 5 drops the read-backs of the updates
    assert runs[5].attrs["transactions"][0] < runs[1].attrs["transactions"][0]
    assert runs[5].attrs["chip_time_split_s"][0]["reads"] < runs[1].attrs["chip_time_split_s"][0]["reads"]
    for k in (1, 5):
        run = json.loads((tmp_path / str(k) / "run.json").read_text())
        split = run["chip_time_split_s"][0]
        assert set(split) == {"reads", "routings", "pulses", "waits"} and split["reads"] > split["pulses"] > 0
        assert sum(split.values()) == pytest.approx(run["chip_time_s"][0], rel=0.02)
    assert json.loads((tmp_path / "5" / "run.json").read_text())["config"]["read_every"] == 5


def test_a_dry_run_of_a_real_bench_file_lands_within_10_percent_of_another_chips_run(tmp_path):
    """The estimate a bench file's ``--dry-run`` prints (its simulated copy, seed 0) against a run on
    simulated instruments with another chip (seed 1): bench time and messages per epoch within 10 %."""
    import shutil

    from labctl.backends import SIM_BENCH_FILE

    bench = tmp_path / "lab.yaml"
    bench.write_text(SIM_BENCH_FILE.read_text().replace("sim://", "GPIB0::"))
    shutil.copy(SIM_BENCH_FILE.parent / "sim-instruments-probecard.yaml", tmp_path)
    small = dict(model="garg-hzo-2us", algo="sgd", layers=(30, 10), train_samples=300, test_samples=100,
                 start="as-is", progress=False)  # (the mid-range write-verify converges in a chip-dependent time)
    estimate = train(backend=str(bench), dry_run=True, seed=0, **small)
    measured = train(backend="sim-instruments", seed=1, **small)
    for key in ("chip_time_s", "transactions"):
        print(f"{key}: dry run {estimate.attrs[key]}, another chip {measured.attrs[key]}")
        np.testing.assert_allclose(measured.attrs[key], estimate.attrs[key], rtol=0.1, err_msg=key)
