"""aihwkit export: the PiecewiseStepDevice-style dict follows the model's step curves."""

from __future__ import annotations

import numpy as np
import pytest

from device_models import load_preset
from device_models.errors import ModelError
from device_models.export import piecewise_step_config, to_aihwkit


def test_piecewise_config_of_a_soft_bounds_preset():
    model = load_preset("garg-hzo-2us")
    cfg = piecewise_step_config(model, n_points=11)
    up, down = np.array(cfg["piecewise_up"]), np.array(cfg["piecewise_down"])
    assert cfg["type"] == "PiecewiseStepDevice" and len(up) == len(down) == 11
    assert np.all(np.diff(up) < 0) and np.all(np.diff(down) > 0)  # soft bounds: steps shrink toward each bound
    assert np.mean(np.r_[up, down]) == pytest.approx(1.0)  # dw_min is the mean step
    assert cfg["dw_min_std"] == model.weight.variation.c2c_write
    # a weight step is twice the normalised step (weights span [-1, 1])
    frac = 0.018  # the preset's LTP step from the bottom at 2 us (provenance)
    room = (1 - 0.5 / 11) ** model.weight.potentiation.shape.exponent  # first point: mid of the first bin
    assert up[0] * cfg["dw_min"] == pytest.approx(2 * frac * room, rel=0.02)


def test_aihwkit_object_or_a_clear_error():
    model = load_preset("garg-hzo-2us")
    try:
        import aihwkit  # noqa: F401
    except ImportError:
        with pytest.raises(ModelError, match="aihwkit is not installed"):
            to_aihwkit(model)
        return
    device = to_aihwkit(model)
    assert list(device.piecewise_up) == pytest.approx(piecewise_step_config(model)["piecewise_up"])
