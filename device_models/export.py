"""Export a fitted model to aihwkit: a ``PiecewiseStepDevice``-style config dict, and the object itself.

aihwkit's piecewise step device scales a minimal step ``dw_min`` by factors given at points spread
evenly between ``w_min`` and ``w_max`` (linear interpolation between them). Weights span
[-1, 1] here, so a normalised step ``s`` of our model is a weight step ``2 s`` (on a log-scale device,
twice the conductance step over the range, at points even in conductance). The vectors are the
model's step curve at its operating point, divided by ``dw_min`` (their mean over both polarities).

Device-to-device spreads are mapped onto aihwkit's per-device draws (``PulsedDevice.populate``:
``w_max * (1 + w_max_dtod * n)``, ``w_min * (1 + w_min_dtod * n)``, step scales ``(1 + dw_min_dtod * n
+- up_down_dtod * n') * dw_min``) so that each device's weight bounds and weight steps have the spread
the simulator draws (``sim_backend.population``): the relative conductance spread of ``g_max`` and
``g_min`` moves the weight's bounds by ``2 d2d_bounds g_max / range`` and ``2 d2d_bounds g_min / range``
(0.12 and 0.02 on garg-hzo, not 0.05 both); each device's step scales independently per polarity
(lognormal ``d2d_step``) and with its own conductance range, which aihwkit splits into a common gain and
an up/down difference. aihwkit cannot tie a device's step to its bounds: that correlation is not exported.
"""

from __future__ import annotations

import numpy as np

from .errors import ModelError
from .params import ChipModel
from .physics import conductance, pulse_step, state_of_conductance

N_POINTS = 11
"""Points of the piecewise vectors between the bounds (aihwkit's examples use 11 to 21)."""


def dtod_spreads(model: ChipModel) -> dict:
    """aihwkit's device-to-device fields (``w_max_dtod``, ``w_min_dtod``, ``dw_min_dtod``,
    ``up_down_dtod``) that reproduce the weight device's spread in weight units (see the module doc)."""
    w = model.weight
    var, span = w.variation, w.g_max_s - w.g_min_s
    top, bottom = 2 * var.d2d_bounds * w.g_max_s / span, 2 * var.d2d_bounds * w.g_min_s / span
    v_range = (var.d2d_bounds * np.hypot(w.g_max_s, w.g_min_s) / span) ** 2  # each device's range / nominal
    v_step = np.expm1(var.d2d_step**2)  # lognormal scale of unit mean, per polarity
    # up = s_up * range, down = s_down * range: var of their mean and of their half difference
    v_common = v_range + v_step * (1 + v_range) / 2
    v_diff = v_step * (1 + v_range) / 2
    return {"w_max_dtod": float(top), "w_min_dtod": float(bottom),  # relative to |w_max| = |w_min| = 1
            "dw_min_dtod": float(np.sqrt(v_common)), "up_down_dtod": float(np.sqrt(v_diff))}


def piecewise_step_config(model: ChipModel, n_points: int = N_POINTS) -> dict:
    """The weight device of ``model`` as a dict of aihwkit ``PiecewiseStepDevice`` fields."""
    w, op = model.weight, model.operating_point
    g = np.linspace(0.0, 1.0, n_points)
    args = (op.write_amplitude_v, op.write_width_s, w.reference_amplitude_v, w.reference_width_s)
    log = w.conductance_scale == "log"

    def state(p):  # aihwkit's points are even in weight, i.e. in conductance: the states there
        return state_of_conductance(w.g_min_s + p * (w.g_max_s - w.g_min_s), w.g_min_s, w.g_max_s, log)

    def weight(s):
        return 2 * (conductance(np.clip(s, 0, 1), w.g_min_s, w.g_max_s, log) - w.g_min_s) / (w.g_max_s - w.g_min_s)

    # evaluate the step toward a bound just inside it: at the bound itself that step is zero by definition
    below_top, above_bottom = state(np.minimum(g, 1 - 0.5 / n_points)), state(np.maximum(g, 0.5 / n_points))
    up = weight(below_top + pulse_step(w.potentiation, True, below_top, *args)) - weight(below_top)
    down = weight(above_bottom) - weight(above_bottom - pulse_step(w.depression, False, above_bottom, *args))
    dw_min = float(np.mean(np.r_[up, down]))
    if not dw_min > 0:
        raise ModelError(f"model {model.name!r}: its steps are zero at the operating point; nothing to export")
    return {
        "type": "PiecewiseStepDevice",
        "dw_min": dw_min,
        "dw_min_std": w.variation.c2c_write,
        "up_down": 0.0,
        "w_min": -1.0,
        "w_max": 1.0,
        **dtod_spreads(model),
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
    return PiecewiseStepDevice(**{k: v for k, v in cfg.items() if k not in ("type", "source_model")})
