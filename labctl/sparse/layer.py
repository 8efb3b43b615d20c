"""A sparse analog layer: each weight is a unit cell of a sparsity FeFET gating a weight FeFET.

On a ``CellLayout.sparse`` backend ``read_mvm`` returns the series-gated cell currents, i.e. the
Hadamard product ``W_eff = S * W`` physically, with no index memory anywhere. Weights are the cell
conductances over the weight device's nominal ``g_max`` (so ``w`` in ~[0.02, 1], pruned ~0): the
layer is non-negative, which a softmax classifier tolerates (its logits are shift-invariant) and
which keeps ``S * W`` honest (a pruned cell contributes nothing). With ``centred=True`` the row
inputs are each sample's features minus their mean (signed read voltages), so the cells act as
signed weights ``w_ij - mean_i(w_ij)`` per column while every cell still carries ``S * W``. The DAC/ADC path, backward pass and
step sizing are :class:`labctl.training.AnalogLayer`'s. Updates skip pruned cells, so their weight
devices hold what they had and regrowth restores it; they go either cell by cell (exact per-cell
counts) or as a vectorial approximate update (:mod:`labctl.sparse.vau`).
"""

from __future__ import annotations

import numpy as np

from device_models import physics
from device_models.params import ChipModel
from labctl.backend import ArrayBackend
from labctl.cellwise import CellByCell
from labctl.errors import ConfigError, field_error
from labctl.layout import Role
from labctl.specs import PulseSpec
from labctl.training.analog import AnalogLayer, Converters

from .vau import plan_vau

UPDATES = ("cell", "vau")
"""How weight updates reach the devices."""


class SparseAnalogLayer(AnalogLayer):
    """``fan_in x fan_out`` sparsity-gated cells of ``backend`` (top-left corner of its cell grid).

    ``update="cell"`` programs every cell its exact count (on the simulator in one call, which is
    physically identical; ``cell_by_cell=True`` addresses one device per call as a bench without
    vector operations must); ``update="vau"`` uses two vector steps.
    """

    PARTNER = Role.SPARSITY

    def __init__(self, backend: ArrayBackend, model: ChipModel, fan_in: int, fan_out: int, gain: float = 12.0,
                 converters: Converters | None = None, weight_reads: int = 1, update: str = "cell",
                 cell_by_cell: bool = False, max_pulses: int = 15, centred: bool = False) -> None:
        if update not in UPDATES:
            raise field_error(ConfigError, "update", update, f"choose one of {', '.join(UPDATES)}")
        self.update, self.cell_by_cell, self.max_pulses = update, cell_by_cell, int(max_pulses)
        self.centred = bool(centred)
        super().__init__(backend, model, fan_in, fan_out, gain, converters, weight_reads)
        sp = model.sparsity_point
        self.sparsity_pulses = {+1: PulseSpec(sp.write_amplitude_v, sp.write_width_s, limits=backend.limits),
                                -1: PulseSpec(-sp.write_amplitude_v, sp.write_width_s, limits=backend.limits)}

    def _check_cells(self, layout, model: ChipModel) -> None:
        if layout.partner is not Role.SPARSITY or model.sparsity is None:
            raise field_error(ConfigError, "layout.partner", getattr(layout.partner, "value", None),
                              "sparse training needs CellLayout.sparse and a model with a sparsity device")

    def _default_converters(self, fan_in: int) -> Converters:
        # x in [0, 1] and w in [0, 1]: x @ w reaches fan_in, so the ADC spans half of it by default;
        # centred inputs (signed, zero-mean) cancel most of the column current, so a quarter of that.
        return Converters(out_bound=max(fan_in / (8 if self.centred else 2), 1.0))

    def _weight_unit_s(self, model: ChipModel) -> float:
        return model.weight.g_max_s  # the normalising conductance (no reference device)

    def _init_cells(self) -> None:
        shape = (self.fan_in, self.fan_out)
        self.s_threshold_s = float(np.sqrt(self.model.sparsity.g_min_s * self.model.sparsity.g_max_s))
        self.sparsity_devices = self.partner_devices
        self.g_weight = np.zeros(shape)
        self.g_sparsity = np.zeros(shape)
        self.s = np.ones(shape, dtype=bool)
        """Sparsity map as last read: True where the sparsity device conducts."""
        self.last_counts = np.zeros(shape, dtype=np.int64)
        self.shortfall = np.zeros(shape, dtype=np.int64)
        """Signed pulses the last update asked for but did not deliver (VAU's approximation; 0 cell by cell)."""

    # -- reading ---------------------------------------------------------------------------------
    def refresh(self, cells: np.ndarray | None = None) -> None:
        """Re-read ``cells`` (a ``fan_in x fan_out`` mask; None = every weight and sparsity device)."""
        lay = self.backend.layout
        if cells is None:
            g = self._read(self.weight_devices | self.sparsity_devices)
            self.g_weight = lay.to_cells(g)[: self.fan_in, : self.fan_out]
            self.g_sparsity = lay.to_cells(g, Role.SPARSITY)[: self.fan_in, : self.fan_out]
        else:
            rows, cols = np.nonzero(cells)
            if rows.size == 0:
                return
            mask = np.zeros(lay.shape, dtype=bool)
            mask[rows, lay.weight_cols[cols]] = True
            self.g_weight[rows, cols] = self._read(mask)[rows, lay.weight_cols[cols]]
        self._compose()

    def digital_state(self) -> dict[str, np.ndarray]:
        """The readings the layer keeps between updates (what a checkpoint must hold besides ``w``)."""
        return {"g_weight": self.g_weight, "g_sparsity": self.g_sparsity}

    def restore_digital(self, state: dict[str, np.ndarray]) -> None:
        """Take back :meth:`digital_state` (a resume on a simulated chip restored to the same instant)."""
        self.g_weight, self.g_sparsity = np.array(state["g_weight"]), np.array(state["g_sparsity"])
        self._compose()

    def _compose(self) -> None:
        """Sparsity map and effective weights (series weight + sparsity conductance) from the readings."""
        self.s = self.g_sparsity > self.s_threshold_s
        series = physics.series_conductance(self.g_weight, self.g_sparsity)
        self.w = (series / self.half_range_s).astype(np.float32)

    @property
    def weight_state(self) -> np.ndarray:
        """Weight-device conductances over ``g_max`` whatever the sparsity (what regrowth restores)."""
        return (self.g_weight / self.half_range_s).astype(np.float32)

    @property
    def sparsity(self) -> float:
        """Fraction of the layer's cells whose sparsity device is off."""
        return float(1 - self.s.mean())

    # -- forward / backward ----------------------------------------------------------------------
    def _inputs(self, x: np.ndarray) -> np.ndarray:
        """What the row DACs apply: ``x`` itself, or ``x`` minus its per-sample mean when ``centred``."""
        return x - x.mean(axis=1, keepdims=True) if self.centred else x

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Centred inputs make the non-negative cells act as signed weights ``w_ij - mean_i(w_ij)``:
        the read voltages are signed (``read_mvm`` takes [-1, 1]) and every cell still carries
        ``S * W``; the periphery only subtracts each sample's mean input before the DACs."""
        return super().forward(self._inputs(x))

    def backward(self, x: np.ndarray, delta: np.ndarray,
                 input_grad: bool = True) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
        grad_x, grad_w, grad_b = super().backward(self._inputs(x), delta, input_grad)
        if self.centred and input_grad:  # through x - mean(x)
            grad_x = grad_x - grad_x.mean(axis=1, keepdims=True)
        return grad_x, grad_w, grad_b

    # -- writing ---------------------------------------------------------------------------------
    def _writer(self):
        return CellByCell(self.backend) if self.cell_by_cell else self.backend

    def apply_counts(self, counts: np.ndarray) -> tuple[int, int]:
        """Pulse the active cells' weight devices (LTP where positive); pruned cells are skipped.

        Returns (pulses delivered, bench transactions); the pulsed devices are read back.
        """
        counts = np.where(self.s, counts, 0)
        self.shortfall = np.zeros(counts.shape, dtype=np.int64)
        self.last_counts = counts
        if not counts.any():
            return 0, 0
        report = self._apply_vau(counts) if self.update == "vau" else self._apply_cellwise(counts)
        touched = counts != 0
        self.refresh(touched)
        return report

    def apply_counts_at(self, flat: np.ndarray, signed: np.ndarray) -> tuple[int, int]:
        """:meth:`apply_counts` of the optimisers' form (flat ``fan_in x fan_out`` cells, signed counts): VAU
        plans over the whole grid of counts, so the grid is rebuilt here."""
        counts = np.zeros((self.fan_in, self.fan_out), dtype=np.int64)
        counts.flat[flat] = signed
        return self.apply_counts(counts)

    def _apply_cellwise(self, counts: np.ndarray) -> tuple[int, int]:
        lay = self.backend.layout
        signed = np.zeros(lay.shape, dtype=np.int64)
        signed[: self.fan_in, lay.weight_cols[: self.fan_out]] = counts
        pulses = transactions = 0
        for sign in (+1, -1):
            mask = signed * sign > 0
            if mask.any():
                report = self._writer().apply_pulses(mask, self.pulses[sign], np.abs(signed))
                pulses, transactions = pulses + report.pulses, transactions + report.transactions
        return pulses, transactions

    def _apply_vau(self, counts: np.ndarray) -> tuple[int, int]:
        """Step 1 by column vectors, step 2 by row vectors (see :mod:`labctl.sparse.vau`)."""
        lay = self.backend.layout
        plan = plan_vau(counts, self.max_pulses)
        self.shortfall = counts - plan.delivered()
        pulses = transactions = 0
        n_rows, n_cols = lay.shape
        for sign in (+1, -1):
            selected = plan.sign == sign
            for j in np.flatnonzero(selected.any(axis=0) & (plan.col_counts > 0)):
                rows = np.zeros(n_rows, dtype=bool)
                rows[: self.fan_in] = selected[:, j]
                cols = np.zeros(n_cols, dtype=bool)
                cols[lay.weight_cols[j]] = True
                report = self.backend.apply_vector_update(rows, cols, self.pulses[sign], int(plan.col_counts[j]))
                pulses, transactions = pulses + report.pulses, transactions + report.transactions
        for sign in (+1, -1):
            selected = plan.sign == sign
            for i in np.flatnonzero(selected.any(axis=1) & (plan.row_counts > 0)):
                rows = np.zeros(n_rows, dtype=bool)
                rows[i] = True
                cols = np.zeros(n_cols, dtype=bool)
                cols[lay.weight_cols[: self.fan_out][selected[i]]] = True
                report = self.backend.apply_vector_update(rows, cols, self.pulses[sign], int(plan.row_counts[i]))
                pulses, transactions = pulses + report.pulses, transactions + report.transactions
        return pulses, transactions

    def set_sparsity(self, cells: np.ndarray, on: bool) -> tuple[int, int]:
        """Switch the sparsity devices of ``cells`` on (regrow) or off (prune): one full-switching pulse each.

        Returns (pulses, bench transactions); the sparsity devices are read back.
        """
        cells = np.asarray(cells, dtype=bool)
        if not cells.any():
            return 0, 0
        full = np.zeros(self.backend.layout.cell_shape, dtype=bool)
        full[: self.fan_in, : self.fan_out] = cells
        devices = self.backend.layout.devices(full, Role.SPARSITY)
        report = self._writer().apply_pulses(devices, self.sparsity_pulses[+1 if on else -1], 1)
        g = self._read(devices)
        rows, cols = np.nonzero(cells)
        self.g_sparsity[rows, cols] = g[rows, self.backend.layout.partner_cols[cols]]
        self._compose()
        return report.pulses, report.transactions
