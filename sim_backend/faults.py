"""Device and line faults of the simulated chip: stuck devices and dead lines.

A stuck-on device stays fully potentiated and a stuck-off device fully depressed whatever is
written; a dead row or column line neither delivers pulses nor conducts, so its devices read 0 S.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from labctl.errors import ConfigError, field_error


@dataclass
class Faults:
    """Which devices and lines of the array are broken."""

    stuck_on: list[tuple[int, int]] = field(default_factory=list)
    """(row, col) of devices stuck in the fully potentiated state."""
    stuck_off: list[tuple[int, int]] = field(default_factory=list)
    """(row, col) of devices stuck in the fully depressed state."""
    dead_rows: list[int] = field(default_factory=list)
    """Row lines that are open (no pulse reaches them, no current flows)."""
    dead_cols: list[int] = field(default_factory=list)
    """Column lines that are open."""

    def check(self, shape: tuple[int, int]) -> None:
        """Raise ``ConfigError`` naming the fault that lies outside an array of ``shape``."""
        for name in ("stuck_on", "stuck_off"):
            for r, c in getattr(self, name):
                if not (0 <= r < shape[0] and 0 <= c < shape[1]):
                    raise field_error(ConfigError, f"faults.{name}", (r, c), f"outside the {shape} array")
        for name, size in (("dead_rows", shape[0]), ("dead_cols", shape[1])):
            for line in getattr(self, name):
                if not 0 <= line < size:
                    raise field_error(ConfigError, f"faults.{name}", line, f"outside 0..{size - 1}")

    def dead_mask(self, shape: tuple[int, int]) -> np.ndarray:
        """Devices on a dead line."""
        mask = np.zeros(shape, dtype=bool)
        mask[list(self.dead_rows), :] = True
        mask[:, list(self.dead_cols)] = True
        return mask

    def pin(self, state: np.ndarray) -> None:
        """Force stuck devices to their stuck state (in place)."""
        for value, cells in ((1.0, self.stuck_on), (0.0, self.stuck_off)):
            if cells:
                rows, cols = zip(*cells)
                state[list(rows), list(cols)] = value
