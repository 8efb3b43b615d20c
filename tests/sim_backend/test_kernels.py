"""The compiled (numba) kernels give what the numpy reference gives: simulator updates, reads, and training runs."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from device_models.modelfile import load_model
from device_models import compiled
from labctl import PulseSpec, ReadSpec
from labctl.backend import flat_indices
from labctl.errors import ConfigError
from labctl.layout import CellLayout
from labctl.training import AnalogLayer, load_mnist, train
from labctl.training import kernels as training_kernels
from labctl.training.optimizers import Optimizer
from device_models import kernels
from sim_backend import Faults, SimulatedArray, fast_paths

needs_numba = pytest.mark.skipif(not compiled.AVAILABLE, reason="numba (the 'fast' extra) is not installed")

RTOL = 1e-12
"""Kernel vs numpy: the same formulas in equal forms (products for short trains, a series for short
relaxations, the C library's exp/log against numpy's SIMD ones) differ by a few ulps (~1e-15)."""


def _model(**variation):
    model = load_model("garg-hzo-20ns")
    weight = dataclasses.replace(model.weight, variation=dataclasses.replace(model.weight.variation, **variation))
    return dataclasses.replace(model, weight=weight)


def _session(chip: SimulatedArray, seed: int = 1) -> list[np.ndarray]:
    """Training-like traffic (signed updates with read-back, of a few devices and once of most: numpy
    then rebuilds every cell, the kernel updates the pulsed ones), MVMs, one-polarity trains of up to 60 pulses,
    waits that flush, a temperature change), returning everything the chip reported and its final state."""
    rng = np.random.default_rng(seed)
    op = chip.model.operating_point
    pulses = {+1: PulseSpec(op.write_amplitude_v, op.write_width_s), -1: PulseSpec(-op.write_amplitude_v, op.write_width_s)}
    rows_in = chip.layout.cell_shape[0]
    out = []
    for k in range(12):
        out.append(chip.read_mvm(rng.uniform(-1, 1, (3, rows_in)), ReadSpec()))
        signed = rng.integers(-6, 7, chip.shape) * (rng.random(chip.shape) < (0.4 if k == 5 else 0.15))
        rows, cols = np.nonzero(signed)
        report, reading = chip.pulse_and_read_at(rows, cols, pulses, signed[rows, cols])
        out += [reading, np.array([report.pulses, report.duration_s])]
        if k % 4 == 1:  # one polarity, long trains (the symmetry-point protocol sends 50)
            mask = rng.random(chip.shape) < 0.2
            chip.apply_pulses(mask, pulses[-1 if k % 8 == 1 else +1], int(rng.integers(1, 60)))
        if k % 5 == 2:  # a flush by series (x = dt / (t0 + age) < 0.05), then one past it (the exact form)
            chip.wait(0.05 if k < 5 else 30.0)
            out.append(chip.read(rng.random(chip.shape) < 0.5))
        if k == 8:
            chip.set_temperature(380.0)  # a larger retention exponent
    out += [chip.state, chip.true_conductance(), np.array([chip.time_s])]
    return out


def _both(make) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The session on a chip from ``make()`` with the kernels, then on a fresh one on the numpy path."""
    fast = _session(make())
    with compiled.disabled():
        reference = _session(make())
    return fast, reference


@needs_numba
@pytest.mark.parametrize("make, covered", [
    (lambda: SimulatedArray("garg-hzo-20ns", seed=3, layout=CellLayout.with_reference(16, 12), initial_state=0.5), True),
    # ~3700 trains in one update: the kernel's blocks of 2048 (noise and readings offset per block)
    (lambda: SimulatedArray("garg-hzo-20ns", seed=8, layout=CellLayout.with_reference(96, 96), initial_state=0.5), True),
    (lambda: SimulatedArray("garg-hzo-2ms", seed=4, layout=CellLayout.dense(10, 9), initial_state=0.3), True),
    (lambda: SimulatedArray(_model(c2c_write=0.0, d2d_nonlinearity=0.0), seed=5,
                            layout=CellLayout.with_reference(8, 8), initial_state=0.7), True),
    (lambda: SimulatedArray("ning-mos2-fefet", seed=6), False),  # two populations (sparse layout)
    (lambda: SimulatedArray("garg-hzo-20ns", seed=7, layout=CellLayout.with_reference(10, 10), initial_state=0.5,
                            faults=Faults(stuck_on=[(1, 2)], dead_rows=[4], dead_cols=[7])), False),
], ids=["reference-pairs", "blocks", "dense-2ms", "no-noise-linear", "two-populations", "faults"])
def test_kernels_match_the_numpy_reference(make, covered):
    """Where the kernels cover an array they land on the numpy results; where not (or with LABCTL_NUMBA=0)
    they step aside."""
    assert fast_paths.covers(make()) is (covered and compiled.enabled())
    fast, reference = _both(make)
    assert len(fast) == len(reference)
    for got, want in zip(fast, reference):
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=0)


@needs_numba
def test_log_scale_conductance_and_fresh_noise_draws_match():
    """Digital devices read on a log scale, and requests longer than the noise table (fresh draws)."""
    model = load_model("garg-hzo-20ns")
    model = dataclasses.replace(model, weight=dataclasses.replace(model.weight, conductance_scale="log"))

    def make():
        chip = SimulatedArray(model, seed=8, layout=CellLayout.with_reference(12, 10), initial_state=0.5)
        chip.noise.size = 64  # every request of more than 64 normals falls back to the Generator
        return chip

    fast, reference = _both(make)
    for got, want in zip(fast, reference):
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=0)


@needs_numba
def test_the_compiled_coordinate_check_passes_exactly_what_the_seam_passes():
    """``fast_paths.flat`` returns the seam's flat indices for coordinates ``flat_indices`` accepts and None
    (the seam then names the problem) for any it refuses: rows or columns off the grid (also where the flat
    index would land inside it), repeats, wrong order."""
    chip = SimulatedArray("garg-hzo-20ns", seed=1, layout=CellLayout.with_reference(16, 12))
    n_rows, n_cols = chip.shape
    rng = np.random.default_rng(5)
    refused = 0
    for k in range(400):
        flat = np.sort(rng.choice(n_rows * n_cols, int(rng.integers(1, 40)), replace=False))
        rows, cols = flat // n_cols, flat % n_cols
        i = int(rng.integers(rows.size))
        if k % 5 == 1:  # one step left of the grid's first column, as the previous row's last flat index
            rows[i], cols[i] = rows[i] + 1, -1
        elif k % 5 == 2:  # one past the last column: the next row's first flat index
            rows[i], cols[i] = rows[i] - 1, n_cols
        elif k % 5 == 3 and rows.size > 1:  # a repeat
            rows[i], cols[i] = rows[i - 1], cols[i - 1]
        elif k % 5 == 4 and rows.size > 1:  # out of order
            rows, cols = rows[::-1].copy(), cols[::-1].copy()
        try:
            want = flat_indices(chip.shape, rows, cols)
        except ConfigError:
            want = None
            refused += 1
        got = fast_paths.flat(chip, rows, cols)
        assert (got is None) == (want is None), (k, rows, cols)
        if want is not None:
            np.testing.assert_array_equal(got, want)
    assert refused > 200


@needs_numba
def test_update_rule_kernels_give_the_numpy_rules_counts():
    """Plain SGD (same uniform draws, the generator left alike) and MP-SGD (same accumulator) select identical
    cells and counts. 301 x 69 cells: not a multiple of the 8 cells MP-SGD's gather looks at as one word."""
    shape = (301, 69)
    alpha = np.float32(12 / np.sqrt(shape[0]))
    for algo in ("sgd", "mpsgd"):
        runs = []
        for use_kernels in (True, False):
            rng = np.random.default_rng(4)
            opt = Optimizer(algo, [], lr=0.1, steps=(0.0123, 0.0071), max_pulses=15, rng=np.random.default_rng(9))
            opt.accumulators = [np.zeros(shape, dtype=np.float32)]
            out = []
            for _ in range(10):
                grad = (rng.standard_normal(shape) * 0.02).astype(np.float32)
                grad[rng.random(shape) < 0.05] *= 50  # some cells past the cap
                if use_kernels:
                    flat, counts = training_kernels.select(opt, 0, grad, alpha)
                else:
                    change = (-opt.lr * grad) / alpha  # AnalogLayer.weight_units
                    flat, counts = opt._mixed_precision_at(0, change) if algo == "mpsgd" else opt._plain_at(change)
                out += [flat, counts, opt.accumulators[0].copy(), opt.rng.random(2)]
            runs.append(out)
        assert sum(len(x) for x in runs[0][::4]) > 1000
        for got, want in zip(*runs):
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("first", [0, 1, 6])  # nothing drawn before, a half-word left in PCG64's buffer, none
@pytest.mark.parametrize("n", [21000, 1281])
@pytest.mark.parametrize("bit_generator", [np.random.PCG64, np.random.Philox])
def test_uniform_words_are_the_float_draws_and_leave_the_generator_alike(first, n, bit_generator):
    """Plain SGD's rounding draws as words: the same uniforms as ``rng.random(n, float32)``, the same stream after."""
    fast, reference = np.random.Generator(bit_generator(3)), np.random.Generator(bit_generator(3))
    for rng in (fast, reference):
        rng.random(first, dtype=np.float32)
    words = training_kernels.uniform_words(fast, n)
    assert words.dtype == np.uint32 and words.shape == (n,)
    np.testing.assert_array_equal((words >> 8).astype(np.float32) * np.float32(2 ** -24),
                                  reference.random(n, dtype=np.float32))
    np.testing.assert_array_equal(fast.random(5, dtype=np.float32), reference.random(5, dtype=np.float32))
    np.testing.assert_array_equal(fast.random(5), reference.random(5))


@needs_numba
@pytest.mark.parametrize("algo", ["sgd", "mpsgd", "symshift"])
def test_a_seed_trains_to_the_same_metrics_with_and_without_kernels(algo):
    data = load_mnist(400, 200)
    # symshift's setup with 30 alternating pairs, not 300: the same single-pulse calls on the same kernels (300 pairs
    # per layer cost 3 s and test nothing more); sgd and mpsgd have no such setup
    kwargs = dict(algo=algo, model="garg-hzo-20ns", epochs=2, layers=(784, 32, 10), seed=3, data=data, progress=False,
                  symmetry_pairs=30)
    fast = train(**kwargs)
    with compiled.disabled():
        reference = train(**kwargs)
    assert list(fast["pulses"]) == list(reference["pulses"])
    for column in ("train_loss", "test_accuracy", "energy_j"):
        np.testing.assert_allclose(fast[column], reference[column], rtol=1e-9)
    np.testing.assert_allclose(fast.attrs["final_layer_weights"], reference.attrs["final_layer_weights"], atol=1e-6)


def test_without_numba_everything_takes_the_numpy_path():
    """With numba not importable the package imports, says so, and trains on the numpy path."""
    code = ("import sys; sys.modules['numba'] = None\n"
            "from device_models import compiled\n"
            "from labctl.training import load_mnist, train\n"
            "assert not compiled.AVAILABLE and not compiled.enabled()\n"
            "df = train(algo='mpsgd', layers=(784, 10), data=load_mnist(200, 100), progress=False)\n"
            "assert df['pulses'].iloc[0] > 0\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 0, result.stderr


@needs_numba
def test_converter_kernels_give_the_numpy_forward_pass():
    """DAC (row abs-max scaling, a zero row, clipping) and ADC (clipping, affine map) equal numpy bit for bit."""
    model = load_model("garg-hzo-20ns")
    runs = []
    for use_kernels in (True, False):
        chip = SimulatedArray(model, seed=1, layout=CellLayout.with_reference(64, 40), initial_state=0.5)
        layer = AnalogLayer(chip, model, 40, 20)  # 40 of 64 rows: the DAC output is padded
        layer.bias[:] = np.linspace(-1, 1, 20, dtype=np.float32)
        x = np.random.default_rng(0).standard_normal((30, 40)).astype(np.float32)
        x[3], x[5] = 0.0, x[5] * 1e3
        if use_kernels:
            runs.append([layer.forward(x), layer.forward(np.abs(x) * 40)])
        else:
            with compiled.disabled():
                runs.append([layer.forward(x), layer.forward(np.abs(x) * 40)])
    for got, want in zip(*runs):
        assert got.dtype == want.dtype == np.float32
        np.testing.assert_array_equal(got, want)


@needs_numba
def test_vectorised_log_and_exp_are_within_two_ulps_and_flag_what_they_do_not_cover():
    """The pulse kernel's own log and exp (branch-free loops) against numpy, and NaN where the caller
    must fall back to the C library (zero, subnormal, infinite arguments; |x| >= 700)."""
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.random(5000) ** 3, np.exp(rng.uniform(-700, 700, 5000)), 1 - rng.random(1000) * 1e-9,
                        [1.0, 2.0, 0.5, np.sqrt(2.0), 0.0, 5e-324, np.inf]])
    out, bits = np.empty_like(x), np.empty(x.size, dtype=np.int64)
    kernels._log_into(x, out, bits, x.size)
    covered = (x >= np.finfo(float).tiny) & np.isfinite(x)
    assert np.isnan(out[~covered]).all() and not np.isnan(out[covered]).any()
    want = np.log(x[covered])
    assert (np.abs(out[covered] - want) <= 2 * np.spacing(np.abs(want))).all()
    y = np.concatenate([rng.uniform(-1, 1, 5000), rng.uniform(-699, 699, 5000), [0.0, -0.0, 1e-300, 700.0, -np.inf]])
    out, bits = np.empty_like(y), np.empty(y.size, dtype=np.int64)
    kernels._exp_into(y, out, bits, y.size)
    covered = np.abs(y) < 700
    assert np.isnan(out[~covered]).all()
    want = np.exp(y[covered])
    assert (np.abs(out[covered] - want) <= 2 * np.spacing(want)).all()
