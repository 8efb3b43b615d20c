"""Seconds per training epoch: float vs analog SGD vs mixed-precision SGD on the simulated chip.

Same numpy engine, network, data subset, batch size and seed; only the layers differ (floating point
vs ``AnalogLayer`` on ``SimulatedArray``). Prints the ratios issue 22 targets (<= 2x for SGD and for
MP-SGD, on a full MNIST epoch with 2 threads) and the threads and load it ran with. Not run in CI:

    python benchmarks/training.py [--samples 60000] [--test-samples 10000] [--epochs 1] [--rounds 3] [--breakdown]

Threads: the float epoch's BLAS takes ``OPENBLAS_NUM_THREADS`` (all cores by default) and so do the
simulator's products; its compiled kernels run on one thread. On a loaded machine two BLAS threads
spin against the other load (a float epoch of ~1.6 s took 20-47 s): ``--rounds R`` trains the three in
turn R times and keeps each one's fastest epoch (and prints the median of each round's ratio: a float
epoch and an analog epoch seconds apart share the host's slow spells), and ``--cpu-time`` times epochs in this process's CPU
seconds (with one BLAS thread the ratios are then steady under load; with more, CPU seconds count
every thread and hide the gain).
Pulses per epoch are reported beside the ratios (the simulator's cost grows with the devices pulsed).

``--breakdown`` adds where each epoch's time goes (forward product, the read-noise variance product of
``--read-model per-sample``, converters, backward products, update rule, pulses and read-back, the
rest), in ms and as multiples of the float epoch; docs/performance.md has the tables.

With numba installed (the ``fast`` extra) the simulator and the update rules run compiled kernels
(:mod:`device_models.compiled`); they are loaded (or compiled) by a short warm-up before any epoch is timed.
``LABCTL_NUMBA=0`` times the numpy path.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
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
from labctl.training import AnalogLayer, DigitalLayer, Optimizer, epochs, load_mnist, train
from labctl.training.loop import blas_threads
from sim_backend import SimulatedArray

TIMED = [(DigitalLayer, "forward"), (AnalogLayer, "forward"), (SimulatedArray, "_do_read_mvm"),
         (SimulatedArray, "_mvm_read_noise"), (DigitalLayer, "backward"), (AnalogLayer, "backward"),
         (Optimizer, "step"), (AnalogLayer, "apply_counts_at")]
"""What ``--breakdown`` times (each call, on the epoch's clock; nested calls count in both)."""

TARGETS = {"float": None, "sgd": 2.0, "mpsgd": 2.0}
"""The algorithms in the order they run, with the epoch-time goal as a multiple of the float epoch (issue 22)."""


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
    parser.add_argument("--rounds", type=int, default=1, help="train float, SGD and MP-SGD this many times in turn "
                        "and keep each one's fastest epoch")
    args = parser.parse_args()
    timer = time.process_time if args.cpu_time else time.perf_counter
    # the epoch loop's timer (labctl.training.epochs: it moved there from loop, and --cpu-time timed wall
    # epochs against CPU parts until this followed it): this process's CPU or wall clock
    epochs.time = types.SimpleNamespace(perf_counter=timer)
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
    table = Table("algorithm", f"{clock} s", "ratio", "per round", "goal", "pulses", "test acc.",
                  caption="a fastest epoch, its ratio to the fastest float epoch; per round: the median (range) of "
                          "each round's epoch over that round's float epoch",
                  title=f"{args.samples} samples, batch {args.batch_size}, {args.layers}, {args.model}, "
                        f"{args.read_model} reads; BLAS threads: {blas_threads()}")
    load = os.getloadavg()[0]
    best, seconds_by_round = {}, {algo: [] for algo in TARGETS}
    for _ in range(args.rounds):  # in turn: load that comes and goes hits all three alike
        for algo in TARGETS:
            result = run(algo, data, args, timer)
            seconds_by_round[algo].append(result[0])
            if algo not in best or result[0] < best[algo][0]:
                best[algo] = result
    parts = {algo: result[3] for algo, result in best.items()}
    for algo, (seconds, acc, pulses, _) in best.items():
        target = TARGETS[algo]
        table.add_row(algo, f"{seconds:.3f}", f"{seconds / best['float'][0]:.2f}x",
                      round_ratios(seconds_by_round[algo], seconds_by_round["float"]),
                      "" if target is None else f"<= {target:g}x", f"{pulses:,}", f"{acc:.3f}")
    Console().print(table)
    print(f"load average (1 min) {load:.1f} before, {os.getloadavg()[0]:.1f} after, on {os.cpu_count()} cores")
    if args.breakdown:
        Console().print(breakdown_table(parts, clock))


def round_ratios(seconds: list[float], float_seconds: list[float]) -> str:
    """Each round's epoch over the float epoch of the same round (seconds apart): the host's slow spells,
    which move the fastest-epoch ratio by ~20 % on a shared machine, hit both sides of these alike."""
    ratios = [s / f for s, f in zip(seconds, float_seconds)]
    return f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})" if len(ratios) > 1 else ""


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
