"""Reliability benchmark: the fuzz (>= 10,000 generated cases: commands, mutated files, misspelt
sections, widened limits, binary and truncated bench files), interrupts at random moments of every
procedure with a resume, the fault matrix (every fault kind x every procedure on sim-instruments, every
device fault x every procedure on sim) and the sweep wall time (LocalCluster vs serial).

    python benchmarks/reliability.py [--cases 10000] [--interrupts 12] [--skip-fuzz] [--skip-faults] [--skip-sweep]

Prints one table per part, then one closing line: cases tried, unsafe commands reaching an
instrument (must be 0), tracebacks (must be 0), resume mismatches (interrupts and instrument faults),
and how many device faults differ on healthy devices after the resume (docs/safety.md says where and why).
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

from tests.reliability import faultmatrix, fuzz, fuzz_files  # noqa: E402

def run_fuzz(cases: int, tmp: Path) -> list[tuple]:
    """(part, cases, accepted, rejected, violations, tracebacks, wall s) per fuzz target."""
    rows = []
    chip = fuzz.open_fuzz_backend()
    share = {"commands": cases // 2, "bench file": cases // 8, "probe card": cases // 8, "model JSON": cases // 8}
    share["bad bench file"] = cases - sum(share.values())
    targets = {
        "commands": (fuzz.commands(), lambda c: fuzz.command_case(chip, c)),
        "bench file": (st.data(), lambda d: fuzz.bench_case(tmp, tree_b, *d.draw(fuzz.mutations(tree_b)))),
        "probe card": (st.data(), lambda d: fuzz.probecard_case(tmp, tree_p, *d.draw(fuzz.mutations(tree_p)))),
        "model JSON": (st.data(), lambda d: fuzz.model_case(tree_m, *d.draw(fuzz.mutations(tree_m)))),
        "bad bench file": (st.data(), lambda d: fuzz_files.bench_file_case(tmp, *d.draw(fuzz_files.bad_bench_files(tree_b)))),
    }
    tree_b, tree_p, tree_m = fuzz.bench_tree(tmp), fuzz.probecard_tree(), fuzz.model_tree()
    for name, (strategy, case) in targets.items():
        tally = {"accepted": 0, "rejected": 0, "violations": 0, "tracebacks": 0, "unsafe": 0}

        @settings(max_examples=share[name], deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(strategy)
        def prop(x):
            try:
                tally[case(x)] += 1
            except AssertionError as exc:
                tally["unsafe" if "beyond limit" in str(exc) else "violations"] += 1
                print(f"VIOLATION {name}: {exc}"[:400])
            except Exception as exc:  # noqa: BLE001 (what a user would see as a traceback)
                tally["tracebacks"] += 1
                print(f"TRACEBACK {name}: {type(exc).__name__}: {exc}"[:400])

        t0 = time.perf_counter()
        prop()
        rows.append((name, sum(tally.values()), tally["accepted"], tally["rejected"], tally["violations"],
                     tally["unsafe"], tally["tracebacks"], time.perf_counter() - t0))
    chip.close()
    return rows


def run_interrupts(n: int, tmp: Path, seed: int = 0) -> list[dict]:
    """``n`` runs stopped at a random bus message (procedures in turn, sim-instruments), each then resumed."""
    import numpy as np

    from procedures import NAMES
    from tests.reliability.test_interrupts import _largest_operation
    from tests.reliability.test_resume import _params

    rng = np.random.default_rng(seed)
    clean = {}
    out = []
    for k in range(n):
        name = NAMES[k % len(NAMES)]
        if name not in clean:
            clean[name] = _largest_operation(name, _params(name), tmp / f"clean-{name}")
        df, total, largest = clean[name]
        case = fuzz_files.interrupt_case(tmp, name, _params(name), df, total, int(rng.integers(1, total)))
        case["within_one_operation"] = case["after"] <= largest
        out.append(case)
        print(f"  interrupt {name} at message {case['at']}: {case}", file=sys.stderr, flush=True)
    return out


def run_fault_matrix(tmp: Path) -> list:
    """One :class:`tests.reliability.faultmatrix.FaultCase` per (procedure, fault kind) on sim-instruments,
    and per (procedure, device fault) on sim."""
    from procedures import NAMES
    from sim_backend.instruments.faults import DEVICE_FAULTS, FAULT_KINDS

    rows = []
    for backend, kinds in (("sim-instruments", FAULT_KINDS), ("sim", DEVICE_FAULTS)):
        for name in NAMES:
            clean, messages = faultmatrix.clean_run(name, tmp, backend)
            for kind in kinds:
                t0 = time.perf_counter()
                rows.append(faultmatrix.fault_case(name, kind, tmp, clean, messages, backend))
                print(f"  {backend} {name} {kind}: {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
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
    parser.add_argument("--interrupts", type=int, default=12, help="runs stopped at a random moment, then resumed")
    args = parser.parse_args()
    con = Console(width=240)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        import os

        os.environ["LABCTL_STATE_DIR"] = str(tmp / "state")
        tried = unsafe = tracebacks = mismatches = 0
        device_differ = None
        if not args.skip_fuzz:
            table = Table("fuzz target", "cases tried", "accepted", "rejected (LabctlError naming the field)",
                          "violations", "unsafe at an instrument", "tracebacks", "wall s", title="fuzz")
            for row in run_fuzz(args.cases, tmp):
                table.add_row(*[f"{v:.1f}" if isinstance(v, float) else str(v) for v in row])
                tried, unsafe, tracebacks = tried + row[1], unsafe + row[5], tracebacks + row[6]
            con.print(table)
        if args.interrupts:
            cases = run_interrupts(args.interrupts, tmp)
            table = Table("procedure", "stopped at message", "stopped", "messages after", "within one operation",
                          "safe (visa log)", "resumed == uninterrupted", title="interrupts (sim-instruments)")
            for c in cases:
                table.add_row(c["procedure"], str(c["at"]), str(c["stopped"]), str(c["after"]),
                              str(c["within_one_operation"]), str(c["safe"]), str(c["resume_equal"]))
            con.print(table)
            tried += len(cases)
            unsafe += sum(c["unsafe"] + (not c["safe"]) for c in cases)
            mismatches += sum(not c["resume_equal"] for c in cases)
        if not args.skip_faults:
            rows = run_fault_matrix(tmp)
            table = Table("backend", "procedure", "fault", "exit code", "safe (visa log)", "points kept / clean",
                          "points lost", "resumed == uninterrupted", "same on healthy devices", "survived",
                          "error line", title="fault matrix: fault, then --resume without it")
            for c in rows:
                table.add_row(c.backend, c.procedure, c.fault, str(c.exit_code), str(c.safe), f"{c.kept} / {c.clean}", str(c.lost),
                              str(c.resumed_equal), str(c.resumed_equal_elsewhere), str(c.survived), c.error[:90])
            con.print(table)
            instrument = [c for c in rows if c.fault.split("@")[0] in faultmatrix.INSTRUMENT_FAULTS]
            con.print(f"faults survived: {sum(c.survived for c in rows)} / {len(rows)}; resumed == uninterrupted: "
                      f"{sum(c.resumed_equal for c in instrument)} / {len(instrument)} instrument faults, "
                      f"{sum(c.resumed_equal for c in rows) - sum(c.resumed_equal for c in instrument)} / "
                      f"{len(rows) - len(instrument)} device faults")
            tried += len(rows)
            unsafe += sum(not c.safe for c in rows)
            mismatches += sum(not c.resumed_equal for c in instrument)
            device_differ = sum(not c.resumed_equal_elsewhere for c in rows if c not in instrument)
        if not args.skip_sweep:
            runs, parallel, serial = run_sweep_timing(tmp)
            con.print(f"sweep: {runs} sim-instruments runs: LocalCluster(2 processes) {parallel:.1f} s, "
                      f"serial {serial:.1f} s, speed-up {serial / parallel:.2f}x")

        device = "" if device_differ is None else (f" ({device_differ} device faults differ on healthy devices "
                                                   "after the resume: docs/safety.md, 'What a resumed run equals')")
        con.print(f"reliability: {tried} cases tried, {unsafe} unsafe commands reaching an instrument, "
                  f"{tracebacks} tracebacks, {mismatches} resume mismatches{device}")


if __name__ == "__main__":
    main()
