"""``NoiseTable``: standard normals for the simulator's per-pulse and per-read noise, at the cost of a slice.

Drawing a normal costs ~8 ns on the machines we train on (a float32 multiply ~0.1 ns), and a training
epoch draws tens of millions of them (cycle-to-cycle noise of every update, read noise of every
read-back and every matrix-vector product). The table draws ``size`` normals once, standardises them
to mean 0 and variance 1 exactly, and serves each request of ``n`` values as the contiguous slice at
a uniformly random offset (drawn from the array's seeded Generator, so the same seed gives the same
noise and ``snapshot``/``restore`` of that Generator restores the noise stream).

Statistics: every value is a standard normal (the table's empirical distribution, exact in its first
two moments); the ``n`` values of one request are distinct draws (independent); the values one
device receives on successive requests are independent picks from the table. The only correlation
is between *different* positions of *different* requests whose offsets happen to line up (chance
1/size per pair), far below anything a spread or mean over devices can see. Requests longer than the
table fall back to fresh draws.
"""

from __future__ import annotations

import math

import numpy as np

DEFAULT_SIZE = 1 << 20
"""Normals in a table (4 MiB of float32; drawn in ~8 ms, once per array, on first use)."""


class NoiseTable:
    """Standard normals served as random slices of one seeded table; see the module docstring."""

    def __init__(self, seed_sequence: np.random.SeedSequence, rng: np.random.Generator,
                 size: int = DEFAULT_SIZE) -> None:
        self._seed_sequence = seed_sequence
        self.rng = rng
        """Generator of the offsets (the owner's: snapshotting it captures the noise stream)."""
        self.size = int(size)
        self._table: np.ndarray | None = None

    def _values(self) -> np.ndarray:
        if self._table is None:  # drawn on first use: arrays that never read or pulse pay nothing
            base = np.random.default_rng(self._seed_sequence).standard_normal(self.size, dtype=np.float32)
            base -= base.mean(dtype=np.float64)
            base /= base.std(dtype=np.float64)
            self._table = np.concatenate([base, base])  # any offset < size has ``size`` values after it
            self._table.flags.writeable = False
        return self._table

    def standard_normal(self, shape) -> np.ndarray:
        """``shape`` standard normals (float32, read-only view into the table when it fits)."""
        n = math.prod(shape) if isinstance(shape, tuple) else int(shape)  # (np.prod costs ~3 us a request)
        if n > self.size:
            return self.rng.standard_normal(shape, dtype=np.float32)
        start = int(self.rng.integers(self.size))
        return self._values()[start:start + n].reshape(shape)
