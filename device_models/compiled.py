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


def _prefetch_intrinsic():
    """``prefetch(array, flat_index)``: ask the CPU to fetch that element's cache line (LLVM ``llvm.prefetch``).

    A gather over scattered rows is limited by how many cache misses are in flight; prefetching the
    rows a few dozen devices ahead keeps more in flight (~30 % off a cold gather on the training machine).
    """
    import llvmlite.binding
    from llvmlite import ir
    from numba import types
    from numba.core import cgutils
    from numba.extending import intrinsic

    # intrinsic names carry the pointer type: opaque pointers (LLVM >= 15) mangle as p0, typed ones as p0i8
    name = "llvm.prefetch.p0" if llvmlite.binding.llvm_version_info[0] >= 15 else "llvm.prefetch.p0i8"

    @intrinsic
    def prefetch(typingctx, array, index):
        def codegen(context, builder, signature, args):
            array_type = signature.args[0]
            view = context.make_array(array_type)(context, builder, args[0])
            pointer = cgutils.get_item_pointer(context, builder, array_type, view, [args[1]], wraparound=False)
            byte_pointer = ir.IntType(8).as_pointer()
            int32 = ir.IntType(32)
            function = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(ir.VoidType(), [byte_pointer, int32, int32, int32]), name)
            # read (0), high locality (3), data cache (1)
            builder.call(function, [builder.bitcast(pointer, byte_pointer), int32(0), int32(3), int32(1)])
            return context.get_dummy_value()

        return types.void(array, index), codegen

    return prefetch


prefetch = _prefetch_intrinsic() if AVAILABLE else None
"""Compiled-code-only cache-line prefetch of ``array.flat[index]`` (a 1-D view; see ``_prefetch_intrinsic``)."""


def kernel(fn):
    """``numba.njit`` (cached, numpy float semantics: x / 0 is inf, not an exception), or ``fn`` itself
    without numba (callers check :func:`enabled` first, so it is then never called)."""
    if not AVAILABLE:
        return fn
    return numba.njit(cache=True, nogil=True, error_model="numpy")(fn)
