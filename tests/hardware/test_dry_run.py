"""``labctl run --dry-run``: command count and bench time for vector and cell-by-cell operation; the
real (simulated) run lands within 10% of the estimate. Small maps (2 rows, small pulse budget) keep it fast."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from labctl import PulseSpec, Role
from labctl.backends import SIM_BENCH_FILE, open_backend
from labctl.cellwise import CellByCell
from labctl.cli import app

runner = CliRunner()
SMALL = {"rows": "2", "max_pulses": "20"}
"""A two-row array map with a 20-pulse budget: seconds of wall time, minutes of bench time."""
LINE = re.compile(r"(vector|cell): (\d+) commands, (\d+) routings, estimated bench time ([0-9.]+) s")


def _param_args(params: dict) -> list[str]:
    return [a for k, v in params.items() for a in ("--param", f"{k}={v}")]


@pytest.fixture(scope="module")
def dry_run_of_small():
    """``labctl run array_map --dry-run`` of ``SMALL`` on seed 1, run once (inside the first test that asks, with its
    state dir and catalog): (output, folder it was given, {operation: (commands, routings, bench s)})."""
    done = []

    def get(tmp_path):
        if not done:
            result = runner.invoke(app, ["run", "array_map", "--backend", "sim-instruments", "--seed", "1", "--dry-run",
                                         "--out", str(tmp_path / "runs"), *_param_args(SMALL)], terminal_width=200)
            assert result.exit_code == 0, result.output
            found = {m[0]: (int(m[1]), int(m[2]), float(m[3])) for m in LINE.findall(result.output)}
            done.append((result.output, tmp_path / "runs", found))
        return done[0]
    return get


def test_dry_run_prints_both_operations_and_sends_nothing(tmp_path, dry_run_of_small):
    output, out, found = dry_run_of_small(tmp_path)
    print("\n" + output)
    assert set(found) == {"vector", "cell"}
    assert found["cell"][0] > 5 * found["vector"][0] and found["cell"][2] > 5 * found["vector"][2]
    assert "<- this run" in output and "scaled x2 from 1 row" in output
    assert not out.exists()  # no run folder, no CSV: nothing was run for real


def test_dry_run_of_a_real_bench_file_opens_no_instrument(tmp_path):
    """GPIB resources that do not exist here: the dry run must not try to open them."""
    bench = tmp_path / "lab.yaml"
    bench.write_text(SIM_BENCH_FILE.read_text().replace("sim://", "GPIB0::"))
    shutil.copy(SIM_BENCH_FILE.parent / "sim-instruments-probecard.yaml", tmp_path)
    result = runner.invoke(app, ["run", "array_map", "--backend", str(bench), "--dry-run",  # a small budget: what
                                 *_param_args({**SMALL, "rows": "1", "max_pulses": "4"})],  # matters is no open
                           terminal_width=200)
    assert result.exit_code == 0, result.output
    assert len(LINE.findall(result.output)) == 2


@pytest.mark.parametrize("operation", ["vector", "cell"])
def test_real_run_lands_within_10_percent_of_the_dry_run(tmp_path, operation, dry_run_of_small):
    """Estimate on one simulated chip (seed 1, the dry run above: cell sampled on 1 row as the non-chosen
    operation), run on another (seed 2)."""
    _, _, found = dry_run_of_small(tmp_path)
    commands, _, estimated_s = found[operation]
    result = runner.invoke(app, ["run", "array_map", "--backend", "sim-instruments", "--seed", "2",
                                 "--out", str(tmp_path), *_param_args({**SMALL, "operation": operation})],
                           terminal_width=200)
    assert result.exit_code == 0, result.output
    timing = json.loads((tmp_path / "array_map.json").read_text())["bench_time"]
    print(f"\n{operation}: dry run (seed 1) {estimated_s:.1f} s, {commands} commands; run (seed 2) "
          f"{timing['elapsed_s']:.1f} s, {timing['commands']} commands")
    # a different chip: write-verify converges in a chip-dependent number of rounds (vector, seeds 1-5:
    # 45-55 s on main before the noise table, 39-53 s after), so another chip's estimate gets 20 %
    assert timing["elapsed_s"] == pytest.approx(estimated_s, rel=0.2)
    assert timing["commands"] == pytest.approx(commands, rel=0.2)
    # the run printed its own estimate first (same seed: the simulated copy of this chip) and stored it
    assert result.output.index("estimated bench time") < result.output.index("bench time (simulated)")
    assert timing["estimate"]["operation"] == operation and timing["estimate"]["chosen"]
    # simulated to the end: within 10 %; stopped after ESTIMATE_WALL_S and scaled by the rows done (a slow
    # cell-by-cell map on a loaded machine), the rows' write-verify differs: 2 rows, 355 s ran, 468 s scaled
    rel = 0.1 if timing["estimate"]["complete"] else 0.5
    assert timing["elapsed_s"] == pytest.approx(timing["estimate"]["estimated_s"], rel=rel)


def test_sim_backend_reports_elapsed_chip_time(tmp_path):
    result = runner.invoke(app, ["run", "ltp_ltd", "--out", str(tmp_path), "--param", "pulses=5",
                                 "--param", "n_devices=2"])
    assert result.exit_code == 0, result.output
    timing = json.loads((tmp_path / "ltp_ltd.json").read_text())["bench_time"]
    assert timing["estimate"] is None and timing["commands"] == 0 and timing["elapsed_s"] > 0
    assert timing["simulated"] and timing["wall_s"] > 0
    assert "bench time (simulated)" in result.output and "wall time" in result.output


def test_cell_by_cell_is_the_same_physics_on_the_ideal_simulator():
    """SimulatedArray pulses each device ideally: one call per device moves the chip the same way
    (up to cycle-to-cycle noise, drawn in another order, and relaxation over a longer chip time)."""
    states = []
    for wrap in (False, True):
        with open_backend("sim", seed=4) as chip:
            backend = CellByCell(chip) if wrap else chip
            op = chip.model.operating_point
            counts = np.where(chip.layout.role_mask(Role.WEIGHT), np.arange(30)[:, None] % 5, 0)
            report = backend.apply_pulses(counts > 0, PulseSpec(op.write_amplitude_v, op.write_width_s), counts)
            assert report.pulses == counts.sum()
            g = backend.read(np.eye(30, dtype=bool))
            assert np.isnan(g[0, 1]) and np.all(np.isfinite(np.diag(g)))
            states.append(chip.true_conductance())
    ratio = (states[1] / states[0])[counts > 0]
    print(f"\ncell/vector state ratio: median {np.median(ratio):.4f}, spread {np.std(ratio):.4f}")
    assert abs(np.median(ratio) - 1) < 0.01 and np.mean(abs(ratio - 1) < 0.2) > 0.9
