"""Fuzz cases shared by the property tests (a few hundred in CI) and benchmarks/reliability.py (>= 10,000).

Each ``*_case`` function takes generated input, runs it, and returns ``"accepted"`` or ``"rejected"``;
it raises ``AssertionError`` on a violation: an over-limit output that reached the simulated
instruments (read from :attr:`BenchWorld.outputs`, not from the driver), a rejection that is not a
``LabctlError``, or a rejection that does not name the field.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import json
import re

import numpy as np
import yaml
from hypothesis import strategies as st

from labctl.backends import SIM_BENCH_FILE
from labctl.errors import LabctlError
from labctl.specs import PulseSpec, ReadSpec, SafetyLimits
from sim_backend.instruments.limit_audit import violations

BENCH_LIMITS = SafetyLimits(max_write_v=6.0, max_width_s=1e-3, min_width_s=100e-9, max_read_v=0.3,
                            max_gate_v=5.0, max_drain_v=1.0, max_pulse_count=10_000)
"""A chip's narrowed limits, stricter than the defaults, so the bench's own check is what is tested."""


def dump_yaml(tree) -> str:
    """``yaml.safe_dump(tree)``'s text, written by libyaml's emitter where PyYAML has it (the same text for the bench
    and probe-card trees, 4x faster: a 60-pin probe card 7.1 -> 1.8 ms, most of a mutated-file case)."""
    return yaml.dump(tree, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper))


NAMED = re.compile(r"[\w.\-\[\]]+(=|:| )")
"""A field_error message starts with the field (``PulseSpec.width_s=...``)."""

volts = st.one_of(st.floats(-40, 40), st.sampled_from([float("nan"), float("inf"), -0.0, 6.0, 6.0000001, -6.0]))
seconds = st.one_of(st.floats(1e-10, 2.0), st.sampled_from([0.0, -1e-6, float("nan"), 100e-9, 99e-9, 1e-3]))
counts = st.one_of(st.integers(-3, 20_000), st.sampled_from([0, 1, 10_000, 10_001]))


def open_fuzz_backend(seed: int = 0):
    """A HardwareArray on simulated instruments whose bench file carries :data:`BENCH_LIMITS`."""
    from labctl.backends import open_backend

    chip = open_backend("sim-instruments", seed=seed)
    chip.config = dataclasses.replace(chip.config, limits=BENCH_LIMITS)
    chip.limits = BENCH_LIMITS
    return chip


def _masks(draw, shape):
    kind = draw(st.sampled_from(["random", "row", "empty", "wrong-shape", "all"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    if kind == "wrong-shape":
        return np.ones((shape[0] - 1, shape[1]), dtype=bool)
    if kind == "empty":
        return np.zeros(shape, dtype=bool)
    if kind == "all":
        return np.ones(shape, dtype=bool)
    mask = rng.random(shape) < draw(st.floats(0.0, 0.05))
    if kind == "row":
        mask[:] = False
        mask[rng.integers(shape[0]), rng.integers(shape[1], size=3)] = True
    return mask


@st.composite
def commands(draw):
    """One backend call with generated arguments: (kind, kwargs)."""
    kind = draw(st.sampled_from(["pulses", "vector", "read", "sweep"]))
    shape = (30, 30)
    if kind in ("pulses", "vector"):
        pulse = dict(amplitude_v=draw(volts), width_s=draw(seconds), rise_s=draw(seconds), fall_s=draw(seconds))
        if draw(st.booleans()):  # mostly-valid edges, so the amplitude and width checks are reached
            pulse.update(rise_s=20e-9, fall_s=20e-9)
        return kind, dict(pulse=pulse, mask=_masks(draw, shape), count=draw(counts),
                          cols=np.array(draw(st.lists(st.booleans(), min_size=shape[1], max_size=shape[1]))))
    if kind == "read":
        return kind, dict(voltage_v=draw(volts), mask=_masks(draw, shape), bipolar=draw(st.booleans()))
    n = draw(st.integers(1, 5))
    mask = _masks(draw, shape)
    if mask.shape == shape:
        mask[1:] = False  # one row: sweeps are slow
    return kind, dict(mask=mask, drain_v=draw(volts),
                      gate_v=np.array(draw(st.lists(volts, min_size=n, max_size=n))))


def command_case(chip, command) -> str:
    """Send one generated command; over-limit outputs at the instruments are violations."""
    kind, a = command
    before = len(chip.simulation.world.outputs)
    try:
        if kind in ("pulses", "vector"):
            spec = PulseSpec(**a["pulse"])
            if kind == "pulses":
                chip.apply_pulses(a["mask"], spec, a["count"])
            else:
                chip.apply_vector_update(a["mask"].any(axis=1), a["cols"], spec, a["count"])
        elif kind == "read":
            chip.read(a["mask"], ReadSpec(a["voltage_v"], bipolar=a["bipolar"]))
        else:
            chip.sweep_transfer(a["mask"], a["gate_v"], a["drain_v"])
        outcome = "accepted"
    except LabctlError as exc:
        assert NAMED.match(str(exc)), f"rejection does not name a field: {exc}"
        outcome = "rejected"
    bad = violations(chip.simulation.world.outputs[before:], BENCH_LIMITS)
    assert not bad, f"{kind} {a}: {bad}"
    return outcome


# -- files: mutate one field of a valid file -------------------------------------------------------
junk = st.one_of(st.none(), st.integers(-10, 10**6), st.floats(allow_nan=True), st.text(max_size=8),
                 st.lists(st.integers(-2, 40), max_size=3), st.booleans(), st.just({}))


def _paths(tree, prefix=()):
    if isinstance(tree, dict):
        for k, v in tree.items():
            yield prefix + (k,)
            yield from _paths(v, prefix + (k,))
    elif isinstance(tree, list):
        for i, v in enumerate(tree[:4]):
            yield from _paths(v, prefix + (i,))


@st.composite
def mutations(draw, tree):
    """(path, value): set one field of ``tree`` (a parsed file) to junk, or delete it."""
    paths = [p for p in _paths(tree) if not isinstance(p[-1], int)]
    return draw(st.sampled_from(paths)), draw(st.one_of(junk, st.just("<deleted>")))


def mutate(tree, path, value):
    out = copy.deepcopy(tree)
    node = out
    for key in path[:-1]:
        node = node[key]
    if value == "<deleted>":
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return out


def _file_case(load, text, path) -> str:
    try:
        load(text)
        return "accepted"
    except LabctlError as exc:
        field = str(path[-1])
        named = field in str(exc) or str(path[-2] if len(path) > 1 else field) in str(exc)
        # a smaller array shape is reported at the first pin outside it: that pin is the conflicting field
        named |= path == ("shape",) and bool(re.search(r"pins\[\d+\]\.line=.*outside the .* array", str(exc)))
        assert named, f"{path}: error does not name the field: {exc}"
        return "rejected"


def bench_case(tmp_dir, tree, path, value) -> str:
    """Load a bench file with one mutated field."""
    from labctl.benchfile import load_bench

    target = tmp_dir / "bench.yaml"
    target.write_text(dump_yaml(mutate(tree, path, value)))
    return _file_case(lambda _: load_bench(target), None, path)


def probecard_case(tmp_dir, tree, path, value) -> str:
    """Load a probe-card map with one mutated field."""
    from labctl.probecard import load_probecard

    target = tmp_dir / "card.yaml"
    target.write_text(dump_yaml(mutate(tree, path, value)))
    return _file_case(lambda _: load_probecard(target), None, path)


def model_case(tree, path, value) -> str:
    """Build a chip model from preset JSON with one mutated field."""
    from device_models.modelfile import model_from_dict

    return _file_case(lambda _: model_from_dict(json.loads(json.dumps(mutate(tree, path, value)))), None, path)


def bench_tree(tmp_dir) -> dict:
    """The sim-instruments bench file with its probe card as an absolute path."""
    tree = yaml.safe_load(SIM_BENCH_FILE.read_text())
    tree["probe_card"] = str(SIM_BENCH_FILE.parent / tree["probe_card"])
    return tree


def probecard_tree() -> dict:
    return copy.deepcopy(_probecard())


@functools.cache
def _probecard() -> dict:
    """Parsed once per session (each example mutates a copy): pure-Python YAML of 900 pins takes ~70 ms."""
    return yaml.safe_load((SIM_BENCH_FILE.parent / "sim-instruments-probecard.yaml").read_text())


def model_tree() -> dict:
    from pathlib import Path

    import device_models

    return json.loads((Path(device_models.__file__).parent / "presets" / "ning-mos2-fefet.json").read_text())
