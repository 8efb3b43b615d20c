"""Re-export of the exception hierarchy (defined in :mod:`device_models.errors`)."""

from device_models.errors import (
    ConfigError,
    DataError,
    InstrumentError,
    LabctlError,
    ModelError,
    SafetyLimitError,
    field_error,
)

__all__ = [
    "ConfigError",
    "DataError",
    "InstrumentError",
    "LabctlError",
    "ModelError",
    "SafetyLimitError",
    "field_error",
]
