"""Array map on the simulated chip: all 900 devices written and read back, maps saved, resume."""

from __future__ import annotations

import h5py
import numpy as np
import pandas as pd
import pytest

from labctl.layout import Role
from procedures import run_procedure
from procedures.array_map import ArrayMapParams, run_array_map, targets


@pytest.mark.plots
def test_write_verify_reaches_the_pattern_on_all_devices(ning, tmp_path):
    df, csv = run_procedure("array_map", ning, tmp_path, pattern="gradient", sparsity=0.75, tolerance=0.03)
    assert len(df) == 900 and df[["Device row", "Device col"]].drop_duplicates().shape[0] == 900
    s = df.attrs["summary"]
    assert s["weights"] == 450 and s["sparsity_devices"] == 450
    assert s["weights_converged"] > 0.95
    assert s["weight_rms_error"] < 0.04  # tolerance 3 % of range, plus read noise of the final read
    assert s["sparsity_bit_errors"] == 0
    assert s["sparsity_on_fraction"] == pytest.approx(0.25, abs=1 / 450)
    # ground truth: the chip's noise-free conductance follows the weight gradient across cell columns
    truth = ning.layout.to_cells(ning.true_conductance())
    assert np.all(np.diff(truth.mean(axis=0)) > 0)
    with h5py.File(tmp_path / "array_map_maps.h5") as f:
        assert f["conductance_s"].shape == (30, 30)
        np.testing.assert_allclose(f["error"][0, 1], df.query("`Device row` == 0 and `Device col` == 1")["Error"])
    assert (tmp_path / "array_map_maps.png").exists()


def test_write_verify_beats_open_loop(garg20, collect):
    params = dict(pattern="random", pattern_seed=3, rows=10)
    closed = run_array_map(garg20, ArrayMapParams(**params), collect)
    open_loop = run_array_map(garg20, ArrayMapParams(**params, write_verify=False), collect)
    assert closed["weight_rms_error"] < 0.5 * open_loop["weight_rms_error"]


def test_pattern_targets_follow_the_layout(ning):
    w, s = targets(ning.layout, ArrayMapParams(pattern="checkerboard", sparsity=0.5))
    assert np.isnan(w[ning.layout.role_mask(Role.SPARSITY)]).all()
    assert np.nanmin(w) == pytest.approx(0.1) and np.nanmax(w) == pytest.approx(0.9)
    assert np.nansum(s) == 225


def test_npz_output_and_image_pattern(ning, tmp_path):
    image = np.outer(np.linspace(0, 1, 60), np.ones(40))
    np.save(tmp_path / "img.npy", image)
    df, _ = run_procedure("array_map", ning, tmp_path / "run", pattern=str(tmp_path / "img.npy"), map_format="npz",
                          max_pulses=60, reads_per_verify=1)
    maps = np.load(tmp_path / "run" / "array_map_maps.npz")
    assert maps["target"].shape == (30, 30)
    w = df[df.Role == "weight"].groupby("Device row")["Target"].mean()
    assert w.is_monotonic_increasing  # image brightness rises down the rows


def test_interrupted_map_resumes_where_it_stopped(ning, tmp_path):
    stop_after = {"records": 0}

    def emit(topic, value):
        stop_after["records"] += topic == "results"

    params = dict(max_pulses=80, reads_per_verify=1, rows=12)  # 12 of the 30 rows: resuming is the same at any size
    df, csv = run_procedure("array_map", ning, tmp_path, emit, should_stop=lambda: stop_after["records"] >= 5 * 30,
                            **params)
    assert df.attrs["status"] == "aborted" and len(df) == 5 * 30
    assert csv.with_suffix(".ops").exists()
    df2, csv2 = run_procedure("array_map", ning, tmp_path, resume=True, **params)
    assert csv2 == csv and df2.attrs["status"] == "completed"
    assert len(df2) == 12 * 30 and not df2.duplicated(["Device row", "Device col"]).any()
    assert not csv.with_suffix(".ops").exists()
    assert pd.read_json(csv.with_suffix(".json"), typ="series")["status"] == "completed"


def test_resumed_map_on_the_simulator_equals_an_uninterrupted_one(tmp_path):
    from sim_backend import SimulatedArray

    params = dict(max_pulses=40, reads_per_verify=1, rows=6)  # resuming is the same at any map size
    with SimulatedArray("ning-mos2-fefet", seed=21) as chip:
        whole, _ = run_procedure("array_map", chip, tmp_path / "whole", **params)
    rows = {"n": 0}

    def count(topic, value):
        rows["n"] += topic == "results"

    with SimulatedArray("ning-mos2-fefet", seed=21) as chip:  # first process: stopped after 4 rows
        run_procedure("array_map", chip, tmp_path / "split", count, should_stop=lambda: rows["n"] >= 4 * 30, **params)
    with SimulatedArray("ning-mos2-fefet", seed=21) as chip:  # a new process: fresh chip object, same seed
        resumed, csv = run_procedure("array_map", chip, tmp_path / "split", resume=True, **params)
    key = ["Device row", "Device col"]
    value_cols = list(whole.columns)  # the chip clock too: the resumed chip is the same chip
    pd.testing.assert_frame_equal(resumed.sort_values(key)[value_cols].reset_index(drop=True),
                                  whole.sort_values(key)[value_cols].reset_index(drop=True))
    assert not csv.with_suffix(".chip.npz").exists()
