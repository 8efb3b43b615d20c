"""Pure FLEX formatting and parsing (no instrument)."""

import pytest

from labctl.errors import InstrumentError
from labctl.instruments import flex
from labctl.instruments.ascii_data import Reading, format_reading, parse_block, values


@pytest.mark.parametrize("value, text", [(20e-9, "2e-08"), (1e-3, "0.001"), (0.1, "0.1"), (-3.611, "-3.611"),
                                         (1e6, "1000000"), (2.5e-9, "2.5e-09")])
def test_numbers_keep_their_precision(value, text):
    """BENCH.md "Known slips": %f would send 20 ns as 0.000000."""
    assert flex.num(value) == text


def test_one_function_per_mnemonic():
    assert flex.pwv(2, 0, 0, 1, 11, 1e-3) == "PWV 2,1,0,0,0,1,11,0.001"  # not PWI (QCoDeS slip)
    assert flex.sprm(1000) == "SPRM 1,1000"
    assert flex.cl() == "CL" and flex.cl([2, 101]) == "CL 2,101"


def test_batches_fit_the_buffer_and_refuse_oversized_commands():
    assert flex.batches(["CN 2", "DV 2,0,1,0.001"]) == ["CN 2;DV 2,0,1,0.001"]
    with pytest.raises(InstrumentError, match="256"):
        flex.batches(["X" * 300])


def test_errx_and_unt_parsing():
    assert flex.parse_errx('0,"No Error."') == (0, "No Error.")
    assert flex.parse_unt("B1525A,0;0,0;B1517A,0") == {1: "B1525A", 3: "B1517A"}
    with pytest.raises(InstrumentError):
        flex.parse_errx("garbage")


def test_ascii_block_round_trip_and_errors():
    block = ",".join(format_reading(r) for r in (Reading("N", 2, "I", -1.5e-9), Reading("N", 10, "V", 0.1)))
    assert values(block, "I") == [pytest.approx(-1.5e-9)]
    assert parse_block(block)[1].slot == 10
    with pytest.raises(InstrumentError, match="FMT 1"):
        parse_block("+1.0E-9")  # FMT 2 (no header) left over by another program
    with pytest.raises(InstrumentError, match="status"):
        values("TBI+1.0E-03")
