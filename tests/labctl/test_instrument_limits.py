"""The bench's physical limits live in SafetyLimits: drivers, bench file and simulator all use them."""

from __future__ import annotations

import ctypes
import shutil

import numpy as np
import pytest

from labctl import PulseSpec, ReadSpec, SafetyLimits
from labctl.backends import SIM_BENCH_FILE, open_backend
from labctl.benchfile import load_bench
from labctl.errors import ConfigError, InstrumentError, SafetyLimitError
from labctl.instruments.spgu import PulseShape
from labctl.instruments.wgfmu import WGFMU, WgfmuPulse
from sim_backend.instruments.fake_wgfmu import FakeWgfmuLibrary


def _bench(tmp_path, limits: str):
    path = tmp_path / "bench.yaml"
    path.write_text(SIM_BENCH_FILE.read_text().replace("limits: {}", f"limits: {limits}"))
    shutil.copy(SIM_BENCH_FILE.parent / "sim-instruments-probecard.yaml", tmp_path)
    return path


@pytest.mark.parametrize("swing_v, edge_s", [(3.0, 20e-9), (10.0, 20e-9), (10.5, 30e-9), (20.0, 30e-9),
                                             (25.0, 60e-9)])
def test_edge_minimum_follows_the_spgu_swing(swing_v, edge_s):
    assert SafetyLimits().min_edge_s_at(swing_v) == edge_s
    assert SafetyLimits().min_edge_s_at(-swing_v) == edge_s


def test_pulse_edges_are_checked_per_spgu_output():
    loose = SafetyLimits(max_write_v=40.0)
    PulseSpec(10.0, 1e-6)  # 5 V per output: the default 20 ns edges are fine
    PulseSpec(20.0, 1e-6, limits=loose)  # 10 V per output still 20 ns
    with pytest.raises(SafetyLimitError, match=r"PulseSpec\.rise_s=2e-08.*11 V SPGU swing"):
        PulseSpec(22.0, 1e-6, limits=loose)
    with pytest.raises(SafetyLimitError, match=r"PulseSpec\.fall_s=3e-08"):
        PulseSpec(-42.0, 1e-6, rise_s=60e-9, fall_s=30e-9, limits=SafetyLimits(max_write_v=45.0, spgu_max_level_v=30))
    with pytest.raises(SafetyLimitError, match=r"PulseSpec\.amplitude_v=42\.0.*spgu_max_level_v"):
        PulseSpec(42.0, 1e-6, rise_s=60e-9, fall_s=60e-9, limits=SafetyLimits(max_write_v=50.0))


def test_read_integration_is_within_the_high_speed_adc():
    for integration_s in (1e-6, 30e-3):
        with pytest.raises(SafetyLimitError, match="ReadSpec.integration_s"):
            ReadSpec(integration_s=integration_s)


def test_limits_refuse_inverted_instrument_ranges():
    with pytest.raises(ConfigError, match="smu_min_pulse_width_s"):
        SafetyLimits(smu_min_pulse_width_s=3.0)


def test_bench_file_may_narrow_but_not_widen(tmp_path):
    narrowed = load_bench(_bench(tmp_path, "{spgu_max_period_s: 1.0, max_write_v: 6.0}")).limits
    assert narrowed.spgu_max_period_s == 1.0 and narrowed.max_write_v == 6.0
    for field in ("smu_max_pulse_width_s: 3.0", "spgu_min_period_s: 1.0e-9", "wgfmu_max_force_v: 12"):
        with pytest.raises(ConfigError, match=rf"bench\.yaml.*{field.split(':')[0]}.*only narrow"):
            load_bench(_bench(tmp_path, "{" + field + "}"))


def test_narrowed_bench_refuses_in_the_driver_before_sending(tmp_path):
    with open_backend(str(_bench(tmp_path, "{spgu_max_period_s: 1.0, smu_max_pulse_width_s: 0.1}"))) as chip:
        sent = chip.log.messages
        with pytest.raises(SafetyLimitError, match="SPPER period_s=2.0"):
            chip.b1500.spgu(1).configure(2.0, 1, {1: PulseShape(0.0, 1.0, 1e-3, 20e-9, 20e-9)})
        with pytest.raises(SafetyLimitError, match="PT width_s=0.5"):
            chip.b1500.smu(2).pulsed_spot_current(0.0, 0.1, 0.5, 1.0, 1e-3)
        with pytest.raises(SafetyLimitError, match=r"SPT 101\.rise_s"):  # 15 V swing needs 30 ns
            chip.b1500.spgu(1).configure(1e-3, 1, {1: PulseShape(0.0, 15.0, 1e-4, 20e-9, 20e-9)})
        assert chip.log.messages == sent


def test_simulated_instruments_refuse_what_the_bench_would():
    """Raw FLEX past the driver's checks: the fake B1500 refuses with the instrument's error."""
    with open_backend("sim-instruments") as chip:
        b = chip.b1500
        setup = ["SIM 0", "SPPER 0.001", "SPRM 1,1", "SPM 101,1", "SPV 101,1,0,15", "SPT 101,1,0,0.0001,2e-08,2e-08"]
        with pytest.raises(InstrumentError, match="edge too short.*rise_s=2e-08"):
            b.transaction([*setup, "SPUPD 101"])
        b.transaction([*setup[:-1], "SPT 101,1,0,0.0001,3e-08,3e-08", "SPUPD 101"])  # 30 ns: accepted
        for command, text in (("PT 0,0.0001,0.01", "PT width"), ("AIT 0,3,1e-06", "AIT time"),
                              ("SPPER 1e-08", "SPPER"), ("SPV 101,1,0,21", "SPV outside"), ("SPV 101,1", "Incorrect parameter")):
            with pytest.raises(InstrumentError, match=text):
                b.transaction([command])


def test_sim_and_bench_refuse_the_same_pulse(tmp_path):
    """The bench file's limits on SimulatedArray and on HardwareArray refuse the same pulse, before sending."""
    bench = _bench(tmp_path, "{max_write_v: 30.0, min_edge_s: 4.0e-8}")
    limits = load_bench(bench).limits
    mask = np.zeros((30, 30), dtype=bool)
    mask[0, 1] = True
    loose = SafetyLimits(max_write_v=30.0)
    fast, slow = PulseSpec(24.0, 1e-6, 30e-9, 30e-9, limits=loose), PulseSpec(24.0, 1e-6, 40e-9, 40e-9, limits=loose)
    for spec in ("sim", str(bench)):
        options = {"limits": limits} if spec == "sim" else {}
        with open_backend(spec, seed=1, **options) as chip:
            with pytest.raises(SafetyLimitError, match=r"PulseSpec\.rise_s=3e-08"):
                chip.apply_pulses(mask, fast)
            assert chip.apply_pulses(mask, slow).pulses == 1


def test_wgfmu_ranges_come_from_the_limits():
    lib = FakeWgfmuLibrary()
    narrow = WGFMU(lib, "x", limits=SafetyLimits(wgfmu_max_force_v=2.0))
    with pytest.raises(SafetyLimitError, match="wgfmu_max_force_v"):
        narrow.pulse_and_measure(101, WgfmuPulse(3.0, 1e-6))
    with pytest.raises(SafetyLimitError, match="averaging_s"):
        WgfmuPulse(1.0, 1e-6, averaging_s=30e-3).check()
    # the fake library refuses what the instrument would, past the driver
    assert lib.WGFMU_createPattern(b"p", ctypes.c_double(0.0)) == 0
    assert lib.WGFMU_addVector(b"p", ctypes.c_double(5e-9), ctypes.c_double(1.0)) != 0
    assert lib.WGFMU_addVector(b"p", ctypes.c_double(1e-6), ctypes.c_double(11.0)) != 0
