"""Transfer curves on the simulated chip: the model's memory window recovered within 10 %."""

from __future__ import annotations

import numpy as np
import pytest

from labctl.errors import SafetyLimitError
from procedures import run_procedure
from procedures.transfer_curve import TransferCurveParams, first_crossing, run_transfer_curve


def test_first_crossing_interpolates_in_log_current():
    v = np.array([0.0, 1.0, 2.0, 3.0, 2.0])
    i = np.array([1e-12, 1e-10, 1e-8, 1e-6, 1e-9])
    assert first_crossing(v, i, 1e-9, rising=True) == pytest.approx(1.5)
    assert np.isnan(first_crossing(v, i, 1e-3, rising=True))


def test_memory_window_of_the_model(ning, collect):
    summary = run_transfer_curve(ning, TransferCurveParams(n_devices=6, gate_step_v=0.1), collect)
    window = ning.model.weight.transfer.memory_window_v
    assert summary["memory_window_v"]["mean"] == pytest.approx(window, rel=0.10)
    assert summary["memory_window_v"]["n"] == 6
    assert summary["log10_on_off"]["mean"] > 2


@pytest.mark.plots
def test_array_maps_and_refusal(ning, tmp_path):
    df, _ = run_procedure("transfer_curve", ning, tmp_path, devices="0:1,3:5,7:9", gate_step_v=0.2)
    assert df.groupby(["Device row", "Device col"]).ngroups == 3
    assert set(df.Branch) == {"forward", "reverse"}
    assert (tmp_path / "transfer_curve_transfer.png").exists()
    with pytest.raises(SafetyLimitError, match="gate_start_v"):
        run_procedure("transfer_curve", ning, tmp_path / "refused", gate_start_v=-12.0)
