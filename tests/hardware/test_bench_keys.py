"""Bench files: every misspelt key is refused naming it and the key meant; every limit has a ceiling
from the modules the file declares, and the simulated B1500 refuses what the module cannot do."""

import copy
import shutil

import numpy as np
import pytest
import yaml

from labctl.backends import SIM_BENCH_FILE, open_backend
from labctl.benchfile import ceilings, load_bench
from labctl.errors import ConfigError, InstrumentError
from labctl.instruments import flex
from labctl.instruments.modules import MODULES, same_model
from tests.reliability.fuzz import dump_yaml

MAP = SIM_BENCH_FILE.parent / "sim-instruments-probecard.yaml"


def key_paths(data, where=()):
    """Every mapping key of ``data`` as a path; of a list only its first entry (the others are alike)."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield where + (key,)
            yield from key_paths(value, where + (key,))
    elif isinstance(data, list) and data:
        yield from key_paths(data[0], where + (0,))


def misspellings(key: str) -> set[str]:
    """Typing slips: a letter dropped, two letters swapped, a letter doubled."""
    out = {key[:i] + key[i + 1:] for i in range(len(key))} | {key + key[-1]}
    out |= {key[:i] + key[i + 1] + key[i] + key[i + 2:] for i in range(len(key) - 1)}
    return {k for k in out if k != key and k}


def renamed(data, path, new):
    node = data
    for part in path[:-1]:
        node = node[part]
    node[new] = node.pop(path[-1])


@pytest.mark.parametrize("which", ["bench", "probe card"])
def test_every_misspelt_key_is_refused_naming_it_and_the_key_meant(tmp_path, which):
    source = SIM_BENCH_FILE if which == "bench" else MAP
    original = yaml.safe_load(source.read_text())
    if which == "bench":
        original["limits"] = {"max_write_v": 5.0}
        original["direct_path"] = False
    tried = 0
    for path in key_paths(original):
        if not isinstance(path[-1], str) or path[-2:-1] in (("switches",), ("mainframes",)):
            continue  # names the user chooses (mainframes) are checked against the map, not spelling
        for slip in sorted(misspellings(path[-1]))[:4]:
            data = copy.deepcopy(original)
            renamed(data, path, slip)
            shutil.copy(MAP, tmp_path / MAP.name)
            target = tmp_path / ("bench.yaml" if which == "bench" else MAP.name)
            shutil.copy(SIM_BENCH_FILE, tmp_path / "bench.yaml")
            target.write_text(dump_yaml(data))
            with pytest.raises(ConfigError) as info:
                load_bench(tmp_path / "bench.yaml")
            message = str(info.value)
            assert "\n" not in message and f"unknown key '{'.'.join(map(str, path[:-1] + (slip,)))}'" in message, \
                (path, slip, message)
            if slip.rstrip("s") == path[-1].rstrip("s"):  # limit/limits: the nearest key is the one meant
                assert f"did you mean {path[-1]}?" in message
            tried += 1
    assert tried > (40 if which == "bench" else 20)


@pytest.mark.parametrize("section", ["limit", "limts", "Limits"])
def test_misspelt_limits_section_is_refused(tmp_path, section):
    shutil.copy(MAP, tmp_path / MAP.name)
    (tmp_path / "b.yaml").write_text(SIM_BENCH_FILE.read_text().replace("limits: {}", f"{section}: {{max_write_v: 2.0}}"))
    with pytest.raises(ConfigError, match=f"unknown key '{section}'; did you mean limits"):
        load_bench(tmp_path / "b.yaml")


def bench_with(tmp_path, limits: str, modules: str | None = None, direct: bool = False):
    shutil.copy(MAP, tmp_path / MAP.name)
    text = SIM_BENCH_FILE.read_text().replace("limits: {}", f"limits: {{{limits}}}\ndirect_path: {str(direct).lower()}")
    if modules:
        text = text.replace("2: B1517A,", f"2: {modules},", 1)
    (tmp_path / "b.yaml").write_text(text)
    return tmp_path / "b.yaml"


@pytest.mark.parametrize("model", sorted(m for m, r in MODULES.items() if r.kind == "SMU"))
@pytest.mark.parametrize("direct", [False, True])
def test_every_limit_has_a_ceiling_from_the_declared_modules(tmp_path, model, direct):
    """At the ceiling loads; a little beyond is refused naming the field; left out, it is narrowed."""
    config = load_bench(bench_with(tmp_path, "", model, direct))
    bounds = ceilings(config.modules, config.probecard, direct)
    assert {"compliance_a", "max_read_v", "max_gate_v", "max_drain_v", "max_write_v"} <= set(bounds)
    assert ("min_width_s" in bounds) != direct
    assert bounds["max_gate_v"][0] == MODULES[model].max_v  # the row drive is the SMU in slot 2
    assert bounds["compliance_a"][0] == min(MODULES[model].max_a, 0.1)  # the weakest wired SMU
    for name, (bound, _) in bounds.items():
        floor = name == "min_width_s"
        assert getattr(config.limits, name) >= bound if floor else getattr(config.limits, name) <= bound
        load_bench(bench_with(tmp_path, f"{name}: {bound!r}", model, direct))
        beyond = bound * (0.5 if floor else 2.0)
        with pytest.raises(ConfigError, match=f"limits.{name}={beyond!r}: .*may only narrow"):
            load_bench(bench_with(tmp_path, f"{name}: {beyond!r}", model, direct))


@pytest.fixture
def chip():
    with open_backend("sim-instruments", model="garg-hzo-2us") as backend:
        yield backend


@pytest.mark.parametrize("command, refused", [
    (flex.dv(2, 1.0, 0.2), "Compliance"), (flex.dv(2, 150.0, 1e-3), "Voltage"),
    (flex.wv(2, 0.0, 120.0, 5, 1e-3), "Voltage"), (flex.wv(2, 0.0, 1.0, 5, 0.5), "Compliance"),
    (flex.pv(2, 0.0, 101.0, 1e-3), "Voltage"),
])
def test_simulated_b1500_refuses_beyond_the_module_with_an_error_code(chip, command, refused):
    """A driver bug that sends more than the module can do shows up as the bench would show it."""
    with pytest.raises(InstrumentError, match=f"error 120: {refused}"):
        chip.b1500.transaction([command])
    chip.b1500.transaction([flex.dv(2, 1.0, 0.1)])  # at the rating: accepted


def test_module_models_match_by_prefix():
    assert same_model("B1520A", "B1520A/N1301A") and same_model("B1517A", "B1517A")
    assert not same_model("B1520A", "B1520") and not same_model("B1517A", None)


def test_cmu_reported_with_its_adapter_is_accepted(tmp_path):
    shutil.copy(MAP, tmp_path / MAP.name)
    text = SIM_BENCH_FILE.read_text().replace("9: B1517A}", "9: B1517A, 10: B1520A}")
    (tmp_path / "b.yaml").write_text(text)
    with open_backend(str(tmp_path / "b.yaml"), model="garg-hzo-2us") as backend:
        assert backend.b1500.modules()[10] == "B1520A/N1301A"
        one = np.zeros((30, 30), dtype=bool)
        one[0, 0] = True
        assert np.isfinite(backend.read(one)[0, 0])


SOURCE_COMMANDS = ("DV", "WV", "PV", "CN", "SRP", "SPV", ":ROUT:CLOS")
"""Messages that put something on the chip or close a relay: none may go out from a refused bench file."""


@pytest.mark.parametrize("limits", ["limit: {max_write_v: 2.0}", "limits: {compliance_a: 10}",
                                    "limits: {max_gate_v: 1000}", "limts: {max_write_v: 2.0}"])
def test_run_on_a_bad_bench_file_is_one_line_and_sends_nothing(tmp_path, limits):
    from tests.test_docs import labctl

    shutil.copy(MAP, tmp_path / MAP.name)
    (tmp_path / "b.yaml").write_text(SIM_BENCH_FILE.read_text().replace("limits: {}", limits))
    code, output = labctl(["run", "ltp_ltd", "--backend", str(tmp_path / "b.yaml"), "--out", str(tmp_path / "r"),
                           "--param", "n_devices=2", "--param", "pulses=5", "--visa-log", str(tmp_path / "v.log")])
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert code == 2 and len(errors) == 1 and limits.split(":")[0] in errors[0]
    log = tmp_path / "v.log"
    sent = log.read_text().splitlines() if log.exists() else []
    assert not any(command in line for line in sent for command in SOURCE_COMMANDS)
