"""Property tests: generated commands never put an over-limit output on the simulated instruments;
generated bad files are rejected with a LabctlError naming the field. A few hundred examples here
(profile ``ci``); benchmarks/reliability.py runs >= 10,000."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from . import fuzz

settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.register_profile("bench", max_examples=2500, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
PROFILE = settings.get_profile("ci")


@pytest.fixture(scope="module")
def chip():
    backend = fuzz.open_fuzz_backend()
    yield backend
    backend.close()


@settings(PROFILE, max_examples=150)
@given(command=fuzz.commands())
def test_no_over_limit_output_reaches_the_instruments(chip, command):
    fuzz.command_case(chip, command)


@settings(PROFILE)
@given(data=st.data())
def test_mutated_bench_file_is_loaded_or_refused_naming_the_field(tmp_path, data):
    tree = fuzz.bench_tree(tmp_path)
    path, value = data.draw(fuzz.mutations(tree))
    fuzz.bench_case(tmp_path, tree, path, value)


@settings(PROFILE)
@given(data=st.data())
def test_mutated_probe_card_is_loaded_or_refused_naming_the_field(tmp_path, data):
    tree = fuzz.probecard_tree()
    path, value = data.draw(fuzz.mutations(tree))
    fuzz.probecard_case(tmp_path, tree, path, value)


@settings(PROFILE)
@given(data=st.data())
def test_mutated_model_json_is_loaded_or_refused_naming_the_field(data):
    tree = fuzz.model_tree()
    path, value = data.draw(fuzz.mutations(tree))
    fuzz.model_case(tree, path, value)


def test_the_audit_sees_an_over_limit_output(chip):
    """The oracle can fail: a pulse sent past HardwareArray's check is caught at the instruments."""
    from labctl.specs import PulseSpec
    from sim_backend.instruments.limit_audit import violations

    before = len(chip.simulation.world.outputs)
    chip.limits = fuzz.SafetyLimits()  # a bench check that lets 8 V through
    try:
        chip.apply_pulses(_one(chip), PulseSpec(8.0, 1e-6, 2e-8, 2e-8))
    finally:
        chip.limits = fuzz.BENCH_LIMITS
    assert any("amplitude" in v for v in violations(chip.simulation.world.outputs[before:], fuzz.BENCH_LIMITS))


def _one(chip):
    import numpy as np

    mask = np.zeros(chip.shape, dtype=bool)
    mask[3, 4] = True
    return mask
