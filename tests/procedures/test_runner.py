"""run_procedure and the pymeasure wrapper: refusals, header fields, registry."""

from __future__ import annotations

import pytest

from labctl.errors import ConfigError, SafetyLimitError
from procedures import NAMES, get_spec, procedure_class, run_procedure
from procedures.params import describe


def test_every_procedure_declares_units_and_columns():
    for name in NAMES:
        spec, cls = get_spec(name), procedure_class(name)
        assert cls.DATA_COLUMNS == list(spec.columns) and spec.x_axis in spec.columns and spec.y_axis in spec.columns
        for info in describe(spec.params_cls):
            assert info.label and (info.units or not info.name.endswith(("_s", "_v", "_a")))


def test_wrapper_startup_refuses_before_opening_anything_else(ning):
    procedure = procedure_class("ltp_ltd")(backend=ning)
    procedure.stop_amplitude_v = 10.5
    with pytest.raises(SafetyLimitError, match="stop_amplitude_v"):
        procedure.startup()
    assert ning.time_s == 0.0


def test_out_of_range_parameter_names_itself(ning, tmp_path):
    with pytest.raises(ConfigError, match="n_devices"):
        run_procedure("ltp_ltd", ning, tmp_path, n_devices=0)
    with pytest.raises(ConfigError, match="procedure"):
        run_procedure("iv_curve", ning, tmp_path)
    with pytest.raises(ConfigError, match="resume"):
        run_procedure("ltp_ltd", ning, tmp_path, resume=True)


def test_bench_file_backend_is_recorded_as_such(ning, tmp_path):
    _, csv = run_procedure("ltp_ltd", ning, tmp_path, pulses=2, n_devices=1, backend_spec="lab/bench.yaml")
    text = csv.read_text()
    assert "#\tBackend: bench file\n" in text and "#\tBench file: lab/bench.yaml\n" in text
    assert "#\tBackend class: sim_backend.array.SimulatedArray\n" in text


def test_two_runs_in_one_folder_do_not_collide(ning, tmp_path):
    _, first = run_procedure("ltp_ltd", ning, tmp_path, pulses=2, n_devices=1)
    _, second = run_procedure("ltp_ltd", ning, tmp_path, pulses=2, n_devices=1)
    assert first != second and first.exists() and second.exists()


def test_gui_procedure_runs_the_device_fault_checks_too():
    """A procedure executed as the GUI does (the pymeasure wrapper, no runner) still stops on a dead line."""
    from procedures.health import DeviceFaultError
    from sim_backend import SimulatedArray
    from sim_backend.faults import Faults

    def gui_run(chip):
        procedure = procedure_class("array_map")(backend=chip)
        procedure.rows, procedure.write_verify = 2, False
        procedure.should_stop, procedure.emit = (lambda: False), (lambda topic, value: None)  # a Worker's hooks
        procedure.startup()
        procedure.execute()
        return procedure

    with pytest.raises(DeviceFaultError, match="row line 0"):
        gui_run(SimulatedArray("ning-mos2-fefet", seed=0, faults=Faults(dead_rows=[0])))
    assert len(gui_run(SimulatedArray("ning-mos2-fefet", seed=0)).records) == 2 * 30  # two rows of 30 devices
