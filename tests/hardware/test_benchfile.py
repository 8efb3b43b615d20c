"""Bench file and probe-card map: validated on load, errors name the file line and field."""

import re
import shutil

import numpy as np
import pytest

from labctl.backends import SIM_BENCH_FILE, open_backend
from labctl.benchfile import load_bench
from labctl.errors import ConfigError, LabctlError
from labctl.probecard import load_probecard

MAP = SIM_BENCH_FILE.parent / "sim-instruments-probecard.yaml"


@pytest.fixture
def files(tmp_path):
    bench = tmp_path / "bench.yaml"
    shutil.copy(SIM_BENCH_FILE, bench)
    shutil.copy(MAP, tmp_path / MAP.name)
    return bench, tmp_path / MAP.name


def _edit(path, old, new, count=1):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, count))


def _line_of(path, fragment):
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if fragment in line)


def test_shipped_files_load_and_span_two_mainframes():
    config = load_bench(SIM_BENCH_FILE)
    pc = config.probecard
    assert pc.shape == (30, 30) and len(pc.pins) == 60
    assert {p.mainframe for p in pc.pins} == {"swA", "swB"}
    assert config.timings.round_trip_s == 0.02


@pytest.mark.parametrize("old, new, field", [
    ("{line: row7, mainframe: swA, card: 1, output: 8}", "{line: row7, mainframe: swA, card: 1, output: 13}",
     "pins[7].output=13"),
    ("{line: row7, mainframe: swA, card: 1, output: 8}", "{line: row6, mainframe: swA, card: 1, output: 8}",
     "pins[7].line='row6'"),
    ("{line: row7, mainframe: swA, card: 1, output: 8}", "{line: row7, mainframe: swA, card: 1, output: 7}",
     "pins[7].output=7"),
    ("{line: row7, mainframe: swA, card: 1, output: 8}", "{line: row7, mainframe: swC, card: 1, output: 8}",
     "pins[7].mainframe='swC'"),
    ("{line: row7, mainframe: swA, card: 1, output: 8}", "{line: row77, mainframe: swA, card: 1, output: 8}",
     "pins[7].line='row77'"),
    ("{role: col_sense, channel: 4, mainframe: swB, input: 2}", "{role: col_sense, channel: 4, mainframe: swB, input: 1}",
     "inputs[3].input=1"),
])
def test_bad_pin_names_line_and_field(files, old, new, field):
    _, pc = files
    _edit(pc, old, new)
    line = _line_of(pc, new)
    with pytest.raises(ConfigError, match=rf":{line}: {re.escape(field)}"):
        load_probecard(pc)


def test_missing_line_is_named(files):
    _, pc = files
    _edit(pc, "  - {line: col29, mainframe: swB, card: 3, output: 6}\n", "")
    with pytest.raises(ConfigError, match=r"pins=\['col29'\]: 1 col line"):
        load_probecard(pc)


def test_missing_role_is_named(files):
    _, pc = files
    _edit(pc, "  - {role: col_pulse, channel: 102, mainframe: swB, input: 9}", "")
    with pytest.raises(ConfigError, match="no col_pulse input on swB"):
        load_probecard(pc)


@pytest.mark.parametrize("old, new, field", [
    ("resource: sim://b1500", "resource: 17", "b1500.resource"),
    ("9: B1517A}", "9: B1500X}", "b1500.modules.9"),
    ("relay_settle_s: 0.005", "relay_settle_s: -1", "timings.relay_settle_s"),
    ("limits: {}", "limits: {max_write_v: 0}", "limits.max_write_v"),
    ("limits: {}", "limits: {max_volts: 3}", "limits.max_volts"),
    ("swB: {resource: sim://swB}", "swC: {resource: sim://swB}", "switches"),
    ("probe_card: sim-instruments-probecard.yaml", "probe_card: nowhere.yaml", "nowhere.yaml"),
])
def test_bad_bench_file_names_the_field(files, old, new, field):
    bench, _ = files
    _edit(bench, old, new)
    with pytest.raises(ConfigError, match=re.escape(field)):
        load_bench(bench)


def test_map_wiring_a_channel_to_an_absent_module_is_refused(files):
    bench, _ = files
    _edit(bench, "9: B1517A}", "}")
    with pytest.raises(ConfigError, match="slot 9 holds no SMU"):
        load_bench(bench)


def test_missing_module_on_the_instrument_is_refused_and_nothing_left_on(monkeypatch):
    """The bench file expects an SMU in slot 9; the (simulated) mainframe reports none."""
    from sim_backend.instruments import bench as simbench

    made = {}
    original = simbench.FakeB1500

    def fewer_modules(world, modules):
        fake = original(world, {s: m for s, m in modules.items() if s != 9})
        made["world"] = world
        return fake
    monkeypatch.setattr(simbench, "FakeB1500", fewer_modules)
    with pytest.raises(LabctlError, match=r"b1500\.modules\.9='B1517A'.*no module"):
        open_backend("sim-instruments")
    world = made["world"]
    assert not world.b1500.enabled and all(not sw.closed for sw in world.switches.values())


def test_dirty_instruments_are_recovered_on_connect(monkeypatch):
    """EasyEXPERT left FMT 2, queued errors, an SMU on and a relay closed: connect cleans it up."""
    from sim_backend.instruments import bench as simbench

    original = simbench.simulated_bench

    def dirty(*args, **kwargs):
        world, adapters = original(*args, **kwargs)
        world.b1500.format = (2, 0)
        world.b1500.errors.extend([(100, "Undefined GPIB command"), (120, "Incorrect parameter")])
        world.b1500.enabled.add(3)
        world.b1500.dc[3] = 1.0
        world.switches["swB"].closed.add((1, 1, 5))
        world.switches["swA"].errors.append((-113, "Undefined header"))
        return world, adapters
    monkeypatch.setattr(simbench, "simulated_bench", dirty)
    with open_backend("sim-instruments") as chip:
        assert chip.simulation.world.b1500.format == (1, 0) and not chip.simulation.world.b1500.errors
        assert chip.simulation.world.hot_switches == []  # outputs were switched off before the relays opened
        mask = np.zeros(chip.shape, dtype=bool)
        mask[0, 1] = True
        assert chip.read(mask)[0, 1] > 0


def test_a_control_character_in_a_bench_file_is_one_line(tmp_path):
    """UTF-8 that YAML's reader refuses (a control character) gives one line, not the reader's several."""
    path = tmp_path / "bench.yaml"
    path.write_bytes(b"limits:\n  max_write_v: 2.0\n\x1c\n")
    with pytest.raises(ConfigError) as info:
        load_bench(path)
    assert "\n" not in str(info.value) and "not valid YAML" in str(info.value)


def test_the_c_loader_gives_the_python_loaders_data_lines_and_messages(tmp_path):
    """Bench files parse with libyaml when PyYAML has it: the same data and field lines as the Python loader,
    and a refused file still gets the Python loader's message (it names the undefined alias)."""
    import yaml

    from labctl import yamlfile

    for path in (SIM_BENCH_FILE, MAP):
        fast, python = {}, {}
        assert yamlfile._parse(path.read_text(), fast) == yamlfile._parse_with(yaml.SafeLoader, path.read_text(), python)
        assert fast == python and len(fast) > 20
    bad = tmp_path / "bench.yaml"
    bad.write_text("limits:\n  max_write_v: *volts\n")
    with pytest.raises(ConfigError, match=r"bench.yaml:2: not valid YAML: found undefined alias 'volts'"):
        load_bench(bad)
