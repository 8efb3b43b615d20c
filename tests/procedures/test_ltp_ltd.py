"""LTP/LTD on the simulated chip: potentiation raises G, depression lowers it; CSV contract."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from labctl.errors import SafetyLimitError
from procedures import run_procedure
from procedures.ltp_ltd import COLUMNS, LtpLtdParams, run_ltp_ltd

CONTRACT = ["Device row", "Device col", "Phase", "Pulse", "Amplitude (V)", "Width (s)", "Conductance (S)", "Time (s)"]


def test_ltp_rises_and_ltd_falls(ning, collect):
    summary = run_ltp_ltd(ning, LtpLtdParams(pulses=40, n_devices=3), collect)
    df = pd.DataFrame(collect.records)
    ltp = df[df.Phase == "LTP"].groupby("Pulse")["Conductance (S)"].mean()
    ltd = df[df.Phase == "LTD"].groupby("Pulse")["Conductance (S)"].mean()
    # Rising trend despite 4.25 % read noise: strongly positive rank correlation, big net change.
    assert ltp.iloc[-5:].mean() > 3 * ltp.iloc[:5].mean()
    assert np.corrcoef(ltp.index, ltp.values)[0, 1] > 0.9
    assert ltd.iloc[-5:].mean() < 0.7 * ltd.iloc[:5].mean()
    assert summary["LTP"]["g_last_s"] > summary["LTP"]["g_first_s"]
    assert collect.progress[-1] == pytest.approx(100.0)


def test_amplitude_ramp_width_and_pulse_numbering(garg20, collect):
    run_ltp_ltd(garg20, LtpLtdParams(pulses=10, n_devices=2, start_amplitude_v=3.8, stop_amplitude_v=4.1), collect)
    df = pd.DataFrame(collect.records)
    one = df[(df["Device row"] == df["Device row"].iloc[0]) & (df["Device col"] == df["Device col"].iloc[0])]
    assert list(one.Pulse) == list(range(1, 21))
    np.testing.assert_allclose(one["Amplitude (V)"].iloc[:10], np.linspace(3.8, 4.1, 10))
    np.testing.assert_allclose(one["Amplitude (V)"].iloc[10:], -np.linspace(3.8, 4.1, 10))
    assert set(one["Width (s)"]) == {garg20.model.operating_point.write_width_s}
    assert one["Time (s)"].is_monotonic_increasing


@pytest.mark.plots
def test_csv_header_and_columns(ning, tmp_path):
    df, csv = run_procedure("ltp_ltd", ning, tmp_path, pulses=5, n_devices=2, chip_id="chip-7")
    assert list(df.columns) == CONTRACT == list(COLUMNS)
    assert len(df) == 2 * 2 * 5
    text = csv.read_text().splitlines()
    assert text[0] == "#Procedure: <procedures.ltp_ltd.LtpLtdProcedure>"
    assert text[1] == "#Parameters:"
    header = {line[2:].split(": ", 1)[0]: line[2:].split(": ", 1)[1] for line in text if line.startswith("#\t")}
    assert header["Seed"] == "11" and header["Model"] == "ning-mos2-fefet" and header["Chip id"] == "chip-7"
    assert header["Temperature"] == "300.0 K" and header["Instrument IDNs"] == "none"
    assert header["Git revision"] and header["Device ids"].count(":") == 2
    assert "#Data:" in text
    assert (tmp_path / "ltp_ltd_conductance.png").stat().st_size > 1000
    assert df.attrs["status"] == "completed"


def test_refuses_over_limit_amplitude_before_sending(ning, tmp_path):
    before = ning.state.copy()
    with pytest.raises(SafetyLimitError, match="stop_amplitude_v"):
        run_procedure("ltp_ltd", ning, tmp_path, stop_amplitude_v=12.0)
    np.testing.assert_array_equal(ning.state, before)
    assert ning.time_s == 0.0
    assert not list(tmp_path.iterdir())
