"""The fitted model's variability: read and write noise from the step residuals, device-to-device spreads
of the bounds and the step from the devices' own trains, each one the data do not resolve taken from
the base model (and said so in the report).

A spread over devices needs several devices: one device's file shows none (it read 0 before, and a
model without device-to-device spread starts every weight at exactly 0 on a fresh chip: the
network's hidden units then stay alike and a fitted two-decade device trained to 52 % where the
same device with the base model's 5 % bound spread reached 66 %).
"""

from __future__ import annotations

import numpy as np

from ..params import Variation
from .traces import PLATEAU_FRACTION, device_spread, noise_from_residuals, plateaus, scales_resolved

MIN_DEVICES = 3
"""Fewest devices whose per-device means fix a device-to-device spread."""
FEW_DEVICES = f"base model (fewer than {MIN_DEVICES} devices)"
"""Source of a spread the data cannot give because they hold too few devices."""


def why_borrowed(source: str) -> str | None:
    """Why a spread came from the base model (the reason in a ``"base model (why)"`` source), or None when
    it was fitted."""
    return None if source == "fit" else source.split("(", 1)[1].removesuffix(")")


def fit_variation(chosen: dict, trains: dict, scales: list, lo: dict, hi: dict, log: bool, in_s,
                  base: Variation) -> tuple[Variation, dict[str, str]]:
    """(variation, where each spread came from: "fit" or "base model (why)") of the fitted ``phases``.

    ``scales`` are the trains' step scales per phase, ``lo``/``hi`` their device bounds on the fit
    axis; ``in_s`` maps that axis to S.
    """
    phases = list(trains)
    read_noise, c2c = noise_from_residuals([chosen[p] for p in phases], [trains[p] for p in phases], scales,
                                           [lo[p] for p in phases], [hi[p] for p in phases], log=log)
    devices = np.concatenate([trains[p].device for p in phases])
    few = len(set(devices)) < MIN_DEVICES
    sources = {"c2c": "fit" if c2c is not None else "base model (not resolved under read noise)",
               "d2d_bounds": FEW_DEVICES if few else "fit",
               "d2d_step": FEW_DEVICES if few else "fit" if all(scales_resolved(lam) for lam in scales)
               else "base model (steps under the read noise)"}
    d2d_step = device_spread(np.concatenate(scales), devices, log=True)
    m = max(2, int(trains[phases[0]].conductance_s.shape[1] * PLATEAU_FRACTION))
    spreads = [device_spread(in_s(plateaus(trains[p])), trains[p].device) for p in phases]
    bound_spread = float(np.sqrt(np.mean(np.square(spreads))))
    d2d_bounds = float(np.sqrt(max(0.0, bound_spread**2 - read_noise**2 / m)))
    fitted = {"c2c": c2c, "d2d_step": float(d2d_step), "d2d_bounds": d2d_bounds}
    base_values = {"c2c": base.c2c_write, "d2d_step": base.d2d_step, "d2d_bounds": base.d2d_bounds}
    value = {k: fitted[k] if sources[k] == "fit" else base_values[k] for k in sources}
    return Variation(d2d_bounds=value["d2d_bounds"], d2d_step=value["d2d_step"], d2d_nonlinearity=0.0,
                     c2c_write=value["c2c"], read_noise=read_noise), sources
