"""``labctl runs list --query``: every key filters; ``runs reindex`` drops stale rows; ``fit --runs`` pools
only on request."""

from __future__ import annotations

import shutil

import pytest
from typer.testing import CliRunner

from labctl.backends import open_backend
from labctl.catalog import Catalog, query, recorded
from labctl.cli import app
from labctl.errors import ConfigError
from procedures import run_procedure


def _ltp(out, seed=0, chip_id="C7", model="garg-hzo-20ns", **params):
    with open_backend("sim", model=model, seed=seed) as chip:
        return run_procedure("ltp_ltd", chip, out, chip_id=chip_id, **{"n_devices": 1, "pulses": 10, **params})


def _record(tmp_path) -> dict[str, str]:
    """Two procedure runs (chips C7, C8), one interrupted, a fit and a training run; their ids by label."""
    _ltp(tmp_path / "a", seed=1, width_s=20e-9)
    _ltp(tmp_path / "b", seed=2, chip_id="C8", model="garg-hzo-2us")
    _ltp(tmp_path / "c", seed=3, should_stop=lambda: True)
    with recorded("fit", "mymodel", tmp_path / "fit" / "mymodel.json"):
        (tmp_path / "fit" / "mymodel.json").write_text("{}")
    with recorded("train", "sgd", tmp_path / "train" / "run.json"):
        (tmp_path / "train" / "run.json").write_text("{}")
    ids = {}
    for row in Catalog().runs():
        ids["fit" if row["kind"] == "fit" else "train" if row["kind"] == "train" else row["folder"][-1]] = row["id"]
    return ids


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One catalog for the read-only tests (built once: each test otherwise gets its own empty one)."""
    folder = tmp_path_factory.mktemp("runs")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LABCTL_CATALOG", str(folder / "catalog.sqlite"))
        return folder / "catalog.sqlite", _record(folder)


@pytest.fixture
def catalog(shared, monkeypatch):
    monkeypatch.setenv("LABCTL_CATALOG", str(shared[0]))
    return shared[1]


def listed(*args) -> set[str]:
    result = CliRunner().invoke(app, ["runs", "list", *args], terminal_width=250)
    assert result.exit_code == 0, result.output
    return {line.split("│")[1].strip() for line in result.output.splitlines() if line.count("│") > 2}


@pytest.mark.parametrize("text, expected", [
    ("kind=fit", {"fit"}), ("kind=train", {"train"}), ("kind=procedure", {"a", "b", "c"}),
    ("name=mymodel", {"fit"}), ("name=ltp_ltd", {"a", "b", "c"}),
    ("chip=C8", {"b"}), ("chip_id=C7", {"a", "c"}),
    ("status=interrupted", {"c"}), ("status=complete", {"a", "b", "fit", "train"}),
    ("model=garg-hzo-2us", {"b"}), ("backend=sim", {"a", "b", "c"}), ("seed=2", {"b"}),
    ("width=20e-9", {"a", "c"}), ("width=2e-6", {"b"}),  # c and b at their model's width: recorded as applied
    ("since=2999-01-01", set()), ("kind=procedure chip=C7 status=complete", {"a"}),
])
def test_every_query_key_filters(catalog, text, expected):
    assert listed("--query", text) == {catalog[label] for label in expected}


def test_query_key_id_prefix_and_options_with_the_query(catalog):
    assert listed("--query", f"id={catalog['b'][:8]}") == {catalog["b"]}
    assert listed("--kind", "procedure", "--query", "chip=C7") == {catalog["a"], catalog["c"]}
    clash = CliRunner().invoke(app, ["runs", "list", "--kind", "fit", "--query", "kind=train"])
    assert isinstance(clash.exception, ConfigError) and "contradicts --kind" in str(clash.exception)


def test_list_names_the_catalog_it_reads(catalog):
    result = CliRunner().invoke(app, ["runs", "list"], terminal_width=250)
    assert f"catalog {Catalog().path}" in result.output


def test_reindex_without_folders_drops_the_rows_of_deleted_runs(tmp_path):
    catalog = _record(tmp_path)
    shutil.rmtree(tmp_path / "a")
    shutil.rmtree(tmp_path / "fit")
    result = CliRunner().invoke(app, ["runs", "reindex"])
    assert result.exit_code == 0 and "removed 2 row(s)" in result.output, result.output
    assert set(query().id) == {catalog[label] for label in ("b", "c", "train")}


def test_fit_runs_pools_different_pulses_only_when_asked(tmp_path):
    for width in (20e-9, 200e-9):
        _ltp(tmp_path / "w", seed=int(width * 1e9), width_s=width, n_devices=2, pulses=40)
    args = ["fit", "--runs", "chip=C7", "--base-model", "garg-hzo-20ns", "--out", str(tmp_path / "m.json")]
    refused = CliRunner().invoke(app, args)
    assert isinstance(refused.exception, ConfigError) and "--pool" in str(refused.exception)
    assert "1 at 20 ns, 3.77 V..4.16 V; 1 at 200 ns, 3.77 V..4.16 V" in str(refused.exception)
    assert not (tmp_path / "m.json").exists()
    pooled = CliRunner().invoke(app, [*args, "--pool"], terminal_width=200)
    assert pooled.exit_code == 0, pooled.output
    assert "pooled 2 run(s): 1 at 20 ns, 3.77 V..4.16 V; 1 at 200 ns, 3.77 V..4.16 V" in pooled.output
    one = CliRunner().invoke(app, [*args[:2], "chip=C7 width=20e-9", *args[3:]], terminal_width=200)
    assert one.exit_code == 0 and "pooled 1 run(s): 1 at 20 ns" in one.output, one.output
