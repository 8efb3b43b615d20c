"""Multistate on the simulated chip: 8 levels distinguishable, bit error reported, sparsity on/off."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from labctl.layout import Role
from procedures.multistate import MultistateParams, run_multistate


@pytest.mark.parametrize("sparsity_on", [True, False])
def test_eight_levels_are_distinguishable(ning, collect, sparsity_on):
    params = MultistateParams(levels=8, n_devices=24, reads=6, sparsity_on=sparsity_on)
    summary = run_multistate(ning, params, collect)
    assert summary["levels"] == 8 and summary["levels_ordered"]
    assert summary["min_separation_sigma"] > 2
    assert 0 <= summary["bit_error_rate"] < 0.05
    df = pd.DataFrame(collect.records)
    assert len(df) == 24 * 6
    cells = ning.layout.to_cells(np.isin(np.arange(900).reshape(30, 30),
                                         df["Device row"] * 30 + df["Device col"]))
    sparsity_g = ning.true_conductance()[ning.layout.devices(cells, Role.SPARSITY)]
    threshold = np.sqrt(ning.model.sparsity.g_min_s * ning.model.sparsity.g_max_s)
    assert np.all((sparsity_g > threshold) == sparsity_on)


def test_more_levels_cost_more_errors(ning, collect):
    eight = run_multistate(ning, MultistateParams(levels=8, n_devices=16, reads=4), collect)
    many = run_multistate(ning, MultistateParams(levels=32, n_devices=32, reads=4, max_pulses=60), collect)
    assert many["level_error_rate"] > eight["level_error_rate"]
