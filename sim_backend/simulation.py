"""``BenchSimulation``: the ``simulation`` handle of a backend on simulated instruments.

Everything simulation-specific a caller needs goes through a backend's ``simulation`` (None on a
real bench): ``snapshot()`` / ``restore()`` for an exact resume, and the simulated bench's ground
truth (``world``: the fake instruments and the chip behind them) for tests. A ``SimulatedArray`` is
its own handle; simulated instruments get this one, built by :func:`labctl.backends.open_backend`.
"""

from __future__ import annotations

import numpy as np

from .instruments.world import BenchWorld


class BenchSimulation:
    """Snapshot and restore of a simulated bench (chip, clock, relays) and of its driver's relay cache."""

    def __init__(self, world: BenchWorld) -> None:
        self.world = world
        self._driver = None

    def bind(self, driver) -> None:
        """The ``HardwareArray`` driving this bench: its relay cache follows a restore."""
        self._driver = driver

    @property
    def chip(self):
        """The ``SimulatedArray`` behind the instruments (its ``true_conductance`` is the ground truth)."""
        return self.world.chip

    def snapshot(self) -> dict[str, np.ndarray]:
        return self.world.snapshot()

    def restore(self, snap: dict[str, np.ndarray]) -> None:
        self.world.restore(snap)
        if self._driver is not None:
            self._driver.assume_relays(self.world.closed_relays())
