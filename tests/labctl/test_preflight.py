"""Preflight: a run that the bench cannot send, or that would take longer than --max-bench-hours, is
refused before the first message to an instrument (or, at a terminal, asked about)."""

from __future__ import annotations

import shutil

import pytest

from device_models import load_model
from labctl.backends import SIM_BENCH_FILE
from labctl.errors import SafetyLimitError
from labctl.preflight import check_operating_point
from procedures.dryrun import dry_run
from tests.test_docs import labctl

MAP = SIM_BENCH_FILE.parent / "sim-instruments-probecard.yaml"


def test_operating_point_is_checked_against_the_bench_before_anything_opens(tmp_path):
    with pytest.raises(SafetyLimitError, match="garg-hzo-20ns.*min_width_s=1e-07"):
        check_operating_point("sim-instruments", load_model("garg-hzo-20ns"))
    check_operating_point("sim-instruments", load_model("garg-hzo-2us"))
    check_operating_point("sim", load_model("garg-hzo-20ns"))  # no bench, no matrix
    shutil.copy(MAP, tmp_path / MAP.name)
    direct = tmp_path / "direct.yaml"
    direct.write_text(SIM_BENCH_FILE.read_text().replace("limits: {}", "limits: {}\ndirect_path: true"))
    check_operating_point(str(direct), load_model("garg-hzo-20ns"))  # the SPGU wired past the matrix


def test_train_refuses_a_20ns_model_on_the_matrix_before_any_message(tmp_path):
    log = tmp_path / "out" / "visa.log"
    code, output = labctl(["train", "--backend", "sim-instruments", "--model", "garg-hzo-20ns", "--layers", "16,10",
                           "--out", str(tmp_path / "out"), "--visa-log", str(log)])
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert code == 2 and len(errors) == 1 and "width_s=2e-08" in errors[0], output
    assert not log.exists()  # no instrument was opened, so no message was sent


def test_estimate_stops_at_the_budget_and_says_so():
    whole = dry_run("ltp_ltd", "sim-instruments", "garg-hzo-2us", 0, {"n_devices": "2", "pulses": "20"})[0]
    cut = dry_run("ltp_ltd", "sim-instruments", "garg-hzo-2us", 0, {"n_devices": "2", "pulses": "20"},
                  max_bench_s=whole.estimated_s / 4)[0]
    assert whole.complete and not cut.complete
    assert whole.estimated_s / 4 < cut.estimated_s < whole.estimated_s / 2 and cut.commands < whole.commands


@pytest.mark.parametrize("yes", [False, True])
def test_a_run_longer_than_max_bench_hours_needs_yes(tmp_path, yes):
    args = ["run", "ltp_ltd", "--backend", "sim-instruments", "--model", "garg-hzo-2us", "--out", str(tmp_path / "r"),
            "--param", "n_devices=1", "--param", "pulses=5", "--max-bench-hours", "0.001"]
    code, output = labctl(args + (["--yes"] if yes else []))
    if yes:
        assert code == 0 and "estimated bench time" in output, output
        return
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert code == 2 and len(errors) == 1 and "--max-bench-hours" in errors[0] and "--yes" in errors[0], output
    assert "the estimate stopped there" in output  # printed before refusing
    assert not (tmp_path / "r").exists()
