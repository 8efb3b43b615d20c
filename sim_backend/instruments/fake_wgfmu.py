"""A fake B1530A instrument library with the ``wgfmu.h`` function names, for the ctypes wrapper.

It keeps the session state the library keeps (patterns, events, sequences, connected channels) and
answers the out-parameters through ctypes pointers, as the C library would. The device under test is
a resistor of ``load_ohm`` (the WGFMU protocol is what is tested here, not FeFET physics).
"""

from __future__ import annotations

from labctl.specs import DEFAULT_LIMITS

LIMITS = DEFAULT_LIMITS
"""The B1530A's documented ranges (the numbers the driver checks), refused here as the library would."""


class FakeWgfmuLibrary:
    """Stateful stand-in for ``wgfmu.dll``; every function returns 0 or a negative ``wgfmu.h`` code."""

    def __init__(self, load_ohm: float = 1e5, channels=(101, 102)) -> None:
        self.load_ohm = load_ohm
        self.channels = set(channels)
        self.calls: list[str] = []
        self.error = ""
        self.session = False
        self.WGFMU_clear()
        self.calls.clear()

    def _fail(self, code: int, text: str) -> int:
        self.error = text
        return code

    def _log(self, name: str) -> None:
        self.calls.append(name)

    # -- session ---------------------------------------------------------------------------------
    def WGFMU_openSession(self, address: bytes) -> int:  # noqa: N802 (the library's names)
        self._log("openSession")
        self.session = True
        return 0

    def WGFMU_initialize(self) -> int:  # noqa: N802
        self._log("initialize")
        return 0 if self.session else self._fail(-3, "no session")

    def WGFMU_closeSession(self) -> int:  # noqa: N802
        self._log("closeSession")
        self.session = False
        return 0

    def WGFMU_getErrorSize(self, size) -> int:  # noqa: N802
        size.contents.value = len(self.error)
        return 0

    def WGFMU_getError(self, buffer, size) -> int:  # noqa: N802
        buffer.value = self.error.encode()[: len(buffer) - 1]
        self.error = ""
        return 0

    # -- patterns ----------------------------------------------------------------------------------
    def WGFMU_clear(self) -> int:  # noqa: N802
        self._log("clear")
        self.patterns, self.events, self.sequence, self.connected, self.results = {}, {}, {}, set(), {}
        self.modes = {}
        return 0

    def WGFMU_createPattern(self, name: bytes, initial) -> int:  # noqa: N802
        if name in self.patterns:
            return self._fail(-12, "pattern already exists")
        self.patterns[name] = [(0.0, initial.value)]
        return 0

    def WGFMU_addVector(self, name: bytes, dt, voltage) -> int:  # noqa: N802
        if name not in self.patterns:
            return self._fail(-10, "pattern not found")
        if dt.value < LIMITS.wgfmu_min_step_s:
            return self._fail(-1, f"delta time below {LIMITS.wgfmu_min_step_s:g} s")
        if abs(voltage.value) > LIMITS.wgfmu_max_force_v:
            return self._fail(-1, f"voltage beyond +/-{LIMITS.wgfmu_max_force_v:g} V")
        t, _ = self.patterns[name][-1]
        self.patterns[name].append((t + dt.value, voltage.value))
        return 0

    def WGFMU_setMeasureEvent(self, name, event, time, points, interval, averaging, raw) -> int:  # noqa: N802
        if name not in self.patterns:
            return self._fail(-10, "pattern not found")
        if not LIMITS.wgfmu_min_interval_s <= interval.value <= LIMITS.wgfmu_max_interval_s:
            return self._fail(-1, "sampling interval out of range")
        if not LIMITS.wgfmu_min_averaging_s <= averaging.value <= LIMITS.wgfmu_max_averaging_s:
            return self._fail(-1, "averaging time out of range")
        self.events[name] = (time.value, points.value, interval.value)
        return 0

    def WGFMU_addSequence(self, channel, name, loops) -> int:  # noqa: N802
        if channel.value not in self.channels:
            return self._fail(-9, f"channel {channel.value} not found")
        self.sequence[channel.value] = name
        return 0

    def WGFMU_setOperationMode(self, channel, mode) -> int:  # noqa: N802
        self.modes[channel.value] = mode.value
        return 0

    def WGFMU_setMeasureMode(self, channel, mode) -> int:  # noqa: N802
        return 0 if mode.value in (4000, 4001) else self._fail(-1, "measure mode")

    def WGFMU_setMeasureCurrentRange(self, channel, range_) -> int:  # noqa: N802
        return 0 if 6001 <= range_.value <= 6005 else self._fail(-1, "current range")

    def WGFMU_connect(self, channel) -> int:  # noqa: N802
        self.connected.add(channel.value)
        return 0

    def WGFMU_disconnect(self, channel) -> int:  # noqa: N802
        self.connected.discard(channel.value)
        return 0

    # -- run and results ---------------------------------------------------------------------------
    def WGFMU_execute(self) -> int:  # noqa: N802
        for channel, name in self.sequence.items():
            if channel not in self.connected:
                return self._fail(-3, f"channel {channel} not connected")
            if self.modes.get(channel) != 2001:
                return self._fail(-3, "measurement needs Fast IV mode")
            start, points, interval = self.events[name]
            vectors = self.patterns[name]
            times = [start + (k + 1) * interval for k in range(points)]
            self.results[channel] = [(t, _voltage_at(vectors, t) / self.load_ohm) for t in times]
        return 0

    def WGFMU_waitUntilCompleted(self) -> int:  # noqa: N802
        return 0

    def WGFMU_getMeasureValueSize(self, channel, measured, total) -> int:  # noqa: N802
        n = len(self.results.get(channel.value, []))
        measured.contents.value, total.contents.value = n, n
        return 0

    def WGFMU_getMeasureValues(self, channel, offset, size, times, values) -> int:  # noqa: N802
        rows = self.results.get(channel.value, [])[offset.value: offset.value + size.contents.value]
        for k, (t, i) in enumerate(rows):
            times[k], values[k] = t, i
        size.contents.value = len(rows)
        return 0


def _voltage_at(vectors: list[tuple[float, float]], t: float) -> float:
    """Piecewise-linear force voltage of a pattern at time ``t``."""
    for (t0, v0), (t1, v1) in zip(vectors, vectors[1:]):
        if t0 <= t <= t1:
            return v0 + (v1 - v0) * (t - t0) / (t1 - t0)
    return vectors[-1][1]
