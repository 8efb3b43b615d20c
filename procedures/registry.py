"""The procedures by name, and their pymeasure wrapper classes (imported lazily)."""

from __future__ import annotations

import importlib

from labctl.errors import ConfigError, field_error

from .spec import ProcedureSpec

NAMES = ("ltp_ltd", "symmetry_point", "retention", "multistate", "transfer_curve", "array_map")
"""Every procedure, in the order ``labctl run --list`` shows them."""


def _module(name: str):
    if name not in NAMES:
        raise field_error(ConfigError, "procedure", name, f"choose one of {', '.join(NAMES)}")
    return importlib.import_module(f"procedures.{name}")


def get_spec(name: str) -> ProcedureSpec:
    """The :class:`ProcedureSpec` of procedure ``name``."""
    return _module(name).SPEC


def procedure_class(name: str):
    """The pymeasure ``Procedure`` subclass of procedure ``name``."""
    return _module(name).PROCEDURE
