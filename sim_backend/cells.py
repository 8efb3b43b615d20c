"""``CellCache``: the cell conductance matrix and its read-noise variance the simulated MVM multiplies by.

A mixin of :class:`sim_backend.array.SimulatedArray` (it needs the array's ``layout``,
``_conductance``, ``_read_sigma``, ``_flush_if_stale`` and ``_flush_relaxation``). Cells are kept up
to date cell by cell on writes and rebuilt after a full relaxation.

Speed: training pulses a few percent of ~10^5 devices per update at random places, so the update
costs what its gathers cost. Side-by-side pairs (reference and sparse layouts) map cell ``c`` to
devices ``2c + offset`` by arithmetic, and a full rebuild reads them as strided views.
"""

from __future__ import annotations

import numpy as np

from device_models import physics
from labctl.layout import CellLayout, Role

from . import fast_paths


class CellCache:
    """Float32 cell matrices for ``read_mvm``; see the module docstring."""

    def _init_cells(self, layout: CellLayout) -> None:
        n_devices = layout.shape[0] * layout.shape[1]
        base = np.arange(layout.shape[0])[:, None] * layout.shape[1]
        self._cell_dev = (base + layout.weight_cols).ravel()  # flat cell -> its weight device
        self._cell_partner = None if layout.partner_cols is None else (base + layout.partner_cols).ravel()
        self._dev_cell = np.full(n_devices, -1, dtype=np.int64)  # device -> flat cell (-1: in none)
        for devices in (self._cell_dev, self._cell_partner):
            if devices is not None:
                self._dev_cell[devices] = np.arange(devices.size)
        self._all_in_cells = bool((self._dev_cell >= 0).all())
        # pairs side by side (reference and sparse layouts): cell c owns devices 2c + offset, arithmetic
        # instead of gathers through the maps above
        cols = layout.shape[1]
        self._pair_offsets = next(((w, p) for w, p in ((0, 1), (1, 0))
                                   if layout.partner_cols is not None
                                   and np.array_equal(layout.weight_cols, np.arange(w, cols, 2))
                                   and np.array_equal(layout.partner_cols, np.arange(p, cols, 2))), None)
        self._cells_cache: tuple[np.ndarray, np.ndarray] | None = None

    def _cells(self) -> tuple[np.ndarray, np.ndarray]:
        """Cell conductance matrix and its read-noise variance (float32).

        Kept up to date cell by cell on writes; rebuilt after a full relaxation, which happens once
        the devices not written since the last one may have relaxed by more than ``RELAX_TOLERANCE``.
        """
        self._flush_if_stale()
        if self._cells_cache is None:
            self._flush_relaxation()
            self._build_cells()
        return self._cells_cache

    def _build_cells(self) -> None:
        """Compute every cell of the cache from the device states as they stand."""
        if fast_paths.build_cells(self):  # compiled: one pass
            return
        g_w, var = self._cell_values(None, self._conductance(None))
        self._cells_cache = tuple(v.astype(np.float32).reshape(self.layout.cell_shape) for v in (g_w, var))

    def _cell_values(self, cells: np.ndarray | None,
                     conductance: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Conductance and read-noise variance of flat ``cells`` (None = all) from the states.

        ``conductance`` of every device, when already computed, saves gathering the inputs.
        """
        lay = self.layout
        cond = self._conductance if conductance is None else conductance.__getitem__
        pairs, every = self._pair_offsets, cells is None

        def devices(offset: int, table: np.ndarray):
            if pairs:  # pairs side by side: the even and odd devices, in cell order
                return slice(pairs[offset], None, 2) if every else 2 * cells + pairs[offset]
            return table if every else table[cells]

        w_idx = devices(0, self._cell_dev)
        g_w, s_w = cond(w_idx), self._read_sigma(w_idx)
        if lay.partner is None:
            return g_w, (s_w * g_w) ** 2
        p_idx = devices(1, self._cell_partner)
        g_p = cond(p_idx)
        if lay.partner is Role.SPARSITY:
            g_w = physics.series_conductance(g_w, g_p)
            return g_w, (s_w * g_w) ** 2
        return physics.differential_conductance(g_w, g_p), (s_w * g_w) ** 2 + (self._read_sigma(p_idx) * g_p) ** 2

    def _update_cells(self, idx: np.ndarray) -> None:
        """Refresh the cached cells that devices ``idx`` belong to (after a write)."""
        if self._cells_cache is None:
            return
        if 4 * idx.size > self._g.size:  # most of the array: recomputing every cell beats gathering
            self._build_cells()
            return
        cells = idx >> 1 if self._pair_offsets else self._dev_cell[idx]
        if not self._all_in_cells:
            cells = cells[cells >= 0]
        g_w, var = self._cell_values(cells)
        self._cells_cache[0].put(cells, g_w)
        self._cells_cache[1].put(cells, var)
