"""Seed 002's energy-convergence experiment: pulse widths x algorithms, epochs and energy to a target.

For each width (the ``garg-hzo-<width>`` presets) and algorithm, train until the test accuracy
reaches ``target`` (or ``max_epochs``) and record the epochs, pulses and write energy it took. The
default is a quick subset (minutes); ``full`` is the paper's scale (all MNIST, 95 %, 25 epochs).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .data import load_mnist
from .loop import train
from .plots import plot_energy_vs_epochs

WIDTHS = ("20ns", "200ns", "2us", "20us", "200us")
"""Pulse widths of seed 002's Fig. 5-6 (presets ``garg-hzo-<width>``)."""
ALGOS = ("mpsgd", "sgd", "symshift")


@dataclass(frozen=True)
class EnergyExperiment:
    """Scale of a ``garg-energy`` run."""

    train_samples: int | None = 5000
    """Training subset (None = all 60000)."""
    test_samples: int | None = 1000
    """Test subset (None = all 10000)."""
    target: float = 0.80
    """Test accuracy that counts as converged (the subset default is below the paper's 95 %)."""
    max_epochs: int = 5
    """Epochs after which a run that has not reached the target stops."""
    layers: tuple[int, ...] = (784, 256, 128, 10)
    widths: tuple[str, ...] = WIDTHS
    algos: tuple[str, ...] = ALGOS
    seed: int = 0

    @classmethod
    def full(cls) -> EnergyExperiment:
        """The paper's scale: all of MNIST, 95 % target, 25 epochs."""
        return cls(train_samples=None, test_samples=None, target=0.95, max_epochs=25)


def run_energy_experiment(out: str | Path, exp: EnergyExperiment = EnergyExperiment(), progress: bool = True,
                          **options) -> pd.DataFrame:
    """Run every (width, algorithm); write ``summary.csv``, ``summary.md``, ``curves.csv``, ``energy_vs_epochs.png``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    data = load_mnist(exp.train_samples, exp.test_samples)
    summary, curves = [], []
    for width in exp.widths:
        for algo in exp.algos:
            rows = []
            df = None
            for epoch in range(1, exp.max_epochs + 1):
                df = train(model=f"garg-hzo-{width}", algo=algo, epochs=epoch, layers=exp.layers, seed=exp.seed,
                           out=out / "runs" / f"{width}-{algo}", progress=progress, data=data, resume=True, **options)
                if df["test_accuracy"].iloc[-1] >= exp.target:
                    break
            rows = df.assign(width=width, algo=algo, cumulative_energy_j=df["energy_j"].cumsum(),
                             cumulative_pulses=df["pulses"].cumsum())
            curves.append(rows)
            hit = rows[rows["test_accuracy"] >= exp.target]
            first = hit.iloc[0] if len(hit) else None
            weights = df.attrs["final_layer_weights"]
            summary.append({
                "width": width, "algo": algo, "target": exp.target, "reached": first is not None,
                "epochs_to_target": int(first["epoch"]) if first is not None else np.nan,
                "pulses_to_target": int(first["cumulative_pulses"]) if first is not None else np.nan,
                "energy_to_target_j": float(first["cumulative_energy_j"]) if first is not None else np.nan,
                "final_accuracy": float(rows["test_accuracy"].iloc[-1]),
                "epochs_run": int(rows["epoch"].iloc[-1]),
                "energy_per_pulse_j": df.attrs["energy_per_pulse_j"],
                "final_layer_weight_median": float(np.median(weights)),
                "setup_pulses": int(df.attrs["setup_pulses"]),
            })
    table = pd.DataFrame(summary)
    all_curves = pd.concat(curves, ignore_index=True)
    table.to_csv(out / "summary.csv", index=False)
    all_curves.to_csv(out / "curves.csv", index=False)
    (out / "summary.md").write_text(markdown_table(table) + "\n")
    plot_energy_vs_epochs(all_curves, out / "energy_vs_epochs.png", exp.target)
    return table


def markdown_table(df: pd.DataFrame) -> str:
    """A GitHub markdown table of ``df`` (floats in compact scientific notation)."""
    def cell(v):
        if isinstance(v, (float, np.floating)):
            return "-" if np.isnan(v) else f"{v:.3g}"
        return str(v)

    lines = ["| " + " | ".join(df.columns) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)
