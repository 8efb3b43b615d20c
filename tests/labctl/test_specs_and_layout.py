"""Safety limits, pulse/read specs and the cell layout refuse bad input naming the field."""

from __future__ import annotations

import math

import numpy as np
import pytest

from labctl import CellLayout, ConfigError, PulseSpec, ReadSpec, Role, SafetyLimitError, SafetyLimits


@pytest.mark.parametrize("kwargs, message", [
    ({"amplitude_v": 11.0, "width_s": 1e-6}, r"PulseSpec\.amplitude_v=11\.0"),
    ({"amplitude_v": 3.0, "width_s": 1e-9}, r"PulseSpec\.width_s=1e-09"),
    ({"amplitude_v": 3.0, "width_s": 1.0}, r"PulseSpec\.width_s=1\.0"),
    ({"amplitude_v": 3.0, "width_s": 1e-6, "rise_s": 1e-9}, r"PulseSpec\.rise_s"),
    ({"amplitude_v": math.inf, "width_s": 1e-6}, r"PulseSpec\.amplitude_v=inf"),
    ({"amplitude_v": "3", "width_s": 1e-6}, r"PulseSpec\.amplitude_v='3'"),
])
def test_pulse_spec_refuses_naming_field_and_value(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        PulseSpec(**kwargs)


def test_over_limit_is_a_safety_error_and_stricter_limits_apply():
    strict = SafetyLimits(max_write_v=2.0)
    PulseSpec(3.0, 1e-6)
    with pytest.raises(SafetyLimitError, match="max_write_v=2.0"):
        PulseSpec(3.0, 1e-6, limits=strict)


def test_read_spec_refuses_destructive_voltage():
    with pytest.raises(SafetyLimitError, match=r"ReadSpec\.voltage_v=0\.8"):
        ReadSpec(voltage_v=0.8)
    assert ReadSpec().duration_s == pytest.approx(2 * ReadSpec().integration_s)


@pytest.mark.parametrize("kwargs, field", [({"max_write_v": -1.0}, "max_write_v"),
                                           ({"min_width_s": 1.0, "max_width_s": 1e-3}, "min_width_s"),
                                           ({"compliance_a": math.nan}, "compliance_a")])
def test_limits_validate_themselves(kwargs, field):
    with pytest.raises(ConfigError, match=field):
        SafetyLimits(**kwargs)


def test_default_layout_is_450_weight_and_450_sparsity_devices():
    lay = CellLayout.sparse()
    assert lay.shape == (30, 30) and lay.cell_shape == (30, 15)
    weight, sparsity = lay.role_mask(Role.WEIGHT), lay.role_mask(Role.SPARSITY)
    assert weight.sum() == 450 and sparsity.sum() == 450 and not (weight & sparsity).any()
    cells = np.arange(450).reshape(30, 15)
    devices = lay.to_devices(cells, Role.SPARSITY, fill=-1)
    np.testing.assert_array_equal(lay.to_cells(devices, Role.SPARSITY), cells)
    # each cell's weight sits right of its sparsity device
    np.testing.assert_array_equal(lay.weight_cols - lay.partner_cols, 1)


def test_layout_refuses_missing_role_and_odd_pairing():
    with pytest.raises(ConfigError, match="reference"):
        CellLayout.sparse().devices(np.ones((30, 15), bool), Role.REFERENCE)
    with pytest.raises(ConfigError, match="cols=31"):
        CellLayout.with_reference(4, 31)
    with pytest.raises(ConfigError, match=r"cells\.shape"):
        CellLayout.dense(4, 4).devices(np.ones((4, 5), bool))
