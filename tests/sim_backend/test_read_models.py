"""``read_model``: ``per-sample`` draws independent read noise for every input vector, ``shared`` one
noisy reading of every device per ``read_mvm`` call (as the bench reads); both have the devices' noise."""

from __future__ import annotations

import numpy as np
import pytest

from labctl.errors import ConfigError
from labctl.layout import CellLayout
from labctl.specs import ReadSpec
from sim_backend.array import SimulatedArray


def _chip(read_model: str) -> SimulatedArray:
    return SimulatedArray("garg-hzo-20ns", seed=5, layout=CellLayout.with_reference(16, 8), initial_state=0.5,
                          read_model=read_model)


def test_shared_reads_every_sample_with_the_same_noise_per_sample_does_not():
    x = np.tile(np.linspace(-1, 1, 16, dtype=np.float32), (3, 1))
    shared, per_sample = (_chip(m).read_mvm(x, ReadSpec()) for m in ("shared", "per-sample"))
    assert np.array_equal(shared[0], shared[1]) and np.array_equal(shared[0], shared[2])
    assert not np.allclose(per_sample[0], per_sample[1])


@pytest.mark.parametrize("read_model", ["shared", "per-sample"])
def test_both_models_have_the_devices_read_noise(read_model):
    """Over many calls each column current scatters around the noise-free product with the standard
    deviation of independent device noise, sqrt(sum_i (V x_i)^2 var_i), in either model."""
    chip = _chip(read_model)
    x = np.linspace(-1, 1, 16, dtype=np.float32)[None, :]
    g_cell, g_var = (np.asarray(v, dtype=float) for v in chip._cells())
    volts = x * ReadSpec().voltage_v
    mean, std = volts @ g_cell, np.sqrt(volts ** 2 @ g_var)
    draws = np.array([chip.read_mvm(x, ReadSpec())[0] for _ in range(2000)])
    np.testing.assert_allclose(draws.mean(axis=0), mean[0], atol=4 * std[0].max() / np.sqrt(2000))
    np.testing.assert_allclose(draws.std(axis=0), std[0], rtol=0.08)


def test_a_chip_reads_as_the_bench_unless_told_otherwise():
    """The default is ``shared``: two equal samples of one call get equal currents (the same noisy reading)."""
    chip = SimulatedArray("garg-hzo-20ns", seed=5, layout=CellLayout.with_reference(16, 8), initial_state=0.5)
    currents = chip.read_mvm(np.full((2, 16), 0.5, dtype=np.float32), ReadSpec())
    assert np.array_equal(currents[0], currents[1])


def test_an_unknown_read_model_names_the_field():
    with pytest.raises(ConfigError, match="read_model"):
        _chip("exact")
