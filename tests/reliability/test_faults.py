"""Injected bench faults: every kind ends with outputs off and relays open (from the visa log),
the CSV valid up to the last complete point, a one-line error naming instrument and command."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from labctl.cli import app
from labctl.errors import ConfigError, InstrumentError, LabctlError
from labctl.visalog import audit, read_log
from procedures import read_records
from procedures.health import DeviceFaultError
from sim_backend.instruments.faults import FaultPlan, backend_options, parse_fault

runner = CliRunner()
RUN = ["run", "ltp_ltd", "--backend", "sim-instruments", "--param", "n_devices=2"]
CLEAN_POINTS = 20


def _run(tmp_path, *faults, pulses=5):
    tmp_path.mkdir(parents=True, exist_ok=True)
    log = tmp_path / "visa.log"
    result = runner.invoke(app, [*RUN, "--param", f"pulses={pulses}", "--out", str(tmp_path / "out"),
                                 "--visa-log", str(log),
                                 *[a for f in faults for a in ("--fault", f)]])
    return result, read_log(log)


@pytest.mark.parametrize("fault, instrument, command", [
    ("timeout@210", "b1500", "ERRX?"), ("disconnect@210", "b1500", "ERRX?"),
    ("compliance@219", "b1500", "XE"), ("error@218", "b1500", "MM 1,3"), ("error@311", "switch", ":ROUT:CLOS")])
def test_instrument_fault_ends_safe_with_one_line_error(tmp_path, fault, instrument, command):
    result, entries = _run(tmp_path, fault)
    assert result.exit_code != 0
    assert isinstance(result.exception, InstrumentError)
    message = str(result.exception)
    assert "\n" not in message and message.startswith(instrument) and command in message
    hot, still_on = audit(entries)
    assert hot == [] and still_on == set()
    last_switch = [m for _, i, k, m in entries if i == "switch" and k == "write"][-2:]
    assert all(m == ":ROUT:OPEN:CARD ALL" for m in last_switch)  # both mainframes opened at the end
    df = read_records(tmp_path / "out" / "ltp_ltd.csv")
    assert 0 < len(df) < CLEAN_POINTS and not df.isna().any().any()  # valid up to the last complete point


@pytest.mark.parametrize("fault, found", [("stuck-on@1", "stuck device 0:1: .* depressing pulses"),
                                          ("stuck-off@1", "stuck device 0:1: .* potentiating pulses"),
                                          ("dead-line@0", "dead line or open path at device 0:1")])
def test_device_fault_is_found_in_the_measurements_and_ends_the_run_safe(tmp_path, fault, found):
    result, entries = _run(tmp_path, fault, pulses=30)
    assert result.exit_code != 0 and isinstance(result.exception, DeviceFaultError)
    message = str(result.exception)
    assert "\n" not in message and re.match(found, message) and "b1500: last command" in message
    assert audit(entries) == ([], set())
    last_switch = [m for _, i, k, m in entries if i == "switch" and k == "write"][-2:]
    assert all(m == ":ROUT:OPEN:CARD ALL" for m in last_switch)
    df = read_records(tmp_path / "out" / "ltp_ltd.csv")
    assert len(df) < 2 * 2 * 30 and not df.isna().any().any()  # stopped early, valid up to the last point


def test_fault_spec_errors_name_the_option():
    for bad in ("timeout", "melt@3", "timeout@x", "timeout@0"):
        with pytest.raises(ConfigError, match="--fault"):
            parse_fault(bad)
    with pytest.raises(ConfigError, match="--fault"):
        backend_options("sim", ["timeout@3"])
    assert backend_options("sim", ["stuck-on@31"])["faults"].stuck_on == [(1, 1)]
    assert FaultPlan.parse(["dead-line@4"]).chip_faults((30, 30)).dead_rows == [4]


def test_real_bench_refuses_faults(tmp_path):
    bench = tmp_path / "bench.yaml"
    from labctl.backends import SIM_BENCH_FILE

    text = SIM_BENCH_FILE.read_text().replace("sim://", "GPIB0::1")
    bench.write_text(text.replace("probe_card: sim-instruments-probecard.yaml",
                                  f"probe_card: {SIM_BENCH_FILE.parent / 'sim-instruments-probecard.yaml'}"))
    from labctl.backends import open_bench_link

    with pytest.raises(LabctlError, match="options"):
        open_bench_link(str(bench), **backend_options(str(bench), ["timeout@3"]))
