"""The simulator's noise table: standard normals, independent per request, reproducible from the seed."""

from __future__ import annotations

import numpy as np

from labctl.layout import CellLayout
from sim_backend import SimulatedArray
from sim_backend.noise import NoiseTable


def _table(seed=0, size=1 << 16):
    return NoiseTable(np.random.SeedSequence(seed), np.random.default_rng(seed), size=size)


def test_values_are_standard_normal_and_requests_independent():
    table = _table()
    draws = np.array([table.standard_normal(500) for _ in range(2000)], dtype=float)  # request x position
    assert abs(draws.mean()) < 0.01 and abs(draws.std() - 1) < 0.01
    # one "device" (a position) over successive requests: no correlation from one request to the next
    lag = np.corrcoef(draws[:-1].ravel(), draws[1:].ravel())[0, 1]
    assert abs(lag) < 0.01
    # positions of one request are distinct table entries
    assert np.unique(draws[0]).size == 500
    assert np.mean(np.abs(np.diff(draws, axis=0)) == 0) < 0.01


def test_long_requests_fall_back_to_fresh_draws_and_the_table_is_read_only():
    table = _table(size=1 << 10)
    assert table.standard_normal(5000).shape == (5000,)
    view = table.standard_normal((4, 8))
    assert view.shape == (4, 8) and not view.flags.writeable


def test_same_seed_same_noise_and_restore_replays_it():
    def chip():
        return SimulatedArray("garg-hzo-20ns", seed=4, layout=CellLayout.with_reference(6, 4), initial_state=0.5)

    a, b = chip(), chip()
    all_devices = np.ones(a.shape, dtype=bool)
    np.testing.assert_array_equal(a.read(all_devices), b.read(all_devices))
    snap = a.snapshot()
    first = a.read(all_devices)
    a.restore(snap)
    np.testing.assert_array_equal(a.read(all_devices), first)
