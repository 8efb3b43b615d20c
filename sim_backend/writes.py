"""``DeviceRows``: per-device state and parameters as 32-byte rows, and the pulse path that updates them.

A mixin of :class:`sim_backend.array.SimulatedArray` (it needs the array's populations, clock,
noise table, limits and cell cache). Training pulses a few percent of ~10^5 devices per update at
random places, so an update costs what its random gathers cost: each device's state (``DYN_COLUMNS``)
and its drawn parameters for each polarity (``PAR_COLUMNS``) are one 32-byte row each, the size
numpy's ``take`` copies on a fast path, so a pulsed device costs two row gathers and one row
scatter instead of seven scattered float gathers (a third of MP-SGD's layer-1 update).
"""

from __future__ import annotations

import numpy as np

from device_models import physics
from labctl.backend import PulseReport, total_report
from labctl.specs import PulseSpec, ReadSpec

from . import fast_paths

PAR_COLUMNS = ("g_min_s", "g_max_s", "scale", "exponent")
"""Columns of a device's parameter row for one polarity (drawn once from the device-to-device variation)."""

DYN_COLUMNS = ("g", "age_s", "relaxed_at_s", "padding")
"""Columns of a device's state row (padded to 32 bytes, the row size ``take`` copies fastest)."""


def _rows_view(table: np.ndarray) -> np.ndarray:
    """``table`` (C-contiguous, last axis 4 float64) as a flat array of 32-byte rows (a view)."""
    return table.view(np.dtype((np.void, 4 * table.itemsize))).ravel()


def _line_aligned(shape: tuple[int, ...]) -> np.ndarray:
    """Zeros (float64) starting on a 64-byte cache line: a 32-byte row then never straddles two lines
    (malloc aligns to 16 bytes; a misaligned parameter table made every LTD row gather fetch two lines)."""
    size = 8 * int(np.prod(shape))
    raw = np.zeros(size + 64, dtype=np.uint8)
    start = -raw.ctypes.data % 64
    return raw[start:start + size].view(np.float64).reshape(shape)


class DeviceRows:
    """Row-wise device tables and the pulse path; see the module docstring."""

    def _init_rows(self, n_devices: int, initial_state: float, age_s: float) -> None:
        self._par = _line_aligned((n_devices, 2, len(PAR_COLUMNS)))  # [device, polarity (0 LTP, 1 LTD), column]
        self._par_rows = _rows_view(self._par)  # row 2 * device + polarity
        for pop in self._pops:
            for k, (scale, exponent) in enumerate(((pop.up_scale, pop.up_exponent), (pop.down_scale, pop.down_exponent))):
                self._par[pop.index, k] = np.stack([pop.g_min, pop.g_max, scale, exponent], axis=1)
        # contiguous copies for the whole-array conductance after a full relaxation (strided views are 3x slower)
        self._g_min_dev, self._g_max_dev = self._par[:, 0, 0].copy(), self._par[:, 0, 1].copy()
        self._dyn = _line_aligned((n_devices, len(DYN_COLUMNS)))
        self._dyn_rows = _rows_view(self._dyn)
        self._g, self._age_s, self._relaxed_at_s = (self._dyn[:, k] for k in range(3))  # column views
        self._g[:], self._age_s[:] = float(initial_state), float(age_s)
        # conductance of ``_g`` (contiguous: reads and cell updates gather it; valid when ``_cond_valid``)
        self._cond_dev = np.empty(n_devices)
        self._cond_valid = False

    def _par_at(self, idx: np.ndarray, depress: bool) -> np.ndarray:
        """Parameter rows (``PAR_COLUMNS``) of devices ``idx`` for one polarity (``depress``: LTD)."""
        return self._par_rows.take(2 * idx + depress).view(np.float64).reshape(-1, len(PAR_COLUMNS))

    def _do_pulse_and_read_at(self, flat: np.ndarray, counts: np.ndarray, pulses: dict[int, PulseSpec],
                              read: ReadSpec) -> tuple[PulseReport, np.ndarray]:
        """The base class's composition done in one pass (checked there): both polarities in one
        relaxation and cell-update pass, the read-back from the conductances just computed. The devices
        of the two trains are disjoint; relaxing them all before the first differs from two calls by
        the relaxation over one train (< 1e-7 of the state)."""
        up, down = pulses[+1], pulses[-1]
        if not (self._one_pop and up.amplitude_v > 0 > down.amplitude_v and up.width_s == down.width_s):
            return super()._do_pulse_and_read_at(flat, counts, pulses, read)
        every = bool(counts.all())  # zero-length trains: not pulsed, not relaxed (the update rules send none)
        if every and (fused := fast_paths.pulse_and_read(self, flat, counts, up.amplitude_v, up.width_s,
                                                         down.amplitude_v)) is not None:
            stats, readings, noise = fused  # the read-back taken by the pulse kernel
            return self._pulse_report(stats, up, down), self._do_read_at(flat, read, taken=(readings, noise))
        pulsed, signed = flat, counts
        if not every:
            nonzero = counts != 0
            pulsed, signed = flat[nonzero], counts[nonzero]
        stats = self._pulse(pulsed, signed, up.amplitude_v, up.width_s, down.amplitude_v)
        if stats is None:  # the numpy path: count them here
            stats = [x for n in (signed[signed > 0], -signed[signed < 0]) for x in (n.sum(), n.max() if n.size else 0)]
        return self._pulse_report(stats, up, down), self._do_read_at(flat, read)

    def _pulse_report(self, stats, up: PulseSpec, down: PulseSpec) -> PulseReport:
        """The report of both polarities' trains from [LTP pulses, longest, LTD pulses, longest] (the clock advanced)."""
        return total_report(self._report(int(stats[2 * k]), int(stats[2 * k + 1]), pulse)
                            for k, pulse in enumerate((up, down)) if stats[2 * k + 1])

    def _pulse(self, idx: np.ndarray, counts: np.ndarray, amplitude_v: float, width_s: float,
               down_v: float | None = None) -> np.ndarray | None:
        """Apply ``counts[i]`` pulses to flat device ``idx[i]``; cost scales with pulses, not devices.

        With ``down_v`` the counts are signed: negative ones are pulsed at ``down_v`` (one population only).
        Where the compiled kernel covers the array (:mod:`device_models.kernels`) it does all of this and
        returns [LTP pulses, longest LTP train, LTD pulses, longest]; the numpy path (the reference) returns None.
        """
        if idx.size and (stats := fast_paths.pulse(self, idx, counts, amplitude_v, width_s, down_v)) is not None:
            return stats
        if idx.size == 0:
            return None
        dead = self._dead()
        # an open line delivers no pulse: its devices keep their state, but the train is drawn for them too,
        # so every other device gets the noise it gets on a chip without the fault (a resume after the line is
        # mended then continues the uninterrupted run's noise on the healthy devices)
        unreached = None if dead is None or not dead[idx].any() else dead[idx]
        rows = self._dyn.take(idx, axis=0)
        before, age = self._relaxed(idx, rows)
        after, cond = np.empty_like(before), np.empty_like(before)
        if down_v is None:
            trains = [(pop, sel, counts[sel], amplitude_v) for pop, sel in self._split(idx)]
        else:
            trains = [(self._pops[0], sel, np.abs(counts[sel]), v) for sel, v in
                      ((np.flatnonzero(counts > 0), amplitude_v), (np.flatnonzero(counts < 0), down_v)) if sel.size]
        for pop, sel, n, volts in trains:
            on = idx[sel]
            par = self._par_at(on, volts < 0)
            after[sel] = pop.pulse_train(before[sel], n, volts, width_s, par[:, 2], par[:, 3], self.noise)
            if unreached is not None:
                after[sel] = np.where(unreached[sel], before[sel], after[sel])
            cond[sel] = physics.conductance(after[sel], par[:, 0], par[:, 1], self._any_log and self._log_dev[on])
            rewritten = np.abs(after[sel] - before[sel]) >= pop.params.retention.rewrite_threshold
            age[sel] = np.where(rewritten, 0.0, age[sel])
        rows[:, 0], rows[:, 1], rows[:, 2] = after, age, self._clock_s
        self._dyn_rows.put(idx, _rows_view(rows))  # one scatter of whole rows
        if self._cond_valid:
            self._cond_dev.put(idx, cond)
        self._apply_faults()
        self._update_cells(idx)
        return None

    def _relaxed(self, idx: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """States and ages of devices ``idx`` (their gathered ``rows``) relaxed up to the clock.

        The caller stores them with the clock (the pulse that follows changes the states anyway).
        """
        g, age = rows[:, 0].copy(), rows[:, 1].copy()
        dt = self._clock_s - rows[:, 2]
        if dt.any():
            for pop, sel in self._split(idx):
                g[sel] = physics.relax(pop.params.retention, g[sel], age[sel], dt[sel], self._temperature_k)
            age += dt
        return g, age
