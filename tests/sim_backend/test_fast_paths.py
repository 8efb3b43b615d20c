"""The simulator's fast paths (coordinate pulses and reads, lazy relaxation, cached cells) agree with the slow ones."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from device_models import physics
from device_models.modelfile import load_model
from labctl import PulseSpec
from labctl.errors import ConfigError
from labctl.layout import CellLayout
from sim_backend import Faults, SimulatedArray
from sim_backend.array import RELAX_TOLERANCE


def _chip(seed=3, **kw):
    return SimulatedArray("garg-hzo-20ns", seed=seed, layout=CellLayout.with_reference(12, 8),
                          initial_state=0.5, **kw)


def _pulse(chip, sign=1):
    op = chip.model.operating_point
    return PulseSpec(sign * op.write_amplitude_v, op.write_width_s)


def _trains(shape, seed=0):
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, 6, shape)
    counts[rng.random(shape) < 0.5] = 0
    return counts


@pytest.mark.parametrize("faults", [None, Faults(stuck_on=[(1, 2)], dead_rows=[4], dead_cols=[6])])
def test_coordinate_pulses_and_reads_match_the_mask_api(faults):
    """Same seed, same trains: ``apply_pulses_at`` / ``read_at`` give exactly the grid calls' states and readings."""
    a, b = _chip(faults=faults), _chip(faults=faults)
    counts = _trains(a.shape)
    rows, cols = np.nonzero(counts)
    ra = a.apply_pulses(counts > 0, _pulse(a), counts)
    rb = b.apply_pulses_at(rows, cols, _pulse(b), counts[rows, cols])
    assert ra == rb
    np.testing.assert_array_equal(a.state, b.state)
    read_a = a.read(counts > 0)[rows, cols]
    np.testing.assert_array_equal(read_a, b.read_at(rows, cols))
    np.testing.assert_array_equal(a.read_mvm(np.full((2, 12), 0.5)), b.read_mvm(np.full((2, 12), 0.5)))


def test_coordinate_api_refuses_bad_coordinates_and_counts():
    chip = _chip()
    with pytest.raises(ConfigError, match="row-major"):
        chip.apply_pulses_at(np.array([1, 0]), np.array([0, 0]), _pulse(chip), np.array([1, 1]))
    with pytest.raises(ConfigError, match="cols"):
        chip.read_at(np.array([0]), np.array([8]))
    with pytest.raises(ConfigError, match="counts.shape"):
        chip.apply_pulses_at(np.array([0]), np.array([0]), _pulse(chip), np.array([1, 2]))
    assert chip.apply_pulses_at(np.array([0]), np.array([0]), _pulse(chip), np.array([0])).pulses == 0


def test_lazy_relaxation_is_exact_after_wait():
    """Deferred relaxation (pulses in between) lands on the closed-form power law for every device."""
    chip = _chip()
    ret = chip.model.weight.retention
    chip.apply_pulses(np.ones(chip.shape, dtype=bool), _pulse(chip), 3)
    g0 = chip.state.ravel()  # relaxed up to now; ages count from each device's last rewrite
    age0, t0 = chip._age_s.copy(), chip.time_s
    for _ in range(20):  # MVMs and reads advance the clock without relaxing everything
        chip.read_mvm(np.full(12, 0.3))
        chip.read_at(np.array([0, 5]), np.array([0, 3]))
    chip.wait(2.0)
    expected = physics.relax(ret, g0, age0, chip.time_s - t0, chip.temperature_k)
    np.testing.assert_allclose(chip.state.ravel(), expected, rtol=1e-12)


def test_mvm_cells_stay_within_the_relaxation_tolerance():
    """The cached cells an MVM uses differ from freshly relaxed ones by at most RELAX_TOLERANCE (relative)."""
    chip, fresh = _chip(), _chip()
    for backend in (chip, fresh):
        backend.apply_pulses(np.ones(backend.shape, dtype=bool), _pulse(backend), 2)
    x = np.full((1, 12), 0.0)
    x[0, 3] = 1.0
    for _ in range(700):  # each read advances the clock: crosses the tolerance and flushes several times
        chip.read_mvm(x)
        fresh.read_mvm(x)
        g_cached = chip._cells()[0].astype(float)
        fresh._flush_relaxation()
        fresh._build_cells()
        g_exact = fresh._cells()[0].astype(float)
        span = chip.model.weight.g_max_s - chip.model.weight.g_min_s
        assert np.abs(g_cached - g_exact).max() <= (RELAX_TOLERANCE + 1e-6) * span


@pytest.mark.parametrize("temperature_k", [300.0, 400.0])
def test_an_mvm_relaxes_everything_once_the_bound_at_this_temperature_crosses_the_tolerance(temperature_k):
    """The stale bound's rate follows the chuck: at 400 K retention runs ~18x faster, so the pending time
    an MVM may skip is ~18x shorter (a rate kept from the 300 K reads before would skip 18x too much)."""
    chip = _chip()
    x = np.full(12, 0.3)
    chip.read_mvm(x)  # at 300 K first
    chip.set_temperature(temperature_k)  # (relaxes everything up to now)
    ret = chip.model.weight.retention
    allowed_s = RELAX_TOLERANCE * ret.t0_s / physics.retention_exponent(ret, temperature_k)
    chip._advance(0.5 * allowed_s)
    chip.read_mvm(x)
    assert chip._flushed_at_s < chip.time_s  # within the tolerance: the MVM skips it
    chip._advance(0.6 * allowed_s)
    chip.read_mvm(x)
    assert chip._flushed_at_s == chip.time_s  # past it: every device relaxed before the product


def test_pulse_and_read_at_matches_two_trains_and_a_read():
    """The fused update (both polarities, then the read-back) lands where the separate calls do (to ~1e-7)."""
    a, b = _chip(), _chip()
    signed = _trains(a.shape) * np.where(np.random.default_rng(1).random(a.shape) < 0.5, 1, -1)
    rows, cols = np.nonzero(signed)
    counts = signed[rows, cols]
    pulses = {+1: _pulse(a), -1: _pulse(a, -1)}
    report, reading = a.pulse_and_read_at(rows, cols, pulses, counts)
    separate = [b.apply_pulses_at(rows, cols, pulses[s], np.where(s * counts > 0, abs(counts), 0)) for s in (1, -1)]
    assert report.pulses == sum(r.pulses for r in separate) == np.abs(counts).sum()
    assert report.duration_s == sum(r.duration_s for r in separate)
    # same noise stream in the same order; only the relaxation over the first train differs
    np.testing.assert_allclose(a.state, b.state, rtol=0, atol=1e-7)
    np.testing.assert_allclose(reading, b.read_at(rows, cols), rtol=1e-6)
    assert a.time_s == b.time_s


def test_a_pulse_takes_its_own_devices_parameters_of_its_polarity():
    """The row tables hand each pulsed device its own drawn scale and exponent of the pulse's polarity."""
    model = load_model("garg-hzo-20ns")
    weight = dataclasses.replace(model.weight, variation=dataclasses.replace(model.weight.variation, c2c_write=0.0))
    chip = SimulatedArray(dataclasses.replace(model, weight=weight), seed=5, layout=CellLayout.with_reference(6, 8),
                          initial_state=0.5)
    rows, cols = np.divmod(np.arange(0, 48, 2), 8)  # every weight device (even columns)
    signed = np.where(np.arange(rows.size) % 3 == 0, -1, 1) * (1 + np.arange(rows.size) % 2)
    pulses = {+1: _pulse(chip), -1: _pulse(chip, -1)}
    chip.pulse_and_read_at(rows, cols, pulses, signed)
    pop, flat = chip._pops[0], rows * 8 + cols
    for sign, side, scale, exponent in ((1, weight.potentiation, pop.up_scale, pop.up_exponent),
                                        (-1, weight.depression, pop.down_scale, pop.down_exponent)):
        on = sign * signed > 0
        expected = physics.pulse_train(side, sign > 0, np.full(on.sum(), 0.5), np.abs(signed[on]),
                                       pulses[sign].amplitude_v, pulses[sign].width_s, weight.reference_amplitude_v,
                                       weight.reference_width_s, scale[flat[on]], exponent[flat[on]], 0.0, None)
        np.testing.assert_allclose(chip.state.ravel()[flat[on]], expected, atol=1e-6)  # + ~1e-7 of relaxation
        assert np.all(np.sign(expected - 0.5) == sign)
