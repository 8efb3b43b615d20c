"""Reliability benchmark: the fuzz (>= 10,000 generated cases), the fault matrix (every fault kind x
every procedure on sim-instruments) and the sweep wall time (LocalCluster vs serial).

    python benchmarks/reliability.py [--cases 10000] [--skip-sweep]

Prints one table per part: cases tried, violations, faults survived, points lost, wall times.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from tests.reliability import fuzz  # noqa: E402

QUICK = {"ltp_ltd": ["pulses=5", "n_devices=2"], "array_map": ["write_verify=false", "reads_per_verify=1"]}
"""Light parameters for the fault matrix (defaults elsewhere)."""


def run_fuzz(cases: int, tmp: Path) -> list[tuple]:
    """(part, cases, accepted, rejected, violations) per fuzz target."""
    rows = []
    chip = fuzz.open_fuzz_backend()
    share = {"commands": cases // 2, "bench file": cases // 6, "probe card": cases // 6, "model JSON": cases // 6}
    targets = {
        "commands": (fuzz.commands(), lambda c: fuzz.command_case(chip, c)),
        "bench file": (st.data(), lambda d: fuzz.bench_case(tmp, tree_b, *d.draw(fuzz.mutations(tree_b)))),
        "probe card": (st.data(), lambda d: fuzz.probecard_case(tmp, tree_p, *d.draw(fuzz.mutations(tree_p)))),
        "model JSON": (st.data(), lambda d: fuzz.model_case(tree_m, *d.draw(fuzz.mutations(tree_m)))),
    }
    tree_b, tree_p, tree_m = fuzz.bench_tree(tmp), fuzz.probecard_tree(), fuzz.model_tree()
    for name, (strategy, case) in targets.items():
        tally = {"accepted": 0, "rejected": 0, "violations": 0}

        @settings(max_examples=share[name], deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(strategy)
        def prop(x):
            try:
                tally[case(x)] += 1
            except AssertionError as exc:
                tally["violations"] += 1
                print(f"VIOLATION {name}: {exc}"[:400])

        t0 = time.perf_counter()
        prop()
        rows.append((name, sum(tally.values()), tally["accepted"], tally["rejected"], tally["violations"],
                     time.perf_counter() - t0))
    chip.close()
    return rows


def run_fault_matrix(tmp: Path) -> list[tuple]:
    """(procedure, fault, survived, exit, points kept, points not reached, points lost, error) per case.

    Points lost: kept records that differ from the clean run's (same seed, same messages up to the fault).
    """
    from typer.testing import CliRunner

    from labctl.cli import app
    from labctl.errors import LabctlError
    from labctl.visalog import audit, read_log
    from procedures import NAMES, read_records
    from sim_backend.instruments.faults import DEVICE_FAULTS, INSTRUMENT_FAULTS

    runner = CliRunner()
    rows = []
    for name in NAMES:
        params = [a for p in QUICK.get(name, []) for a in ("--param", p)]

        def run(tag, *fault):
            out, log = tmp / name / tag, tmp / name / f"{tag}.log"
            out.mkdir(parents=True, exist_ok=True)
            res = runner.invoke(app, ["run", name, "--backend", "sim-instruments", "--out", str(out),
                                      "--visa-log", str(log), *params, *[a for f in fault for a in ("--fault", f)]])
            csv = next(out.glob(f"{name}*.csv"), None)
            return res, read_log(log), (read_records(csv) if csv else None)

        clean, clean_log, clean_df = run("clean")
        if clean.exit_code != 0:
            rows.append((name, "-", False, clean.exit_code, 0, 0, 0, f"clean run failed: {clean.exception}"))
            continue
        sent = sum(1 for e in clean_log if e[2] != "read")
        for kind in INSTRUMENT_FAULTS + DEVICE_FAULTS:
            fault = f"{kind}@{sent // 2 if kind in INSTRUMENT_FAULTS else 1}"
            res, log, df = run(kind, fault)
            hot, still_on = audit(log)
            safe = not hot and not still_on and any(m == ":ROUT:OPEN:CARD ALL" for _, _, _, m in log[-6:])
            kept = 0 if df is None else len(df)
            prefix = clean_df.iloc[:kept].reset_index(drop=True)
            differ = 0 if df is None or kind in DEVICE_FAULTS else int((df.ne(prefix) & ~(df.isna() & prefix.isna())).any(axis=1).sum())
            same = differ == 0
            if kind in INSTRUMENT_FAULTS:
                msg = str(res.exception)
                ok = (res.exit_code != 0 and isinstance(res.exception, LabctlError) and "\n" not in msg
                      and msg.split(" ")[0] in ("b1500", "switch") and safe and same)
            else:
                msg, ok = "(device fault: run completes)", res.exit_code == 0 and safe
            rows.append((name, fault, ok, res.exit_code, kept, len(clean_df) - kept, differ, msg[:110]))
    return rows


def run_sweep_timing(tmp: Path) -> tuple[int, float, float]:
    """(runs, LocalCluster wall s, serial wall s) for a 24-run sim-instruments ltp_ltd grid."""
    from labctl.sweep import SweepSpec, open_client, run_point, run_sweep

    spec = SweepSpec("ltp_ltd", {"stop_amplitude_v": [3.0, 4.0], "width_s": [1e-6, 1e-5], "seed": list(range(6))},
                     backend="sim-instruments", params={"pulses": 100, "n_devices": 4})
    client, cluster = open_client(None, 2)
    try:
        result = run_sweep(spec, client, tmp / "parallel", say=lambda s: None)
    finally:
        client.close()
        cluster.close()
    assert result.failed == 0
    t0 = time.perf_counter()
    for k, point in enumerate(spec.points()):
        run_point(spec, point, str(tmp / "serial" / f"{k:04d}"))
    return len(spec.points()), result.wall_s, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--skip-sweep", action="store_true")
    parser.add_argument("--skip-faults", action="store_true")
    args = parser.parse_args()
    con = Console(width=240)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        import os

        os.environ["LABCTL_STATE_DIR"] = str(tmp / "state")
        table = Table("fuzz target", "cases tried", "accepted", "rejected (LabctlError naming the field)",
                      "violations", "wall s", title="fuzz")
        for row in run_fuzz(args.cases, tmp):
            table.add_row(*[f"{v:.1f}" if isinstance(v, float) else str(v) for v in row])
        con.print(table)
        if not args.skip_faults:
            rows = run_fault_matrix(tmp)
            table = Table("procedure", "fault", "survived", "exit", "points kept", "not reached",
                          "points lost (kept != clean run)", "error line",
                          title="fault matrix (sim-instruments)")
            for row in rows:
                table.add_row(*map(str, row))
            con.print(table)
            con.print(f"faults survived: {sum(r[2] for r in rows)} / {len(rows)}")
        if not args.skip_sweep:
            runs, parallel, serial = run_sweep_timing(tmp)
            con.print(f"sweep: {runs} sim-instruments runs: LocalCluster(2 processes) {parallel:.1f} s, "
                      f"serial {serial:.1f} s, speed-up {serial / parallel:.2f}x")


if __name__ == "__main__":
    main()
