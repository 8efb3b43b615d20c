"""labctl: from the probe station to a trained network on a FeFET crossbar chip."""

from .backend import ArrayBackend, BackendBase, PulseReport
from .errors import ConfigError, DataError, InstrumentError, LabctlError, ModelError, SafetyLimitError
from .layout import CellLayout, Role
from .specs import DEFAULT_LIMITS, PulseSpec, ReadSpec, SafetyLimits

__version__ = "0.1.0"

_API = ("fit", "open_backend", "run_procedure", "train")
"""The notebook API (:mod:`labctl.api`), imported on first use so ``import labctl`` stays light."""


def __getattr__(name: str):
    if name in _API:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'labctl' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_API])

__all__ = [
    "DEFAULT_LIMITS", "ArrayBackend", "BackendBase", "CellLayout", "ConfigError", "DataError",
    "InstrumentError", "LabctlError", "ModelError", "PulseReport", "PulseSpec", "ReadSpec", "Role",
    "SafetyLimitError", "SafetyLimits", "fit", "open_backend", "run_procedure", "train",
]
