"""Seconds per training epoch: float vs analog SGD vs mixed-precision SGD on the simulated chip.

Same numpy engine, network, data subset, batch size and seed; only the layers differ (floating point
vs ``AnalogLayer`` on ``SimulatedArray``). Prints the ratios the issue targets (<= 2x for SGD,
<= 3x for MP-SGD). Not run in CI:

    python benchmarks/training.py [--samples 10000] [--epochs 1] [--model garg-hzo-20ns] [--breakdown]

On a shared machine pin BLAS (OPENBLAS_NUM_THREADS=1) or the float baseline measures thread thrash;
``--cpu-time`` times epochs in this process's CPU seconds instead of wall seconds (other load then
inflates both sides alike, so the ratios are steadier). Pulses per epoch are reported beside the
ratios (the simulator's cost grows with the devices pulsed): with the ``garg-hzo`` presets at 20 ns
and 5000 samples plain SGD sends 1.1-1.4 M, MP-SGD 0.14-0.2 M.

``--breakdown`` adds where each epoch's time goes (forward product, the read-noise variance product,
converters, backward products, update rule, pulses and read-back, the rest), in ms and as multiples
of the float epoch. It shows why analog SGD stays near 3x: its rounding draws (one per cell and
batch) and ~1.3 M pulses an epoch cost 1.3 float epochs, and the exact read-noise variance of every
sample (a second product as large as the forward one) half of one; docs/performance.md has the table.

With numba installed (the ``fast`` extra) the simulator and the update rules run compiled kernels
(:mod:`device_models.compiled`); they are loaded (or compiled) by a short warm-up before any epoch is timed.
``LABCTL_NUMBA=0`` times the numpy path.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import types
from collections import Counter
from contextlib import contextmanager, nullcontext
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from rich.console import Console
from rich.table import Table

from device_models import compiled
from labctl.training import AnalogLayer, DigitalLayer, Optimizer, load_mnist, loop, train
from sim_backend import SimulatedArray

TIMED = [(DigitalLayer, "forward"), (AnalogLayer, "forward"), (SimulatedArray, "_do_read_mvm"),
         (SimulatedArray, "_mvm_read_noise"), (DigitalLayer, "backward"), (AnalogLayer, "backward"),
         (Optimizer, "step"), (AnalogLayer, "apply_counts_at")]
"""What ``--breakdown`` times (each call, on the epoch's clock; nested calls count in both)."""


@contextmanager
def timing(clock):
    """Accumulate the seconds spent in each ``TIMED`` method into a Counter keyed by its name."""
    spent = Counter()
    originals = [(owner, name, owner.__dict__[name]) for owner, name in TIMED]
    for owner, name, original in originals:
        def timed(*args, _original=original, _key=f"{owner.__name__}.{name}", **kwargs):
            start = clock()
            try:
                return _original(*args, **kwargs)
            finally:
                spent[_key] += clock() - start
        setattr(owner, name, timed)
    try:
        yield spent
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)


def components(spent: Counter, epoch_total: float) -> dict[str, float]:
    """Exclusive seconds per part of an epoch from the nested ``timing`` totals."""
    forward = spent["DigitalLayer.forward"] + spent["AnalogLayer.forward"]
    mvm, noise = spent["SimulatedArray._do_read_mvm"], spent["SimulatedArray._mvm_read_noise"]
    step, pulses = spent["Optimizer.step"], spent["AnalogLayer.apply_counts_at"]
    backward = spent["DigitalLayer.backward"] + spent["AnalogLayer.backward"]
    return {"forward product": spent["DigitalLayer.forward"] + mvm - noise,
            "read-noise variance": noise,
            "DAC, ADC, checks": forward - spent["DigitalLayer.forward"] - mvm,
            "backward products": backward,
            "update rule": step - pulses,
            "pulses, read-back": pulses,
            "rest (loss, batches)": epoch_total - forward - backward - step}


def run(algo: str, data, args, clock) -> tuple[float, float, int, dict[str, float]]:
    """Seconds of the fastest epoch (including its test evaluation), final accuracy, pulses of that epoch,
    and the seconds per epoch of each part (``components``; empty without ``--breakdown``)."""
    with timing(clock) if args.breakdown else nullcontext(Counter()) as spent:
        df = train(algo=algo, model=args.model, epochs=args.epochs, layers=tuple(args.layers), seed=0, data=data,
                   batch_size=args.batch_size, progress=False, read_model=args.read_model)
    fastest = int(df["wall_s"].idxmin())
    parts = components(spent, df["wall_s"].sum()) if args.breakdown else {}
    parts = {k: v / args.epochs for k, v in parts.items()}
    return float(df["wall_s"].min()), float(df["test_accuracy"].iloc[-1]), int(df["pulses"].iloc[fastest]), parts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10000)
    parser.add_argument("--test-samples", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--model", default="garg-hzo-20ns")
    parser.add_argument("--layers", type=lambda s: [int(v) for v in s.split(",")], default=[784, 256, 128, 10])
    parser.add_argument("--read-model", default="shared", choices=("shared", "per-sample"),
                        help="how the simulated array's MVM draws read noise (labctl train --read-model)")
    parser.add_argument("--cpu-time", action="store_true", help="time epochs in process CPU seconds")
    parser.add_argument("--breakdown", action="store_true", help="also time the parts of each epoch")
    args = parser.parse_args()
    timer = time.process_time if args.cpu_time else time.perf_counter
    loop.time = types.SimpleNamespace(perf_counter=timer)  # the loop's epoch timer: this process's CPU or wall clock
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
    base, parts = None, {}
    for algo, target in (("float", None), ("sgd", 2.0), ("mpsgd", 3.0)):
        seconds, acc, pulses, parts[algo] = run(algo, data, args, timer)
        base = seconds if base is None else base
        ratio = seconds / base
        table.add_row(algo, f"{seconds:.3f}", f"{ratio:.2f}x", "" if target is None else f"<= {target:g}x",
                      f"{pulses:,}", f"{acc:.3f}")
    Console().print(table)
    if args.breakdown:
        Console().print(breakdown_table(parts, clock))


def breakdown_table(parts: dict[str, dict[str, float]], clock: str) -> Table:
    """Milliseconds per epoch of each part, per algorithm, and each part as a multiple of the float epoch."""
    float_epoch = sum(parts["float"].values())
    table = Table("part", *(f"{algo} ms" for algo in parts), *(f"{algo}/float" for algo in parts if algo != "float"),
                  title=f"{clock} ms per epoch by part (forward parts include the test set)")
    for name in parts["float"]:
        values = [parts[algo][name] for algo in parts]
        table.add_row(name, *(f"{1e3 * v:.1f}" for v in values), *(f"{v / float_epoch:.2f}x" for v in values[1:]))
    totals = [sum(p.values()) for p in parts.values()]
    table.add_row("epoch", *(f"{1e3 * v:.1f}" for v in totals), *(f"{v / float_epoch:.2f}x" for v in totals[1:]))
    return table


if __name__ == "__main__":
    main()
