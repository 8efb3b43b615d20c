"""Run catalog: schema migrations, runs recorded by the hooks, reindex from folders, queries, CLI."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing

import numpy as np
import pytest
from typer.testing import CliRunner

from labctl.backends import open_backend
from labctl.catalog import Catalog, query, recorded, reindex
from labctl.catalog.record import sidecar_path
from labctl.catalog.schema import SCHEMA_VERSION, V1, version_of
from labctl.cli import app
from labctl.errors import ConfigError
from labctl.training import train
from labctl.training.data import Dataset
from procedures import run_procedure


def _ltp(out, seed=0, chip_id="C7", **params):
    with open_backend("sim", model="garg-hzo-20ns", seed=seed) as chip:
        return run_procedure("ltp_ltd", chip, out, chip_id=chip_id, **{"n_devices": 1, "pulses": 10, **params})


def _tiny_data(seed=0) -> Dataset:
    rng = np.random.default_rng(seed)
    x = rng.random((40, 8)).astype(np.float32)
    y = (x[:, 0] > 0.5).astype(np.int64)
    return Dataset(x[:30], y[:30], x[30:], y[30:])


def test_migrates_a_v1_catalog_in_place(tmp_path):
    path = tmp_path / "old.sqlite"
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript(V1 + "INSERT INTO schema_version VALUES (1);"
                           "INSERT INTO runs (id, kind, name, status, folder, primary_file, parameters) "
                           "VALUES ('abc', 'procedure', 'ltp_ltd', 'complete', '/x', 'a.csv', '{\"width_s\": 2e-08}');"
                           "INSERT INTO files VALUES ('abc', 'a.csv', 'ff00', 12);")
    catalog = Catalog(path)
    with closing(sqlite3.connect(path)) as conn:
        assert version_of(conn) == SCHEMA_VERSION == 2
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    rows = catalog.runs()
    assert [(r["id"], r["parameters"], r["summary"], r["host"]) for r in rows] == [("abc", {"width_s": 2e-08}, {}, None)]
    assert catalog.files("abc")[0]["sha256"] == "ff00"
    catalog.add_root(tmp_path)  # a v2 table works
    assert catalog.roots() == [tmp_path.resolve()]
    assert query(width=20e-9, catalog=catalog).id.tolist() == ["abc"]


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "new.sqlite"
    Catalog(path)
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("UPDATE schema_version SET version = 99")
    with pytest.raises(ConfigError, match="newer"):
        Catalog(path)


@pytest.mark.plots
def test_procedure_run_is_recorded_with_provenance_and_hashes(tmp_path):
    _, csv = _ltp(tmp_path / "runs", width_s=20e-9)
    (row,) = query().to_dict(orient="records")
    assert row["kind"] == "procedure" and row["name"] == "ltp_ltd" and row["status"] == "complete"
    assert row["chip_id"] == "C7" and row["device_ids"] and row["backend"] == "sim"
    assert row["model_id"] == "garg-hzo-20ns" and row["seed"] == 0 and row["temperature_k"] == 300.0
    assert row["git_revision"] and row["instrument_idns"] == "none" and row["ended"] >= row["started"]
    assert row["parameters"]["width_s"] == 20e-9 and row["summary"]["devices"] == 1
    files = {f["path"]: f for f in Catalog().files(row["id"])}
    import hashlib

    assert files["ltp_ltd.csv"]["sha256"] == hashlib.sha256(csv.read_bytes()).hexdigest()
    assert {"ltp_ltd.json", "ltp_ltd_conductance.png"} <= set(files)
    assert json.loads(sidecar_path(csv).read_text())["id"] == row["id"]


def test_stopped_and_failed_runs_get_their_status(tmp_path):
    _ltp(tmp_path / "a", should_stop=lambda: True)

    def broken(topic, value):
        raise RuntimeError("emit failed")

    with pytest.raises(RuntimeError):
        _ltp(tmp_path / "b", emit=broken)
    assert sorted(query().status) == ["failed", "interrupted"]
    assert query(status="failed").folder.tolist() == [str((tmp_path / "b").resolve())]


def test_query_filters(tmp_path):
    _ltp(tmp_path / "r", seed=1, width_s=20e-9)
    _ltp(tmp_path / "r", seed=2, width_s=200e-9)
    _ltp(tmp_path / "r", seed=3, width_s=20e-9, chip_id="C8")
    assert len(query("name=ltp_ltd chip=C7 width=2e-08")) == 1
    assert len(query("width=20e-9")) == 2 and len(query(width_s=20e-9)) == 2
    assert len(query(chip="C8", kind="procedure")) == 1
    assert len(query(since="2000-01-01")) == 3 and len(query(since="2999-01-01")) == 0
    assert query(seed=2).iloc[0]["parameters"]["width_s"] == 200e-9
    with pytest.raises(ConfigError, match="key=value"):
        query("chip C7")


def test_reindex_restores_every_row_and_lineage(tmp_path):
    runs = tmp_path / "runs"
    for seed in range(3):
        _ltp(runs / "chip", seed=seed, pulses=30)
    _ltp(runs / "stopped", seed=9, should_stop=lambda: True)
    from device_models.fitting import fit_files, save_fit

    with recorded("fit", "model", runs / "fit" / "model.json"):
        save_fit(fit_files(sorted((runs / "chip").glob("ltp_ltd*.csv")), base_model="garg-hzo-20ns"),
                 runs / "fit" / "model.json")
    train(backend="sim", model=runs / "fit" / "model.json", algo="sgd", layers=(8, 2), epochs=1, seed=0,
          out=runs / "train", progress=False, data=_tiny_data())
    catalog = Catalog()
    before = catalog.runs()
    fit_id = query(kind="fit").id[0]
    train_id = query(kind="train").id[0]
    lineage_before = ({r["id"] for r in catalog.input_runs(fit_id)}, catalog.input_runs(train_id))
    assert len(before) == 6 and len(lineage_before[0]) == 3
    assert [r["id"] for r in lineage_before[1]] == [fit_id]  # the training run used the fitted model

    catalog.path.unlink()
    for extra in ("-wal", "-shm"):
        catalog.path.with_name(catalog.path.name + extra).unlink(missing_ok=True)
    result = CliRunner().invoke(app, ["runs", "reindex", str(runs)])
    assert result.exit_code == 0, result.output
    after = Catalog().runs()
    assert after == before
    assert ({r["id"] for r in catalog.input_runs(fit_id)}, catalog.input_runs(train_id)) == lineage_before
    assert CliRunner().invoke(app, ["runs", "reindex"]).output.startswith("indexed 6 run(s)")  # root remembered


def test_reindex_adopts_runs_without_sidecars(tmp_path):
    _, csv = _ltp(tmp_path / "old")
    sidecar_path(csv).unlink()
    catalog = Catalog()
    catalog.path.unlink()
    report = reindex(Catalog(), [tmp_path / "old"])
    assert report.indexed == 1
    (row,) = Catalog().runs()
    assert (row["name"], row["status"], row["chip_id"]) == ("ltp_ltd", "complete", "C7")
    assert reindex(Catalog(), [tmp_path / "old"]).indexed == 1 and len(Catalog().runs()) == 1  # stable id


def test_demo_stages_are_children(tmp_path, monkeypatch):
    with recorded("demo", "demo", tmp_path / "d" / "summary.json") as demo:
        _ltp(tmp_path / "d" / "characterise")
    (child,) = query(kind="procedure").to_dict(orient="records")
    assert child["parent_id"] == demo.id
    assert [c["id"] for c in Catalog().children(demo.id)] == [child["id"]]
    assert Catalog().roots() == [(tmp_path / "d").resolve()]  # a child's folder is not a separate root


def test_cli_list_show_export(tmp_path):
    _ltp(tmp_path / "r", width_s=20e-9)
    run_id = query().id[0]
    runner = CliRunner()
    listed = runner.invoke(app, ["runs", "list", "--chip", "C7", "--status", "complete"], terminal_width=200)
    assert listed.exit_code == 0 and run_id in listed.output and "1 run(s)" in listed.output
    assert "0 run(s)" in runner.invoke(app, ["runs", "list", "--chip", "C9"]).output
    shown = runner.invoke(app, ["runs", "show", run_id[:6]], terminal_width=200)
    assert shown.exit_code == 0 and "width_s" in shown.output and "ltp_ltd.csv" in shown.output
    out = tmp_path / "table.csv"
    exported = runner.invoke(app, ["runs", "export", "name=ltp_ltd width=20e-9", "--out", str(out)])
    assert exported.exit_code == 0
    import pandas as pd

    table = pd.read_csv(out, dtype={"id": str})  # an id of hex digits may be all decimal digits (1 in 280)
    assert table.id.tolist() == [run_id] and json.loads(table.parameters[0])["width_s"] == 20e-9
    missing = runner.invoke(app, ["runs", "show", "zzzz"])
    assert missing.exit_code != 0 and "no such run" in str(missing.exception)


def test_catalog_path_option_and_off(tmp_path, monkeypatch):
    other = tmp_path / "other.sqlite"
    _ltp(tmp_path / "r")
    result = CliRunner().invoke(app, ["--catalog", str(other), "runs", "reindex", str(tmp_path / "r")])
    assert result.exit_code == 0 and len(Catalog(other).runs()) == 1
    monkeypatch.setenv("LABCTL_CATALOG", "off")
    _ltp(tmp_path / "q")  # recording off: the run still works and still leaves its sidecar
    assert sidecar_path(tmp_path / "q" / "ltp_ltd.csv").exists()
