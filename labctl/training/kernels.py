"""Compiled (numba) kernels of the training side: the update rules' selection, the converters and the weight store.

Each rule makes two passes over a layer's gradient (one that vectorises, one that gathers the cells
to pulse) and returns (flat indices, signed counts) of those cells, instead of the
numpy path's ~10 passes and temporaries (the change in device units
``AnalogLayer.weight_units(-lr * grad)``, abs, scale, add, compare, nonzero, gathers, floor, where)
over the whole grid. The same float32 arithmetic in the same order and the same uniform draws (taken
from the optimiser's Generator as the numpy path takes them), so the counts are identical to
:class:`labctl.training.optimizers.Optimizer`'s numpy rules; see :mod:`device_models.compiled`.
"""

from __future__ import annotations

import functools
import sys

import numpy as np

from device_models import compiled


@compiled.kernel
def _plain(grad, neg_lr, alpha, uniform, inv_step, max_pulses, ratio, cells):
    """``Optimizer._plain_at`` of ``change = (-lr * grad) / alpha`` (``uniform``: its rounding draws as
    :func:`uniform_words`).

    Three loops, each without data-dependent branches (~15 % of cells fire at random: a branch per cell
    mispredicts and cost 4x the whole): every cell's rounded ratio signed like its change, vectorised,
    into ``ratio``; the firing cells' indices into ``cells``; their counts. ``ratio`` (float32) and
    ``cells`` (int32) are work buffers of the gradient's size.
    """
    for i in range(grad.size):
        change = neg_lr * grad[i] / alpha
        r = abs(change) * inv_step + np.float32(uniform[i] >> 8) * np.float32(1.0 / 16777216)
        ratio[i] = -r if change < 0 else r
    k = 0
    for i in range(grad.size):
        cells[k] = i
        k += abs(ratio[i]) >= 1
    flat = np.empty(k, dtype=np.int64)
    counts = np.empty(k, dtype=np.int64)
    for j in range(k):
        r = ratio[cells[j]]
        n = np.int64(min(np.floor(abs(r)), max_pulses))
        flat[j], counts[j] = cells[j], -n if r < 0 else n
    return flat, counts


@compiled.kernel
def _mixed_precision(acc, grad, neg_lr, alpha, up, down, max_pulses, hits, cells):
    """``Optimizer._mixed_precision_at`` of ``change = (-lr * grad) / alpha`` (``acc`` updated in place).

    ~1 % of cells cross a step per batch, so the gather differs from ``_plain``'s: the accumulation
    also marks each cell's crossing as a byte in ``hits`` (one pass that vectorises), and the gather
    looks at eight marks at a time as one word, visiting cells only in the rare non-zero words
    (a branch-free gather over every cell cost 2.5x the whole accumulation). ``hits`` (uint8) and
    ``cells`` (int32) are work buffers of the gradient's size.
    """
    n = grad.size
    for i in range(n):
        value = acc[i] + neg_lr * grad[i] / alpha
        acc[i] = value
        hits[i] = (value >= up) | (value <= -down)
    words = hits[: n - n % 8].view(np.uint64)
    k = 0
    for q in range(words.size):
        if words[q]:
            for i in range(8 * q, 8 * q + 8):
                cells[k] = i
                k += hits[i]
    for i in range(8 * words.size, n):
        cells[k] = i
        k += hits[i]
    flat = np.empty(k, dtype=np.int64)
    counts = np.empty(k, dtype=np.int64)
    for j in range(k):
        value = acc[cells[j]]
        step = up if value > 0 else down
        pulses = min(max(np.trunc(value / step), -max_pulses), max_pulses)
        acc[cells[j]] = value - np.float32(pulses) * step
        flat[j], counts[j] = cells[j], np.int64(pulses)
    return flat, counts


@compiled.kernel
def _store(w, g_reference, flat, g, half_range_s):
    """``AnalogLayer._store``: ``w[flat] = (g - g_reference[flat]) / half_range_s`` in float32."""
    for i in range(flat.size):
        w[flat[i]] = np.float32((g[i] - g_reference[flat[i]]) / half_range_s)


@compiled.kernel
def _dac(x, to_levels, from_levels, levels):
    """``quantize(x / scale, 1.0, bits)`` with each row's abs-max ``scale`` (``AnalogLayer.forward``'s DAC).

    The abs-max runs on the bit patterns (``|x|`` is the float32 with the sign bit cleared, and such
    patterns order like the floats, NaN above inf as ``np.max`` returns it): an integer max vectorises,
    a float max does not (5x the whole DAC).
    """
    out = np.empty_like(x)
    peaks = np.empty(x.shape[0], dtype=np.int32)
    bits = x.view(np.int32)
    for b in range(x.shape[0]):
        peak = np.int32(0)
        for i in range(x.shape[1]):
            peak = max(peak, bits[b, i] & np.int32(0x7FFFFFFF))
        peaks[b] = peak
    scale = peaks.view(np.float32).reshape((x.shape[0], 1))
    for b in range(x.shape[0]):
        s = scale[b, 0] if scale[b, 0] > 0 else np.float32(1.0)
        scale[b, 0] = s
        for i in range(x.shape[1]):
            v = x[b, i] / s * to_levels
            out[b, i] = np.rint(min(max(v, -levels), levels)) * from_levels
    return out, scale


@compiled.kernel
def _adc(currents, width, per_unit, to_levels, from_levels, levels, alpha, scale, bias):
    """``alpha * scale * quantize(currents / per_unit, bound, bits) + bias`` (``AnalogLayer.forward``'s ADC)."""
    out = np.empty((currents.shape[0], width), dtype=np.float32)
    for b in range(currents.shape[0]):
        gain = alpha * scale[b, 0]
        for j in range(width):
            v = currents[b, j] / per_unit * to_levels
            out[b, j] = gain * (np.rint(min(max(v, -levels), levels)) * from_levels) + bias[j]
    return out


@functools.cache  # (every forward pass asks, twice per layer)
def converters(bound: float, bits: int) -> tuple[np.float32, np.float32, np.float32]:
    """(scale to levels, scale back, levels) of ``analog.quantize`` for a converter, as numpy computes them."""
    levels = np.float32(2 ** (bits - 1) - 1)
    return np.float32(levels / bound), np.float32(bound / levels), levels


def dac(x: np.ndarray, bits: int) -> tuple[np.ndarray, np.ndarray]:
    """The input DAC of ``AnalogLayer.forward`` in one pass: (quantized rows, each row's abs-max scale)."""
    # one compiled layout: batches are gathered rows (contiguous), test slices of the CSV table are not
    return _dac(np.ascontiguousarray(x), *converters(1.0, bits))


def adc(currents: np.ndarray, width: int, per_unit: float, bound: float, bits: int, alpha: np.float32,
        scale: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """The output ADC and affine map of ``AnalogLayer.forward`` in one pass over the first ``width`` columns."""
    return _adc(currents, width, np.float32(per_unit), *converters(bound, bits), alpha, scale, bias)


def select(optimizer, k: int, grad_w: np.ndarray, alpha: np.float32) -> tuple[np.ndarray, np.ndarray]:
    """(flat indices, signed counts) of layer ``k``'s update under ``optimizer``'s rule, from its gradient."""
    grad = grad_w.reshape(-1)
    neg_lr, max_pulses = -optimizer.lr, np.float32(optimizer.max_pulses)
    mixed = optimizer.algo == "mpsgd"
    work = optimizer.work.get(k)
    if work is None or work[-1].size != grad.size:  # kept per layer: fresh buffers this size page-fault
        # plain SGD's signed ratios (float32) or mixed precision's crossing marks (uint8), then the cells (int32)
        marks = np.empty(grad.size, dtype=np.uint8 if mixed else np.float32)
        work = optimizer.work[k] = (marks, np.empty(grad.size, dtype=np.int32))
    if mixed:
        up, down = optimizer.steps
        return _mixed_precision(optimizer.accumulators[k].reshape(-1), grad, neg_lr, alpha, up, down, max_pulses,
                                *work)
    uniform = uniform_words(optimizer.rng, grad.size)  # the draws of _plain_at
    return _plain(grad, neg_lr, alpha, uniform, np.float32(1 / optimizer.device_step), max_pulses, *work)


def uniform_words(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` uint32 words whose top 24 bits are the float32 uniforms ``rng.random(n, dtype=np.float32)`` returns
    (``(word >> 8) * 2**-24``), leaving ``rng`` where that call leaves it.

    PCG64 serves each 64-bit output as two 32-bit words, low half first: an even count from an empty
    half-word buffer is ``random_raw(n // 2)`` viewed as words (40 % cheaper than the float draws: plain
    SGD draws one per cell every batch, 140 M an MNIST epoch). Otherwise the float draws, as words.
    """
    bits = rng.bit_generator
    if (n % 2 == 0 and type(bits) is np.random.PCG64 and sys.byteorder == "little"
            and not bits.state["has_uint32"]):
        return bits.random_raw(n // 2).view(np.uint32)
    return (rng.random(n, dtype=np.float32) * np.float32(2 ** 24)).astype(np.uint32) << np.uint32(8)


def store(w: np.ndarray, g_reference: np.ndarray, flat: np.ndarray, g: np.ndarray, half_range_s: float) -> None:
    """``AnalogLayer._store`` in one pass (no temporaries of the update's size)."""
    _store(w.reshape(-1), g_reference.reshape(-1), flat, g, half_range_s)
