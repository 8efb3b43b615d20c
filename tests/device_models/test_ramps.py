"""Amplitude ramps (issue 21 item 2) and long pulses (item 5): a low-voltage ramp device with different LTP
and LTD amplitudes fits to its own kinetics, keeps its protocol, and ``labctl run ltp_ltd`` replays it."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from device_models.fitting import fit_files
from labctl.layout import CellLayout
from procedures.ltp_ltd import LtpLtdParams, plan
from sim_backend import SimulatedArray

from .shapes import one_device, savetxt
from .simdata import LOW_VOLTAGE_RAMPS, low_voltage_ramp_model, noisy_model, simulate_trains

SEED = 3


@pytest.fixture(scope="module")
def ramp_fit(tmp_path_factory):
    model = low_voltage_ramp_model()
    data = simulate_trains(model, n_pulses=150, size=2, seed=SEED, **LOW_VOLTAGE_RAMPS)
    pop = SimulatedArray(model, seed=SEED, layout=CellLayout.dense(2, 2), initial_state=0.0)._pops[0]
    path, options = savetxt(one_device(data), tmp_path_factory.mktemp("ramp") / "ramp.csv")
    return fit_files([path], base_model="garg-hzo-2us", **options), (pop.g_min[0], pop.g_max[0]), model


def test_ramp_fits_its_own_kinetics_not_the_base_models(ramp_fit):
    result, (g_min, g_max), truth = ramp_fit
    w = result.model.weight
    assert w.g_min_s == pytest.approx(g_min, rel=0.1) and w.g_max_s == pytest.approx(g_max, rel=0.1)
    assert result.gate == [] and result.model.provenance["replay"]["nrmse"] <= 0.1
    # the ramp fixes beta * Va (small-fraction regime): truth 1.5 V (LTP), 3 V (LTD); HZO's is 30 V
    for side, true in ((w.potentiation, truth.weight.potentiation), (w.depression, truth.weight.depression)):
        fitted, expected = side.kinetics.beta * side.kinetics.activation_v, true.kinetics.beta * true.kinetics.activation_v
        assert fitted == pytest.approx(expected, rel=0.5)
    assert any(d.startswith("LTP kinetics from the ramp 0.05..1 V") for d in result.decisions)


def test_operating_point_keeps_per_branch_amplitudes_and_the_ramp(ramp_fit):
    op = ramp_fit[0].model.operating_point
    assert (op.amplitude_v(True), op.amplitude_v(False)) == pytest.approx((1.0, 2.0))
    assert op.ltp_ramp_v == pytest.approx((0.05, 1.0)) and op.ltd_ramp_v == pytest.approx((0.1, 2.0))


def test_ltp_ltd_replays_the_measured_protocol_by_default(ramp_fit):
    model = ramp_fit[0].model
    with SimulatedArray(model, seed=1, layout=CellLayout.dense(2, 2)) as chip:
        pulses, _ = plan(chip, LtpLtdParams(pulses=150), model)
        amps = np.array([p.amplitude_v for p in pulses])
        assert amps[[0, 149, 150, 299]] == pytest.approx([0.05, 1.0, -0.1, -2.0])
        pulses, _ = plan(chip, LtpLtdParams(pulses=10, start_amplitude_v=0.5, stop_amplitude_v=0.6), model)
        assert np.array([p.amplitude_v for p in pulses])[[0, 9, 10, 19]] == pytest.approx([0.5, 0.6, -0.5, -0.6])


def test_the_csv_header_records_each_branchs_ramp_as_applied(ramp_fit, tmp_path):
    """`labctl run ltp_ltd --model M` of a measured ramp wrote 'Start amplitude: 0 V' (the header must say
    what was sent); a given LTD ramp is kept, and one LTP ramp given alone drives both branches."""
    from device_models import save_model
    from procedures import run_procedure

    save_model(ramp_fit[0].model, tmp_path / "ramp.json")
    with SimulatedArray(ramp_fit[0].model, seed=1, layout=CellLayout.dense(2, 2)) as chip:
        df, csv = run_procedure("ltp_ltd", chip, tmp_path / "run", model=str(tmp_path / "ramp.json"), pulses=20,
                                n_devices=1)
    header = csv.read_text().split("#Data:")[0]
    for line in ("Start amplitude: 0.05 V", "Stop amplitude: 1 V", "LTD start amplitude: 0.1 V",
                 "LTD stop amplitude: 2 V"):
        assert f"\t{line}\n" in header, header
    amps = df.groupby("Phase")["Amplitude (V)"].agg(["first", "last"])
    assert amps.loc["LTP"].tolist() == pytest.approx([0.05, 1.0]) and amps.loc["LTD"].tolist() == pytest.approx([-0.1, -2.0])
    model = ramp_fit[0].model
    with SimulatedArray(model, seed=1, layout=CellLayout.dense(2, 2)) as chip:
        pulses, _ = plan(chip, LtpLtdParams(pulses=10, ltd_start_amplitude_v=0.3, ltd_stop_amplitude_v=0.4), model)
        assert np.array([p.amplitude_v for p in pulses])[[0, 9, 10, 19]] == pytest.approx([0.05, 1.0, -0.3, -0.4])


def test_a_100_ms_model_runs_on_the_simulator(tmp_path):
    base = noisy_model("garg-hzo-2us")
    data = simulate_trains(base, n_pulses=120, size=1, seed=SEED)
    data["Width (s)"] = 0.1  # the same trains, labelled as 100 ms pulses (SMU pulsed mode)
    path, options = savetxt(one_device(data), tmp_path / "long.csv")
    model = fit_files([path], **options).model
    assert model.operating_point.write_width_s == pytest.approx(0.1)
    with SimulatedArray(model, seed=1, layout=CellLayout.dense(2, 2)) as chip:
        pulses, _ = plan(chip, LtpLtdParams(pulses=5), model)
        chip.apply_pulses(np.ones((2, 2), bool), pulses[0])  # was: width_s outside [1e-08, 0.01] s
        assert dataclasses.asdict(chip.limits)["max_width_s"] == 2.0
