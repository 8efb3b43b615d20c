"""The labctl exception hierarchy.

It lives in ``device_models`` because that package is imported by every other one and must itself
import nothing from ``labctl``; ``labctl.errors`` re-exports it. Every message names the offending
field and value, so a user can fix the input without reading a traceback.
"""

from __future__ import annotations


class LabctlError(Exception):
    """Base class of every error labctl raises on purpose."""


class ConfigError(LabctlError, ValueError):
    """A parameter, file or option is malformed or out of its allowed range."""


class ModelError(ConfigError):
    """A device model (preset name or model JSON) is unknown, corrupt or inconsistent."""


class SafetyLimitError(ConfigError):
    """A pulse, read or sweep would exceed the chip's or the instrument's safety limits."""


class InstrumentError(LabctlError):
    """An instrument refused a command, reported an error, or stopped answering."""


class DataError(LabctlError, ValueError):
    """Measured data cannot be imported or fitted (missing column, no numeric rows, ...)."""


def field_error(cls: type[LabctlError], field: str, value: object, why: str) -> LabctlError:
    """Build (not raise) an error whose message names ``field`` and its ``value``."""
    return cls(f"{field}={value!r}: {why}")
