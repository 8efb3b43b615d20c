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

    def __post_init__(self) -> None:
        for f in fields(self):
            value = _finite("SafetyLimits", f.name, getattr(self, f.name))
            if value <= 0:
                raise field_error(ConfigError, f"SafetyLimits.{f.name}", value, "must be > 0")
        if self.min_width_s > self.max_width_s:
            raise field_error(ConfigError, "SafetyLimits.min_width_s", self.min_width_s,
                              f"exceeds max_width_s={self.max_width_s!r}")
        if self.min_edge_s > self.max_edge_s:
            raise field_error(ConfigError, "SafetyLimits.min_edge_s", self.min_edge_s,
                              f"exceeds max_edge_s={self.max_edge_s!r}")

    def check_pulse(self, pulse: PulseSpec, count: int | np.ndarray = 1) -> None:
        """Raise ``SafetyLimitError`` naming the field if ``pulse`` (times ``count``) is not allowed.

        ``count`` is one train length or an array of per-device train lengths.
        """
        if abs(pulse.amplitude_v) > self.max_write_v:
            raise field_error(SafetyLimitError, "PulseSpec.amplitude_v", pulse.amplitude_v,
                              f"|amplitude| exceeds max_write_v={self.max_write_v!r} V")
        if not self.min_width_s <= pulse.width_s <= self.max_width_s:
            raise field_error(SafetyLimitError, "PulseSpec.width_s", pulse.width_s,
                              f"outside [{self.min_width_s!r}, {self.max_width_s!r}] s")
        for name in ("rise_s", "fall_s"):
            edge = getattr(pulse, name)
            if not self.min_edge_s <= edge <= self.max_edge_s:
                raise field_error(SafetyLimitError, f"PulseSpec.{name}", edge,
                                  f"outside [{self.min_edge_s!r}, {self.max_edge_s!r}] s")
        counts = np.asarray(count)
        if counts.dtype.kind not in "iu" and not (counts.dtype.kind == "f" and np.all(counts == np.round(counts))):
            raise field_error(SafetyLimitError, "count", count, "must be whole numbers")
        if counts.size and (counts.min() < 0 or counts.max() > self.max_pulse_count):
            raise field_error(SafetyLimitError, "count", int(counts.max() if counts.min() >= 0 else counts.min()),
                              f"outside [0, {self.max_pulse_count}]")

    def check_read(self, read: ReadSpec) -> None:
        """Raise ``SafetyLimitError`` if the read voltage could disturb the stored state."""
        if abs(read.voltage_v) > self.max_read_v:
            raise field_error(SafetyLimitError, "ReadSpec.voltage_v", read.voltage_v,
                              f"|voltage| exceeds max_read_v={self.max_read_v!r} V")

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


DEFAULT_LIMITS = SafetyLimits()


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
        self.limits.check_pulse(self)

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
