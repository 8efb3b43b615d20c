"""Where the compiled kernels of :mod:`device_models.kernels` apply, and their arguments from a ``SimulatedArray``.

Each function here does one ``SimulatedArray`` step with the kernels (same values as the numpy path,
see :mod:`device_models.compiled`) or returns None when they do not cover the array (kernels off,
several populations, faults, polynomial step shapes): the caller then runs numpy.
"""

from __future__ import annotations

import numpy as np

from device_models import compiled, physics
from device_models.kernels import (N_FLOATS, N_INTS, PULSE_BLOCK, RELAX_BLOCK, _build_cells, _count_signs,
                                   _flat_coordinates, _noisy, _pulse_kernel, _relax_all, _shared_reading)
from labctl.layout import Role

_NO_NOISE = np.empty(0, dtype=np.float32)
_NO_NOISE.flags.writeable = False
_NO_CELLS = np.empty(0, dtype=np.float32)
_NO_READINGS = np.empty(0)


def covers(array) -> bool:
    """Whether the kernels apply to ``array`` now (kernels on, one population, power-law steps, no faults)."""
    if not (compiled.enabled() and array._one_pop):
        return False
    faults = array.faults
    if faults.stuck_on or faults.stuck_off or faults.dead_rows or faults.dead_cols:
        return False
    params = array._pops[0].params
    return params.potentiation.shape.kind == "power" and params.depression.shape.kind == "power"


def flat(array, rows: np.ndarray, cols: np.ndarray) -> np.ndarray | None:
    """``labctl.backend.flat_indices`` for 1-D int64 coordinates that pass it, in one pass (~3 against ~10 us
    for an update of 640 cells; the seam checks every update); None: kernels off, another kind of array, or
    coordinates it refuses (the caller then runs the reference, which names what is wrong)."""
    if not (compiled.enabled() and rows.dtype == cols.dtype == np.int64 and rows.ndim == 1
            and rows.shape == cols.shape):
        return None
    indices, ok = _flat_coordinates(array.shape[0], array.shape[1], rows, cols)
    return indices if ok else None


def pulse(array, idx: np.ndarray, counts: np.ndarray, amplitude_v: float, width_s: float,
          down_v: float | None) -> np.ndarray | None:
    """``DeviceRows._pulse`` in one kernel: [LTP pulses, longest, LTD pulses, longest], or None (not covered)."""
    done = _pulse(array, idx, counts, amplitude_v, width_s, down_v, read=False)
    return None if done is None else done[0]


def pulse_and_read(array, idx: np.ndarray, counts: np.ndarray, up_v: float, width_s: float,
                   down_v: float) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Signed trains (no zero counts) and the read-back of the same devices from their new conductance, in one
    kernel: (stats as :func:`pulse`, readings, the read noise they took), or None (not covered).

    The read noise is drawn after the trains' noise, as a read that follows draws it; a caller whose read
    finds the array stale relaxes it and reads again with the same noise (:func:`noisy_read`)."""
    return _pulse(array, idx, counts, up_v, width_s, down_v, read=True)


def _pulse(array, idx, counts, amplitude_v, width_s, down_v, read: bool):
    """:func:`pulse` (``read`` False: no readings) or :func:`pulse_and_read`."""
    if not covers(array) or amplitude_v == 0 or (down_v is not None and not amplitude_v > 0 > down_v):
        return None
    consts = _constants(array)
    counts = np.asarray(counts, dtype=np.int64)
    if down_v is None:  # one polarity for every device listed
        if counts.min() < 1:  # zero-length trains (the seam never sends them): numpy relaxes them
            return None
        polarity = 0 if amplitude_v > 0 else 1
        sizes = (idx.size, 0) if polarity == 0 else (0, idx.size)
        volts = (amplitude_v, amplitude_v)
    else:
        polarity = -1
        sizes = _count_signs(counts)
        volts = (amplitude_v, down_v)
    fractions = consts.fractions.get((volts, width_s))
    if fractions is None:
        fractions = consts.fractions[volts, width_s] = _fractions(consts.params, volts, width_s)
    up_noise, down_noise = (_read_only(array.noise.standard_normal(n)) if consts.c2c and n else _NO_NOISE
                            for n in sizes)  # (LTP's drawn first, as the numpy path draws them)
    read_noise, readings = (_read_only(array.noise.standard_normal(idx.size)), np.empty(idx.size)) if read else \
        (_NO_NOISE, _NO_READINGS)
    if not array._cond_valid:  # the cells need every device's conductance (numpy computes it on the next read)
        array._conductance(None)
    cells = array._cells_cache  # updated cell by cell however many devices were pulsed (numpy rebuilds them
    mode = -1 if cells is None else consts.partner_mode  # all past a quarter of the array: the same values)
    cells_g, cells_var = (_NO_CELLS, _NO_CELLS) if mode < 0 else (c.reshape(-1) for c in cells)
    stats = _pulse_kernel(array._dyn, array._par, array._cond_dev, array._log_dev, idx, counts, polarity, mode,
                          consts.scalars_at(array), fractions, up_noise, down_noise, cells_g, cells_var, consts.maps,
                          *_scratch(array, idx.size), read_noise, readings)
    return stats, readings, read_noise


class _Constants:
    """What the pulse kernel needs of an array that does not change between calls."""

    def __init__(self, array) -> None:
        self.params = params = array._pops[0].params
        ret = params.retention
        self.scalars = (ret.t0_s, ret.relaxed_state, float(params.variation.c2c_write), ret.rewrite_threshold,
                        float(params.variation.read_noise), float(array._any_log))
        """t0, relaxed state, c2c, rewrite threshold, read noise, any log-scale device (after clock and nu)."""
        self.c2c = self.scalars[2]
        self._buffer = np.array([0.0, 0.0, *self.scalars])
        self.partner_mode = {None: 0, Role.SPARSITY: 1}.get(array.layout.partner, 2)
        pairs = array._pair_offsets or (-1, -1)
        partner = array._cell_partner if array._cell_partner is not None else array._cell_dev
        self.maps = (np.array(pairs), array._dev_cell, array._cell_dev, partner)
        self.fractions: dict = {}

    def scalars_at(self, array) -> np.ndarray:
        """The pulse kernel's scalars now (clock, nu, then ``scalars``), in a buffer kept between calls."""
        self._buffer[0], self._buffer[1] = array._clock_s, array._retention_rates()[0][0]
        return self._buffer


def _constants(array) -> _Constants:
    consts = getattr(array, "_kernel_constants", None)
    if consts is None:
        consts = array._kernel_constants = _Constants(array)
    return consts


def _fractions(params, volts: tuple[float, float], width_s: float) -> np.ndarray:
    """Switched fraction of one LTP pulse at ``volts[0]`` and one LTD pulse at ``volts[1]`` (each array keeps
    them in ``_Constants.fractions``: the training update asks for the same two every call)."""
    out = np.array([float(physics.switched_fraction(side.kinetics, v, width_s))
                    for side, v in ((params.potentiation, volts[0]), (params.depression, volts[1]))])
    out.flags.writeable = False
    return out


def noisy_read(array, flat: np.ndarray, noise: np.ndarray | None = None) -> np.ndarray | None:
    """``array._noisy(array._conductance(flat), flat)`` in one pass (``noise``: its standard normals, default
    drawn now), or None (not covered)."""
    if not covers(array):
        return None
    if not array._cond_valid:
        array._conductance(None)
    noise = _read_only(array.noise.standard_normal(flat.size)) if noise is None else noise
    return _noisy(array._cond_dev, flat, noise, np.float32(array._read_sigma(None)))


def shared_reading(array, g_cell: np.ndarray, g_var: np.ndarray, noise: np.ndarray) -> np.ndarray | None:
    """``g_cell + sqrt(g_var) * noise`` (``SimulatedArray._shared_reading``) in one pass into a buffer the
    array keeps (the caller multiplies it at once), or None (kernels off, or not float32 contiguous cells)."""
    if not (compiled.enabled() and g_cell.dtype == g_var.dtype == noise.dtype == np.float32
            and g_cell.flags.c_contiguous and g_var.flags.c_contiguous):
        return None
    out = getattr(array, "_shared_buffer", None)
    if out is None or out.shape != g_cell.shape:
        out = array._shared_buffer = np.empty(g_cell.shape, dtype=np.float32)
    _shared_reading(g_cell.reshape(-1), g_var.reshape(-1), noise.reshape(-1), out.reshape(-1))
    return out


def relax_all(array) -> bool:
    """``SimulatedArray._relax`` in one pass that also keeps every conductance valid (False: not covered,
    numpy relaxes them)."""
    if not covers(array):
        return False
    ret = array._pops[0].params.retention
    factor = getattr(array, "_relax_block", None)
    if factor is None:
        factor = array._relax_block = np.empty(RELAX_BLOCK)
    if _relax_all(array._dyn, array._cond_dev, array._g_min_dev, array._g_max_dev, array._log_dev, array._any_log,
                  array._clock_s, array._retention_rates()[0][0], ret.t0_s, ret.relaxed_state,
                  factor):
        array._cond_valid = True
    return True


def build_cells(array) -> bool:
    """``CellCache._build_cells`` in one pass (False: not covered, numpy builds them)."""
    if not covers(array):
        return False
    if not array._cond_valid:
        array._conductance(None)
    consts = _constants(array)
    shape = array.layout.cell_shape
    cells_g, cells_var = np.empty(shape, dtype=np.float32), np.empty(shape, dtype=np.float32)
    _build_cells(array._cond_dev, cells_g.reshape(-1), cells_var.reshape(-1), consts.maps[2], consts.maps[3],
                 consts.partner_mode, consts.scalars[4])
    array._cells_cache = (cells_g, cells_var)
    return True


def _read_only(noise: np.ndarray) -> np.ndarray:
    """Noise as a read-only array, as the table serves it (a kernel is compiled per array flavour)."""
    if noise.flags.writeable:  # fresh draws (a request longer than the table)
        noise = noise.view()
        noise.flags.writeable = False
    return noise


def _scratch(array, size: int) -> tuple[np.ndarray, np.ndarray]:
    """The pulse kernel's work buffers of ``array`` (one block; kept: fresh ones page-fault)."""
    scratch = getattr(array, "_kernel_scratch", None)
    if scratch is None:
        scratch = array._kernel_scratch = (np.empty((N_FLOATS, PULSE_BLOCK)),
                                           np.empty((N_INTS, PULSE_BLOCK), dtype=np.int64))
    return scratch
