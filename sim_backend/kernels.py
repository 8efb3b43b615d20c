"""Compiled (numba) kernels of the simulator's training update: the scattered memory work, not the physics.

A training update pulses a few percent to ~40 % of a layer's ~10^5 devices at scattered places.
The physics of a pulse train (:func:`device_models.physics.relax`, ``power_train``, ``conductance``)
is ~30 vectorised numpy passes over the pulsed devices and stays numpy (numpy's SIMD exp/log/pow
take ~0.7 ns a value; a compiled scalar loop calls the C library at 3-5 ns, so a fused kernel doing
the physics is slower). What the kernels replace is everything around it: picking the trains of
each polarity out of the signed counts, gathering each device's state and parameter rows, storing
them back, updating the cached cells the matrix-vector product multiplies by, and the noisy
read-back, each a single pass instead of a dozen fancy-indexing passes. The results are bitwise
those of the numpy path (same physics calls on the same values in the same order, the same noise
slices); see :mod:`labctl.compiled`. :func:`covers` says where the kernels apply (one population,
no faults); elsewhere the caller runs numpy.
"""

from __future__ import annotations

import numpy as np

from labctl import compiled
from labctl.layout import Role


@compiled.kernel
def _gather(dyn, par, idx, counts, polarity, rows, pars, dev, lengths, stats):
    """Rows of the pulsed devices, LTP trains first, each polarity in device order; returns (devices, LTP trains).

    ``polarity`` -1: ``counts`` are signed (LTP > 0, LTD < 0, zeros skipped); 0 / 1: every device gets
    an LTP / LTD train of ``counts[i]`` pulses (zeros included). Fills ``rows`` (state rows),
    ``pars`` (parameter rows of the train's polarity), ``dev``, ``lengths`` and ``stats`` =
    [LTP pulses, longest LTP train, LTD pulses, longest LTD train].
    """
    n_down = n_kept = 0
    for i in range(idx.size):
        c = counts[i]
        n_down += polarity == 1 or (polarity < 0 and c < 0)
        n_kept += polarity >= 0 or c != 0
    n_up = n_kept - n_down
    slot = np.array([0, n_up])  # next place of an LTP / LTD train
    stats[:] = 0
    for i in range(idx.size):  # no branch on the polarity: a mispredicted one discards the loads in flight
        c = counts[i]
        if polarity < 0 and c == 0:
            continue
        side = np.int64(polarity == 1 or (polarity < 0 and c < 0))
        n = abs(c)
        j = slot[side]
        slot[side] = j + 1
        d = idx[i]
        dev[j], lengths[j] = d, n
        for col in range(4):
            rows[j, col] = dyn[d, col]
            pars[j, col] = par[d, side, col]
        stats[2 * side] += n
        stats[2 * side + 1] = max(stats[2 * side + 1], n)
    return n_kept, n_up


@compiled.kernel
def _scatter(dyn, cond, dev, after, age, clock, cond_new, cells_g, cells_var, dev_cell, cell_dev, cell_partner,
             partner_mode, pairs, sigma):
    """Store the devices' new rows and conductances, then refresh their cells (``CellCache._cell_values``).

    ``partner_mode``: -1 no cell cache to update, 0 no partner, 1 sparsity, 2 reference; ``pairs``:
    (weight, partner) offsets when cell ``c`` owns devices ``2c + offset`` (else (-1, -1): the maps).
    """
    for j in range(dev.size):
        d = dev[j]
        dyn[d, 0], dyn[d, 1], dyn[d, 2] = after[j], age[j], clock
        cond[d] = cond_new[j]
    if partner_mode < 0:
        return
    for j in range(dev.size):  # after every write: a cell's two devices may both have been pulsed
        if pairs[0] >= 0:
            cell = dev[j] >> 1
            w, p = 2 * cell + pairs[0], 2 * cell + pairs[1]
        else:
            cell = dev_cell[dev[j]]
            if cell < 0:
                continue
            w, p = cell_dev[cell], cell_partner[cell]
        g_w = cond[w]
        if partner_mode == 0:
            var = (sigma * g_w) ** 2
        else:
            g_p = cond[p]
            if partner_mode == 1:
                g_w = g_w * g_p / (g_w + g_p)
                var = (sigma * g_w) ** 2
            else:
                var = (sigma * g_w) ** 2 + (sigma * g_p) ** 2
                g_w = g_w - g_p
        cells_g[cell], cells_var[cell] = g_w, var


@compiled.kernel
def _noisy(cond, flat, noise, sigma):
    """``cond[flat] * (1 + sigma * noise)`` with the noise factor in float32, as numpy computes it."""
    out = np.empty(flat.size)
    one = np.float32(1.0)
    for i in range(flat.size):
        out[i] = cond[flat[i]] * np.float64(one + sigma * noise[i])
    return out


# -- glue: which arrays the kernels cover, and their arguments -------------------------------------
_NO_CELLS = np.empty(0, dtype=np.float32)


def covers(array) -> bool:
    """Whether the kernels apply to ``array`` now (numba on, one population, no faults)."""
    if not (compiled.enabled() and array._one_pop):
        return False
    faults = array.faults
    return not (faults.stuck_on or faults.stuck_off or faults.dead_rows or faults.dead_cols)


def gather(array, idx: np.ndarray, counts: np.ndarray, amplitude_v: float, down_v: float | None):
    """The trains of ``DeviceRows._pulse`` gathered LTP first: (devices, lengths, state rows, parameter
    rows, LTP trains, stats [LTP pulses, longest, LTD pulses, longest]), or None (not covered)."""
    if not covers(array) or amplitude_v == 0 or (down_v is not None and not amplitude_v > 0 > down_v):
        return None
    polarity = -1 if down_v is not None else (0 if amplitude_v > 0 else 1)
    rows, pars, ints = _scratch(array, idx.size)
    stats = np.empty(4, dtype=np.int64)
    m, n_up = _gather(array._dyn, array._par, idx, np.asarray(counts, dtype=np.int64), polarity, rows, pars,
                      ints[0], ints[1], stats)
    return ints[0, :m], ints[1, :m], rows[:m], pars[:m], n_up, stats


def scatter(array, dev: np.ndarray, after: np.ndarray, age: np.ndarray, cond: np.ndarray) -> None:
    """Store pulsed devices ``dev`` (their new state, age and conductance) and refresh their cells."""
    if not array._cond_valid:  # the cells need every device's conductance (numpy computes it on the next read)
        array._conductance(None)
    cells = array._cells_cache
    rebuild = cells is not None and 4 * dev.size > array._g.size  # as ``_update_cells``: most of the array
    mode = -1 if cells is None or rebuild else {None: 0, Role.SPARSITY: 1}.get(array.layout.partner, 2)
    cells_g, cells_var = (_NO_CELLS, _NO_CELLS) if mode < 0 else (c.reshape(-1) for c in cells)
    partner = array._cell_partner if array._cell_partner is not None else array._cell_dev
    _scatter(array._dyn, array._cond_dev, dev, after, age, array._clock_s, cond, cells_g, cells_var,
             array._dev_cell, array._cell_dev, partner, mode, np.array(array._pair_offsets or (-1, -1)),
             float(array._read_sigma(None)))
    if rebuild:
        array._build_cells()


def noisy_read(array, flat: np.ndarray) -> np.ndarray | None:
    """``array._noisy(array._conductance(flat), flat)`` in one pass, or None (not covered)."""
    if not covers(array):
        return None
    if not array._cond_valid:
        array._conductance(None)
    noise = array.noise.standard_normal(flat.size)
    if noise.flags.writeable:  # fresh draws (longer than the table): numba compiles per array flavour
        noise = noise.view()
        noise.flags.writeable = False
    return _noisy(array._cond_dev, flat, noise, np.float32(array._read_sigma(None)))


def _scratch(array, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gather buffers of ``array`` grown to ``size`` devices, kept between calls (fresh ones page-fault)."""
    scratch = getattr(array, "_kernel_scratch", None)
    if scratch is None or len(scratch[0]) < size:
        size = max(size, 1024)
        scratch = (np.empty((size, 4)), np.empty((size, 4)), np.empty((2, size), dtype=np.int64))
        array._kernel_scratch = scratch
    return scratch
