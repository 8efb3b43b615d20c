"""Bench-time estimates before a run take seconds, also for an enormous run, and scale to what the run costs:
``labctl train`` samples a few batches on simulated instruments, ``labctl run`` stops simulating after
``ESTIMATE_WALL_S`` and scales by the progress made."""

from __future__ import annotations

import time

import pytest

from labctl.training.estimate import SAMPLE_BATCHES, estimate_training
from labctl.training.loop import train
from procedures import dryrun
from tests.test_docs import labctl

TRAIN = dict(model="garg-hzo-2us", algo="mpsgd", layers=(30, 10), seed=0, batch_size=100)


def test_training_estimate_scales_a_sample_to_the_dry_run():
    """Estimated from 2 batches and one test pass; the dry run trains 6 batches and 2 test passes twice."""
    estimate = estimate_training("sim-instruments", epochs=2, train_samples=600, test_samples=2000, **TRAIN)
    run = train(backend="sim-instruments", epochs=2, train_samples=600, test_samples=2000, out=None, progress=False,
                dry_run=True, **TRAIN)
    measured = run.attrs["setup_chip_time_s"] + sum(run.attrs["chip_time_s"])
    assert estimate.passes == 6 + 2 and estimate.epochs == 2
    assert estimate.setup_s == pytest.approx(run.attrs["setup_chip_time_s"], rel=0.05)
    assert 0.9 * measured < estimate.estimated_s < 1.3 * measured, (estimate, measured)


@pytest.mark.parametrize("yes", [False, True])
def test_train_longer_than_max_bench_hours_needs_yes(tmp_path, yes):
    out, log = tmp_path / "t", tmp_path / "visa.log"
    args = ["train", "--backend", "sim-instruments", "--model", "garg-hzo-2us", "--layers", "30,10", "--out", str(out),
            "--train-samples", "100", "--test-samples", "100", "--max-bench-hours", "0.001", "--visa-log", str(log),
            "--no-progress"]
    code, output = labctl(args + (["--yes"] if yes else []))
    assert f"sampled from {SAMPLE_BATCHES} batches" in output, output  # the estimate, printed before the run
    if yes:
        assert code == 0 and log.read_text(), output
        return
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert code == 2 and len(errors) == 1 and "--max-bench-hours" in errors[0] and "--yes" in errors[0], output
    assert not log.exists() and not list(out.glob("*")) if out.exists() else True  # nothing sent, nothing written


def test_an_enormous_run_is_estimated_in_seconds(monkeypatch):
    """retention of 900 devices with a 100,000-pulse budget: simulating it to the 8 h budget took ~10 min. Its
    programming makes no point to scale by: the estimate stops at the first-point budget (1 s here, as
    max_wall_s; 30 s in use) and says its length is unknown."""
    monkeypatch.setattr(dryrun, "FIRST_POINT_WALL_S", 1.0)
    t0 = time.perf_counter()
    estimate = dryrun.dry_run("retention", "sim-instruments", "garg-hzo-2us", 0,
                              {"n_devices": "900", "max_pulses": "100000"}, every_operation=False,
                              max_bench_s=8 * 3600, max_wall_s=1.0)[0]
    assert time.perf_counter() - t0 < 1.0 + 15.0  # the budget, and opening the simulated bench
    assert not estimate.complete and not estimate.known and estimate.progress == 0 and estimate.estimated_s > 0
    assert "the estimate stopped there, before the first point" in dryrun.describe_estimate(estimate)


def test_a_stopped_estimate_scales_by_the_progress_made(monkeypatch):
    """Stopped part-way, the estimate scales the bench time simulated by the progress made (ltp_ltd: a point per
    pulse; the wall clock counts operations here, so the cut is the same on a loaded machine)."""
    params = {"n_devices": "2", "pulses": "40"}
    ticks = iter(range(10**9))
    monkeypatch.setattr(dryrun, "_now", lambda: float(next(ticks)))
    whole = dryrun.dry_run("ltp_ltd", "sim-instruments", "garg-hzo-2us", 0, params)[0]
    operations = next(ticks) - 1
    cut = dryrun.dry_run("ltp_ltd", "sim-instruments", "garg-hzo-2us", 0, params, max_wall_s=operations * 0.4)[0]
    assert whole.complete and not cut.complete and cut.known and 25 < cut.progress < 55, cut
    assert 0.8 * whole.estimated_s < cut.estimated_s < 1.25 * whole.estimated_s, (cut, whole)
    assert f"scaled from the first {cut.progress:.3g} % of the run" in dryrun.describe_estimate(cut)
