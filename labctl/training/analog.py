"""An analog fully connected layer on any ``ArrayBackend``: forward by ``read_mvm``, updates by pulses.

Each weight is a cell of a weight device and a fixed reference device (``CellLayout.with_reference``):
``read_mvm`` already returns ``I_weight - I_reference`` per cell column. In normalised weight units
``w = (G_weight - G_reference) / (range / 2)`` (so ``w`` in [-1, 1] against a mid-range reference,
the unit of seed 002's histograms) and the layer computes ``y = gain / sqrt(fan_in) * x @ w + b``.
Inputs pass an 8-bit DAC after per-sample abs-max scaling, outputs an 8-bit ADC over
``[-out_bound, out_bound]`` (aihwkit's defaults). The backward pass uses the weights as last read from
the devices: all once, then only the devices each update pulsed (read-after-write, averaged over
``weight_reads`` readings against read noise), so the backward pass costs no full-array read per
batch. A layer smaller than the backend's cell grid uses its top-left corner, so a 30x10 layer runs
unchanged on the 30x30 chip or a bench. Every reading is checked against the dead-line floor
(:mod:`labctl.devicefault`): hardware-in-the-loop training stops at a dead line or open path
instead of training on an open circuit.

An update is one ``pulse_and_read_at`` (both polarities, then the read-back of the same devices) on
every backend: the simulator does it in one pass, the bench as one pulse train per polarity and row reads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from device_models import physics
from device_models.energy import pulse_energy_j
from device_models.params import ChipModel
from device_models import compiled
from labctl.backend import ArrayBackend
from labctl.devicefault import FLOOR_FRACTION, check_floor
from labctl.errors import ConfigError, field_error
from labctl.layout import Role
from labctl.specs import PulseSpec, ReadSpec

from . import kernels


@dataclass(frozen=True)
class Converters:
    """Resolution and range of the periphery around the array (DAC on rows, ADC on columns)."""

    dac_bits: int = 8
    """Input DAC resolution in bits (signed, symmetric around 0)."""
    adc_bits: int = 8
    """Output ADC resolution in bits."""
    out_bound: float = 12.0
    """ADC full scale in normalised weight x input units (aihwkit's default 12)."""

    def __post_init__(self) -> None:
        for name in ("dac_bits", "adc_bits"):
            if not 2 <= getattr(self, name) <= 24:
                raise field_error(ConfigError, f"Converters.{name}", getattr(self, name), "must be 2..24 bits")
        if not self.out_bound > 0:
            raise field_error(ConfigError, "Converters.out_bound", self.out_bound, "must be > 0")


def quantize(values: np.ndarray, bound: float, bits: int) -> np.ndarray:
    """Round to the ``2**(bits-1) - 1`` positive levels of a symmetric converter, clipping at ``bound``."""
    levels = np.float32(2 ** (bits - 1) - 1)
    scaled = np.asarray(values * np.float32(levels / bound))
    np.clip(scaled, -levels, levels, out=scaled)  # in place: the forward pass quantizes every activation twice
    np.rint(scaled, out=scaled)
    scaled *= np.float32(bound / levels)
    return scaled


def device_steps(model: ChipModel, state: float | None = None) -> tuple[float, float]:
    """Mean weight change (normalised units) of one LTP and one LTD pulse at ``state`` (default: mid range,
    :func:`device_models.physics.mid_range_state`), at the model's operating point.

    The weight is linear in conductance (the array sums currents), so the step is the pulse's
    conductance change over half the range: twice the state step on a linear scale; on a log scale the
    state step times the local slope of G, which the state alone does not give.
    """
    dev, op = model.weight, model.operating_point
    state = physics.mid_range_state(dev) if state is None else state
    half_range = (dev.g_max_s - dev.g_min_s) / 2
    if dev.conductance_scale == "linear":  # the same numbers as ever, bit for bit
        return tuple(2 * float(physics.pulse_step(side, up, state, sign * op.amplitude_v(up), op.write_width_s,
                                                  dev.reference_amplitude_v, dev.reference_width_s))
                     for side, up, sign in ((dev.potentiation, True, 1), (dev.depression, False, -1)))
    return tuple(float(physics.conductance_step(dev, up, state, sign * op.amplitude_v(up), op.write_width_s)) / half_range
                 for up, sign in ((True, 1), (False, -1)))


class AnalogLayer:
    """``fan_in x fan_out`` weights as reference-paired cells of ``backend``; see the module docstring.

    A subclass with another cell (:class:`labctl.sparse.SparseAnalogLayer`) sets ``PARTNER`` and
    overrides :meth:`_check_cells`, :meth:`_default_converters` and :meth:`_weight_unit_s`.
    """

    PARTNER = Role.REFERENCE
    """The role of each cell's second device."""

    _unread = np.empty(0, dtype=np.int64)
    """Flat cells pulsed since their last read-back (``read_every`` > 1; replaced, never changed in place)."""

    def __init__(self, backend: ArrayBackend, model: ChipModel, fan_in: int, fan_out: int,
                 gain: float = 12.0, converters: Converters | None = None, weight_reads: int = 1,
                 read_every: int = 1) -> None:
        layout = backend.layout
        self._check_cells(layout, model)
        rows, cols = layout.cell_shape
        if fan_in > rows or fan_out > cols:
            raise field_error(ConfigError, "layer", f"{fan_in}x{fan_out}",
                              f"does not fit the backend's {rows}x{cols} cells (reduce the inputs, e.g. --layers 30,10)")
        self.backend, self.model = backend, model
        self.fan_in, self.fan_out = fan_in, fan_out
        self.converters = converters or self._default_converters(fan_in)
        self.weight_reads = int(weight_reads)
        self.read_every = int(read_every)
        """Reach the array every ``read_every``-th batch: its update's pulsed devices are read back and the
        next forward pass runs on the array; the batches in between run forward and backward on the
        weights the device model predicts from the pulses sent (:meth:`_predict`), and send their pulses."""
        if self.read_every < 1:
            raise field_error(ConfigError, "read_every", read_every, "must be >= 1")
        self._updates = 0
        op = model.operating_point
        self.read_spec = ReadSpec(voltage_v=op.read_v, limits=backend.limits)
        self.pulses = {+1: PulseSpec(op.amplitude_v(True), op.write_width_s, limits=backend.limits),
                       -1: PulseSpec(-op.amplitude_v(False), op.write_width_s, limits=backend.limits)}
        self.energy_per_pulse_j = float(np.mean([pulse_energy_j(op.amplitude_v(up), op.write_width_s)
                                                 for up in (True, False)]))
        self.half_range_s = self._weight_unit_s(model)
        self.floor_s = FLOOR_FRACTION * model.weight.g_min_s
        self.alpha = np.float32(gain / np.sqrt(fan_in))
        self.bias = np.zeros(fan_out, dtype=np.float32)
        self.used = np.zeros(layout.cell_shape, dtype=bool)
        self.used[:fan_in, :fan_out] = True
        self.weight_devices = layout.devices(self.used, Role.WEIGHT)
        self.partner_devices = layout.devices(self.used, self.PARTNER)
        # device column of cell column c is ``start + step * c`` (with_reference: 2c): arithmetic, not a
        # gather through weight_cols, when the layout is regular
        cols_used = layout.weight_cols[:fan_out]
        step = int(cols_used[1] - cols_used[0]) if fan_out > 1 else 1
        regular = np.array_equal(cols_used, cols_used[0] + step * np.arange(fan_out))
        self._device_col_map = (int(cols_used[0]), step) if regular else cols_used
        self.w: np.ndarray = np.zeros((fan_in, fan_out), dtype=np.float32)
        """Normalised weights as last read from the devices (used by the backward pass)."""
        self._g_reference = np.zeros((fan_in, fan_out))
        self._init_cells()
        self.refresh()

    def _check_cells(self, layout, model: ChipModel) -> None:
        """Refuse a backend whose cells are not this layer's kind."""
        if layout.partner is not Role.REFERENCE:
            raise field_error(ConfigError, "layout.partner", getattr(layout.partner, "value", None),
                              "analog training needs CellLayout.with_reference (weight + reference devices)")

    def _default_converters(self, fan_in: int) -> Converters:
        return Converters()

    def _weight_unit_s(self, model: ChipModel) -> float:
        """The conductance of one normalised weight unit: half the range (weights in [-1, 1] around the reference)."""
        return (model.weight.g_max_s - model.weight.g_min_s) / 2

    def _init_cells(self) -> None:
        """State a subclass keeps per cell besides ``w`` (set before the first ``refresh``)."""

    @property
    def reference_devices(self) -> np.ndarray:
        """The reference devices of the layer's cells (a mask of the device grid)."""
        return self.partner_devices

    # -- reading ---------------------------------------------------------------------------------
    def refresh(self, cells: np.ndarray | None = None) -> None:
        """Re-read the weights of ``cells`` (a ``fan_in x fan_out`` mask; None = all, references too)."""
        lay = self.backend.layout
        if cells is None:
            devices = self.weight_devices | self.reference_devices
            g = self._read(devices)
            rows, cols = np.nonzero(devices)
            check_floor(rows, cols, g[rows, cols], self.floor_s, self.backend)
            self._g_reference = np.ascontiguousarray(lay.to_cells(g, Role.REFERENCE)[: self.fan_in, : self.fan_out])
            g_weight = lay.to_cells(g, Role.WEIGHT)[: self.fan_in, : self.fan_out]
            self.w = ((g_weight - self._g_reference) / self.half_range_s).astype(np.float32)
            return
        self._refresh_at(np.flatnonzero(cells))

    def _refresh_at(self, flat: np.ndarray) -> None:
        """Re-read the weights of the flat cells ``flat`` (ascending)."""
        if flat.size == 0:
            return
        self._store(flat, self._read_at(*self._device_coordinates(flat)))

    def _store(self, flat: np.ndarray, g: np.ndarray) -> None:
        """Weights of flat cells ``flat`` from their weight devices' conductance ``g`` (as read).

        A reading at the floor (a dead line or open path) stops training with a ``DeviceFaultError``.
        """
        if g.min() <= self.floor_s:
            check_floor(*self._device_coordinates(flat), g, self.floor_s, self.backend)
        if compiled.enabled():  # one pass (labctl.training.kernels), same values
            kernels.store(self.w, self._g_reference, flat, g, self.half_range_s)
            return
        self.w.put(flat, ((g - self._g_reference.take(flat)) / self.half_range_s).astype(np.float32))

    def _read_at(self, rows: np.ndarray, device_cols: np.ndarray) -> np.ndarray:
        """Conductance of the devices at ``(rows, device_cols)``, averaged over ``weight_reads`` readings."""
        total = self.backend.read_at(rows, device_cols, self.read_spec)
        for _ in range(self.weight_reads - 1):
            total = total + self.backend.read_at(rows, device_cols, self.read_spec)
        return total / self.weight_reads

    def _read(self, devices: np.ndarray) -> np.ndarray:
        """Conductance of ``devices``, averaged over ``weight_reads`` readings (less read noise)."""
        total = self.backend.read(devices, self.read_spec)
        for _ in range(self.weight_reads - 1):
            total = total + self.backend.read(devices, self.read_spec)
        return total / self.weight_reads

    def digital_state(self) -> dict[str, np.ndarray]:
        """Readings the layer keeps between updates besides ``w`` (a checkpoint holds them): none here."""
        return {}

    def restore_digital(self, state: dict[str, np.ndarray]) -> None:
        """Take back :meth:`digital_state` (a resume on a simulated chip restored to the same instant)."""

    # -- forward / backward ----------------------------------------------------------------------
    def forward(self, x: np.ndarray) -> np.ndarray:
        """``(batch, fan_in)`` -> ``(batch, fan_out)`` through DAC, array and ADC."""
        conv = self.converters
        fast = compiled.enabled() and x.dtype == np.float32  # one pass per converter (labctl.training.kernels)
        if fast:
            x_q, scale = kernels.dac(x, conv.dac_bits)
        else:
            scale = np.abs(x).max(axis=1, keepdims=True)
            scale = np.where(scale > 0, scale, np.float32(1))
            x_q = quantize(x / scale, 1.0, conv.dac_bits)
        if self._unread.size:  # between read-backs (read_every > 1): the predicted weights, in software
            currents = (x_q[:, : self.fan_in] @ self.w) * np.float32(self.read_spec.voltage_v * self.half_range_s)
        else:
            rows = self.backend.layout.cell_shape[0]
            if rows > self.fan_in:
                x_q = np.pad(x_q, ((0, 0), (0, rows - self.fan_in)))
            currents = self.backend.read_mvm(x_q, self.read_spec)
        if fast and currents.dtype == np.float32:
            return kernels.adc(currents, self.fan_out, self.read_spec.voltage_v * self.half_range_s, conv.out_bound,
                               conv.adc_bits, self.alpha, scale, self.bias)
        currents = currents[:, : self.fan_out]
        z = (currents / (self.read_spec.voltage_v * self.half_range_s)).astype(np.float32, copy=False)
        z = quantize(z, conv.out_bound, conv.adc_bits)
        return self.alpha * scale * z + self.bias

    def backward(self, x: np.ndarray, delta: np.ndarray,
                 input_grad: bool = True) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
        """Gradients ``(dL/dx, dL/dW_effective, dL/db)`` for the batch-mean loss (straight-through converters);
        ``dL/dx`` is None unless ``input_grad``."""
        grad_x = (delta @ self.w.T) * self.alpha if input_grad else None
        return grad_x, x.T @ delta, delta.sum(axis=0)

    def weight_units(self, delta_effective: np.ndarray) -> np.ndarray:
        """A change of the effective weights in normalised device units."""
        return delta_effective / self.alpha

    # -- writing ---------------------------------------------------------------------------------
    def apply_counts(self, counts: np.ndarray) -> tuple[int, int]:
        """Pulse each weight device ``|counts|`` times, LTP where positive and LTD where negative.

        Returns (pulses delivered, bench transactions). The pulsed devices are read back.
        """
        flat = np.flatnonzero(counts)
        return self.apply_counts_at(flat, counts.ravel()[flat])

    def apply_counts_at(self, flat: np.ndarray, signed: np.ndarray) -> tuple[int, int]:
        """:meth:`apply_counts` for ``signed[i]`` pulses on cell ``flat[i]`` (ascending flat ``fan_in x fan_out`` indices).

        The optimisers produce this form directly: no pass over the whole grid to find the few cells pulsed.
        """
        self._updates += 1
        if flat.size == 0:
            if self._updates % self.read_every == 0:
                self.sync()
            return 0, 0
        rows, device_cols = self._device_coordinates(flat)
        if self.read_every == 1:  # pulses, then the read-back of the same devices (one pass on the simulator)
            report, g = self.backend.pulse_and_read_at(rows, device_cols, self.pulses, signed, self.read_spec)
            for _ in range(self.weight_reads - 1):
                g = g + self.backend.read_at(rows, device_cols, self.read_spec)
            self._store(flat, g / self.weight_reads)
            return report.pulses, report.transactions
        pulses = transactions = 0
        for sign in (+1, -1):
            sel = signed > 0 if sign > 0 else signed < 0
            if sel.any():
                report = self.backend.apply_pulses_at(rows[sel], device_cols[sel], self.pulses[sign],
                                                      np.abs(signed[sel]))
                pulses, transactions = pulses + report.pulses, transactions + report.transactions
        self._predict(flat, signed)
        self._unread = np.union1d(self._unread, flat)
        if self._updates % self.read_every == 0:
            self.sync()
        return pulses, transactions

    def sync(self) -> None:
        """Read back every cell pulsed since its last read-back, so the weights and the next forward pass
        are the array's again (``read_every`` > 1; the loop calls it at the end of each epoch, before the
        test evaluation, and counts ``read_every`` batches from there)."""
        if self._unread.size:
            self._refresh_at(self._unread)
            self._unread = np.empty(0, dtype=np.int64)
        self._updates = 0

    def _predict(self, flat: np.ndarray, signed: np.ndarray) -> None:
        """Move the weights of cells ``flat`` by ``signed`` pulses of the device model's mean step, pulse by
        pulse from each weight device's present state (no read: the weights until the next read-back)."""
        dev, op = self.model.weight, self.model.operating_point
        log = dev.conductance_scale == "log"
        state = physics.state_of_conductance(self._g_reference.take(flat) + self.w.take(flat) * self.half_range_s,
                                             dev.g_min_s, dev.g_max_s, log)
        up, n = signed > 0, np.abs(signed)
        for k in range(int(n.max(initial=0))):
            going = n > k
            step = np.where(up, physics.pulse_step(dev.potentiation, True, state, op.amplitude_v(True),
                                                   op.write_width_s, dev.reference_amplitude_v, dev.reference_width_s),
                            -physics.pulse_step(dev.depression, False, state, -op.amplitude_v(False),
                                                op.write_width_s, dev.reference_amplitude_v, dev.reference_width_s))
            state = np.clip(state + np.where(going, step, 0.0), 0.0, 1.0)
        g = physics.conductance(state, dev.g_min_s, dev.g_max_s, log)
        self.w.put(flat, ((g - self._g_reference.take(flat)) / self.half_range_s).astype(np.float32))

    def _device_coordinates(self, flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(rows, device columns) of the weight devices of flat cells ``flat`` (``r * fan_out + c``)."""
        rows = flat // self.fan_out  # (np.divmod is ~5x slower than floor division by a scalar)
        cols = flat - rows * self.fan_out
        if isinstance(self._device_col_map, tuple):
            start, step = self._device_col_map
            cols *= step
            cols += start
            return rows, cols
        return rows, self._device_col_map[cols]
