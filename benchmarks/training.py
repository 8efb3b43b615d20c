"""Seconds per training epoch: float vs analog SGD vs mixed-precision SGD on the simulated chip.

Same numpy engine, network, data subset, batch size and seed; only the layers differ (floating point
vs ``AnalogLayer`` on ``SimulatedArray``). Prints the ratios the issue targets (<= 2x for SGD,
<= 3x for MP-SGD). Not run in CI:

    python benchmarks/training.py [--samples 10000] [--epochs 1] [--model garg-hzo-20ns]

On a shared machine pin BLAS (OPENBLAS_NUM_THREADS=1) or the float baseline measures thread thrash.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from rich.console import Console
from rich.table import Table

from labctl.training import load_mnist, train


def epoch_seconds(algo: str, data, args) -> tuple[float, float]:
    """Wall seconds of the fastest epoch (including its test evaluation) and the final accuracy."""
    df = train(algo=algo, model=args.model, epochs=args.epochs, layers=tuple(args.layers), seed=0, data=data,
               batch_size=args.batch_size, progress=False)
    return float(df["wall_s"].min()), float(df["test_accuracy"].iloc[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10000)
    parser.add_argument("--test-samples", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--model", default="garg-hzo-20ns")
    parser.add_argument("--layers", type=lambda s: [int(v) for v in s.split(",")], default=[784, 256, 128, 10])
    args = parser.parse_args()
    data = load_mnist(args.samples, args.test_samples)
    table = Table("algorithm", "s / epoch", "ratio to float", "target", "test accuracy",
                  title=f"{args.samples} samples, batch {args.batch_size}, {args.layers}, {args.model}")
    base = None
    for algo, target in (("float", None), ("sgd", 2.0), ("mpsgd", 3.0)):
        seconds, acc = epoch_seconds(algo, data, args)
        base = seconds if base is None else base
        ratio = seconds / base
        table.add_row(algo, f"{seconds:.3f}", f"{ratio:.2f}x", "" if target is None else f"<= {target:g}x",
                      f"{acc:.3f}")
    Console().print(table)


if __name__ == "__main__":
    main()
