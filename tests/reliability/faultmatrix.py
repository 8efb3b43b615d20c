"""The fault matrix: one procedure, one injected fault on simulated instruments, then ``--resume``.

Shared by the CI tests (a few pairs) and ``benchmarks/reliability.py`` (every fault kind x every
procedure). A case runs the procedure uninterrupted, again with the fault (checking the VISA log:
outputs off and relays open at the end, no hot switching), then ``--resume`` without the fault, and
compares the final CSV with the uninterrupted one (same seed).
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
FAULTY = {"stuck-on": (1, 0, 1), "stuck-off": (1, 0, 1), "dead-line": (0, 0, None)}
"""Device faults: (N of KIND@N, row, col) of what breaks; col None = the whole row line."""


@dataclass
class FaultCase:
    """Outcome of one (procedure, fault) pair."""

    procedure: str
    fault: str
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
    faults; after a device fault the resumed chip carries the defective device's state (a stuck-on device
    sits at its top), so its own records, and what write-verify did around it, may differ."""
    resumed_equal_elsewhere: bool
    """Equal on every device the fault did not break."""

    @property
    def survived(self) -> bool:
        """Non-zero exit with one line, left safe, no complete point lost, ``--resume`` completes; for an
        instrument fault the resumed data equals the uninterrupted run's."""
        return (self.exit_code != 0 and "\n" not in self.error and self.safe and self.lost == 0
                and self.resume_exit == 0 and (self.resumed_equal or self.fault.split("@")[0] not in INSTRUMENT_FAULTS))


def _invoke(name: str, out: Path, *extra: str):
    args = ["run", name, "--backend", "sim-instruments", "--out", str(out)]
    args += [a for p in QUICK[name] for a in ("--param", p)]
    return CliRunner().invoke(app, [*args, *extra])


def _csv(out: Path, name: str) -> pd.DataFrame:
    return read_records(out / f"{name}.csv")


def _outside(df: pd.DataFrame, fault: str) -> pd.DataFrame:
    _, row, col = FAULTY.get(fault.split("@")[0], (None, None, None))
    if row is None:
        return df
    hit = df["Device row"] == row
    if col is not None:
        hit &= df["Device col"] == col
    return df[~hit].reset_index(drop=True)


def clean_run(name: str, tmp: Path) -> tuple[pd.DataFrame, int]:
    """The uninterrupted run's records and the messages it sent."""
    log = tmp / name / "clean.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    result = _invoke(name, tmp / name / "clean", "--visa-log", str(log))
    if result.exit_code != 0:
        raise AssertionError(f"clean {name} failed: {result.exception}")
    return _csv(tmp / name / "clean", name), sum(1 for e in read_log(log) if e[2] != "read")


def fault_case(name: str, kind: str, tmp: Path, clean: pd.DataFrame, messages: int) -> FaultCase:
    """Run ``name`` with fault ``kind`` (instrument faults at 3/4 of the clean run's messages), then resume it."""
    fault = f"{kind}@{3 * messages // 4 if kind in INSTRUMENT_FAULTS else FAULTY[kind][0]}"
    out, log = tmp / name / kind, tmp / name / f"{kind}.log"
    result = _invoke(name, out, "--visa-log", str(log), "--fault", fault)
    entries = read_log(log)
    hot, still_on = audit(entries)
    opened = [m for _, i, k, m in entries if i == "switch" and k == "write"][-2:] == [":ROUT:OPEN:CARD ALL"] * 2
    faulted = _csv(out, name)
    prefix = clean.iloc[:len(faulted)].reset_index(drop=True)
    differ = (faulted.ne(prefix) & ~(faulted.isna() & prefix.isna())).any(axis=1)
    lost = int(differ.sum()) if kind in INSTRUMENT_FAULTS else int(len(_outside(faulted[differ], fault)))
    resumed = _invoke(name, out, "--resume")
    final = _csv(out, name)
    error = str(result.exception) if isinstance(result.exception, LabctlError) else repr(result.exception)
    return FaultCase(name, fault, result.exit_code, error, not hot and not still_on and opened, len(faulted),
                     len(clean), lost, resumed.exit_code, final.equals(clean),
                     _outside(final, fault).equals(_outside(clean, fault)))
