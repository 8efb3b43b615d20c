"""What may be sent to the chip: safety limits and the pulse / read specifications checked against them.

A ``PulseSpec`` or ``ReadSpec`` validates itself against a ``SafetyLimits`` when it is built, and every
backend checks it again against its own (possibly stricter) limits before anything is sent, so an
over-limit request never reaches an instrument or the simulated chip.

Defaults come from the instruments' documented ranges (``shared/docs/BENCH.md``) narrowed to what a
FeFET chip tolerates; a bench file narrows them further per chip.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

import numpy as np

from .errors import ConfigError, SafetyLimitError, field_error


def _finite(owner: str, name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise field_error(ConfigError, f"{owner}.{name}", value, "must be a number")
    if not math.isfinite(value):
        raise field_error(ConfigError, f"{owner}.{name}", value, "must be finite")
    return float(value)


SPGU_MIN_EDGE_BY_SWING = ((10.0, 20e-9), (20.0, 30e-9), (math.inf, 60e-9))
"""(largest output swing in V, shortest rise/fall in s) of the B1525A SPGU (BENCH.md)."""
WGFMU_MIN_MEASURED_PULSE_S = {1e-6: 40e-6, 10e-6: 6.8e-6, 100e-6: 950e-9, 1e-3: 240e-9, 10e-3: 145e-9}
"""Shortest WGFMU pulse with a current measurement, per current range in A (BENCH.md; 1 uA approximate)."""
WRITE_OUTPUTS = 2
"""A write pulse is delivered as +A/2 on its row and -A/2 on its column (V/2 scheme, ``labctl.hardware``)."""


def check_within(name: str, value: float, low: float, high: float, note: str = "") -> None:
    """Raise ``SafetyLimitError`` naming ``name`` and ``value`` if it is outside [low, high]."""
    if not low <= value <= high:
        raise field_error(SafetyLimitError, name, value, f"outside [{low!r}, {high!r}]{note}")


@dataclass(frozen=True)
class SafetyLimits:
    """Per-chip and per-instrument limits that no backend may exceed."""

    max_write_v: float = 10.0
    """Largest write-pulse magnitude in V (SPGU: 20 V into 50 ohm; chips tolerate less)."""
    min_width_s: float = 10e-9
    """Shortest write-pulse width in s (SPGU minimum, 10 ns)."""
    max_width_s: float = 10e-3
    """Longest write-pulse width in s (the papers go to 2 ms)."""
    min_edge_s: float = 8e-9
    """Shortest rise or fall time in s (SPGU minimum, 8 ns)."""
    max_edge_s: float = 400e-3
    """Longest rise or fall time in s (SPGU maximum, 400 ms)."""
    max_pulse_count: int = 1_000_000
    """Most pulses in one train (SPGU: 1 to 1,000,000 per run)."""
    max_read_v: float = 0.5
    """Largest read (drain) voltage magnitude in V; larger would disturb the polarisation."""
    max_gate_v: float = 10.0
    """Largest DC gate-sweep magnitude in V (transfer curves)."""
    max_drain_v: float = 2.0
    """Largest DC drain voltage magnitude in V during a sweep."""
    compliance_a: float = 1e-3
    """SMU current compliance in A for DC measurements."""
    spgu_min_period_s: float = 20e-9
    """Shortest SPGU period in s (B1525A: 20 ns to 10 s)."""
    spgu_max_period_s: float = 10.0
    """Longest SPGU period in s."""
    spgu_max_level_v: float = 20.0
    """Largest SPGU output level magnitude in V (into 50 ohm; 40 V open load is not relied on)."""
    smu_min_pulse_width_s: float = 0.5e-3
    """Shortest SMU pulsed-mode width in s (``PT``: 0.5 ms to 2 s)."""
    smu_max_pulse_width_s: float = 2.0
    """Longest SMU pulsed-mode width in s."""
    smu_min_pulse_period_s: float = 5e-3
    """Shortest SMU pulsed-mode period in s (``PT``: 5 ms to 5 s)."""
    smu_max_pulse_period_s: float = 5.0
    """Longest SMU pulsed-mode period in s."""
    adc_min_integration_s: float = 2e-6
    """Shortest high-speed ADC integration in s (``AIT`` time mode: 2 us to 20 ms)."""
    adc_max_integration_s: float = 20e-3
    """Longest high-speed ADC integration in s."""
    wgfmu_max_force_v: float = 10.0
    """Largest WGFMU force magnitude in V (ranges +/-3, +/-5, -10..0, 0..+10 V)."""
    wgfmu_min_step_s: float = 10e-9
    """Shortest WGFMU waveform vector in s (10 ns resolution and minimum)."""
    wgfmu_min_averaging_s: float = 10e-9
    """Shortest WGFMU averaging time per sample in s (10 ns to 20 ms)."""
    wgfmu_max_averaging_s: float = 20e-3
    """Longest WGFMU averaging time per sample in s."""
    wgfmu_min_interval_s: float = 10e-9
    """Shortest WGFMU sampling interval in s (10 ns to 1.342 s)."""
    wgfmu_max_interval_s: float = 1.342
    """Longest WGFMU sampling interval in s."""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = _finite("SafetyLimits", f.name, getattr(self, f.name))
            if value <= 0:
                raise field_error(ConfigError, f"SafetyLimits.{f.name}", value, "must be > 0")
        if self.min_width_s > self.max_width_s:
            raise field_error(ConfigError, "SafetyLimits.min_width_s", self.min_width_s,
                              f"exceeds max_width_s={self.max_width_s!r}")
        for low, high in _RANGES:
            if getattr(self, low) > getattr(self, high):
                raise field_error(ConfigError, f"SafetyLimits.{low}", getattr(self, low),
                                  f"exceeds {high}={getattr(self, high)!r}")

    def check_narrows(self, physical: SafetyLimits | None = None) -> None:
        """Raise ``ConfigError`` naming the field if an instrument range is wider than ``physical``.

        A bench file may narrow what the instruments can do, never widen it; chip limits
        (``max_write_v``, ``max_read_v``...) are policy and may take any value the checks accept.
        """
        physical = physical or DEFAULT_LIMITS
        for name in INSTRUMENT_FIELDS:
            mine, theirs = getattr(self, name), getattr(physical, name)
            if (mine < theirs) if "_min_" in f"_{name}" else (mine > theirs):
                raise field_error(ConfigError, f"SafetyLimits.{name}", mine,
                                  f"wider than the instrument's {theirs!r} (a bench file may only narrow it)")

    def min_edge_s_at(self, level_v: float) -> float:
        """Shortest rise/fall in s an SPGU output swinging ``level_v`` volts can make (BENCH.md)."""
        swing = abs(level_v)
        table = next(edge for top, edge in SPGU_MIN_EDGE_BY_SWING if swing <= top)
        return max(self.min_edge_s, table)

    def check_spgu_output(self, name: str, swing_v: float, rise_s: float, fall_s: float,
                          shown_v: float | None = None) -> None:
        """Raise ``SafetyLimitError`` if one SPGU output cannot swing ``swing_v`` volts with these edges.

        ``name`` prefixes the field in the message; ``shown_v`` is the amplitude named there (default the swing).
        """
        self.check_spgu_level(f"{name}.amplitude_v", swing_v, swing_v if shown_v is None else shown_v)
        shortest = self.min_edge_s_at(swing_v)
        for edge_name, edge in (("rise_s", rise_s), ("fall_s", fall_s)):
            check_within(f"{name}.{edge_name}", edge, shortest, self.max_edge_s,
                         f" s for a {abs(swing_v):g} V SPGU swing (20 ns <= 10 V, 30 ns <= 20 V, 60 ns above)")

    def check_spgu_level(self, name: str, level_v: float, shown_v: float | None = None) -> None:
        """Raise ``SafetyLimitError`` if an SPGU output level (or swing) exceeds ``spgu_max_level_v``."""
        if abs(level_v) > self.spgu_max_level_v:
            raise field_error(SafetyLimitError, name, level_v if shown_v is None else shown_v,
                              f"an SPGU output would reach {abs(level_v):g} V > spgu_max_level_v="
                              f"{self.spgu_max_level_v!r} V")

    def check_range(self, name: str, value: float, low: str, high: str) -> None:
        """Raise ``SafetyLimitError`` naming ``name`` if ``value`` is outside [``low``, ``high``] (field names)."""
        check_within(name, value, getattr(self, low), getattr(self, high), f" ({low}..{high})")

    def check_pulse(self, pulse: PulseSpec, count: int | np.ndarray = 1) -> None:
        """Raise ``SafetyLimitError`` naming the field if ``pulse`` (times ``count``) is not allowed.

        ``count`` is one train length or an array of per-device train lengths. A spec built against these
        very limits (``pulse.limits is self``; both frozen) passed :meth:`check_pulse_shape` when it was
        made, so only its counts are checked again (a training update checks two pulses every batch).
        """
        if pulse.limits is not self:
            self.check_pulse_shape(pulse)
        counts = np.asarray(count)
        if counts.dtype.kind not in "iu" and not (counts.dtype.kind == "f" and np.all(counts == np.round(counts))):
            raise field_error(SafetyLimitError, "count", count, "must be whole numbers")
        if counts.size and (counts.min() < 0 or counts.max() > self.max_pulse_count):
            raise field_error(SafetyLimitError, "count", int(counts.max() if counts.min() >= 0 else counts.min()),
                              f"outside [0, {self.max_pulse_count}]")

    def check_pulse_shape(self, pulse: PulseSpec) -> None:
        """Raise ``SafetyLimitError`` naming the field if one ``pulse`` is not allowed (amplitude, width, edges)."""
        if abs(pulse.amplitude_v) > self.max_write_v:
            raise field_error(SafetyLimitError, "PulseSpec.amplitude_v", pulse.amplitude_v,
                              f"|amplitude| exceeds max_write_v={self.max_write_v!r} V")
        if not self.min_width_s <= pulse.width_s <= self.max_width_s:
            raise field_error(SafetyLimitError, "PulseSpec.width_s", pulse.width_s,
                              f"outside [min_width_s={self.min_width_s!r}, max_width_s={self.max_width_s!r}] s")
        # each SPGU output carries half the pulse (V/2 scheme): its swing sets the shortest edge
        self.check_spgu_output("PulseSpec", pulse.amplitude_v / WRITE_OUTPUTS, pulse.rise_s, pulse.fall_s,
                               shown_v=pulse.amplitude_v)

    def check_read(self, read: ReadSpec) -> None:
        """Raise ``SafetyLimitError`` if the read voltage could disturb the stored state."""
        if abs(read.voltage_v) > self.max_read_v:
            raise field_error(SafetyLimitError, "ReadSpec.voltage_v", read.voltage_v,
                              f"|voltage| exceeds max_read_v={self.max_read_v!r} V")
        self.check_range("ReadSpec.integration_s", read.integration_s, "adc_min_integration_s",
                         "adc_max_integration_s")

    def check_sweep(self, gate_v: np.ndarray, drain_v: float) -> None:
        """Raise ``SafetyLimitError`` if a DC gate sweep or its drain bias is over the limits."""
        gate_v = np.asarray(gate_v, dtype=float)
        if gate_v.size == 0 or not np.all(np.isfinite(gate_v)):
            raise field_error(SafetyLimitError, "gate_v", gate_v.tolist()[:4], "must be finite and non-empty")
        worst = float(np.max(np.abs(gate_v)))
        if worst > self.max_gate_v:
            raise field_error(SafetyLimitError, "gate_v", worst, f"exceeds max_gate_v={self.max_gate_v!r} V")
        drain_v = _finite("sweep", "drain_v", drain_v)
        if abs(drain_v) > self.max_drain_v:
            raise field_error(SafetyLimitError, "drain_v", drain_v, f"exceeds max_drain_v={self.max_drain_v!r} V")


_RANGES = [("min_width_s", "max_width_s"), ("min_edge_s", "max_edge_s")] + [
    (f"{p}_min_{q}", f"{p}_max_{q}") for p, q in (("spgu", "period_s"), ("smu", "pulse_width_s"),
                                                  ("smu", "pulse_period_s"), ("adc", "integration_s"),
                                                  ("wgfmu", "averaging_s"), ("wgfmu", "interval_s"))]
INSTRUMENT_FIELDS = ("min_width_s", "min_edge_s", "max_edge_s", "max_pulse_count") + tuple(
    f.name for f in fields(SafetyLimits) if f.name.split("_")[0] in ("spgu", "smu", "adc", "wgfmu"))
"""Fields that are instrument physics (a bench file may narrow them only); the rest is chip policy."""
DEFAULT_LIMITS = SafetyLimits()
"""The instruments' documented ranges with the default chip limits."""


@dataclass(frozen=True)
class PulseSpec:
    """One write pulse. The sign of ``amplitude_v`` is the polarity (positive potentiates by default)."""

    amplitude_v: float
    """Pulse amplitude in V, signed: the polarity of the write."""
    width_s: float
    """Pulse width (top of the trapezoid) in s."""
    rise_s: float = 20e-9
    """Rise time in s (SPGU needs >= 20 ns up to 10 V)."""
    fall_s: float = 20e-9
    """Fall time in s."""
    limits: SafetyLimits = field(default=DEFAULT_LIMITS, compare=False, repr=False)
    """The limits this spec was validated against on construction."""

    def __post_init__(self) -> None:
        for name in ("amplitude_v", "width_s", "rise_s", "fall_s"):
            _finite("PulseSpec", name, getattr(self, name))
        if self.amplitude_v == 0:
            raise field_error(ConfigError, "PulseSpec.amplitude_v", self.amplitude_v, "must be non-zero")
        for name in ("width_s", "rise_s", "fall_s"):
            if getattr(self, name) <= 0:
                raise field_error(ConfigError, f"PulseSpec.{name}", getattr(self, name), "must be > 0")
        self.limits.check_pulse_shape(self)

    @property
    def polarity(self) -> int:
        """+1 or -1: the sign of the amplitude."""
        return 1 if self.amplitude_v > 0 else -1

    def scaled(self, amplitude_v: float) -> PulseSpec:
        """The same pulse shape at another amplitude (validated again)."""
        return PulseSpec(amplitude_v, self.width_s, self.rise_s, self.fall_s, self.limits)


@dataclass(frozen=True)
class ReadSpec:
    """A non-destructive read: small drain bias, optionally bipolar (+V then -V, averaged)."""

    voltage_v: float = 0.1
    """Read voltage magnitude in V (the papers use +/-0.1 V)."""
    bipolar: bool = True
    """Read at +V and -V and average, cancelling offsets (seed 002's protocol)."""
    integration_s: float = 100e-6
    """ADC integration time per reading in s (B1500 high-speed ADC: 2 us to 20 ms)."""
    limits: SafetyLimits = field(default=DEFAULT_LIMITS, compare=False, repr=False)
    """The limits this spec was validated against on construction."""

    def __post_init__(self) -> None:
        _finite("ReadSpec", "voltage_v", self.voltage_v)
        _finite("ReadSpec", "integration_s", self.integration_s)
        if self.voltage_v <= 0:
            raise field_error(ConfigError, "ReadSpec.voltage_v", self.voltage_v, "must be > 0")
        if self.integration_s <= 0:
            raise field_error(ConfigError, "ReadSpec.integration_s", self.integration_s, "must be > 0")
        self.limits.check_read(self)

    @property
    def duration_s(self) -> float:
        """Time one read of a set of devices takes (both polarities when bipolar)."""
        return self.integration_s * (2 if self.bipolar else 1)
