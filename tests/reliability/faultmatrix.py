"""The fault matrix: one procedure, one injected fault on a simulated bench, then ``--resume``.

Shared by the CI tests (a few pairs) and ``benchmarks/reliability.py`` (every fault kind x every
procedure, on ``sim-instruments``; the device faults on ``sim`` too). A case runs the procedure
uninterrupted, again with the fault (checking the VISA log: outputs off and relays open at the end,
no hot switching), then ``--resume`` without the fault, and compares the final CSV with the
uninterrupted one (same seed), everywhere and on the devices the fault did not break.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from labctl.cli import app
from labctl.errors import LabctlError
from labctl.visalog import audit, read_log
from procedures import read_records
from sim_backend.instruments.faults import INSTRUMENT_FAULTS

QUICK = {"ltp_ltd": ["pulses=30", "n_devices=2"],
         "symmetry_point": ["n_devices=2", "pulses=20", "alternating=40", "bound_pulses=100"],
         "retention": ["n_devices=4", "levels=2", "points=4", "duration_s=100"],
         "multistate": ["n_devices=8", "levels=4", "reads=3"],
         "transfer_curve": ["n_devices=2", "gate_step_v=0.25", "devices_per_sweep=1"],
         "array_map": ["rows=2", "max_pulses=60", "reads_per_verify=1"]}
"""Light parameters per procedure (seconds each on simulated instruments)."""
FAULTY = {"stuck-on": 1, "stuck-off": 1, "dead-line": 0}
"""Device faults: the default N of KIND@N (device 1 is row 0, column 1; dead-line N is row line N)."""
COLUMNS = 30
"""Columns of the simulated chip (both layouts): stuck device N sits at (N // COLUMNS, N % COLUMNS)."""


@dataclass
class FaultCase:
    """Outcome of one (procedure, fault) pair."""

    procedure: str
    fault: str
    backend: str
    """``sim-instruments`` or ``sim`` (no instruments: nothing to audit, so ``safe`` is the chip's state only)."""
    exit_code: int
    """Exit code of the faulted run (CliRunner: 1 for a raised LabctlError; the CLI's main makes it 2)."""
    error: str
    """The faulted run's error line."""
    safe: bool
    """Outputs off and relays open at the end of the VISA log, and no relay switched hot."""
    kept: int
    """Records in the CSV after the fault."""
    clean: int
    """Records of the uninterrupted run."""
    lost: int
    """Kept records that differ from the uninterrupted run's (device faults: from the faulty device's line)."""
    resume_exit: int
    """Exit code of ``--resume`` without the fault."""
    resumed_equal: bool
    """The resumed run's final data equals the uninterrupted run's, every column. Expected of instrument
    faults; after a device fault the mended device starts from the state the fault left (a stuck-on device
    at its top, a dead line without the half-selected pulses it missed), so its own records, and what a
    group write-verify did after it, may differ (docs/safety.md, "What a resumed run equals")."""
    resumed_equal_elsewhere: bool
    """Equal on every device the fault did not break (docs/safety.md says where a device fault can break it)."""
    first_difference: int | None = None
    """Index of the first record of the resumed run that differs from the uninterrupted run's on a healthy
    device (None: none does)."""

    @property
    def survived(self) -> bool:
        """Non-zero exit with one line, left safe, no complete point lost, ``--resume`` completes; for an
        instrument fault the resumed data equals the uninterrupted run's."""
        return (self.exit_code != 0 and "\n" not in self.error and self.safe and self.lost == 0
                and self.resume_exit == 0 and (self.resumed_equal or self.fault.split("@")[0] not in INSTRUMENT_FAULTS))


def _invoke(name: str, out: Path, *extra: str, backend: str = "sim-instruments", model: str | None = None,
            params: tuple[str, ...] = ()):
    args = ["run", name, "--backend", backend, "--out", str(out)] + (["--model", model] if model else [])
    args += [a for p in (*QUICK[name], *params) for a in ("--param", p)]
    return CliRunner().invoke(app, [*args, *extra])


def _csv(out: Path, name: str) -> pd.DataFrame:
    return read_records(out / f"{name}.csv")


def _outside(df: pd.DataFrame, fault: str) -> pd.DataFrame:
    """The records of the devices fault ``KIND@N`` does not break (all of them for an instrument fault)."""
    kind, _, at = fault.partition("@")
    if kind not in FAULTY:
        return df
    hit = df["Device row"] == (int(at) if kind == "dead-line" else int(at) // COLUMNS)
    if kind != "dead-line":
        hit &= df["Device col"] == int(at) % COLUMNS
    return df[~hit].reset_index(drop=True)


def clean_run(name: str, tmp: Path, backend: str = "sim-instruments", model: str | None = None,
              params: tuple[str, ...] = ()) -> tuple[pd.DataFrame, int]:
    """The uninterrupted run's records and the messages it sent (0 on ``sim``); ``params`` (``name=value``)
    override ``QUICK``."""
    where = tmp / f"{name}-{backend}"
    log = where / "clean.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    result = _invoke(name, where / "clean", "--visa-log", str(log), backend=backend, model=model, params=params)
    if result.exit_code != 0:
        raise AssertionError(f"clean {name} failed: {result.exception}")
    return _csv(where / "clean", name), sum(1 for e in read_log(log) if e[2] != "read")


def fault_case(name: str, kind: str, tmp: Path, clean: pd.DataFrame, messages: int, backend: str = "sim-instruments",
               model: str | None = None, at: int | None = None, params: tuple[str, ...] = ()) -> FaultCase:
    """Run ``name`` with fault ``kind`` (instrument faults at 3/4 of the clean run's messages, device faults at
    ``FAULTY`` unless ``at`` says), then resume it."""
    if at is None:
        at = 3 * messages // 4 if kind in INSTRUMENT_FAULTS else FAULTY[kind]
    fault = f"{kind}@{at}"
    where = tmp / f"{name}-{backend}"
    out, log = where / f"{kind}@{at}", where / f"{kind}@{at}.log"
    result = _invoke(name, out, "--visa-log", str(log), "--fault", fault, backend=backend, model=model,
                     params=params)
    entries = read_log(log)
    hot, still_on = audit(entries)
    switched = [m for _, i, k, m in entries if i == "switch" and k == "write"]
    opened = backend == "sim" or switched[-2:] == [":ROUT:OPEN:CARD ALL"] * 2
    faulted = _csv(out, name)
    prefix = clean.iloc[:len(faulted)].reset_index(drop=True)
    differ = (faulted.ne(prefix) & ~(faulted.isna() & prefix.isna())).any(axis=1)
    lost = int(differ.sum()) if kind in INSTRUMENT_FAULTS else int(len(_outside(faulted[differ], fault)))
    resumed = _invoke(name, out, "--resume", backend=backend, model=model, params=params)
    final = _csv(out, name)
    error = str(result.exception) if isinstance(result.exception, LabctlError) else repr(result.exception)
    healthy, reference = _outside(final, fault), _outside(clean, fault)
    first = _first_difference(healthy, reference)
    return FaultCase(name, fault, backend, result.exit_code, error, not hot and not still_on and opened,
                     len(faulted), len(clean), lost, resumed.exit_code, final.equals(clean), first is None, first)


def _first_difference(a: pd.DataFrame, b: pd.DataFrame) -> int | None:
    if a.shape != b.shape or list(a.columns) != list(b.columns):
        return 0
    differ = (a.ne(b) & ~(a.isna() & b.isna())).any(axis=1).to_numpy()
    return int(differ.argmax()) if differ.any() else None
