"""Keysight B1530A WGFMU pulse-and-measure through the vendor's C library (``wgfmu.h``) via ctypes.

The WGFMU is not controlled by FLEX commands: its instrument library builds a voltage pattern
(vectors), attaches a measurement event, runs it and returns the sampled currents. Every library
call's return code is checked; a non-zero code raises ``InstrumentError`` naming the function and
the library's own error text (``WGFMU_getError``). Constants are those of ``wgfmu.h``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from dataclasses import dataclass

import numpy as np

from labctl.errors import InstrumentError, SafetyLimitError, field_error
from labctl.specs import DEFAULT_LIMITS, WGFMU_MIN_MEASURED_PULSE_S, SafetyLimits, check_within

NO_ERROR = 0
OPERATION_MODE_FASTIV = 2001
MEASURE_MODE_CURRENT = 4001
MEASURE_EVENT_DATA_AVERAGED = 12000
CURRENT_RANGES = {1e-6: 6001, 10e-6: 6002, 100e-6: 6003, 1e-3: 6004, 10e-3: 6005}
"""Measure current range in A -> ``WGFMU_MEASURE_CURRENT_RANGE_*``."""


@dataclass(frozen=True)
class WgfmuPulse:
    """A trapezoidal pulse with a current measurement on its top."""

    amplitude_v: float
    """Pulse top in V (signed), from 0 V base."""
    width_s: float
    """Top width in s."""
    rise_s: float = 20e-9
    """Leading edge in s."""
    fall_s: float = 20e-9
    """Trailing edge in s."""
    current_range_a: float = 1e-3
    """Measure current range in A (one of :data:`CURRENT_RANGES`)."""
    points: int = 1
    """Samples on the pulse top."""
    averaging_s: float = 10e-9
    """Averaging time per sample in s (10 ns to 20 ms)."""

    def check(self, limits: SafetyLimits = DEFAULT_LIMITS) -> None:
        """Raise ``SafetyLimitError`` naming the field for anything the WGFMU (or ``limits``) does not allow."""
        if abs(self.amplitude_v) > limits.wgfmu_max_force_v:
            raise field_error(SafetyLimitError, "WgfmuPulse.amplitude_v", self.amplitude_v,
                              f"beyond +/-{limits.wgfmu_max_force_v} V (wgfmu_max_force_v)")
        for name in ("width_s", "rise_s", "fall_s"):
            if getattr(self, name) < limits.wgfmu_min_step_s:
                raise field_error(SafetyLimitError, f"WgfmuPulse.{name}", getattr(self, name),
                                  f"below the {limits.wgfmu_min_step_s!r} s vector step (wgfmu_min_step_s)")
        if self.current_range_a not in CURRENT_RANGES:
            raise field_error(SafetyLimitError, "WgfmuPulse.current_range_a", self.current_range_a,
                              f"not one of {sorted(CURRENT_RANGES)}")
        shortest = WGFMU_MIN_MEASURED_PULSE_S[self.current_range_a]
        if self.width_s < shortest:
            raise field_error(SafetyLimitError, "WgfmuPulse.width_s", self.width_s,
                              f"shorter than {shortest!r} s, the minimum for a measured pulse on this range")
        check_within("WgfmuPulse.points", self.points, 1, float("inf"))
        limits.check_range("WgfmuPulse.averaging_s", self.averaging_s, "wgfmu_min_averaging_s", "wgfmu_max_averaging_s")
        limits.check_range("WgfmuPulse sampling interval_s", self.width_s / self.points, "wgfmu_min_interval_s",
                           "wgfmu_max_interval_s")

def load_library(name: str = "wgfmu"):
    """Load the vendor library (``wgfmu.dll`` on Windows); ``InstrumentError`` if it is not installed."""
    path = ctypes.util.find_library(name)
    if path is None:
        raise field_error(InstrumentError, "wgfmu library", name, "not found: install Keysight's B1530A library")
    return ctypes.CDLL(path)


class WGFMU:
    """One WGFMU session over ``lib`` (a ctypes library, or any object with the same functions)."""

    def __init__(self, lib, address: str, limits: SafetyLimits = DEFAULT_LIMITS) -> None:
        self.lib = lib
        self.address = address
        self.limits = limits
        self._call("WGFMU_openSession", address.encode())
        self._call("WGFMU_initialize")

    def _call(self, function: str, *args) -> None:
        code = getattr(self.lib, function)(*args)
        if code != NO_ERROR:
            size = ctypes.c_int(0)
            self.lib.WGFMU_getErrorSize(ctypes.pointer(size))
            text = ctypes.create_string_buffer(max(size.value, 1) + 1)
            self.lib.WGFMU_getError(text, ctypes.pointer(size))
            raise InstrumentError(f"wgfmu at {self.address}: {function} returned {code}: "
                                  f"{text.value.decode(errors='replace').strip()}")

    def pulse_and_measure(self, channel: int, pulse: WgfmuPulse) -> tuple[np.ndarray, np.ndarray]:
        """Apply one pulse on ``channel`` and sample its current on the top: (times s, currents A)."""
        pulse.check(self.limits)
        name = b"labctl_pulse"
        interval = pulse.width_s / pulse.points
        call = self._call
        call("WGFMU_clear")
        call("WGFMU_createPattern", name, ctypes.c_double(0.0))
        for dt, v in ((pulse.rise_s, pulse.amplitude_v), (pulse.width_s, pulse.amplitude_v), (pulse.fall_s, 0.0)):
            call("WGFMU_addVector", name, ctypes.c_double(dt), ctypes.c_double(v))
        call("WGFMU_setMeasureEvent", name, b"top", ctypes.c_double(pulse.rise_s), ctypes.c_int(pulse.points),
             ctypes.c_double(interval), ctypes.c_double(min(pulse.averaging_s, interval)),
             ctypes.c_int(MEASURE_EVENT_DATA_AVERAGED))
        call("WGFMU_addSequence", ctypes.c_int(channel), name, ctypes.c_double(1.0))
        call("WGFMU_setOperationMode", ctypes.c_int(channel), ctypes.c_int(OPERATION_MODE_FASTIV))
        call("WGFMU_setMeasureMode", ctypes.c_int(channel), ctypes.c_int(MEASURE_MODE_CURRENT))
        call("WGFMU_setMeasureCurrentRange", ctypes.c_int(channel), ctypes.c_int(CURRENT_RANGES[pulse.current_range_a]))
        call("WGFMU_connect", ctypes.c_int(channel))
        try:
            call("WGFMU_execute")
            call("WGFMU_waitUntilCompleted")
            measured, total = ctypes.c_int(0), ctypes.c_int(0)
            call("WGFMU_getMeasureValueSize", ctypes.c_int(channel), ctypes.pointer(measured), ctypes.pointer(total))
            size = ctypes.c_int(measured.value)
            times, values = (ctypes.c_double * size.value)(), (ctypes.c_double * size.value)()
            call("WGFMU_getMeasureValues", ctypes.c_int(channel), ctypes.c_int(0), ctypes.pointer(size), times, values)
        finally:
            self.lib.WGFMU_disconnect(ctypes.c_int(channel))
        return np.array(times[:size.value]), np.array(values[:size.value])

    def close(self) -> None:
        """End the session (``WGFMU_closeSession``)."""
        self._call("WGFMU_closeSession")
