"""The simulated FeFET chip (and, later, simulated instruments) behind the labctl seam."""

from .array import SimulatedArray
from .faults import Faults

__all__ = ["Faults", "SimulatedArray"]
