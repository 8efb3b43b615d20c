"""Physics of the simulated chip, asserted against the model's numbers (issue 4 acceptance)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from device_models import load_preset
from labctl import PulseSpec, Role
from sim_backend import Faults, SimulatedArray


def _model(**variation):
    model = load_preset("ning-mos2-fefet")
    weight = dataclasses.replace(model.weight, variation=dataclasses.replace(model.weight.variation, **variation))
    return dataclasses.replace(model, weight=weight)


def _pulse(chip, sign=1):
    op = chip.model.operating_point
    return PulseSpec(sign * op.write_amplitude_v, op.write_width_s)


ALL = np.ones((30, 30), dtype=bool)


def test_ltp_step_shrinks_toward_the_bound():
    chip = SimulatedArray(_model(c2c_write=0.0), seed=1)
    mask = chip.layout.role_mask(Role.WEIGHT)
    trace = [chip.true_conductance()[mask].mean()]
    for _ in range(60):
        chip.apply_pulses(mask, _pulse(chip))
        trace.append(chip.true_conductance()[mask].mean())
    steps = np.diff(trace)
    assert np.all(steps > 0)
    assert steps[-1] < 0.5 * steps[0]
    assert np.all(np.diff(steps) < 0)


def test_ltd_lowers_conductance():
    chip = SimulatedArray(_model(c2c_write=0.0), seed=1, initial_state=1.0)
    mask = chip.layout.role_mask(Role.WEIGHT)
    before = chip.true_conductance()[mask]
    chip.apply_pulses(mask, _pulse(chip, -1), count=5)
    assert np.all(chip.true_conductance()[mask] < before)


def test_cycle_to_cycle_spread_is_ten_percent_over_900_devices():
    model = load_preset("garg-hzo-2us")
    chip = SimulatedArray(model, seed=3, initial_state=0.3)
    steps = []
    for _ in range(20):
        before = chip.true_conductance()
        chip.apply_pulses(ALL, _pulse(chip))
        steps.append(chip.true_conductance() - before)
    steps = np.array(steps).reshape(20, -1)
    # relative spread of repeated identical pulses per device (the mean step drifts slowly with G:
    # remove it with a linear trend before taking the spread)
    n = np.arange(20)[:, None]
    trend = np.polynomial.polynomial.polyfit(n.ravel(), steps, 1)
    fitted = trend[0] + trend[1] * n
    spread = ((steps - fitted).std(axis=0, ddof=2) / fitted.mean(axis=0)).mean()
    assert spread == pytest.approx(0.10, abs=0.02)


def test_read_noise_is_4_25_percent():
    chip = SimulatedArray("garg-hzo-2us", seed=4, initial_state=0.5)
    reads = np.array([chip.read(ALL) for _ in range(50)])
    rel = (reads.std(axis=0, ddof=1) / reads.mean(axis=0)).mean()
    assert rel == pytest.approx(0.0425, abs=0.005)


def test_retention_decays_monotonically_and_faster_when_hot():
    losses = {}
    for temperature in (298.0, 358.0, 398.0):
        chip = SimulatedArray("ning-mos2-fefet", seed=5, temperature_k=temperature, initial_state=1.0)
        mask = chip.layout.role_mask(Role.WEIGHT)
        trace = []
        for t in np.logspace(0, 3, 10):
            chip.wait(t - chip.time_s)
            trace.append(chip.true_conductance()[mask].mean())
        assert np.all(np.diff(trace) < 0)
        losses[temperature] = trace[0] - trace[-1]
    assert losses[298.0] < losses[358.0] < losses[398.0]


def test_same_seed_same_map_different_seed_differs():
    def run(seed):
        chip = SimulatedArray("ning-mos2-fefet", seed=seed)
        chip.apply_pulses(ALL, _pulse(chip), count=7)
        return chip.read(ALL)

    np.testing.assert_array_equal(run(11), run(11))
    assert not np.allclose(run(11), run(12))


def test_sparsity_device_gates_its_weight():
    chip = SimulatedArray("ning-mos2-fefet", seed=6)
    sp = chip.model.sparsity_point
    weights = chip.layout.role_mask(Role.WEIGHT)
    chip.apply_pulses(weights, _pulse(chip), count=30)
    x = np.ones(30)
    assert np.abs(chip.read_mvm(x)).max() < 1e-8  # all sparsity devices off: no current
    cells = np.zeros(chip.layout.cell_shape, dtype=bool)
    cells[:, 3] = True
    chip.apply_pulses(chip.layout.devices(cells, Role.SPARSITY), PulseSpec(sp.write_amplitude_v, sp.write_width_s))
    currents = chip.read_mvm(x)
    g = chip.true_conductance()
    g_w, g_s = (chip.layout.to_cells(g, role)[:, 3] for role in (Role.WEIGHT, Role.SPARSITY))
    # one set pulse leaves a few sparsity devices short of fully on: in series they gate the weight
    # by g_s / (g_w + g_s), ~0.93 on average; the read noise of 30 devices is ~1 %
    assert currents[3] == pytest.approx(0.1 * (g_w * g_s / (g_w + g_s)).sum(), rel=0.03)
    assert currents[3] > 0.8 * 0.1 * g_w.sum()
    assert np.abs(np.delete(currents, 3)).max() < 1e-3 * currents[3]


def test_faults_stuck_and_dead_line():
    faults = Faults(stuck_on=[(0, 1)], stuck_off=[(1, 1)], dead_rows=[5])
    chip = SimulatedArray("ning-mos2-fefet", seed=8, faults=faults)
    chip.apply_pulses(ALL, _pulse(chip, -1), count=3)
    chip.apply_pulses(ALL, _pulse(chip, +1), count=3)
    state = chip.state
    assert state[0, 1] == 1.0 and state[1, 1] == 0.0
    assert np.all(chip.read(ALL)[5] == 0.0)
    sweep = chip.sweep_transfer(ALL, np.linspace(-3, 3, 7), drain_v=0.1).reshape(30, 30, 7)
    assert np.all(sweep[5] == 0.0) and np.all(sweep[4] > 0)  # an open line carries no drain current


def test_double_sweep_shows_the_memory_window():
    chip = SimulatedArray("ning-mos2-fefet", seed=9)
    tr = chip.model.weight.transfer
    mask = np.zeros((30, 30), dtype=bool)
    mask[:, 1] = True
    up = np.linspace(-6, 6, 121)
    ids = chip.sweep_transfer(mask, np.r_[up, up[::-1]], drain_v=0.1)
    criterion = 1e-9  # constant-current threshold in A at Vd = 0.1 V
    # first crossing in the sweep direction (the device switches again further along)
    fwd = up[np.argmax(ids[:, :121] > criterion, axis=1)]
    bwd = up[::-1][np.argmax(ids[:, 121:] < criterion, axis=1)]
    assert np.mean(fwd - bwd) == pytest.approx(tr.memory_window_v, rel=0.1)


def test_half_select_disturb_does_not_restart_relaxation():
    chip = SimulatedArray("ning-mos2-fefet", seed=10, age_s=1e6)
    rows = np.zeros(30, dtype=bool)
    cols = np.zeros(30, dtype=bool)
    rows[0], cols[1] = True, True
    chip.apply_vector_update(rows, cols, _pulse(chip), count=5)
    before = chip.state
    chip.wait(60.0)
    drift = np.abs(chip.state - before)
    crossing = drift[0, 1]
    half_selected = np.r_[drift[0, 2:], drift[2:, 1]]
    assert crossing > 10 * half_selected.max()  # only the written device restarted its clock


def test_digital_sparsity_device_reads_log_scaled():
    chip = SimulatedArray("ning-mos2-fefet", seed=11, initial_state=0.5)
    sp = chip.model.sparsity
    g = chip.true_conductance()[chip.layout.role_mask(Role.SPARSITY)]
    geometric_mid = np.sqrt(sp.g_min_s * sp.g_max_s)
    assert np.median(g) == pytest.approx(geometric_mid, rel=0.3)


@pytest.mark.parametrize("model", ["ning-mos2-fefet", "garg-hzo-2us"])
def test_a_dead_line_leaves_the_other_devices_as_on_a_healthy_chip(model):
    """A dead line takes no pulse, but the noise the other devices draw is the healthy chip's: a resume
    after the line is mended continues the uninterrupted run on them (docs/safety.md)."""
    dead, healthy = SimulatedArray(model, seed=8, faults=Faults(dead_rows=[5])), SimulatedArray(model, seed=8)
    for chip in (dead, healthy):
        chip.apply_pulses(ALL, _pulse(chip, +1), count=3)
        chip.apply_pulses(ALL, _pulse(chip, -1), count=np.arange(900).reshape(30, 30) % 4)
    idle = SimulatedArray(model, seed=8)
    idle.wait(dead.time_s)
    start = idle.state
    np.testing.assert_allclose(dead.state[5], start[5], rtol=0, atol=1e-12)  # no pulse reached it: only relaxed
    others = np.arange(30) != 5
    # the fault turns the compiled kernels off (the numpy path agrees to rounding)
    np.testing.assert_allclose(dead.state[others], healthy.state[others], rtol=0, atol=1e-12)
    assert not np.allclose(dead.state[others], start[others])
