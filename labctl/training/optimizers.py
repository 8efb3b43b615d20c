"""Update rules that turn a digital gradient into write pulses (seed 002's three algorithms).

* plain SGD: the sign of each weight change picks the polarity, its magnitude over the device step
  the pulse count (stochastic rounding, capped per update); every update reaches the devices, so
  zero-mean gradient noise becomes equal numbers of LTP and LTD pulses, which an asymmetric device
  turns into a drift toward its symmetry point.
* mixed-precision SGD (Nandakumar et al. 2020): changes accumulate digitally and a cell is pulsed
  only when its accumulator crosses the device step; noise cancels in the accumulator.
* symmetry-point shifting: plain SGD after :func:`labctl.training.symmetry.program_symmetry_point`
  put each reference device at its own symmetry point (see there).

Biases are digital in every case. Plain SGD sizes pulses with one ``device_step`` for both
polarities, the mean of the LTP and LTD steps at mid range (aihwkit's ``dw_min``), as a pulse
generator without device knowledge would. Mixed-precision SGD has a digital unit anyway, so it
fires when the accumulator crosses the step *of the polarity it needs* (``steps = (ltp, ltd)`` at
mid range, from the device model): the up/down asymmetry at mid range is compensated and only the
state dependence of the step remains, a mild pull toward mid range.

Why epochs to a target do not depend on the pulse width with this transfer (seed 002 reports more
epochs for shorter pulses): the accumulator keeps every remainder and each pulse removes exactly the
weight change it makes at mid range, so the weight path is the same for any step size; a smaller
step only splits a change into more pulses (cycle-to-cycle noise per weight change ``dw`` is
``c2c^2 * dw * step``, if anything smaller). A pulse budget per update only delays pulses (the
remainder waits in the accumulator), and a budget that drops them hits depression first (the smaller
step needs more pulses) and drifts weights to the symmetry point.

``transfer="aihwkit"`` is the transfer of aihwkit's ``MixedPrecisionCompound`` (the tool seed 002
used; ``src/rpucuda/rpu_mixedprec_device*.cpp``): one granularity ``eps`` for both polarities (the
device's weight granularity, for a ``PiecewiseStepDevice`` ``dw_min * piecewise_up[middle]``: the LTP
step at mid range); every batch every row gets ``n = trunc(chi / eps)`` and ``chi`` is cleared of
``n * eps`` whether or not the pulses arrive; the pulses go out as one pulsed rank-one update of at
most ``BL`` slots per device (``max_pulses`` here; aihwkit's ``desired_bl`` 31), the whole row (one
output neuron) scaled down when its largest count exceeds it (update management), the excess lost.
With one ``eps`` zero-mean noise crosses +eps and -eps equally often and each crossing pair moves the
weight by ``up - down``, so weights drift toward the symmetry point at a rate ~ noise^2 * (up - down)
/ eps^2: width-dependent (short pulses: small, asymmetric steps), the mechanism that makes shorter
pulses need more epochs under this transfer. With the ``garg-hzo`` presets (LTP/LTD at mid range
1.40 at 20 ns ... 1.06 at 200 us) 20 ns takes 7-8 epochs to 95 % against 5 at 200 us, seed 002's
trade-off, and ``labctl experiment garg-energy`` uses this transfer. A strongly asymmetric device
loses to the drift (linear soft bounds through the same symmetry points, 3.9 at 20 ns: accuracy ~10 %
with weights at the symmetry point), so ``labctl train`` keeps the per-polarity transfer by default.

Speed: both rules hand the layer (flat cell indices, signed counts) of the cells to pulse
(``AnalogLayer.apply_counts_at``); no pass over the grid looks for the few percent of cells pulsed.
"""

from __future__ import annotations

import numpy as np

from device_models import compiled

from . import kernels
from .analog import AnalogLayer

ALGORITHMS = ("float", "sgd", "mpsgd", "symshift")
"""Training algorithms: float = the same network without a device."""
TRANSFERS = ("polarity", "aihwkit")
"""Mixed-precision transfers: per-polarity steps, or aihwkit's single granularity (module docstring)."""


class Optimizer:
    """Applies one batch's gradients to every layer; counts the pulses it sends."""

    def __init__(self, algo: str, layers: list, lr: float, steps: tuple[float, float], max_pulses: int,
                 rng: np.random.Generator, transfer: str = "polarity") -> None:
        self.algo, self.layers, self.lr, self.transfer = algo, layers, np.float32(lr), transfer
        self.steps = tuple(np.float32(s) for s in steps)
        self.device_step = np.float32((steps[0] + steps[1]) / 2)
        self.max_pulses = int(max_pulses)
        self.rng = rng
        self.work: dict[int, tuple] = {}
        """Work buffers of the compiled rules, per layer (:mod:`labctl.training.kernels`)."""
        self.accumulators = [np.zeros((layer.fan_in, layer.fan_out), dtype=np.float32)
                             if algo == "mpsgd" and isinstance(layer, AnalogLayer) else None for layer in layers]

    def step(self, grads) -> tuple[int, int]:
        """Apply ``[(dL/dW, dL/db), ...]``; returns (pulses, bench transactions)."""
        pulses = transactions = 0
        for k, (layer, (grad_w, grad_b)) in enumerate(zip(self.layers, grads)):
            layer.bias -= self.lr * grad_b
            if not isinstance(layer, AnalogLayer):
                layer.w -= self.lr * grad_w
                continue
            if self.algo == "mpsgd" and self.transfer == "aihwkit":  # numpy only (no compiled twin)
                flat, counts = self._aihwkit_transfer_at(k, layer.weight_units(-self.lr * grad_w))
            elif compiled.enabled():  # branch-free passes over the gradient (labctl.training.kernels), same counts
                flat, counts = kernels.select(self, k, grad_w, layer.alpha)
            else:
                change = layer.weight_units(-self.lr * grad_w)
                flat, counts = self._mixed_precision_at(k, change) if self.algo == "mpsgd" else self._plain_at(change)
            p, t = layer.apply_counts_at(flat, counts)
            pulses, transactions = pulses + p, transactions + t
        return pulses, transactions

    def _plain_at(self, change: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Signed pulse counts: |change| / step rounded stochastically, capped at ``max_pulses``, as
        (flat indices of the pulsed cells, their signed counts)."""
        ratio = np.abs(change)
        ratio *= 1 / self.device_step
        ratio += self.rng.random(ratio.shape, dtype=np.float32)
        flat = np.flatnonzero(ratio >= 1)
        counts = np.minimum(np.floor(ratio.ravel()[flat]), self.max_pulses).astype(np.int64)
        return flat, np.where(change.ravel()[flat] < 0, -counts, counts)

    def _mixed_precision_at(self, k: int, change: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Accumulate; pulse whole device steps of each polarity out of the accumulator (at most
        ``max_pulses``), as (flat indices, signed counts): only cells past a step are touched."""
        acc = self.accumulators[k]
        acc += change
        up, down = self.steps
        flat = np.flatnonzero((acc >= up) | (acc <= -down))
        values = acc.ravel()[flat]
        step = np.where(values > 0, up, down)
        counts = np.clip(np.trunc(values / step), -self.max_pulses, self.max_pulses)
        acc.ravel()[flat] = values - counts * step
        return flat, counts.astype(np.int64)

    def _aihwkit_transfer_at(self, k: int, change: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """aihwkit's transfer (module docstring): counts of one granularity (the LTP step), the
        accumulator cleared of all of them, each output's column scaled to at most ``max_pulses``
        (stochastic rounding, as aihwkit's stochastic pulse trains deliver the scaled count on average)."""
        acc = self.accumulators[k]
        acc += change
        eps = self.steps[0]
        flat = np.flatnonzero(np.abs(acc) >= eps)
        values = acc.ravel()[flat]
        wanted = np.trunc(values / eps)
        acc.ravel()[flat] = values - wanted * eps
        cols = flat % acc.shape[1]
        row_max = np.zeros(acc.shape[1], dtype=np.float32)
        np.maximum.at(row_max, cols, np.abs(wanted))
        scale = np.minimum(np.float32(1), self.max_pulses / np.maximum(row_max, 1))[cols]
        counts = np.floor(np.abs(wanted) * scale + self.rng.random(flat.size, dtype=np.float32))
        keep = counts > 0
        return flat[keep], np.copysign(counts[keep], wanted[keep]).astype(np.int64)
