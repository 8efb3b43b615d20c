"""The ``ArrayBackend`` contract, written once; each backend's test module only provides a fixture.

Subclasses define a ``backend`` fixture yielding a fresh, open backend with the default sparse layout
and its ``model`` (a ChipModel) as ``backend.model``.
"""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from labctl import ArrayBackend, ConfigError, LabctlError, PulseSpec, ReadSpec, Role, SafetyLimitError


def _weights(backend) -> np.ndarray:
    return backend.layout.role_mask(Role.WEIGHT)


def _write(backend, sign: int) -> PulseSpec:
    op = backend.model.operating_point
    return PulseSpec(sign * op.write_amplitude_v, op.write_width_s)


class ArrayBackendContract:
    def test_conforms_to_protocol(self, backend):
        assert isinstance(backend, ArrayBackend)

    def test_close_is_idempotent_and_final(self, backend):
        backend.close()
        backend.close()
        with pytest.raises(LabctlError, match="closed"):
            backend.read(_weights(backend))

    def test_context_manager_closes(self, backend):
        with backend as b:
            b.read(_weights(b))
        assert backend.closed

    def test_potentiation_raises_and_depression_lowers(self, backend):
        mask = np.zeros(backend.shape, dtype=bool)
        mask[0, backend.layout.weight_cols[:3]] = True
        before = np.nanmean(backend.read(mask))
        backend.apply_pulses(mask, _write(backend, +1), count=20)
        up = np.nanmean(backend.read(mask))
        backend.apply_pulses(mask, _write(backend, -1), count=20)
        down = np.nanmean(backend.read(mask))
        assert up > before * 1.2
        assert down < up * 0.9

    def test_saturates_at_upper_bound(self, backend):
        mask = np.zeros(backend.shape, dtype=bool)
        mask[1, backend.layout.weight_cols[:3]] = True
        g_max = backend.model.weight.g_max_s
        backend.apply_pulses(mask, _write(backend, +1), count=400)
        first = np.nanmean(backend.read(mask))
        backend.apply_pulses(mask, _write(backend, +1), count=100)
        second = np.nanmean(backend.read(mask))
        assert first == pytest.approx(g_max, rel=0.15)
        assert abs(second - first) < 0.1 * g_max

    def test_reads_are_non_destructive(self, backend):
        mask = _weights(backend)
        backend.apply_pulses(mask, _write(backend, +1), count=10)
        reads = np.array([backend.read(mask)[mask] for _ in range(8)])
        first, last = reads[:4].mean(), reads[4:].mean()
        assert last == pytest.approx(first, rel=0.01)

    def test_read_is_nan_outside_mask(self, backend):
        mask = np.zeros(backend.shape, dtype=bool)
        mask[2, 3] = True
        g = backend.read(mask)
        assert np.isfinite(g[2, 3]) and np.isnan(g).sum() == g.size - 1

    def test_mvm_is_column_sum_of_gated_weights(self, backend):
        rows, cols = backend.layout.cell_shape
        x = np.zeros(rows)
        x[:5] = 1.0
        currents = np.mean([backend.read_mvm(x) for _ in range(20)], axis=0)
        driven = np.zeros(backend.shape, dtype=bool)
        driven[:5] = True  # the devices of the 5 driven cell rows (a cell's devices share its row): all the sum sees
        g = np.mean([backend.read(driven) for _ in range(20)], axis=0)
        g_w = backend.layout.to_cells(g)[:5]
        g_s = backend.layout.to_cells(g, Role.SPARSITY)[:5]
        expected = 0.1 * (g_w * g_s / (g_w + g_s)).sum(axis=0)
        assert currents.shape == (cols,)
        np.testing.assert_allclose(currents, expected, rtol=0.05)

    @pytest.mark.parametrize("kwargs, field", [
        ({"amplitude_v": math.nan, "width_s": 1e-6}, "amplitude_v"),
        ({"amplitude_v": 3.0, "width_s": 0.0}, "width_s"),
        ({"amplitude_v": 3.0, "width_s": -1e-6}, "width_s"),
        ({"amplitude_v": 0.0, "width_s": 1e-6}, "amplitude_v"),
    ])
    def test_malformed_pulse_is_refused_naming_field(self, kwargs, field):
        with pytest.raises(ConfigError, match=field):
            PulseSpec(**kwargs)

    def test_over_limit_pulse_is_refused_by_backend(self, backend):
        loose = type(backend.limits)(max_write_v=50.0)
        pulse = PulseSpec(30.0, 1e-6, 30e-9, 30e-9, limits=loose)  # 15 V per SPGU output: 30 ns edges
        with pytest.raises(SafetyLimitError, match="amplitude_v=30.0"):
            backend.apply_pulses(_weights(backend), pulse)

    def test_over_limit_count_and_read_are_refused(self, backend):
        with pytest.raises(SafetyLimitError, match="count"):
            backend.apply_pulses(_weights(backend), _write(backend, 1), count=backend.limits.max_pulse_count + 1)
        with pytest.raises(SafetyLimitError, match="voltage_v=2.0"):
            ReadSpec(voltage_v=2.0)

    def test_refused_request_changes_nothing(self, backend):
        mask = _weights(backend)
        before = np.nanmean(backend.read(mask))
        with pytest.raises(SafetyLimitError):
            backend.apply_pulses(mask, _write(backend, 1), count=-1)
        assert np.nanmean(backend.read(mask)) == pytest.approx(before, rel=0.02)

    @pytest.mark.parametrize("shape", [(29, 30), (30,), (30, 31)])
    def test_wrong_mask_shape_is_refused(self, backend, shape):
        with pytest.raises(ConfigError, match=r"devices\.shape"):
            backend.read(np.ones(shape, dtype=bool))

    def test_non_boolean_mask_is_refused(self, backend):
        with pytest.raises(ConfigError, match="dtype"):
            backend.read(np.ones(backend.shape))

    def test_vector_update_moves_only_the_crossing(self, backend):
        rows = np.zeros(backend.shape[0], dtype=bool)
        cols = np.zeros(backend.shape[1], dtype=bool)
        rows[4] = True
        cols[backend.layout.weight_cols[2]] = True
        everything = np.ones(backend.shape, dtype=bool)
        # 3 whole-array reads each side, not 6 (sim-instruments, seeds 1, 2, 7: the others' largest change 0.002 of
        # g_max either way; a bench reading with 1 % of g_max noise: ~0.027 of the 0.05 allowed, 0.019 with 6)
        before = np.mean([backend.read(everything) for _ in range(3)], axis=0)
        report = backend.apply_vector_update(rows, cols, _write(backend, +1), count=20)
        after = np.mean([backend.read(everything) for _ in range(3)], axis=0)
        change = (after - before) / backend.model.weight.g_max_s
        target = (4, backend.layout.weight_cols[2])
        assert report.pulses == 20
        assert change[target] > 0.2
        others = np.delete(change.ravel(), np.ravel_multi_index(target, backend.shape))
        assert np.abs(others).max() < 0.05  # read noise and the small V/2 disturb only

    def test_wrong_vector_shape_is_refused(self, backend):
        with pytest.raises(ConfigError, match=r"rows\.shape"):
            backend.apply_vector_update(np.ones(3, bool), np.ones(backend.shape[1], bool), _write(backend, 1))

    def test_mvm_inputs_are_checked(self, backend):
        rows = backend.layout.cell_shape[0]
        with pytest.raises(ConfigError, match="inputs"):
            backend.read_mvm(np.full(rows, 2.0))
        with pytest.raises(ConfigError, match=r"inputs\.shape"):
            backend.read_mvm(np.ones(rows + 1))

    def test_sweep_over_gate_limit_is_refused(self, backend):
        mask = np.zeros(backend.shape, dtype=bool)
        mask[0, 0] = True
        with pytest.raises(SafetyLimitError, match="gate_v"):
            backend.sweep_transfer(mask, np.linspace(-20, 20, 5))

    # -- per-coordinate operations (training's update path) ----------------------------------------
    def test_read_at_is_read_of_the_same_devices(self, backend):
        rows = np.array([0, 0, 3, 7])
        cols = np.asarray(backend.layout.weight_cols)[[1, 4, 0, 2]]
        mask = np.zeros(backend.shape, dtype=bool)
        mask[rows, cols] = True
        at = np.mean([backend.read_at(rows, cols) for _ in range(10)], axis=0)
        grid = np.mean([backend.read(mask)[rows, cols] for _ in range(10)], axis=0)
        assert at.shape == (4,)
        np.testing.assert_allclose(at, grid, rtol=0.05)

    def test_apply_pulses_at_moves_only_the_listed_devices_by_their_counts(self, backend):
        cols = np.asarray(backend.layout.weight_cols)
        rows, at = np.array([2, 2, 5]), cols[[0, 3, 1]]
        everything = np.ones(backend.shape, dtype=bool)
        before = np.mean([backend.read(everything) for _ in range(4)], axis=0)
        report = backend.apply_pulses_at(rows, at, _write(backend, +1), np.array([30, 0, 5]))
        after = np.mean([backend.read(everything) for _ in range(4)], axis=0)
        change = (after - before) / backend.model.weight.g_max_s
        assert report.pulses == 35
        assert change[2, cols[0]] > change[5, cols[1]] > 0.02
        untouched = np.ones(backend.shape, dtype=bool)
        untouched[[2, 5], [cols[0], cols[1]]] = False
        assert np.abs(change[untouched]).max() < 0.05  # read noise only (the zero count sends nothing)

    def test_pulse_and_read_at_pulses_both_ways_and_reads_back(self, backend):
        cols = np.asarray(backend.layout.weight_cols)
        rows, at = np.array([1, 1, 4]), cols[[0, 2, 3]]
        backend.apply_pulses_at(rows, at, _write(backend, +1), np.array([0, 0, 40]))  # room to go down
        before = np.mean([backend.read_at(rows, at) for _ in range(6)], axis=0)
        pulses = {+1: _write(backend, +1), -1: _write(backend, -1)}
        report, g = backend.pulse_and_read_at(rows, at, pulses, np.array([25, 0, -25]))
        after = np.mean([backend.read_at(rows, at) for _ in range(6)], axis=0)
        assert report.pulses == 50 and g.shape == (3,)
        np.testing.assert_allclose(g, after, rtol=0.1)  # the read-back is a reading after the pulses
        assert after[0] > before[0] * 1.2 and after[2] < before[2] * 0.9
        assert after[1] == pytest.approx(before[1], rel=0.05)

    @pytest.mark.parametrize("op", ["read_at", "apply_pulses_at", "pulse_and_read_at"])
    def test_coordinates_out_of_order_or_range_are_refused(self, backend, op):
        pulse, pulses = _write(backend, 1), {+1: _write(backend, 1), -1: _write(backend, -1)}
        call = {"read_at": lambda r, c: backend.read_at(r, c),
                "apply_pulses_at": lambda r, c: backend.apply_pulses_at(r, c, pulse, np.ones(r.size, int)),
                "pulse_and_read_at": lambda r, c: backend.pulse_and_read_at(r, c, pulses, np.ones(r.size, int))}[op]
        with pytest.raises(ConfigError, match="row-major"):
            call(np.array([3, 1]), np.array([0, 0]))
        with pytest.raises(ConfigError, match="rows"):
            call(np.array([0, backend.shape[0]]), np.array([0, 0]))
        with pytest.raises(ConfigError, match="cols"):  # (its flat index would be the next row's first device)
            call(np.array([0, 0]), np.array([0, backend.shape[1]]))

    @pytest.mark.parametrize("own_limits", [False, True])  # specs made against the backend's limits skip re-checking
    def test_over_limit_trains_per_coordinate_are_refused(self, backend, own_limits):  # their shape, not their counts
        pulses = {+1: _write(backend, 1), -1: _write(backend, -1)}
        if own_limits:
            pulses = {sign: dataclasses.replace(p, limits=backend.limits) for sign, p in pulses.items()}
        too_long = backend.limits.max_pulse_count + 1
        with pytest.raises(SafetyLimitError, match="count"):
            backend.pulse_and_read_at(np.array([0]), np.array([0]), pulses, np.array([-too_long]))
        with pytest.raises(SafetyLimitError, match="count"):
            backend.apply_pulses_at(np.array([0]), np.array([0]), pulses[1], np.array([too_long]))

    def test_wait_advances_the_clock_and_temperature_is_physical(self, backend):
        start = backend.time_s
        backend.wait(0.25)
        assert backend.time_s >= start + 0.25
        with pytest.raises(ConfigError, match="duration_s"):
            backend.wait(-1.0)
        assert 200.0 < backend.temperature_k < 500.0

    # -- what the records say, and the simulation handle ------------------------------------------
    def test_describe_names_the_backend_and_its_instruments(self, backend):
        about = backend.describe()
        assert about.kind in ("sim", "sim-instruments", "bench") and about.model == backend.model.name
        assert about.chip_id and about.source
        if about.kind == "sim":
            assert about.idns_text == "none" and about.chip_id == f"sim-seed{about.seed}"
        else:  # every instrument answered *IDN? at connect
            roles = dict(about.instrument_idns)
            assert "b1500" in roles and all(len(idn) > 5 for idn in roles.values())

    def test_messages_sent_counts_the_bus(self, backend):
        before = backend.messages_sent
        backend.read(_weights(backend))
        sent = backend.messages_sent - before
        assert sent == 0 if backend.describe().kind == "sim" else sent > 0

    def test_last_command_names_what_was_sent_last(self, backend):
        backend.read(_weights(backend))
        last = backend.last_command
        if backend.describe().kind == "sim":
            assert last == "simulated array: last operation"
        else:  # the instrument and the read's last message (outputs off after the measurement)
            assert last.startswith(("b1500: last command", "matrix")) and "'" in last

    def test_note_run_reaches_a_bench_crash_marker(self, backend):
        backend.note_run(procedure="ltp_ltd", csv="x.csv", resumable=True)
        if backend.describe().kind != "sim":  # the simulator cannot crash a chip and keeps nothing
            marker = json.loads(backend.session.path.read_text())
            assert marker["procedure"] == "ltp_ltd" and marker["resumable"] is True

    def test_bench_time_split_says_where_the_bench_time_went(self, backend):
        before = dict(backend.bench_time_split_s)
        t0 = backend.time_s
        backend.read(_weights(backend))
        split = {k: v - before.get(k, 0.0) for k, v in backend.bench_time_split_s.items()}
        if backend.describe().kind == "sim":
            assert split == {}
        else:
            assert set(split) == {"reads", "routings", "pulses", "waits"} and split["reads"] > 0 < split["routings"]
            assert sum(split.values()) == pytest.approx(backend.time_s - t0, rel=1e-6)

    def test_simulation_restores_the_exact_state(self, backend):
        simulation = backend.simulation
        if simulation is None:
            assert backend.describe().kind == "bench"
            pytest.skip("a real bench keeps its own state")
        mask = _weights(backend)
        snap = simulation.snapshot()
        first = backend.read(mask)
        backend.apply_pulses(mask, _write(backend, +1), count=30)
        simulation.restore(snap)
        np.testing.assert_array_equal(backend.read(mask), first)  # state, clock and noise stream alike
