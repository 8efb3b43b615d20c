"""The contract suite and a procedure smoke test on a lab's own bench: ``pytest --bench bench.yaml``.

Every test here reads the whole VISA log of its session afterwards and fails on any relay change sent
while an output was on, or an output left on (the safety audit of :func:`labctl.visalog.audit`).
``--bench-model`` names the device model the chip is expected to follow (a preset or the lab's fitted
model.json). Without ``--bench`` these tests skip (docs/first-day.md).
"""

from __future__ import annotations

import pytest

from labctl.backends import open_backend
from labctl.visalog import audit, read_log
from procedures import read_records, run_procedure

from .backend_contract import ArrayBackendContract

pytestmark = pytest.mark.bench


@pytest.fixture
def bench_session(request, tmp_path):
    """(open backend on the bench file, its VISA log); audited when the test ends."""
    log = tmp_path / "visa.log"
    with open_backend(request.config.getoption("--bench"), model=request.config.getoption("--bench-model"),
                      visa_log=log) as chip:
        yield chip, log
    unsafe, left_on = audit(read_log(log))
    assert not unsafe, f"relays switched with outputs on: {unsafe[:3]}"
    assert not left_on, f"outputs left on: {sorted(left_on)}"


class TestArrayBackendOnTheBench(ArrayBackendContract):
    @pytest.fixture
    def backend(self, bench_session):
        return bench_session[0]


def test_ltp_ltd_smoke_run(bench_session, tmp_path):
    chip, _ = bench_session
    df, csv = run_procedure("ltp_ltd", chip, tmp_path / "run", n_devices=1, pulses=5)
    assert df.attrs["status"] == "completed" and len(read_records(csv)) == 2 * 5
    header = csv.read_text()
    assert f"Instrument IDNs: {chip.describe().idns_text}" in header and "Instrument IDNs: none" not in header
