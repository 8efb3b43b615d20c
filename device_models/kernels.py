"""Compiled (numba) kernels of the simulator's training path: the pulse update, full relaxation, cells, read-back.

The pulse kernel does what :meth:`DeviceRows._pulse <sim_backend.writes.DeviceRows._pulse>` does in
~40 numpy passes and a dozen fancy-indexing gathers per polarity (plus ~150 us of fixed cost a call),
in blocks of trains: gather each pulsed device's state and parameter rows (the noise of its train
picked by polarity, as the numpy path draws it), relax it up to the clock
(:func:`device_models.physics.relax`), apply the closed-form train
(:func:`~device_models.physics.power_train`), compute its conductance
(:func:`~device_models.physics.conductance`), store the rows and refresh the cells the MVM multiplies
by. The formulas are physics.py's, in cheaper equal forms where a transcendental can go (documented
at each): a kernel run equals the numpy run to ~1e-15 and a seed gives the same training metrics
(see :mod:`device_models.compiled`). :mod:`sim_backend.fast_paths` says where they apply and calls them.
All kernels live in this one file: numba's cache is invalidated per source file, so a kernel and
the helpers it inlines must change together.

Speed notes (measured on the training machine, a layer of 784 x 256 cells): a gather keeps many
scattered loads in flight only when its loop is short (and prefetches a few dozen rows ahead), so
gathering is its own pass; every other step is its own loop without branches or calls, which LLVM
vectorises (hence the series for short relaxations and the own log/exp: the C library's cost ~4 ns
a call and stop vectorisation); a block of 2048 trains keeps its rows in cache from gather to store;
the tables start on cache lines (:func:`sim_backend.writes._line_aligned`).
"""

from __future__ import annotations

import numpy as np

from . import compiled

_prefetch = compiled.prefetch

ROOM_CAP = 1 - 1e-9
"""Largest fraction of the room one pulse may take (as in :func:`device_models.physics.power_train`)."""

PRODUCT_MAX_PULSES = 16
"""Trains up to this long (the training default caps them at 15) take the n-pulse moments as products
(``keep**n``, ``sum (1+rel)**j``), not exp/log."""

PREFETCH_AHEAD = 16
"""Devices the gather prefetches ahead (16-64 measured alike; 0 is ~30 % slower when the rows are not cached)."""

SERIES_MAX_X = 0.05
"""Relaxations with ``dt / (t0 + age)`` below this take the series (``log1p`` to x**14: the next term is < 1e-18 of it)."""

RELAX_BLOCK = 2048
"""Devices a full relaxation handles per block (its rows stay in cache between the block's passes)."""

PULSE_BLOCK = 2048
"""Trains the pulse kernel handles per block (their buffers and rows stay in L2 from gather to store)."""

N_FLOATS = 14
"""Float work buffers of the pulse kernel."""

N_INTS = 4
"""Integer work buffers of the pulse kernel."""


@compiled.kernel
def _relax_factor(x, nu):
    """``(1 + x) ** -nu`` (``x = dt / (t0 + age)``): the factor :func:`device_models.physics.relax` applies to
    ``g - relaxed_state``, as series without branches (a loop over devices vectorises: ~1 ns a device against
    ~8 ns for the C library's log1p and exp); NaN outside their range (``x >= SERIES_MAX_X`` or ``nu x >= 0.01``),
    where :func:`_relax_factor_exact` takes over."""
    log1p = x * (1.0 - x * (1.0 / 2 - x * (1.0 / 3 - x * (1.0 / 4 - x * (1.0 / 5 - x * (1.0 / 6 - x * (
        1.0 / 7 - x * (1.0 / 8 - x * (1.0 / 9 - x * (1.0 / 10 - x * (1.0 / 11 - x * (1.0 / 12 - x * (
            1.0 / 13 - x / 14)))))))))))))  # to x**14: the next term is < 1e-18 of the sum for x < 0.05
    y = -nu * log1p  # |y| < 0.01: exp to y**6, the next term < 2e-18
    factor = 1.0 + y * (1.0 + y * (1.0 / 2 + y * (1.0 / 6 + y * (1.0 / 24 + y * (1.0 / 120 + y / 720)))))
    return factor if x < SERIES_MAX_X and nu * x < 0.01 else np.nan


@compiled.kernel
def _relax_factor_exact(x, nu):
    """``(1 + x) ** -nu`` for any ``x`` (long waits)."""
    return np.exp(-nu * np.log1p(x))


@compiled.kernel
def _conductance(g, g_min, g_max, log_scale):
    """:func:`device_models.physics.conductance` of one device."""
    return g_min * (g_max / g_min) ** g if log_scale else g_min + g * (g_max - g_min)


@compiled.kernel
def _cell(cond, w, p, partner_mode, sigma):
    """(conductance, read-noise variance) of the cell of weight device ``w`` and partner ``p``
    (``CellCache._cell_values``; ``partner_mode`` 0 no partner, 1 sparsity, 2 reference)."""
    g_w = cond[w]
    if partner_mode == 0:
        return g_w, (sigma * g_w) ** 2
    g_p = cond[p]
    if partner_mode == 1:
        g_s = g_w * g_p / (g_w + g_p)
        return g_s, (sigma * g_s) ** 2
    return g_w - g_p, (sigma * g_w) ** 2 + (sigma * g_p) ** 2


LN2_HI, LN2_LO = 6.93147180369123816490e-01, 1.90821492927058770002e-10
"""ln 2 in two parts (Cody-Waite): k * LN2_HI is exact for the |k| < 1100 of a double's exponent."""


@compiled.kernel
def _log_into(x, out, bits, m):
    """``out[:m] = log(x[:m])`` to ~2 ulp, without branches or calls (the loops vectorise: ~1 ns a value
    against ~4 ns for the C library's log); NaN where ``x`` is not a positive normal number.
    ``bits``: an int64 work buffer. ``out`` may be ``x``."""
    x_bits = x.view(np.int64)
    for j in range(m):  # the mantissa as a number in [1, 2)
        bits[j] = (x_bits[j] & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000
    mantissa = bits.view(np.float64)
    for j in range(m):
        exponent = np.float64(((x_bits[j] >> 52) & 0x7FF) - 1023)
        y = mantissa[j]
        high = y > 1.4142135623730951  # fold to [sqrt(1/2), sqrt(2)): then |s| < 0.172
        y = 0.5 * y if high else y
        exponent = exponent + 1.0 if high else exponent
        s = (y - 1.0) / (y + 1.0)  # log y = 2 atanh s, the series to s**21 (next term < 1e-18)
        s2 = s * s
        tail = s2 * (1.0 / 3 + s2 * (1.0 / 5 + s2 * (1.0 / 7 + s2 * (1.0 / 9 + s2 * (1.0 / 11 + s2 * (
            1.0 / 13 + s2 * (1.0 / 15 + s2 * (1.0 / 17 + s2 * (1.0 / 19 + s2 / 21)))))))))
        normal = x[j] >= 2.2250738585072014e-308 and x[j] < np.inf
        out[j] = exponent * LN2_HI + ((2.0 * s + 2.0 * s * tail) + exponent * LN2_LO) if normal else np.nan


@compiled.kernel
def _exp_into(x, out, bits, m):
    """``out[:m] = exp(x[:m])`` to ~1 ulp for ``|x| < 700``, NaN elsewhere (see :func:`_log_into`)."""
    for j in range(m):
        k = np.floor(x[j] * 1.4426950408889634 + 0.5)  # x = k ln2 + r, |r| <= ln2 / 2
        r = (x[j] - k * LN2_HI) - k * LN2_LO
        p = 1.0 + r * (1.0 + r * (1.0 / 2 + r * (1.0 / 6 + r * (1.0 / 24 + r * (1.0 / 120 + r * (1.0 / 720 + r * (
            1.0 / 5040 + r * (1.0 / 40320 + r * (1.0 / 362880 + r * (1.0 / 3628800 + r * (1.0 / 39916800 + r * (
                1.0 / 479001600 + r / 6227020800.0))))))))))))  # e**r to r**13 (next term < 5e-18)
        inside = abs(x[j]) < 700.0
        bits[j] = (np.int64(k if inside else 0.0) + 1023) << 52  # 2**k
        out[j] = p if inside else np.nan
    scale = bits.view(np.float64)
    for j in range(m):
        out[j] *= scale[j]


@compiled.kernel
def _capped(a):
    """``np.fmin(a, ROOM_CAP)`` (a NaN, from a room of exactly 0, gives the cap)."""
    return a if a <= ROOM_CAP else ROOM_CAP


@compiled.kernel
def _pulse_block(m, dev, signed, g, age, dt, per_pulse, k, xi, g_min, g_max, before, room, a, t, w, v, bits, multi,
                 clock, nu, t0, relaxed_state, c2c, rewrite_threshold, any_log, log_dev, stats):
    """The physics of one block of ``_pulse_kernel``'s gathered trains (buffers ``[:m]``, each a loop that
    vectorises where it can): relax, closed-form train, state, age, conductance (into ``t``), stats.

    One-pulse trains (97 % of plain SGD's, most of MP-SGD's) skip the middle-pulse correction and the
    n-pulse products, both exactly 1 for them: those run over the longer trains only, gathered by
    position into ``multi`` (their inputs and outputs in ``w`` and ``v``)."""
    for j in range(m):  # physics.relax of the devices with time pending (the series vectorises)
        t[j] = _relax_factor(dt[j] / (age[j] + t0), nu)
    for j in range(m):
        if np.isnan(t[j]):
            t[j] = _relax_factor_exact(dt[j] / (age[j] + t0), nu)
    for j in range(m):
        b = g[j] if dt[j] == 0.0 else relaxed_state + (g[j] - relaxed_state) * t[j]
        age[j] += dt[j]
        before[j] = b
        room[j] = min(max(b if signed[j] < 0 else 1.0 - b, 0.0), 1.0)
    # physics.power_train: a = per_pulse * room**(k-1), then at the middle pulse
    # a * (1 - a)**((k-1)(n-1)/2) (equal to exp(k_1 (log room + (n-1)/2 log1p(-a))); exactly a for n = 1)
    _log_into(room, t, bits, m)  # (separate input and output buffers: then the loops vectorise)
    for j in range(m):
        w[j] = (k[j] - 1) * t[j]
    _exp_into(w, t, bits, m)
    for j in range(m):
        if np.isnan(t[j]):  # a room of 0 (or subnormal): the C library's -inf and exp
            t[j] = np.exp((k[j] - 1) * np.log(room[j]))
        a[j] = _capped(min(per_pulse[j], ROOM_CAP) * t[j])
    n_multi = 0
    for j in range(m):  # the longer trains' positions (without branches)
        multi[n_multi] = j
        n_multi += abs(signed[j]) > 1
    for q in range(n_multi):  # log1p(-a) as log(u) + (-a - (u - 1)) / u, u = 1 - a
        w[q] = 1 - a[multi[q]]
    _log_into(w, v, bits, n_multi)
    for q in range(n_multi):
        j = multi[q]
        u = 1 - a[j]
        w[q] = ((k[j] - 1) * (0.5 * (abs(signed[j]) - 1))) * (v[q] + (-a[j] - (u - 1)) / u)
    _exp_into(w, v, bits, n_multi)
    for q in range(n_multi):
        j = multi[q]
        if np.isnan(v[q]):
            v[q] = np.exp(((k[j] - 1) * (0.5 * (abs(signed[j]) - 1))) * np.log1p(-a[j]))
        a[j] = _capped(a[j] * v[q])
    for j in range(m):  # one pulse: mean factor keep, relative variance rel (the products below for n = 1)
        keep = 1 - a[j]
        rel = c2c * a[j] / keep
        rel *= rel
        t[j] = keep if c2c == 0.0 else np.sqrt(rel) * keep * np.float64(xi[j]) + keep
    for q in range(n_multi):  # the train's mean factor keep**n and relative variance (1 + rel)**n - 1 as products
        j = multi[q]
        n = abs(signed[j])  # (selects, not branches: factors past n multiply by exactly 1)
        keep = 1 - a[j]
        rel = c2c * a[j] / keep
        rel *= rel
        mean, grow, power, total = keep, 1.0 + rel, 1.0, 1.0
        for i in range(1, PRODUCT_MAX_PULSES):
            more = i < n
            mean *= keep if more else 1.0
            power *= grow if more else 1.0
            total += power if more else 0.0
        t[j] = mean if c2c == 0.0 else np.sqrt(rel * total) * mean * np.float64(xi[j]) + mean
    for j in range(m):  # longer trains (or a step near the whole room): the closed form with exp/log
        n = abs(signed[j])
        keep = 1 - a[j]
        rel = (c2c * a[j] / keep) ** 2
        if n > PRODUCT_MAX_PULSES or rel >= 1.0:
            mean = np.exp(n * np.log(keep))
            variance = np.expm1(min(n * np.log1p(rel), 700.0))
            t[j] = mean if c2c == 0.0 else np.sqrt(variance) * mean * np.float64(xi[j]) + mean
    for j in range(m):  # the state, its age and (linear) conductance
        r = min(max(room[j] * t[j], 0.0), 1.0)
        after = r if signed[j] < 0 else 1.0 - r
        age[j] = 0.0 if abs(after - before[j]) >= rewrite_threshold else age[j]
        g[j] = after
        t[j] = g_min[j] + after * (g_max[j] - g_min[j])
    if any_log:
        for j in range(m):
            if log_dev[dev[j]]:
                t[j] = _conductance(g[j], g_min[j], g_max[j], True)
    for j in range(m):
        down = np.int64(signed[j] < 0)
        n = abs(signed[j])
        stats[2 * down] += n
        stats[2 * down + 1] = max(stats[2 * down + 1], n)


@compiled.kernel
def _pulse_kernel(dyn, par, cond, log_dev, idx, counts, polarity, partner_mode, scalars, fractions, up_noise,
                  down_noise, cells_g, cells_var, maps, floats, ints, read_noise, readings):
    """Relax, pulse, store and re-cell devices ``idx``; returns [LTP pulses, longest LTP, LTD pulses, longest LTD].

    ``readings`` (empty: none): the read-back of every listed device (no zero counts) from its new
    conductance with the standard normals ``read_noise`` (``_noisy``, the same values), while the
    device is in cache.

    ``polarity`` -1: ``counts`` are signed (LTP > 0, LTD < 0, zeros skipped, as ``pulse_and_read_at``);
    0 / 1: every listed device gets an LTP / LTD train of ``counts[i]`` >= 1 pulses (as ``apply_pulses``). ``up_noise``,
    ``down_noise``: the normals of the LTP and of the LTD trains, each in device order.
    ``partner_mode``: -1 no cell cache to update, 0 no partner, 1 sparsity, 2 reference; ``pairs``:
    (weight, partner) offsets when cell ``c`` owns devices ``2c + offset`` (else (-1, -1): the maps).
    ``scalars``: clock, nu, t0, relaxed state, c2c, rewrite threshold, read noise, any log-scale device;
    ``maps``: (pairs, device -> cell, cell -> weight device, cell -> partner device).
    ``floats`` (N_FLOATS, block) and ``ints`` (N_INTS, block): work buffers kept by the caller (their length
    is the block).
    """
    clock, nu, t0, relaxed_state, c2c, rewrite_threshold, sigma = (scalars[0], scalars[1], scalars[2], scalars[3],
                                                                   scalars[4], scalars[5], scalars[6])
    any_log = scalars[7] != 0.0
    read_sigma = np.float32(sigma)
    pairs, dev_cell, cell_dev, cell_partner = maps
    g, age, dt, per_pulse, k, xi, g_min, g_max = (floats[0], floats[1], floats[2], floats[3], floats[4], floats[5],
                                                  floats[6], floats[7])
    before, room, a, t, work, out = floats[8], floats[9], floats[10], floats[11], floats[12], floats[13]
    dev, signed, bits, multi = ints[0], ints[1], ints[2], ints[3]  # signed: the train's length, negative for LTD
    stats = np.zeros(4, dtype=np.int64)
    dyn_flat, par_flat, cond_flat = dyn.reshape(-1), par.reshape(-1), cond.reshape(-1)
    done = n_down = 0  # trains handled in earlier blocks, LTD trains among them
    i = 0
    while i < idx.size:  # in blocks: a block's rows stay in cache from the gather to the store
        m = 0
        while i < idx.size and m < g.size:  # gather: short, no data-dependent branches (many loads in flight)
            if i + PREFETCH_AHEAD < idx.size:  # the rows and conductance a few dozen devices ahead
                ahead = idx[i + PREFETCH_AHEAD]
                _prefetch(dyn_flat, 4 * ahead)
                _prefetch(par_flat, 8 * ahead)
                _prefetch(cond_flat, ahead)
                if partner_mode >= 0 and pairs[0] >= 0:
                    _prefetch(cells_g, ahead >> 1)
                    _prefetch(cells_var, ahead >> 1)
            c = counts[i]
            i += 1
            if polarity < 0 and c == 0:
                continue
            side = polarity if polarity >= 0 else np.int64(c < 0)
            d = idx[i - 1]
            dev[m], signed[m] = d, c if polarity < 0 else c - 2 * side * c
            g[m], age[m], dt[m] = dyn[d, 0], dyn[d, 1], clock - dyn[d, 2]
            g_min[m], g_max[m], k[m] = par[d, side, 0], par[d, side, 1], par[d, side, 3]
            per_pulse[m] = par[d, side, 2] * fractions[side]  # physics.pulse_train: scale * switched fraction
            if c2c != 0.0:  # the LTP trains' normals and the LTD trains', each in device order
                xi[m] = down_noise[n_down] if side else up_noise[done + m - n_down]
            n_down += side
            m += 1
        _pulse_block(m, dev, signed, g, age, dt, per_pulse, k, xi, g_min, g_max, before, room, a, t, work, out, bits,
                     multi, clock, nu, t0, relaxed_state, c2c, rewrite_threshold, any_log, log_dev, stats)
        for j in range(m):  # store
            d = dev[j]
            dyn[d, 0], dyn[d, 1], dyn[d, 2] = g[j], age[j], clock
            cond[d] = t[j]
        if readings.size:
            for j in range(m):
                readings[done + j] = t[j] * np.float64(np.float32(1.0) + read_sigma * read_noise[done + j])
        if partner_mode >= 0:
            for j in range(m):  # CellCache._cell_values (a cell whose other device comes later is redone then)
                if pairs[0] >= 0:
                    cell = dev[j] >> 1
                    w, p = 2 * cell + pairs[0], 2 * cell + pairs[1]
                else:
                    cell = dev_cell[dev[j]]
                    if cell < 0:
                        continue
                    w, p = cell_dev[cell], cell_partner[cell]
                cells_g[cell], cells_var[cell] = _cell(cond, w, p, partner_mode, sigma)
        done += m
    return stats


@compiled.kernel
def _relax_all(dyn, cond, g_min, g_max, log_dev, any_log, clock, nu, t0, relaxed_state, factor):
    """``SimulatedArray._relax`` and the conductance of every device; False (nothing done) if no time is pending.

    In blocks of ``factor.size`` devices (a work buffer): the block's factors as series (a loop that
    vectorises), then the block's update while its rows are still in cache (one pass over the table).
    """
    pending = False
    for d in range(dyn.shape[0]):
        if clock - dyn[d, 2] != 0.0:
            pending = True
            break
    if not pending:
        return False
    for start in range(0, dyn.shape[0], factor.size):
        block = min(factor.size, dyn.shape[0] - start)
        for i in range(block):
            d = start + i
            factor[i] = (clock - dyn[d, 2]) / (dyn[d, 1] + t0)
        for i in range(block):
            factor[i] = _relax_factor(factor[i], nu)
        for i in range(block):
            d = start + i
            dt = clock - dyn[d, 2]
            f = factor[i]
            if np.isnan(f):
                f = _relax_factor_exact(dt / (dyn[d, 1] + t0), nu)
            g = relaxed_state + (dyn[d, 0] - relaxed_state) * f
            dyn[d, 0], dyn[d, 1], dyn[d, 2] = g, dyn[d, 1] + dt, clock
            cond[d] = _conductance(g, g_min[d], g_max[d], any_log and log_dev[d])
    return True


@compiled.kernel
def _build_cells(cond, cells_g, cells_var, cell_dev, cell_partner, partner_mode, sigma):
    """Every cell of the MVM's cache from the conductances (``CellCache._build_cells``)."""
    for cell in range(cells_g.size):
        cells_g[cell], cells_var[cell] = _cell(cond, cell_dev[cell], cell_partner[cell], partner_mode, sigma)


def cell_values(cond: np.ndarray, cell_dev: np.ndarray, cell_partner: np.ndarray, partner_mode: int,
                sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """(conductance, read-noise variance) of the cells of weight devices ``cell_dev`` and partners
    ``cell_partner`` (flat indices into ``cond``): the compiled form of
    :func:`device_models.physics.series_conductance` (``partner_mode`` 1), of
    :func:`~device_models.physics.differential_conductance` (2) or of the weight device alone (0)."""
    cells_g, cells_var = np.empty(cell_dev.size, dtype=np.float32), np.empty(cell_dev.size, dtype=np.float32)
    _build_cells(cond, cells_g, cells_var, cell_dev, cell_partner, partner_mode, sigma)
    return cells_g, cells_var


@compiled.kernel
def _shared_reading(g_cell, var, noise, out):
    """``out = sqrt(var) * noise + g_cell`` in float32, flat (one noisy reading of every cell:
    ``SimulatedArray._shared_reading`` in one pass, the same values)."""
    for i in range(out.size):
        out[i] = np.sqrt(var[i]) * noise[i] + g_cell[i]


@compiled.kernel
def _noisy(cond, flat, noise, sigma):
    """``cond[flat] * (1 + sigma * noise)`` with the noise factor in float32, as numpy computes it."""
    out = np.empty(flat.size)
    one = np.float32(1.0)
    for i in range(flat.size):
        out[i] = cond[flat[i]] * np.float64(one + sigma * noise[i])
    return out


@compiled.kernel
def _flat_coordinates(n_rows, n_cols, rows, cols):
    """(flat row-major indices of ``(rows[i], cols[i])`` on an ``n_rows x n_cols`` grid, whether every pair is
    inside it and the indices increase): the seam's coordinate check in one pass (``labctl.backend.flat_indices``
    is the reference and names what is wrong)."""
    flat = np.empty(rows.size, dtype=np.int64)
    ok = True
    last = -1
    for i in range(rows.size):
        index = rows[i] * n_cols + cols[i]
        ok &= (rows[i] >= 0) & (rows[i] < n_rows) & (cols[i] >= 0) & (cols[i] < n_cols) & (index > last)
        flat[i] = last = index
    return flat, ok


@compiled.kernel
def _count_signs(counts):
    """(LTP trains, LTD trains) of signed ``counts``."""
    up = down = 0
    for c in counts:
        up += c > 0
        down += c < 0
    return up, down
