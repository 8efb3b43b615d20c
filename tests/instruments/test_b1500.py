"""B1500 driver: exact FLEX strings, checked with pymeasure's ``expected_protocol``.

Sections cite the *Keysight B1500 Programming Guide* (edition 2016+), chapter 4 "Command Reference",
unless noted.
"""

import numpy as np
import pytest
from pymeasure.test import expected_protocol

from labctl.errors import InstrumentError, SafetyLimitError
from labctl.instruments import B1500, PulseShape
from labctl.instruments.smu import routed_spot_currents

OK = '0,"No Error."'


def test_modules_by_slot():
    """4 "UNT?": one model,revision pair per slot; empty slots report 0."""
    with expected_protocol(B1500, [("UNT?", "B1525A,0;B1517A,0;0,0;B1517A,0;0,0;0,0;0,0;0,0;0,0;0,0")]) as b:
        assert b.modules() == {1: "B1525A", 2: "B1517A", 4: "B1517A"}


def test_idn_and_opc():
    """4 "*IDN?", "*OPC?"."""
    with expected_protocol(B1500, [("*IDN?", "Agilent Technologies,B1500A,0,A.06"), ("*OPC?", "1")]) as b:
        assert b.idn.startswith("Agilent")
        b.wait_complete()


def test_transaction_checks_errors_after_each_batch():
    """4 "ERRX?": code,"text"; checked after every ;-joined message."""
    with expected_protocol(B1500, [("CN 2;DV 2,0,0.1,0.001", None), ("ERRX?", OK)]) as b:
        assert b.transaction(["CN 2", "DV 2,0,0.1,0.001"]) == 1


def test_rejected_command_raises_naming_it_and_the_instrument_text():
    """4 "ERRX?": a queued error becomes an InstrumentError with the instrument's own text."""
    with expected_protocol(B1500, [("DV 12,0,1,0.001", None), ("ERRX?", '120,"Incorrect parameter"')]) as b:
        with pytest.raises(InstrumentError, match=r"DV 12,0,1,0.001.*120: Incorrect parameter"):
            b.transaction(["DV 12,0,1,0.001"])


def test_long_transactions_split_at_the_input_buffer():
    """1 "Programming Basics": the input buffer holds 256 characters including the terminator."""
    commands = [f"DV {slot},0,0.123456789,0.001" for slot in range(2, 10)] * 2
    fits = max(n for n in range(len(commands)) if len(";".join(commands[:n])) + 1 <= 256)
    first, rest = ";".join(commands[:fits]), ";".join(commands[fits:])
    assert len(first) + 1 <= 256 < len(";".join(commands[:fits + 1])) + 1
    with expected_protocol(B1500, [(first, None), ("ERRX?", OK), (rest, None), ("ERRX?", OK)]) as b:
        assert b.transaction(commands) == 2


def test_clear_errors_drains_the_queue():
    """4 "ERRX?" until 0 (state left by another program)."""
    with expected_protocol(B1500, [("ERRX?", '100,"Undefined GPIB command"'), ("ERRX?", OK)]) as b:
        assert b.clear_errors() == [(100, "Undefined GPIB command")]


def test_prepare_resets_format_and_outputs():
    """4 "*RST", "SPP", "CL", "FMT 1,0" (ASCII 12 digits with header)."""
    with expected_protocol(B1500, [("*RST", None), ("ERRX?", OK), ("SPP;CL", None), ("ERRX?", OK),
                                   ("FMT 1,0", None), ("ERRX?", OK)]) as b:
        assert b.prepare(reset=True) == []


def test_smu_force_and_spot_current():
    """4 "CN", "DV", "TI" (spot measurement answers at once)."""
    with expected_protocol(B1500, [("CN 2", None), ("ERRX?", OK), ("DV 2,0,0.1,0.001", None), ("ERRX?", OK),
                                   ("TI 2,0", None), (None, "NBI+1.23450E-07"), ("ERRX?", OK),
                                   ("CL 2", None), ("ERRX?", OK)]) as b:
        smu = b.smu(2)
        smu.enable()
        smu.force_voltage(0.1, 1e-3)
        assert smu.spot_current() == pytest.approx(1.2345e-7)
        smu.disable()


def test_integration_time_is_formatted_exactly_and_checked():
    """4 "AAD", "AIT" (high-speed ADC time mode 3: 2 us to 20 ms)."""
    with expected_protocol(B1500, [("AIT 0,3,2e-06;AAD 3,0", None), ("ERRX?", OK)]) as b:
        b.smu(3).set_integration(2e-6)
    with expected_protocol(B1500, []) as b, pytest.raises(SafetyLimitError, match="AIT"):
        b.smu(3).set_integration(50e-3)


def test_multichannel_spot_measurement_of_both_polarities_in_three_messages():
    """4 "MM 1" (spot, several channels), "CMM", "CN", "DV", "XE", "CL"; one data block per ``XE`` ordered
    by channel (1 "Data Output Format"); the error queue read once after the last block."""
    with expected_protocol(B1500, [("MM 1,3,4;CN 2,3,4;DV 3,0,0,0.001;DV 4,0,0,0.001;DV 2,0,0.1,0.001;XE", None),
                                   (None, "NCI-1.00000E-08,NDI-2.00000E-08"),
                                   ("DV 2,0,-0.1,0.001;XE;CL", None), (None, "NCI+1.10000E-08,NDI+2.10000E-08"),
                                   ("ERRX?", OK)]) as b:
        i = routed_spot_currents(b, 2, [0.1, -0.1], [3, 4], 1e-3, setup=["MM 1,3,4"])
        np.testing.assert_allclose(i, [[-1e-8, -2e-8], [1.1e-8, 2.1e-8]])


def test_a_refused_command_in_a_routed_read_raises_before_the_data_is_used():
    """The one ``ERRX?`` after the blocks names the refused command; a flagged reading is refused too."""
    with expected_protocol(B1500, [("CN 2,3;DV 3,0,0,0.001;DV 2,0,0.1,0.001;XE;CL", None),
                                   (None, "NCI-1.00000E-08"), ("ERRX?", '120,"Incorrect parameter: DV 3"')]) as b:
        with pytest.raises(InstrumentError, match="Incorrect parameter"):
            routed_spot_currents(b, 2, [0.1], [3], 1e-3)
    with expected_protocol(B1500, [("CN 2,3;DV 3,0,0,0.001;DV 2,0,0.1,0.001;XE;CL", None),
                                   (None, "CCI+1.00000E-03"), ("ERRX?", OK)]) as b:
        with pytest.raises(InstrumentError, match="status"):
            routed_spot_currents(b, 2, [0.1], [3], 1e-3)


def test_staircase_sweep():
    """4 "WT", "WV" (linear single sweep), "MM 2", "XE": point-major data."""
    with expected_protocol(B1500, [("WT 0,0;WV 2,1,0,-1,1,3,0.001;MM 2,3;CMM 3,1", None), ("ERRX?", OK),
                                   ("XE", None), (None, "NCI+1E-09,NCI+2E-09,NCI+3E-09"), ("ERRX?", OK)]) as b:
        i = b.smu(2).sweep_current(-1, 1, 3, 1e-3, [b.smu(3)])
        np.testing.assert_allclose(i, [[1e-9, 2e-9, 3e-9]])


def test_pulsed_spot():
    """4 "PT" (width 0.5 ms-2 s, period 5 ms-5 s), "PV", "MM 3"."""
    with expected_protocol(B1500, [("PT 0,0.001,0.01;PV 2,0,0,1.5,0.001;MM 3,2;CMM 2,1", None), ("ERRX?", OK),
                                   ("XE", None), (None, "NBI+4.00000E-06"), ("ERRX?", OK)]) as b:
        assert b.smu(2).pulsed_spot_current(0.0, 1.5, 1e-3, 10e-3, 1e-3) == pytest.approx(4e-6)
    with expected_protocol(B1500, []) as b, pytest.raises(SafetyLimitError, match="PT width_s"):
        b.smu(2).pulsed_spot_current(0.0, 1.5, 1e-5, 10e-3, 1e-3)


def test_spgu_20ns_period_is_not_zero():
    """4 "SPPER": 20 ns must go out as 2e-08 (pymeasure's %f sends 0.000000); "SPT" widths likewise."""
    expected = ("SIM 0;SPPER 2e-08;SPRM 1,5;SPM 101,1;SER 101,1000000;SPV 101,1,0,1.5;"
                "SPT 101,1,0,1e-08,2e-08,2e-08;SPUPD 101")
    with expected_protocol(B1500, [(expected, None), ("ERRX?", OK)]) as b:
        b.spgu(1).configure(20e-9, 5, {1: PulseShape(0.0, 1.5, 10e-9, 20e-9, 20e-9)})


def test_spgu_out_of_range_sends_nothing():
    """BENCH.md SPGU ranges: period 20 ns-10 s, count 1-1e6, width >= 10 ns."""
    shape = PulseShape(0.0, 1.0, 1e-6, 2e-8, 2e-8)
    for period, count, match in ((10e-9, 1, "SPPER"), (1e-3, 0, "SPRM"), (1e-3, 2_000_000, "SPRM")):
        with expected_protocol(B1500, []) as b, pytest.raises(SafetyLimitError, match=match):
            b.spgu(1).configure(period, count, {1: shape})
    with expected_protocol(B1500, []) as b, pytest.raises(SafetyLimitError, match="SPV"):
        b.spgu(1).configure(1e-3, 1, {1: PulseShape(0.0, 25.0, 1e-6, 2e-8, 2e-8)})


def test_spgu_run_polls_until_done():
    """4 "CN", "SRP", "SPST?" (1 busy, 0 done)."""
    with expected_protocol(B1500, [("CN 101,102", None), ("ERRX?", OK), ("SRP", None), ("ERRX?", OK),
                                   ("SPST?", "1"), ("SPST?", "0")]) as b:
        spgu = b.spgu(1)
        spgu.enable([1, 2])
        spgu.run()


def test_outputs_off():
    """4 "SPP" (stop the SPGU), "CL" without channels = every output."""
    with expected_protocol(B1500, [("SPP;CL", None), ("ERRX?", OK)]) as b:
        b.outputs_off()


def test_read_timeout_is_computed_from_the_measurement():
    """Timeout = 2 x expected measurement time + margin, not a guess (peer drivers time out on sweeps)."""
    with expected_protocol(B1500, [("MM 2,3;CMM 3,1", None), ("ERRX?", OK), ("XE", None), (None, "NCI+1E-09"),
                                   ("ERRX?", OK)], connection_attributes={"timeout": 2000}) as b:
        b.measure(["MM 2,3", "CMM 3,1"], expected_s=30.0)
        assert b.adapter.connection.timeout == 1000 * (2 * 30 + 2)


def test_a_driver_with_a_dynamic_property_is_refused_by_plain_instrument():
    """The drivers read attributes plainly (labctl.instruments.plain); pymeasure's guard is what a dynamic
    property needs, so a PlainInstrument that declares one fails at construction, naming it."""
    from pymeasure.adapters import FakeAdapter

    from labctl.instruments.plain import PlainInstrument

    class Dynamic(PlainInstrument):
        level = PlainInstrument.control("LEV?", "LEV %g", "A level.", dynamic=True)

    with pytest.raises(TypeError, match="level_"):
        Dynamic(FakeAdapter(), "dynamic", includeSCPI=False)
    assert B1500(FakeAdapter())._special_names == []
