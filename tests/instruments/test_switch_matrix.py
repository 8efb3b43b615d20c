"""Switch-matrix driver: channel lists and SCPI strings. Sections cite the *Keysight B2200A User's
Guide*, chapter "SCPI Command Reference" (ROUTe and SYSTem subsystems)."""

import pytest
from pymeasure.test import expected_protocol

from labctl.errors import InstrumentError
from labctl.instruments import SwitchMatrix
from labctl.instruments.switch_matrix import parse_channel_list, to_channel, to_channel_list

OK = '+0,"No error"'


def test_channel_is_card_input_output():
    """"Channel List": CIIOO, card 1 digit, input and output 2 digits each."""
    assert to_channel(1, 9, 12) == "10912"
    assert to_channel_list([(2, 1, 3), (1, 14, 1)]) == "(@11401,20103)"


@pytest.mark.parametrize("card, inp, out", [(0, 1, 1), (5, 1, 1), (1, 15, 1), (1, 1, 13), (1, 0, 1), (1, 1.0, 1)])
def test_out_of_range_channel_is_refused(card, inp, out):
    with pytest.raises(InstrumentError):
        to_channel(card, inp, out)


def test_one_input_per_output():
    """Two inputs on one output short two instruments together: refused before sending."""
    with pytest.raises(InstrumentError, match="card 1 pin 3"):
        to_channel_list([(1, 1, 3), (1, 2, 3)])


def test_parse_channel_list_with_ranges():
    """"Channel List": ranges a:b over outputs."""
    assert parse_channel_list("(@10101:10103,20912)") == {(1, 1, 1), (1, 1, 2), (1, 1, 3), (2, 9, 12)}
    assert parse_channel_list("(@)") == set()
    for bad in ("10101", "(@1010)", "(@10101:20103)", "(@10113)"):
        with pytest.raises(InstrumentError):
            parse_channel_list(bad)


def test_close_open_and_read_back():
    """":ROUTe:CLOSe", ":ROUTe:OPEN", ":ROUTe:CLOSe:CARD?", each followed by ":SYSTem:ERRor?"."""
    with expected_protocol(SwitchMatrix, [(":ROUT:CLOS (@10101,10902)", None), (":SYST:ERR?", OK),
                                          (":ROUT:CLOS:CARD? 1", "(@10101,10902)"),
                                          (":ROUT:OPEN (@10101)", None), (":SYST:ERR?", OK),
                                          (":ROUT:OPEN:CARD ALL", None), (":SYST:ERR?", OK)]) as sw:
        sw.close_channels([(1, 9, 2), (1, 1, 1)])
        assert sw.closed_channels(1) == {(1, 1, 1), (1, 9, 2)}
        sw.open_channels([(1, 1, 1)])
        sw.open_all()


def test_reroute_is_one_message_with_the_read_back_of_the_changed_cards():
    """SCPI: several commands in one message, the queries' replies in one ``;``-separated reply."""
    with expected_protocol(SwitchMatrix, [(":ROUT:OPEN (@10101);:ROUT:CLOS (@10102,20103);:ROUT:CLOS:CARD? 1;"
                                           ":ROUT:CLOS:CARD? 2", "(@10102);(@20103)")]) as sw:
        assert sw.reroute([(1, 1, 1)], [(2, 1, 3), (1, 1, 2)], [2, 1]) == {1: {(1, 1, 2)}, 2: {(2, 1, 3)}}
    with expected_protocol(SwitchMatrix, [(":ROUT:CLOS (@10102);:ROUT:CLOS:CARD? 1", "(@10102);(@)")]) as sw:
        with pytest.raises(InstrumentError, match="expected 1 channel lists"):
            sw.reroute([], [(1, 1, 2)], [1])


def test_refused_route_raises_with_the_matrix_text():
    """":SYSTem:ERRor?" code,"text"."""
    with expected_protocol(SwitchMatrix, [(":ROUT:CLOS (@40101)", None),
                                          (":SYST:ERR?", '-222,"Data out of range"')]) as sw:
        with pytest.raises(InstrumentError, match=r"40101.*-222"):
            sw.close_channels([(4, 1, 1)])


def test_rule_and_sequence_use_the_manual_mnemonics():
    """":ROUTe:CONNection:RULE" FREE|SROUte, ":ROUTe:CONNection:SEQuence" BBM|MBBRake|NSEQ."""
    with expected_protocol(SwitchMatrix, [(":ROUT:CONN:RULE ALL,SROU", None), (":SYST:ERR?", OK),
                                          (":ROUT:CONN:RULE? 1", "SROU"),
                                          (":ROUT:CONN:SEQ ALL,MBBR", None), (":SYST:ERR?", OK),
                                          (":ROUT:CONN:SEQ? 2", "MBBR")]) as sw:
        sw.set_rule("SROU")
        assert sw.rule(1) == "SROU"
        sw.set_sequence("MBBR")
        assert sw.sequence(2) == "MBBR"
    with expected_protocol(SwitchMatrix, []) as sw, pytest.raises(InstrumentError, match="MBB'"):
        sw.set_sequence("MBB")


def test_idn_and_clear_errors():
    """"*IDN?", ":SYSTem:ERRor?" until +0."""
    with expected_protocol(SwitchMatrix, [("*IDN?", "Agilent Technologies,B2200A,0,1.0"),
                                          (":SYST:ERR?", '-113,"Undefined header"'), (":SYST:ERR?", OK)]) as sw:
        assert "B2200A" in sw.idn
        assert sw.clear_errors() == [(-113, "Undefined header")]
