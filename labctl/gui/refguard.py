"""Keep a long GUI session alive on PySide6 6.12 under Python 3.11.

There, many Qt calls from Python drop one reference they never took: a void method (``update()``,
``prepareGeometryChange()``) to ``None``, a bool signal to ``True``. pyqtgraph's ``setData`` makes a
dozen such calls, and a live plot calls it five times a second per curve, so after tens of
thousands of updates ``None`` or ``True`` reaches zero references and the interpreter aborts
("deallocating None", "bool_dealloc: deallocating True or False"): a half-hour run would kill the
GUI, and the test suite crashed at exit. From Python 3.12 these objects are immortal and nothing
is needed. Until then :func:`top_up` holds spare references, and every window calls it on a timer.
"""

from __future__ import annotations

import ctypes
import sys

SPARE = 200_000
"""References held to each of None, True and False (about 1.6 MB each): minutes of live plotting."""
_spares: list = []
ctypes.pythonapi.Py_IncRef(ctypes.py_object(_spares))
"""Never freed, not even at exit: freeing it would hand back the references Qt already dropped."""


def top_up(minimum: int = SPARE) -> None:
    """Hold spare references so ``None``, ``True`` and ``False`` each have at least ``minimum``."""
    if sys.version_info >= (3, 12):  # immortal objects: the leak cannot free them
        return
    for obj in (None, True, False):
        missing = minimum - sys.getrefcount(obj)
        if missing > 0:
            _spares.extend([obj] * missing)
