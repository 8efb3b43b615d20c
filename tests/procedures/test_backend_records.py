"""One description of a backend (``describe()``) in every record: CSV header, run JSON, catalog row.

A procedure run through the Python API on an open HardwareArray used to write ``Backend: sim``,
``Chip id: sim-chip`` and ``Instrument IDNs: none``: a bench user's data said they came from the simulator.
"""

from __future__ import annotations

import json

import numpy as np
from typer.testing import CliRunner

import labctl
from labctl.catalog import query
from labctl.cli import app
from labctl.training.data import Dataset
from procedures import procedure_class

FAKE_B1500 = "Agilent Technologies,B1500A"
FAKE_SWITCH = "Agilent Technologies,B2200A"


def _header(csv_path) -> dict[str, str]:
    lines = [line[2:] for line in open(csv_path).read().splitlines() if line.startswith("#\t")]
    return dict(line.split(": ", 1) for line in lines)


def _assert_sim_instruments(header: dict, seed: int) -> None:
    assert header["Backend"] == "sim-instruments"
    assert header["Chip id"] == f"sim-instruments-seed{seed}"
    idns = header["Instrument IDNs"]
    assert idns.startswith(f"b1500={FAKE_B1500}") and idns.count(FAKE_SWITCH) == 2


def test_api_run_on_an_open_instrument_backend_records_that_backend(tmp_path):
    with labctl.open_backend("sim-instruments", model="garg-hzo-2us", seed=5) as chip:
        df, folder = labctl.run_procedure("ltp_ltd", chip, tmp_path, n_devices=1, pulses=4)
    _assert_sim_instruments(_header(folder / "ltp_ltd.csv"), 5)
    run_json = json.loads((folder / "ltp_ltd.json").read_text())
    assert run_json["backend"]["kind"] == "sim-instruments"
    assert run_json["backend"]["instrument_idns"]["b1500"].startswith(FAKE_B1500)
    row = query(name="ltp_ltd").iloc[0]
    assert row["chip_id"] == "sim-instruments-seed5" and FAKE_B1500 in row["instrument_idns"]


def test_api_run_on_the_simulated_chip_says_so(tmp_path):
    with labctl.open_backend("sim", model="garg-hzo-2us", seed=2) as chip:
        _, folder = labctl.run_procedure("ltp_ltd", chip, tmp_path, n_devices=1, pulses=4, chip_id="C3")
    header = _header(folder / "ltp_ltd.csv")
    assert header["Backend"] == "sim" and header["Chip id"] == "C3" and header["Instrument IDNs"] == "none"


def test_cli_run_records_the_instruments(tmp_path):
    result = CliRunner().invoke(app, ["run", "ltp_ltd", "--backend", "sim-instruments", "--model", "garg-hzo-2us",
                                      "--seed", "4", "--out", str(tmp_path), "--param", "n_devices=1",
                                      "--param", "pulses=4"])
    assert result.exit_code == 0, result.output
    _assert_sim_instruments(_header(tmp_path / "ltp_ltd.csv"), 4)


def test_train_records_the_instruments_in_run_json_and_catalog(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((40, 8)).astype(np.float32)
    y = (x[:, 0] > 0.5).astype(np.int64)
    labctl.train("sim-instruments", model="garg-hzo-2us", algo="sgd", layers=(8, 2), epochs=1, seed=3,
                 out=tmp_path, progress=False, data=Dataset(x[:30], y[:30], x[30:], y[30:]), start="as-is")
    about = json.loads((tmp_path / "run.json").read_text())["backends"][0]
    assert about["kind"] == "sim-instruments" and about["chip_id"] == "sim-instruments-seed3"
    assert about["instrument_idns"]["b1500"].startswith(FAKE_B1500)
    row = query(kind="train").iloc[0]
    assert row["chip_id"] == "sim-instruments-seed3" and FAKE_B1500 in row["instrument_idns"]


def test_gui_procedure_reads_the_idns_of_the_backend_it_opens():
    procedure = procedure_class("ltp_ltd")()
    procedure.backend_spec, procedure.model, procedure.n_devices, procedure.pulses = \
        "sim-instruments", "garg-hzo-2us", 1, 4
    procedure.startup()
    try:
        procedure.evaluate_metadata()
        idns = procedure.metadata_objects()["instrument_idns"].value
        assert idns.startswith(f"b1500={FAKE_B1500}")
    finally:
        procedure.shutdown()
