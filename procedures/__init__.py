"""Bench procedures (LTP/LTD, symmetry point, retention, multistate, transfer curve, array map).

Each module holds a plain function ``run_x(backend, params, emit)`` written against
:class:`labctl.backend.ArrayBackend` and a thin pymeasure ``Procedure`` wrapper; :func:`run_procedure`
runs any of them headless into a folder.
"""

from .registry import NAMES, get_spec, procedure_class
from .runner import read_records, run_procedure

__all__ = ["NAMES", "get_spec", "procedure_class", "read_records", "run_procedure"]
