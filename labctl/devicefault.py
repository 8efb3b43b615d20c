"""Device faults read off the measurements: the error and the dead-line (floor) check every caller shares.

A reading below ``FLOOR_FRACTION`` of the smallest conductance the model allows is no device at
all: a dead line or an open relay path. Procedures (:mod:`procedures.health`, which adds the stuck and
no-hysteresis checks) and training (:class:`labctl.training.analog.AnalogLayer`, on every read-back)
stop on it with one :class:`DeviceFaultError` naming the device or row line and the instrument's last
command, rather than measure or train on an open circuit.
"""

from __future__ import annotations

import numpy as np

from labctl.errors import LabctlError

FLOOR_FRACTION = 1e-2
"""A reading below this fraction of the model's smallest conductance is no device at all."""


class DeviceFaultError(LabctlError):
    """The measurements show a broken device or line."""


def check_floor(rows: np.ndarray, cols: np.ndarray, g: np.ndarray, floor_s: float, backend) -> None:
    """Raise :class:`DeviceFaultError` if a reading ``g[i]`` of device ``(rows[i], cols[i])`` is at or below ``floor_s``.

    When every device read on the first dead device's row is dead (and there are several), the row line is named.
    """
    dead = g <= floor_s
    if not dead.any():
        return
    i = int(np.argmax(dead))
    r, c = int(rows[i]), int(cols[i])
    on_row = rows == r
    if on_row.sum() > 1 and dead[on_row].all():
        where = f"row line {r} (all {int(on_row.sum())} devices read on it)"
    else:
        where = f"device {r}:{c}"
    raise DeviceFaultError(f"dead line or open path at {where}: reads {g[i]:.3g} S < {floor_s:.1e} S; "
                           f"{backend.last_command}")
