"""VAU planning and pruning/regrowth masks (pure numpy)."""

from __future__ import annotations

import numpy as np
import pytest

from labctl.errors import ConfigError
from labctl.sparse.experiments import vau_mse
from labctl.sparse.pruning import PruneSchedule, group_ids, prune_mask, regrow_mask
from labctl.sparse.vau import plan_vau, update_mse


def test_vau_is_exact_on_additive_magnitudes_and_keeps_signs():
    rng = np.random.default_rng(0)
    rows, cols = rng.integers(0, 4, 12), rng.integers(0, 4, 5)
    sign = rng.choice([-1, 1], (12, 5))
    counts = sign * (rows[:, None] + cols[None, :])
    plan = plan_vau(counts, iterations=30)
    delivered = plan.delivered()
    assert np.array_equal(np.sign(delivered)[counts != 0], np.sign(counts)[counts != 0])
    assert np.abs(delivered - counts).max() <= 1  # rounding of the fitted split only
    assert plan.operations() <= 2 * (12 + 5)


def test_vau_skips_cells_without_update_and_caps_trains():
    counts = np.zeros((6, 4), dtype=int)
    counts[1, 2], counts[4, 0] = 40, -3
    plan = plan_vau(counts, max_pulses=15)
    assert np.all(plan.delivered()[counts == 0] == 0)
    assert plan.col_counts.max() <= 15 and plan.row_counts.max() <= 15


def test_vau_error_falls_with_sparsity():
    df = vau_mse(runs=8, sparsities=(0.0, 0.9), shape=(30, 15), seed=1)
    med = df.groupby("sparsity")["mse"].median()
    assert med[0.9] < med[0.0]
    assert (df["vau_operations"] <= 2 * (30 + 15) * 2).all()
    assert update_mse(np.ones(3), np.ones(3)) == 0.0


@pytest.mark.parametrize("granularity,n", [("element", 24), ("row", 6), ("column", 4), ("block", 4), ("layer", 1)])
def test_group_ids(granularity, n):
    ids = group_ids((6, 4), granularity, block=(3, 2))
    assert ids.shape == (6, 4) and len(np.unique(ids)) == n


def test_prune_takes_smallest_groups_and_regrow_largest_gradients():
    w = np.arange(24, dtype=float).reshape(6, 4)
    active = np.ones((6, 4), dtype=bool)
    off = prune_mask(w, active, 0.5, group_ids((6, 4), "row"))
    assert off[:3].all() and not off[3:].any()
    grad = np.zeros((6, 4))
    grad[1] = 5.0
    back = regrow_mask(grad, ~off, 1, group_ids((6, 4), "row"))
    assert back[1].all() and back.sum() == 4
    assert not prune_mask(w, active, 0.75, group_ids((6, 4), "layer")).any()  # a whole layer cannot be 75 % off


def test_schedule_ramps_to_target():
    s = PruneSchedule(0.75, 2, 5)
    values = [s.sparsity_after(e) for e in range(1, 8)]
    assert values[0] == 0 and values[3] == 0.75 * (1 - (1 - 3 / 4) ** 3) and values[-1] == 0.75
    assert all(b >= a for a, b in zip(values, values[1:]))
    with pytest.raises(ConfigError):
        PruneSchedule(1.5)
