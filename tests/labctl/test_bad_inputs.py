"""Bad inputs end in one line, never a traceback: a damaged run catalog (moved aside, rebuilt by
``runs reindex``), a ``--visa-log`` in a folder not made yet, a range given upside down."""

from __future__ import annotations

import os
import shutil
import sqlite3

import pytest

from procedures import NAMES, get_spec
from procedures.params import build, ordered_pairs
from tests.test_docs import labctl


def _damage(path, how: str) -> None:
    data = path.read_bytes()
    if how == "random":
        path.write_bytes(os.urandom(65536))
    elif how == "truncated":
        path.write_bytes(data[:len(data) // 3])
    elif how == "zeroed pages":
        path.write_bytes(data[:100] + bytes(len(data) - 100))
    elif how == "text":
        path.write_text("not a database\n" * 100)


@pytest.mark.parametrize("how", ["random", "truncated", "zeroed pages", "text"])
def test_damaged_catalog_is_moved_aside_and_rebuilt_by_reindex(tmp_path, how):
    catalog = tmp_path / "catalog.sqlite"
    code, _ = labctl(["run", "ltp_ltd", "--out", str(tmp_path / "runs" / "a"), "--param", "n_devices=1",
                      "--param", "pulses=2"])
    assert code == 0
    with sqlite3.connect(catalog) as conn:  # fold the WAL into the file, then damage the file alone
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for extra in ("-wal", "-shm"):
        catalog.with_name(catalog.name + extra).unlink(missing_ok=True)
    _damage(catalog, how)
    code, output = labctl(["runs", "list"])
    assert code == 0 and "Traceback" not in output, output
    warning = [line for line in output.splitlines() if line.startswith("warning: run catalog")]
    assert len(warning) == 1 and "runs reindex" in warning[0] and "moved aside" in warning[0]
    assert list(tmp_path.glob("catalog.sqlite.corrupt-*"))
    code, output = labctl(["runs", "reindex", str(tmp_path / "runs")])
    assert code == 0 and "indexed 1 run(s)" in output, output
    code, output = labctl(["runs", "list", "--name", "ltp_ltd"])
    assert code == 0 and "1 run(s)" in output and "warning" not in output, output


@pytest.mark.parametrize("backend", ["sim", "sim-instruments"])
def test_visa_log_inside_an_out_folder_not_made_yet(tmp_path, backend):
    log = tmp_path / "new" / "deeper" / "visa.log"
    code, output = labctl(["run", "ltp_ltd", "--backend", backend, "--out", str(tmp_path / "new"),
                           "--visa-log", str(log), "--param", "n_devices=1", "--param", "pulses=2"])
    assert code == 0, output
    assert log.exists() and (backend == "sim" or log.read_text())


def test_visa_log_that_cannot_be_written_is_one_line(tmp_path):
    (tmp_path / "file").write_text("")
    code, output = labctl(["run", "ltp_ltd", "--backend", "sim-instruments", "--out", str(tmp_path / "o"),
                           "--param", "n_devices=1", "--param", "pulses=2",  # the estimate before it: a short run's
                           "--visa-log", str(tmp_path / "file" / "visa.log")])
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert code == 2 and len(errors) == 1 and errors[0].startswith("error: --visa-log=") and "Traceback" not in output
    shutil.rmtree(tmp_path / "o", ignore_errors=True)


def test_every_range_given_upside_down_is_refused_naming_the_field():
    pairs = [(name, low, high) for name in NAMES for low, high in ordered_pairs(get_spec(name).params_cls)]
    assert ("array_map", "weight_min", "weight_max") in pairs and len(pairs) >= 3
    for name, low, high in pairs:
        cls = get_spec(name).params_cls
        build(cls, {low: 0.3, high: 0.3})  # an empty range is allowed
        with pytest.raises(Exception, match=f"^{low}=0.9: above {high}=0.1"):
            build(cls, {low: 0.9, high: 0.1})


def test_weight_min_above_weight_max_on_the_command_line():
    code, output = labctl(["run", "array_map", "--out", "x", "--param", "weight_min=0.9", "--param", "weight_max=0.1"])
    assert code == 2 and output.strip() == "error: weight_min=0.9: above weight_max=0.1"
