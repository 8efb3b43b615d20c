"""labctl sweep on dask.distributed: LocalCluster by default, an existing scheduler by address,
failed runs retried and reported, real benches refused."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from labctl.errors import ConfigError

distributed = pytest.importorskip("distributed")

from labctl.cli import app  # noqa: E402
from labctl.sweep import SweepSpec, load_sweep, run_point, run_sweep  # noqa: E402

runner = CliRunner()
SPEC = """procedure: ltp_ltd
backend: {backend}
grid:
  seed: [0, 1]
  width_s: [1.0e-6, 1.0e-5]
params: {{pulses: 3, n_devices: 1}}
"""


def _spec(tmp_path, backend="sim") -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC.format(backend=backend))
    return path


def _check_table(out: Path, n: int) -> pd.DataFrame:
    table = pd.read_csv(out / "sweep.csv")
    assert len(table) == n and (table["status"] == "completed").all()
    assert {"seed", "width_s", "on_off_ratio", "wall_s"} <= set(table.columns)
    assert (out / "sweep.png").stat().st_size > 0
    for csv in table["csv"]:
        assert Path(csv).exists()
    return table


@pytest.mark.plots
def test_sweep_on_a_local_cluster(tmp_path):
    result = runner.invoke(app, ["sweep", str(_spec(tmp_path)), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    table = _check_table(tmp_path / "out", 4)
    assert table.groupby("seed")["on_off_ratio"].nunique().min() == 2  # the width changes the result
    assert table["worker_pid"].nunique() == 2  # both LocalCluster worker processes ran runs


@pytest.mark.plots
def test_sweep_connects_to_an_existing_scheduler(tmp_path):
    with distributed.LocalCluster(n_workers=1, processes=False, threads_per_worker=1, protocol="tcp", host="127.0.0.1", dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        result = runner.invoke(app, ["sweep", str(_spec(tmp_path, "sim-instruments")), "--out", str(tmp_path / "out"),
                                     "--scheduler", cluster.scheduler_address])
        assert result.exit_code == 0, result.output
        with distributed.Client(cluster) as client:
            assert client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.transition_counter) > 0
    _check_table(tmp_path / "out", 4)


def _run_in_process(spec, out: Path, task):
    """``run_sweep`` with ``task`` on one in-process worker; returns the result and the lines it said."""
    lines = []
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None) as client:
        return run_sweep(spec, client, out, task=task, say=lines.append), lines


def flaky(spec, point, run_dir):
    """Fails the first attempt of every point, and every attempt of seed 1 / width 1e-5."""
    marker = Path(run_dir) / "attempted"
    if point == {"seed": 1, "width_s": 1e-5}:
        raise RuntimeError("instrument on fire")
    if not marker.exists():
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text("1")
        raise RuntimeError("transient")
    return run_point(spec, point, run_dir)


def test_failed_runs_are_retried_and_reported_never_dropped(tmp_path):
    spec = load_sweep(_spec(tmp_path))
    result, lines = _run_in_process(spec, tmp_path / "out", flaky)
    table = result.table.set_index("run")
    assert len(table) == 4 and result.failed == 1
    assert table.loc[3, "status"] == "failed" and "on fire" in table.loc[3, "error"]
    assert table.loc[3, "attempts"] == spec.retries + 1
    assert (table.drop(3)["attempts"] == 2).all() and (table.drop(3)["status"] == "completed").all()
    assert sum("retrying" in line for line in lines) == 3 + spec.retries and sum("FAILED" in line for line in lines) == 1


TRAIN = """kind: train
backend: sim
model: garg-hzo-20ns
grid:
  algo: [sgd, mpsgd]
  seed: [0, 1]
params: {layers: [16, 10], epochs: 1, train_samples: 600, test_samples: 100, lr: 0.2}
"""


def test_training_runs_fan_out_into_the_same_table(tmp_path):
    (tmp_path / "train.yaml").write_text(TRAIN)
    spec = load_sweep(tmp_path / "train.yaml")
    assert spec.kind == "train" and len(spec.points()) == 4
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None) as client:
        result = run_sweep(spec, client, tmp_path / "out", say=lambda line: None)
    from labctl.sweep import write_outputs

    write_outputs(result, spec, tmp_path / "out")
    table = pd.read_csv(tmp_path / "out" / "sweep.csv")
    assert len(table) == 4 and (table["status"] == "completed").all()
    assert {"algo", "seed", "test_accuracy", "train_loss", "pulses", "energy_j", "wall_s"} <= set(table.columns)
    assert (table["pulses"] > 0).all() and table["test_accuracy"].between(0, 1).all()
    for out in table["out"]:
        assert (Path(out) / "metrics.csv").exists()
    assert table.groupby("algo")["pulses"].sum().nunique() == 2  # the algorithm changes what is sent
    (tmp_path / "bad.yaml").write_text(TRAIN.replace("algo:", "algorithm:"))
    with pytest.raises(ConfigError, match="algorithm"):
        load_sweep(tmp_path / "bad.yaml")
    (tmp_path / "bad2.yaml").write_text(TRAIN + "procedure: ltp_ltd\n")
    with pytest.raises(ConfigError, match="procedure"):
        load_sweep(tmp_path / "bad2.yaml")


def test_real_bench_and_unknown_parameters_are_refused(tmp_path):
    from labctl.backends import SIM_BENCH_FILE

    bench = tmp_path / "bench.yaml"
    bench.write_text(SIM_BENCH_FILE.read_text().replace("sim://", "GPIB0::1").replace(
        "sim-instruments-probecard.yaml", str(SIM_BENCH_FILE.parent / "sim-instruments-probecard.yaml")))
    with pytest.raises(ConfigError, match="backend.*real bench"):
        load_sweep(_spec(tmp_path, str(bench)))
    (tmp_path / "bad.yaml").write_text(SPEC.format(backend="sim").replace("width_s", "widht_s"))
    with pytest.raises(ConfigError, match="widht_s"):
        load_sweep(tmp_path / "bad.yaml")
    assert len(SweepSpec("ltp_ltd", {"a": [1, 2], "b": [3, 4, 5]}).points()) == 6


def refuses_odd_seeds(spec, point, run_dir):
    """A validation error on every attempt of odd seeds (a bad value: retrying cannot help)."""
    if point["seed"] % 2:
        from labctl.errors import SafetyLimitError

        raise SafetyLimitError(f"PulseSpec.amplitude_v=99.0: refused at seed {point['seed']}")
    return run_point(spec, point, run_dir)


def test_a_validation_error_fails_its_point_at_once_with_one_line(tmp_path):
    result, lines = _run_in_process(load_sweep(_spec(tmp_path)), tmp_path / "out", refuses_odd_seeds)
    table = result.table.set_index("run")
    refused = table[table["status"] == "failed"]
    assert len(refused) == 2 and result.failed == 2 and (refused["attempts"] == 1).all()
    assert refused["error"].str.startswith("SafetyLimitError: PulseSpec.amplitude_v=99.0").all()
    assert not any("retrying" in line for line in lines)
    assert sum("FAILED (refused, not retried)" in line for line in lines) == 2
