"""Seconds per training epoch: float vs analog SGD vs mixed-precision SGD on the simulated chip.

Same numpy engine, network, data subset, batch size and seed; only the layers differ (floating point
vs ``AnalogLayer`` on ``SimulatedArray``). Prints the ratios the issue targets (<= 2x for SGD,
<= 3x for MP-SGD). Not run in CI:

    python benchmarks/training.py [--samples 10000] [--epochs 1] [--model garg-hzo-20ns]

On a shared machine pin BLAS (OPENBLAS_NUM_THREADS=1) or the float baseline measures thread thrash;
``--cpu-time`` times epochs in this process's CPU seconds instead of wall seconds (other load then
inflates both sides alike, so the ratios are steadier). Pulses per epoch are reported beside the
ratios (the simulator's cost grows with the devices pulsed): with the ``garg-hzo`` presets at 20 ns
and 5000 samples plain SGD sends ~1.1 M, MP-SGD ~0.2 M.

With numba installed (the ``fast`` extra) the simulator and the update rules run compiled kernels
(:mod:`labctl.compiled`); they are loaded (or compiled) by a short warm-up before any epoch is timed.
``LABCTL_NUMBA=0`` times the numpy path.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from rich.console import Console
from rich.table import Table

from labctl import compiled
from labctl.training import load_mnist, loop, train


def epoch_seconds(algo: str, data, args) -> tuple[float, float, int]:
    """Seconds of the fastest epoch (including its test evaluation), final accuracy, pulses of that epoch."""
    df = train(algo=algo, model=args.model, epochs=args.epochs, layers=tuple(args.layers), seed=0, data=data,
               batch_size=args.batch_size, progress=False)
    fastest = int(df["wall_s"].idxmin())
    return float(df["wall_s"].min()), float(df["test_accuracy"].iloc[-1]), int(df["pulses"].iloc[fastest])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10000)
    parser.add_argument("--test-samples", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--model", default="garg-hzo-20ns")
    parser.add_argument("--layers", type=lambda s: [int(v) for v in s.split(",")], default=[784, 256, 128, 10])
    parser.add_argument("--cpu-time", action="store_true", help="time epochs in process CPU seconds")
    args = parser.parse_args()
    if args.cpu_time:  # the loop's epoch timer reads this process's CPU clock instead of the wall clock
        loop.time = types.SimpleNamespace(perf_counter=time.process_time)
    data = load_mnist(args.samples, args.test_samples)
    clock = "CPU" if args.cpu_time else "wall"
    if compiled.enabled():  # load (or, on a fresh clone, compile) the kernels before any epoch is timed
        started = time.perf_counter()
        warm = load_mnist(200, 100)
        for algo in ("sgd", "mpsgd"):
            train(algo=algo, model=args.model, epochs=1, layers=tuple(args.layers), seed=0, data=warm,
                  batch_size=args.batch_size, progress=False)
        print(f"compiled kernels (numba) warmed up in {time.perf_counter() - started:.1f} s wall")
    else:
        print("numpy path (numba not installed or LABCTL_NUMBA=0)")
    # the ~10^5 objects of the imports (pandas, numba's compiler) are long-lived: freeze them, or a full
    # collection that scans them (~30-50 ms) lands in some timed epochs and not in others
    gc.collect()
    gc.freeze()
    table = Table("algorithm", f"{clock} s / epoch", "ratio to float", "target", "pulses / epoch", "test accuracy",
                  title=f"{args.samples} samples, batch {args.batch_size}, {args.layers}, {args.model}")
    base = None
    for algo, target in (("float", None), ("sgd", 2.0), ("mpsgd", 3.0)):
        seconds, acc, pulses = epoch_seconds(algo, data, args)
        base = seconds if base is None else base
        ratio = seconds / base
        table.add_row(algo, f"{seconds:.3f}", f"{ratio:.2f}x", "" if target is None else f"<= {target:g}x",
                      f"{pulses:,}", f"{acc:.3f}")
    Console().print(table)


if __name__ == "__main__":
    main()
