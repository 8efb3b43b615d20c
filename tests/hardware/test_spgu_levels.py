"""The V/2 scheme as the instruments receive it: the SPGU levels HardwareArray sends, read from the VISA log
(not through the simulated chip's response, which a wrong level could still move plausibly)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from labctl import PulseSpec
from labctl.backends import open_backend
from labctl.visalog import read_log


def _spgu_runs(log_path) -> list[dict]:
    """For each SPGU set-up in the log: {channel: (base_v, peak_v)} and the pulse count."""
    runs = []
    for _, instrument, kind, message in read_log(log_path):
        if instrument != "b1500" or kind != "write" or "SPV" not in message:
            continue
        levels = {int(ch): (float(base), float(peak))
                  for ch, base, peak in re.findall(r"SPV (\d+),1,([-+.\deE]+),([-+.\deE]+)", message)}
        count = int(re.search(r"SPRM 1,(\d+)", message).group(1))
        runs.append({"levels": levels, "count": count})
    return runs


@pytest.mark.parametrize("amplitude_v", [3.0, -2.6])
def test_vector_update_sends_plus_and_minus_half_on_row_and_column(tmp_path, amplitude_v):
    log = tmp_path / "visa.log"
    with open_backend("sim-instruments", model="garg-hzo-2us", seed=1, visa_log=log) as chip:
        row_ch, col_ch = chip.pulse_channels
        rows, cols = np.zeros(chip.shape[0], bool), np.zeros(chip.shape[1], bool)
        rows[[2, 5]], cols[4] = True, True
        chip.apply_vector_update(rows, cols, PulseSpec(amplitude_v, 2e-6), count=3)
    (run,) = _spgu_runs(log)
    assert run["count"] == 3
    assert run["levels"] == {row_ch: (0.0, amplitude_v / 2), col_ch: (0.0, -amplitude_v / 2)}


def test_per_device_trains_use_the_same_half_levels(tmp_path):
    log = tmp_path / "visa.log"
    with open_backend("sim-instruments", model="garg-hzo-2us", seed=1, visa_log=log) as chip:
        row_ch, col_ch = chip.pulse_channels
        chip.apply_pulses_at(np.array([0, 3]), np.array([2, 7]), PulseSpec(-3.2, 2e-6), np.array([4, 1]))
    runs = _spgu_runs(log)
    assert sorted(r["count"] for r in runs) == [1, 4]
    assert all(r["levels"] == {row_ch: (0.0, -1.6), col_ch: (0.0, 1.6)} for r in runs)
