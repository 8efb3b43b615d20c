"""``labctl fit --runs QUERY``: a fit over 20 simulated devices selected from the catalog, with lineage."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from labctl.backends import open_backend
from labctl.catalog import Catalog, query
from labctl.cli import app
from procedures import run_procedure


def test_fit_over_twenty_cataloged_devices(tmp_path):
    for seed in range(20):  # 20 chips of one wafer, one device each
        with open_backend("sim", model="garg-hzo-20ns", seed=seed) as chip:
            run_procedure("ltp_ltd", chip, tmp_path / "C7", chip_id="C7", n_devices=1, pulses=60, width_s=20e-9)
    for chip_id, width in (("C8", 20e-9), ("C7", 200e-9)):  # must not be selected
        with open_backend("sim", model="garg-hzo-20ns", seed=99) as chip:
            run_procedure("ltp_ltd", chip, tmp_path / "other", chip_id=chip_id, n_devices=1, pulses=60, width_s=width)
    out = tmp_path / "fit" / "c7.json"
    result = CliRunner().invoke(app, ["fit", "--runs", "name=ltp_ltd chip=C7 width=20e-9", "--base-model",
                                      "garg-hzo-20ns", "--out", str(out)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "device-to-device spread over 20 devices in 20 file(s)" in " ".join(result.output.split())
    variation = json.loads(out.read_text())["weight"]["variation"]
    assert 0.01 < variation["d2d_bounds"] < 0.2  # the simulated chips' truth is 0.05

    (fit,) = query(kind="fit").to_dict(orient="records")
    assert fit["parameters"]["runs"] == "name=ltp_ltd chip=C7 width=20e-9"
    inputs = Catalog().input_runs(fit["id"])
    selected = set(query("chip=C7 width=20e-9").id)
    assert len(inputs) == 20 and {i["id"] for i in inputs} == selected
    shown = CliRunner().invoke(app, ["runs", "show", fit["id"]])
    assert "lineage (20 input runs)" in shown.output
    assert sum(i["id"] in shown.output for i in inputs) == 20


def test_fit_runs_matching_nothing_is_refused(tmp_path):
    result = CliRunner().invoke(app, ["fit", "--runs", "chip=NOPE", "--out", str(tmp_path / "m.json")])
    assert result.exit_code != 0 and "no complete procedure run matches" in str(result.exception)
