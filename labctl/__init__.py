"""labctl: from the probe station to a trained network on a FeFET crossbar chip."""

from .backend import ArrayBackend, BackendBase, PulseReport
from .errors import ConfigError, DataError, InstrumentError, LabctlError, ModelError, SafetyLimitError
from .layout import CellLayout, Role
from .specs import DEFAULT_LIMITS, PulseSpec, ReadSpec, SafetyLimits

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_LIMITS", "ArrayBackend", "BackendBase", "CellLayout", "ConfigError", "DataError",
    "InstrumentError", "LabctlError", "ModelError", "PulseReport", "PulseSpec", "ReadSpec", "Role",
    "SafetyLimitError", "SafetyLimits",
]
