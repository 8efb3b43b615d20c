"""Reliability benchmark: the fuzz (>= 10,000 generated cases), the fault matrix (every fault kind x
every procedure on sim-instruments) and the sweep wall time (LocalCluster vs serial).

    python benchmarks/reliability.py [--cases 10000] [--skip-fuzz] [--skip-faults] [--skip-sweep]

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

from tests.reliability import faultmatrix, fuzz  # noqa: E402

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


def run_fault_matrix(tmp: Path) -> list:
    """One :class:`tests.reliability.faultmatrix.FaultCase` per (procedure, fault kind) on sim-instruments."""
    from procedures import NAMES
    from sim_backend.instruments.faults import FAULT_KINDS

    rows = []
    for name in NAMES:
        clean, messages = faultmatrix.clean_run(name, tmp)
        for kind in FAULT_KINDS:
            t0 = time.perf_counter()
            rows.append(faultmatrix.fault_case(name, kind, tmp, clean, messages))
            print(f"  {name} {kind}: {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
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
    parser.add_argument("--skip-fuzz", action="store_true")
    args = parser.parse_args()
    con = Console(width=240)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        import os

        os.environ["LABCTL_STATE_DIR"] = str(tmp / "state")
        if not args.skip_fuzz:
            table = Table("fuzz target", "cases tried", "accepted", "rejected (LabctlError naming the field)",
                          "violations", "wall s", title="fuzz")
            for row in run_fuzz(args.cases, tmp):
                table.add_row(*[f"{v:.1f}" if isinstance(v, float) else str(v) for v in row])
            con.print(table)
        if not args.skip_faults:
            rows = run_fault_matrix(tmp)
            table = Table("procedure", "fault", "exit code", "safe (visa log)", "points kept / clean",
                          "points lost", "resumed == uninterrupted", "same on healthy devices", "survived",
                          "error line", title="fault matrix (sim-instruments): fault, then --resume without it")
            for c in rows:
                table.add_row(c.procedure, c.fault, str(c.exit_code), str(c.safe), f"{c.kept} / {c.clean}", str(c.lost),
                              str(c.resumed_equal), str(c.resumed_equal_elsewhere), str(c.survived), c.error[:90])
            con.print(table)
            instrument = [c for c in rows if c.fault.split("@")[0] in faultmatrix.INSTRUMENT_FAULTS]
            con.print(f"faults survived: {sum(c.survived for c in rows)} / {len(rows)}; resumed == uninterrupted: "
                      f"{sum(c.resumed_equal for c in instrument)} / {len(instrument)} instrument faults, "
                      f"{sum(c.resumed_equal for c in rows) - sum(c.resumed_equal for c in instrument)} / "
                      f"{len(rows) - len(instrument)} device faults")
        if not args.skip_sweep:
            runs, parallel, serial = run_sweep_timing(tmp)
            con.print(f"sweep: {runs} sim-instruments runs: LocalCluster(2 processes) {parallel:.1f} s, "
                      f"serial {serial:.1f} s, speed-up {serial / parallel:.2f}x")


if __name__ == "__main__":
    main()
