"""WGFMU ctypes wrapper against a fake instrument library (B1530A User's Guide, "Instrument Library")."""

import numpy as np
import pytest

from labctl.errors import InstrumentError, SafetyLimitError
from labctl.instruments.wgfmu import WGFMU, WgfmuPulse
from sim_backend.instruments.fake_wgfmu import FakeWgfmuLibrary


def test_pulse_and_measure_samples_the_top():
    lib = FakeWgfmuLibrary(load_ohm=1e5)
    session = WGFMU(lib, "GPIB0::18::INSTR")
    assert lib.calls == ["openSession", "initialize"]
    times, currents = session.pulse_and_measure(101, WgfmuPulse(2.0, 1e-6, points=4, current_range_a=100e-6))
    np.testing.assert_allclose(currents, 2.0 / 1e5)
    assert times.size == 4 and np.all(np.diff(times) > 0)
    assert 101 not in lib.connected  # disconnected after the run
    session.close()
    assert not lib.session


def test_library_error_names_function_and_text():
    session = WGFMU(FakeWgfmuLibrary(), "GPIB0::18::INSTR")
    with pytest.raises(InstrumentError, match=r"WGFMU_addSequence returned -9: channel 301 not found"):
        session.pulse_and_measure(301, WgfmuPulse(1.0, 1e-6))


@pytest.mark.parametrize("kwargs, field", [
    ({"amplitude_v": 12.0, "width_s": 1e-6}, "amplitude_v"),
    ({"amplitude_v": 1.0, "width_s": 100e-9, "current_range_a": 100e-6}, "width_s"),
    ({"amplitude_v": 1.0, "width_s": 1e-6, "rise_s": 5e-9}, "rise_s"),
    ({"amplitude_v": 1.0, "width_s": 1e-6, "current_range_a": 3e-3}, "current_range_a"),
])
def test_impossible_pulse_is_refused_before_any_call(kwargs, field):
    lib = FakeWgfmuLibrary()
    session = WGFMU(lib, "x")
    calls = len(lib.calls)
    with pytest.raises(SafetyLimitError, match=field):
        session.pulse_and_measure(101, WgfmuPulse(**kwargs))
    assert len(lib.calls) == calls and "clear" not in lib.calls
