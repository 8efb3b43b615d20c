"""Optional compiled kernels (numba, the ``fast`` extra): whether they are installed and in use.

The numpy code is the reference and the test oracle. A kernel computes the same formulas of
:mod:`device_models.physics` in the same order and consumes the same noise draws in the same order,
so a kernel run equals the numpy run to rounding (~1e-12; numpy's vectorised exp/log/pow may differ
from the C library's by an ulp) and one seed gives the same training metrics with or without numba.
Kernels cover the common case (training); anything else (several populations, faults, polynomial
step shapes) takes the numpy path. ``LABCTL_NUMBA=0`` in the environment turns them off.

Kernels are compiled on first use and cached next to their source (``cache=True``), so a fresh
clone pays the compile once (a few seconds), not every run.
"""

from __future__ import annotations

import os
from contextlib import contextmanager

try:
    import numba
except ImportError:  # the extra is not installed: numpy only
    numba = None

AVAILABLE = numba is not None
"""numba is importable."""

_enabled = AVAILABLE and os.environ.get("LABCTL_NUMBA", "1") != "0"


def enabled() -> bool:
    """Whether callers should take the compiled kernels now."""
    return _enabled


@contextmanager
def disabled():
    """Run a block on the numpy reference path (tests compare the two)."""
    global _enabled
    before, _enabled = _enabled, False
    try:
        yield
    finally:
        _enabled = before


def kernel(fn):
    """``numba.njit`` (cached, numpy float semantics: x / 0 is inf, not an exception), or ``fn`` itself
    without numba (callers check :func:`enabled` first, so it is then never called)."""
    if not AVAILABLE:
        return fn
    return numba.njit(cache=True, nogil=True, error_model="numpy")(fn)
