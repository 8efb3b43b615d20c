"""Export a fitted model to aihwkit: a ``PiecewiseStepDevice``-style config dict, and the object itself.

aihwkit's piecewise step device scales a minimal step ``dw_min`` by factors given at points spread
evenly between ``w_min`` and ``w_max`` (linear interpolation between them). Weights span
[-1, 1] here, so a normalised step ``s`` of our model is a weight step ``2 s``. The vectors are the
model's step curve at its operating point, divided by ``dw_min`` (their mean over both polarities).
"""

from __future__ import annotations

import numpy as np

from .errors import ModelError
from .params import ChipModel
from .physics import pulse_step

N_POINTS = 11
"""Points of the piecewise vectors between the bounds (aihwkit's examples use 11 to 21)."""


def piecewise_step_config(model: ChipModel, n_points: int = N_POINTS) -> dict:
    """The weight device of ``model`` as a dict of aihwkit ``PiecewiseStepDevice`` fields."""
    w, op = model.weight, model.operating_point
    g = np.linspace(0.0, 1.0, n_points)
    args = (op.write_amplitude_v, op.write_width_s, w.reference_amplitude_v, w.reference_width_s)
    # evaluate just inside the bounds: at the bound itself the step toward it is zero by definition
    inner = np.clip(g, 0.5 / n_points, 1 - 0.5 / n_points)
    up = 2 * pulse_step(w.potentiation, True, inner, *args)
    down = 2 * pulse_step(w.depression, False, inner, *args)
    dw_min = float(np.mean(np.r_[up, down]))
    if not dw_min > 0:
        raise ModelError(f"model {model.name!r}: its steps are zero at the operating point; nothing to export")
    var = w.variation
    return {
        "type": "PiecewiseStepDevice",
        "dw_min": dw_min,
        "dw_min_std": var.c2c_write,
        "dw_min_dtod": var.d2d_step,
        "up_down": 0.0,
        "w_min": -1.0,
        "w_max": 1.0,
        "w_min_dtod": var.d2d_bounds,
        "w_max_dtod": var.d2d_bounds,
        "piecewise_up": (up / dw_min).tolist(),
        "piecewise_down": (down / dw_min).tolist(),
        "source_model": model.name,
    }


def to_aihwkit(model: ChipModel, n_points: int = N_POINTS):
    """The aihwkit ``PiecewiseStepDevice`` object (raises ``ModelError`` when aihwkit is missing).

    ``up_down`` is 0: the asymmetry is already in the two piecewise vectors.
    """
    try:
        from aihwkit.simulator.configs.devices import PiecewiseStepDevice
    except ImportError:
        raise ModelError("aihwkit is not installed: use piecewise_step_config() for the config dict") from None
    cfg = piecewise_step_config(model, n_points)
    return PiecewiseStepDevice(
        dw_min=cfg["dw_min"], dw_min_std=cfg["dw_min_std"], dw_min_dtod=cfg["dw_min_dtod"], up_down=0.0,
        w_min=cfg["w_min"], w_max=cfg["w_max"], w_min_dtod=cfg["w_min_dtod"], w_max_dtod=cfg["w_max_dtod"],
        piecewise_up=cfg["piecewise_up"], piecewise_down=cfg["piecewise_down"])
