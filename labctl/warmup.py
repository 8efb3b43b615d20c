"""Compile and cache the optional numba kernels once (``python -m labctl.warmup``; ``make`` runs it at install).

A fresh clone would otherwise compile them on the first simulated training run (~3 s, see
:mod:`device_models.compiled`); after this every run loads them from the cache next to their sources. It
trains a tiny network on random data with each update rule, which takes every kernel with the
argument types real runs use, and a fitter's trajectory of each step shape.
"""

from __future__ import annotations

import time

import numpy as np

from device_models import compiled


def warm_up() -> float:
    """Run every kernel once (compiling or loading it); returns the seconds it took (0 without numba)."""
    if not compiled.enabled():
        return 0.0
    from labctl.training import Dataset, train

    started = time.perf_counter()
    rng = np.random.default_rng(0)
    # float32 rows as load_mnist gives them (the DAC hands the kernels contiguous rows of any input)
    data = Dataset(rng.random((200, 16), dtype=np.float32), rng.integers(0, 10, 200),
                   rng.random((50, 16), dtype=np.float32), rng.integers(0, 10, 50))
    for algo in ("sgd", "mpsgd", "symshift"):
        train(algo=algo, layers=(16, 12, 10), data=data, progress=False)
    from device_models.fitting.steps import StepShape, trajectory

    for shape in (StepShape("power", exponent=1.0), StepShape("polynomial", coefficients=(0.1, 0.0))):
        trajectory(shape, 0.1, 0.5, np.ones((1, 3)), True)  # the fitter's trajectory kernel, both shapes
    return time.perf_counter() - started


if __name__ == "__main__":
    seconds = warm_up()
    print(f"numba kernels ready ({seconds:.1f} s)" if compiled.enabled() else "numba not installed: numpy path")
