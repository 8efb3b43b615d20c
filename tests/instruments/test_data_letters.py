"""Every channel letter and status of the B1500's FMT 1 data is decoded (or refused naming the letter),
as real instruments send them; the switch matrix is put in normal configuration at connect."""

import string

import numpy as np
import pytest

from labctl.backends import open_backend
from labctl.errors import InstrumentError
from labctl.instruments import flex
from labctl.instruments.ascii_data import (GNDU_SLOT, NO_CHANNEL, OK_STATUS, STATUS, Reading, check_status,
                                           format_reading, parse_block)
from labctl.visalog import read_log

CHANNELS = {**{c: (i + 1, 1) for i, c in enumerate("ABCDEFGHIJ")}, **{c: (i + 1, 2) for i, c in enumerate("abcdefghij")},
            "V": (GNDU_SLOT, 1), "Z": (NO_CHANNEL, 1)}


@pytest.mark.parametrize("letter", sorted(string.ascii_letters))
def test_every_channel_letter_is_decoded_or_refused_naming_it(letter):
    token = f"N{letter}I+1.00000E-09"
    if letter in CHANNELS:
        reading = parse_block(token)[0]
        assert (reading.slot, reading.sub) == CHANNELS[letter] and reading.value == 1e-9
        assert format_reading(reading) == token  # the simulated B1500 writes the same form
    else:
        with pytest.raises(InstrumentError, match=f"channel='{letter}'"):
            parse_block(token)


def test_channel_numbers_follow_the_programming_guide():
    """FMT 1 header letters (Programming Guide, "Data Output Format"; pymeasure's B1500 table agrees):
    A..J = 101, 201, ..., 1001 (first channel of slot 1..10), a..j = 102, 202, ..., 1002 (second channel)."""
    numbers = {letter: parse_block(f"N{letter}I+1.0E-09")[0].channel for letter in "ABCDEFGHIJabcdefghij"}
    assert [numbers[c] for c in "ABCDEFGHIJ"] == [101, 201, 301, 401, 501, 601, 701, 801, 901, 1001]
    assert [numbers[c] for c in "abcdefghij"] == [102, 202, 302, 402, 502, 602, 702, 802, 902, 1002]
    for letter, source in (("V", "the ground unit"), ("Z", "no channel")):
        reading = parse_block(f"N{letter}I+1.0E-09")[0]
        assert reading.source == source
        with pytest.raises(InstrumentError, match="names no module channel"):
            _ = reading.channel
    assert parse_block("CbI+1.0E-09")[0].source == "channel 202"
    with pytest.raises(InstrumentError, match="channel 202 status"):
        check_status(parse_block("CbI+1.0E-09")[0])


@pytest.mark.parametrize("letter", sorted(string.ascii_uppercase))
def test_every_status_letter_is_decoded_or_refused_naming_it(letter):
    token = f"{letter}AI+1.00000E-09"
    if letter not in STATUS:
        with pytest.raises(InstrumentError, match=f"status='{letter}'"):
            parse_block(token)
        return
    reading = parse_block(token)[0]
    assert reading.meaning == STATUS[letter]
    assert (letter in OK_STATUS) == (letter in "NWE")  # W, E: a sweep step of source data, not a fault


@pytest.fixture
def chip(tmp_path):
    with open_backend("sim-instruments", model="garg-hzo-2us", visa_log=tmp_path / "v.log") as backend:
        yield backend, tmp_path / "v.log"


def test_sweep_with_source_data_reports_intermediate_and_last_steps(chip):
    backend, _ = chip
    b1500 = backend.b1500
    b1500.transaction([flex.fmt(1, 1)])
    b1500.transaction([flex.cn([2, 3]), flex.dv(3, 0.1, 1e-3)])
    readings = b1500.measure([flex.wt(0, 0), flex.wv(2, 0.0, 1.0, 4, 1e-3), flex.mm(2, [3]), flex.cmm(3, 1)])
    source = [r for r in readings if r.kind == "V"]
    assert [r.status for r in source] == ["W", "W", "W", "E"] and [r.value for r in source] == pytest.approx(
        np.linspace(0, 1, 4))
    b1500.outputs_off()


def test_connect_puts_the_matrix_in_normal_configuration_and_reads_it_back(chip):
    backend, log = chip
    backend.read(np.eye(30, dtype=bool))  # closes relays on cards 1-4: needs NCON
    backend.close()  # the log is complete once closed
    sent = [(i, m) for _, i, k, m in read_log(log) if i == "switch" and k in ("write", "query")]
    for name, fake in backend.simulation.world.switches.items():
        assert fake.function == "NCON"
    funcs = [m for _, m in sent if m.startswith(":ROUT:FUNC")]
    first_route = next(k for k, (_, m) in enumerate(sent) if m.startswith(":ROUT:CLOS "))
    assert funcs.count(":ROUT:FUNC NCON") == 2 and funcs.count(":ROUT:FUNC?") == 2
    assert all(k < first_route for k, (_, m) in enumerate(sent) if m == ":ROUT:FUNC NCON")


def test_a_matrix_left_in_auto_configuration_refuses_cards_1_to_4(chip):
    backend, _ = chip
    sw = next(iter(backend.switches.values()))
    sw.set_function("ACON")
    with pytest.raises(InstrumentError, match="ACON"):
        sw.close_channels([(1, 1, 1)])
    sw.set_function("NCON")
