"""Instrument drivers for the bench: Keysight B1500A (SMU, SPGU), the B2200A/E5250A switch matrix, and
the B1530A WGFMU through its vendor library (:mod:`.wgfmu`, imported on demand)."""

from .b1500 import B1500
from .smu import SMU
from .spgu import SPGU, PulseShape
from .switch_matrix import SwitchMatrix

__all__ = ["B1500", "SMU", "SPGU", "PulseShape", "SwitchMatrix"]
