"""The sparse layer on the simulated chip: S * W forward, pruning holds through training, regrowth restores."""

from __future__ import annotations

import numpy as np
import pytest

from device_models import load_preset
from labctl.backends import open_backend
from labctl.errors import ConfigError
from labctl.layout import CellLayout, Role
from labctl.sparse.layer import SparseAnalogLayer
from labctl.sparse.pruning import group_ids, prune_layer, regrow_layer
from sim_backend import SimulatedArray

MODEL = load_preset("ning-mos2-fefet")


def _layer(update="cell", rows=12, cols=4, seed=0):
    chip = SimulatedArray(MODEL, seed=seed, layout=CellLayout.sparse(rows, 2 * cols), initial_state=0.5)
    layer = SparseAnalogLayer(chip, MODEL, rows, cols, update=update)
    layer.set_sparsity(np.ones_like(layer.s), on=True)
    return layer


def test_needs_a_sparse_layout():
    chip = SimulatedArray(MODEL, seed=0, layout=CellLayout.with_reference(4, 4))
    with pytest.raises(ConfigError):
        SparseAnalogLayer(chip, MODEL, 4, 2)


def test_one_sparsity_pulse_switches_fully_and_forward_is_the_hadamard_product():
    layer = _layer()
    chip = layer.backend
    assert layer.s.all()
    off = np.zeros_like(layer.s)
    off[::2, 1] = True
    pulses, _ = layer.set_sparsity(off, on=False)
    assert pulses == off.sum()
    state = chip.layout.to_cells(chip.state, Role.SPARSITY)
    # One pulse switches nearly fully (device-to-device step spread and 10 % write noise leave a rest).
    assert np.all(state[off] < 0.3) and np.all(state[~off] > 0.8)
    g = chip.true_conductance()
    g_w, g_s = chip.layout.to_cells(g), chip.layout.to_cells(g, Role.SPARSITY)
    w_true = g_w * g_s / (g_w + g_s) / MODEL.weight.g_max_s
    assert np.all(w_true[off] < 0.01 * w_true[~off].min())  # pruned cells conduct ~nothing
    x = np.random.default_rng(0).random((3, 12), dtype=np.float32)
    mean = np.mean([layer.forward(x) for _ in range(200)], axis=0)
    expected = layer.alpha * x @ w_true
    assert np.abs(mean - expected).max() < 0.05 * np.abs(expected).max()


@pytest.mark.parametrize("update", ["cell", "vau"])
def test_pruned_cells_stay_pruned_through_training_and_regrowth_restores_them(update):
    layer = _layer(update)
    chip = layer.backend
    groups = group_ids(layer.s.shape, "element")
    layer.apply_counts(np.random.default_rng(1).integers(-8, 9, layer.s.shape))
    before = layer.weight_state.copy()
    prune_layer(layer, 0.5, groups)
    pruned = ~layer.s
    assert abs(layer.sparsity - 0.5) < 1e-9
    weight_state = chip.layout.to_cells(chip.state)[pruned]
    rng = np.random.default_rng(2)
    for _ in range(5):  # training updates touch every cell's count, pruned ones included
        layer.apply_counts(rng.integers(-6, 7, layer.s.shape))
    sparsity_g = chip.read(layer.sparsity_devices)
    assert np.all(chip.layout.to_cells(sparsity_g, Role.SPARSITY)[pruned] < layer.s_threshold_s)  # still read off
    assert np.all(layer.w[pruned] < 0.01 * layer.w[~pruned].min())
    assert np.allclose(chip.layout.to_cells(chip.state)[pruned], weight_state, atol=2e-3)  # not pulsed: only retention drift
    gradient = np.where(pruned, 1.0, 0.0)
    regrow_layer(layer, gradient, int(pruned.sum()), groups)
    assert layer.s.all()
    assert np.abs(layer.weight_state[pruned] - before[pruned]).max() < 0.05  # the old weight is back
    assert np.all(layer.w[pruned] > 0.5 * before[pruned])


def test_vau_uses_row_plus_column_operations_on_simulated_instruments():
    """A 10 x 5 block of the 30x30 chip: VAU in O(rows + cols) bench operations, cell by cell in O(cells)."""
    counts = np.random.default_rng(3).choice([-2, -1, 1, 2], (10, 5))
    result = {}
    for update, cellwise in (("vau", False), ("cell", True)):
        with open_backend("sim-instruments", model=MODEL, seed=0, layout=CellLayout.sparse()) as chip:
            layer = SparseAnalogLayer(chip, MODEL, 10, 5, update=update, cell_by_cell=cellwise)
            layer.set_sparsity(np.ones_like(layer.s), on=True)
            result[update] = layer.apply_counts(counts)
    per_op = result["cell"][1] / counts.size  # transactions of one single-device train
    assert result["vau"][1] <= 2 * 2 * (10 + 5) * per_op * 1.01
    assert result["cell"][1] >= counts.size * 4
    assert result["vau"][1] < result["cell"][1]


def test_centred_inputs_make_the_cells_signed_weights_and_the_backward_pass_agrees():
    """Centred inputs: y = alpha * x @ (w - column mean of w); pruned cells still carry nothing physically."""
    chip = SimulatedArray(MODEL, seed=3, layout=CellLayout.sparse(12, 8), initial_state=0.5)
    layer = SparseAnalogLayer(chip, MODEL, 12, 4, centred=True)
    layer.set_sparsity(np.ones_like(layer.s), on=True)
    layer.apply_counts(np.random.default_rng(2).integers(-10, 11, layer.s.shape))
    layer.set_sparsity(np.eye(12, 4, dtype=bool), on=False)
    g = chip.true_conductance()
    g_w, g_s = chip.layout.to_cells(g), chip.layout.to_cells(g, Role.SPARSITY)
    w_true = g_w * g_s / (g_w + g_s) / MODEL.weight.g_max_s
    signed = w_true - w_true.mean(axis=0)
    assert (signed < 0).any() and (signed > 0).any()
    x = np.random.default_rng(0).random((3, 12), dtype=np.float32)
    mean = np.mean([layer.forward(x) for _ in range(200)], axis=0)
    expected = layer.alpha * x @ signed
    assert np.abs(mean - expected).max() < 0.05 * np.abs(expected).max()
    # dL/dx through the centring equals alpha * delta @ signed.T (finite weights as read)
    delta = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
    grad_x, grad_w, _ = layer.backward(x, delta)
    read_signed = layer.w - layer.w.mean(axis=0)
    assert np.allclose(grad_x, layer.alpha * delta @ read_signed.T, atol=1e-5)
    assert np.allclose(grad_w, (x - x.mean(axis=1, keepdims=True)).T @ delta, atol=1e-5)


def test_vau_records_what_it_did_not_deliver_and_cell_by_cell_delivers_everything():
    from labctl.sparse.vau import plan_vau

    counts = np.random.default_rng(4).integers(-6, 7, (12, 4))
    vau, cell = _layer("vau"), _layer("cell")
    vau.apply_counts(counts)
    cell.apply_counts(counts)
    assert np.array_equal(vau.shortfall, counts - plan_vau(counts, vau.max_pulses).delivered())
    assert vau.shortfall.any() and not cell.shortfall.any()
