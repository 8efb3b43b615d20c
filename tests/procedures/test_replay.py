"""The operation journal behind --resume: exact round trip, torn lines, a state saved one point behind."""

from __future__ import annotations

import json

import numpy as np
import pytest

from labctl.backend import PulseReport
from labctl.errors import DataError
from procedures import read_records, run_procedure
from procedures.replay import decode, encode, keep_records, load_journal
from sim_backend import SimulatedArray


def test_results_round_trip_exactly_through_json():
    g = np.full((3, 4), np.nan)
    g[1, 2], g[2, 0] = 1.2345678901234567e-7, 3e-300
    for value in (g, np.arange(6.0).reshape(2, 3), PulseReport(5, 7, 1.5e-6), 0.1 + 0.2, None):
        back = decode(json.loads(json.dumps(encode(value))))
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(back, value)
        else:
            assert back == value


def test_torn_line_and_lines_past_the_saved_state_are_cut(tmp_path):
    path = tmp_path / "run.ops"
    lines = [{"records": 2, "ops": [["read", 1.0], ["time_s", 2.0]]}, {"records": 4, "ops": [["wait", None]]}]
    path.write_text("".join(json.dumps(x) + "\n" for x in lines) + '{"records": 6, "op')
    assert load_journal(path) == ([["read", 1.0], ["time_s", 2.0], ["wait", None]], 4)
    assert path.read_text().count("\n") == 2 and path.read_text().endswith("\n")  # torn line gone
    assert load_journal(path, until_ops=2) == ([["read", 1.0], ["time_s", 2.0]], 2)
    assert path.read_text().count("\n") == 1
    with pytest.raises(DataError, match="saved state expects 5"):
        load_journal(path, until_ops=5)


def test_records_the_journal_does_not_hold_are_cut(tmp_path):
    with SimulatedArray("ning-mos2-fefet", seed=2) as chip:
        df, csv = run_procedure("ltp_ltd", chip, tmp_path, n_devices=2, pulses=3)
    assert keep_records(csv, 4, "#") == len(df) - 4
    assert read_records(csv).equals(df.iloc[:4])


def test_a_journal_that_no_longer_matches_the_procedure_is_refused(tmp_path):
    seen = {"n": 0}

    def count(topic, value):
        seen["n"] += topic == "results"

    with SimulatedArray("ning-mos2-fefet", seed=2) as chip:
        _, csv = run_procedure("ltp_ltd", chip, tmp_path, count, should_stop=lambda: seen["n"] >= 6,
                               n_devices=2, pulses=5)
    ops = csv.with_suffix(".ops")
    ops.write_text(ops.read_text().replace('"apply_pulses"', '"wait"', 1))
    with SimulatedArray("ning-mos2-fefet", seed=2) as chip, pytest.raises(DataError, match="different code"):
        run_procedure("ltp_ltd", chip, tmp_path, resume=True)
