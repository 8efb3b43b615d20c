"""Shared fixtures and the opt-in switch for tests that need real instruments."""

from __future__ import annotations

import os

import pytest

# Test-sized arrays: one OpenBLAS thread is as fast, and on a busy machine (2 cores shared) the spinning
# worker threads made a 300x784 SVD take seconds instead of milliseconds. Only works before numpy loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


@pytest.fixture(autouse=True)
def _session_markers(tmp_path_factory, monkeypatch):
    """Bench-session markers (labctl.journal) of tests go to a temporary state dir, not the user's."""
    monkeypatch.setenv("LABCTL_STATE_DIR", str(tmp_path_factory.getbasetemp() / "labctl-state"))


def pytest_addoption(parser):
    parser.addoption("--bench", action="store", default=None, metavar="BENCH_YAML",
                     help="run only the bench tests (contract suite, procedure smoke test) against this bench file")
    parser.addoption("--bench-model", action="store", default="ning-mos2-fefet", metavar="MODEL",
                     help="device model (preset or model.json) the bench tests expect of the chip")


def pytest_collection_modifyitems(config, items):
    """``--bench FILE``: the bench tests only (everything else deselected); without it they skip."""
    if config.getoption("--bench"):
        keep = [item for item in items if item.get_closest_marker("bench")]
        config.hook.pytest_deselected(items=[item for item in items if not item.get_closest_marker("bench")])
        items[:] = keep
        return
    skip = pytest.mark.skip(reason="needs real instruments: pass --bench bench.yaml")
    for item in items:
        if item.get_closest_marker("bench"):
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _plots_where_looked_at(request, monkeypatch):
    """PNGs only in the tests marked ``plots`` (the ones that look at them): drawing was ~30 % of the suite's
    CPU, ~370 figures that no other test reads. Every other test runs as ``LABCTL_PLOTS=0`` (its processes too)."""
    if request.node.get_closest_marker("plots") is None:
        monkeypatch.setenv("LABCTL_PLOTS", "0")


@pytest.fixture(autouse=True)
def _catalog_in_tmp(tmp_path, monkeypatch):
    """Every test records its runs in its own catalog under tmp_path, never in the user data dir."""
    monkeypatch.setenv("LABCTL_CATALOG", str(tmp_path / "catalog.sqlite"))


@pytest.fixture(autouse=True, scope="session")
def _click_command_built_once():
    """typer rebuilds an app's click command at every ``CliRunner.invoke`` and console-script call (~10 ms of
    CPU, some 300 times a suite run); the command holds no state between invocations, so tests build it once
    per app."""
    import typer.main
    import typer.testing

    build, built = typer.main.get_command, {}

    def get_command(app):
        if id(app) not in built:
            built[id(app)] = (app, build(app))  # the app kept alive: its id is not reused
        return built[id(app)][1]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(typer.main, "get_command", get_command)
        patch.setattr(typer.testing, "_get_command", get_command)
        yield
