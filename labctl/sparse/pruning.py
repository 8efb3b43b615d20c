"""Pruning and regrowth at a granularity: which cells' sparsity devices to switch off or on.

Cells are grouped (element, row, column, block or the whole layer); a group is pruned or regrown
as a whole. Pruning switches off the active groups of smallest mean weight magnitude until the
target sparsity is reached (rounded down to whole groups); regrowth switches on the pruned groups
of largest mean gradient magnitude. :class:`PruneSchedule` ramps the target over the epochs
(Zhu & Gupta's cubic schedule) and optionally drops and regrows a fraction each time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from labctl.errors import ConfigError, field_error

GRANULARITIES = ("element", "row", "column", "block", "layer")
"""Element-wise (finest), vector-wise (row or column), block-wise, layer-wise (coarsest)."""


def group_ids(shape: tuple[int, int], granularity: str, block: tuple[int, int] = (5, 3)) -> np.ndarray:
    """Group index of every cell of a ``shape`` layer (groups numbered 0..n-1)."""
    rows, cols = np.indices(shape)
    if granularity == "element":
        return rows * shape[1] + cols
    if granularity == "row":
        return rows
    if granularity == "column":
        return cols
    if granularity == "block":
        bh, bw = block
        if bh < 1 or bw < 1:
            raise field_error(ConfigError, "block", block, "needs positive sides")
        return (rows // bh) * (-(-shape[1] // bw)) + cols // bw
    if granularity == "layer":
        return np.zeros(shape, dtype=np.int64)
    raise field_error(ConfigError, "granularity", granularity, f"choose one of {', '.join(GRANULARITIES)}")


def _group_mean(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    n = int(groups.max()) + 1
    return np.bincount(groups.ravel(), np.abs(values).ravel(), n) / np.maximum(np.bincount(groups.ravel(), None, n), 1)


def prune_mask(weights: np.ndarray, active: np.ndarray, target: float, groups: np.ndarray) -> np.ndarray:
    """Cells to switch off so that at least ``target`` of the groups are off (smallest |w| first)."""
    if not 0 <= target <= 1:
        raise field_error(ConfigError, "sparsity", target, "must be within [0, 1]")
    n = int(groups.max()) + 1
    group_on = np.bincount(groups.ravel(), active.ravel(), n) > 0
    want_off = int(np.floor(target * n + 1e-9)) - int((~group_on).sum())
    if want_off <= 0:
        return np.zeros_like(active)
    score = np.where(group_on, _group_mean(np.where(active, weights, 0), groups), np.inf)
    chosen = np.argsort(score, kind="stable")[:want_off]
    return np.isin(groups, chosen) & active


def regrow_mask(gradient: np.ndarray, active: np.ndarray, count: int, groups: np.ndarray) -> np.ndarray:
    """Cells of the ``count`` pruned groups with the largest mean |gradient| (to switch back on)."""
    n = int(groups.max()) + 1
    group_off = np.bincount(groups.ravel(), (~active).ravel(), n) == np.bincount(groups.ravel(), None, n)
    if count <= 0 or not group_off.any():
        return np.zeros_like(active)
    score = np.where(group_off, _group_mean(gradient, groups), -np.inf)
    chosen = np.argsort(-score, kind="stable")[: min(count, int(group_off.sum()))]
    return np.isin(groups, chosen) & ~active


@dataclass(frozen=True)
class PruneSchedule:
    """When and how far to prune during training."""

    target: float = 0.75
    """Final sparsity (fraction of groups off)."""
    start_epoch: int = 2
    """First epoch after which pruning happens (the weights need to learn what matters first)."""
    end_epoch: int = 6
    """Epoch after which the target is reached."""
    regrow_fraction: float = 0.1
    """After each pruning step past the first, this fraction of the pruned groups is regrown by
    gradient magnitude and as many active groups pruned by weight magnitude (drop and grow)."""

    def __post_init__(self) -> None:
        if not 0 <= self.target < 1:
            raise field_error(ConfigError, "PruneSchedule.target", self.target, "must be within [0, 1)")
        if not 1 <= self.start_epoch <= self.end_epoch:
            raise field_error(ConfigError, "PruneSchedule.end_epoch", self.end_epoch, "needs 1 <= start_epoch <= end_epoch")
        if not 0 <= self.regrow_fraction <= 1:
            raise field_error(ConfigError, "PruneSchedule.regrow_fraction", self.regrow_fraction, "must be within [0, 1]")

    def sparsity_after(self, epoch: int) -> float:
        """Target sparsity once ``epoch`` has finished (0 before ``start_epoch``); training prunes to it
        before the next epoch, so the network retrains after every step."""
        if epoch < self.start_epoch:
            return 0.0
        if epoch >= self.end_epoch:
            return self.target
        progress = (epoch - self.start_epoch + 1) / (self.end_epoch - self.start_epoch + 1)
        return self.target * (1 - (1 - progress) ** 3)


def prune_layer(layer, target: float, groups: np.ndarray) -> tuple[int, int]:
    """Switch off groups of ``layer`` (a SparseAnalogLayer) by weight magnitude up to ``target``."""
    return layer.set_sparsity(prune_mask(layer.weight_state, layer.s, target, groups), on=False)


def regrow_layer(layer, gradient: np.ndarray, count: int, groups: np.ndarray) -> tuple[int, int]:
    """Switch on the ``count`` pruned groups of ``layer`` with the largest gradient magnitude."""
    return layer.set_sparsity(regrow_mask(gradient, layer.s, count, groups), on=True)


def scheduled_step(layer, schedule: PruneSchedule, epoch: int, gradient: np.ndarray,
                   groups: np.ndarray) -> tuple[int, int]:
    """Prune to the schedule after ``epoch``; then drop ``regrow_fraction`` of the pruned count more
    (smallest weights) and regrow as many of the earlier pruned groups (largest gradients)."""
    target = schedule.sparsity_after(epoch)
    pulses, transactions = prune_layer(layer, target, groups)
    n_groups = int(groups.max()) + 1
    n_off = n_groups - int(np.unique(groups[layer.s]).size)
    swap = int(round(schedule.regrow_fraction * n_off)) if epoch > schedule.start_epoch else 0
    if swap and n_off < n_groups:
        before = layer.s.copy()
        drop = prune_mask(layer.weight_state, layer.s, (n_off + swap) / n_groups, groups)
        p, t = layer.set_sparsity(drop, on=False)
        q, u = layer.set_sparsity(regrow_mask(gradient, before, swap, groups), on=True)
        pulses, transactions = pulses + p + q, transactions + t + u
    return pulses, transactions
