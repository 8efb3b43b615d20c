"""Seed 002's energy-convergence experiment: pulse widths x algorithms, epochs and energy to a target.

For each width (the ``garg-hzo-<width>`` presets) and algorithm, train until the test accuracy
reaches ``target``, stops improving (``patience``) or hits ``max_epochs``, and record the epochs,
pulses and write energy it took. The default is a quick subset (minutes); ``full`` is the paper's
scale (all of MNIST, 95 %). Every run checkpoints after each epoch and the tables and figure are
rewritten after each finished (width, algorithm), so a crashed or interrupted experiment loses at
most one epoch: rerunning the same command into the same directory continues it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from device_models import preset_names
from labctl.errors import ConfigError, field_error

from .data import load_mnist
from .loop import train
from .optimizers import ALGORITHMS, TRANSFERS
from .plots import plot_energy_vs_epochs

WIDTHS = ("20ns", "200ns", "2us", "20us", "200us")
"""Pulse widths of seed 002's Fig. 5-6 (presets ``garg-hzo-<width>``)."""
ALGOS = ("mpsgd", "sgd", "symshift")
"""Seed 002's three algorithms, in the order they run (mixed precision first: the key sweep)."""
SUMMARY_COLUMNS = ["width", "algo", "target", "reached", "epochs_to_target", "pulses_to_target",
                   "energy_to_target_j", "final_accuracy", "best_accuracy", "epochs_run", "energy_per_pulse_j",
                   "final_layer_weight_median", "setup_pulses"]
"""Columns of ``summary.csv`` (NaN in the *_to_target columns when the target was not reached)."""


@dataclass(frozen=True)
class EnergyExperiment:
    """Scale of a ``garg-energy`` run."""

    train_samples: int | None = 5000
    """Training subset (None = all 60000)."""
    test_samples: int | None = None
    """Test subset (None = all 10000: a subset's sampling noise of ~1 point would blur epochs-to-target)."""
    target: float = 0.80
    """Test accuracy that counts as converged (below the paper's 95 %, which 5000 samples cannot reach;
    80 % is on the rising part of every curve, where epochs-to-target is not threshold noise)."""
    max_epochs: int = 8
    """Epochs after which a run that has not reached the target stops."""
    patience: int | None = 3
    """Stop a run early when its best accuracy has not risen for this many epochs (None = never)."""
    layers: tuple[int, ...] = (784, 256, 128, 10)
    """Network sizes, input to output."""
    widths: tuple[str, ...] = WIDTHS
    """Operating points (preset ``garg-hzo-<width>``)."""
    algos: tuple[str, ...] = ALGOS
    """Training algorithms (see :mod:`labctl.training.optimizers`)."""
    seed: int = 0
    """Seed of every run (devices, initial weights, shuffling)."""
    transfer: str = "aihwkit"
    """Mixed-precision transfer (:mod:`labctl.training.optimizers`): seed 002 trained with aihwkit's
    one-granularity transfer, whose noise-driven drift is what makes shorter pulses need more epochs;
    ``polarity`` (``labctl train``'s default) compensates the asymmetry and is width-independent."""

    def __post_init__(self) -> None:
        widths = [name.removeprefix("garg-hzo-") for name in preset_names() if name.startswith("garg-hzo-")]
        for width in self.widths:
            if width not in widths:
                raise field_error(ConfigError, "widths", width, f"choose from {', '.join(widths)}")
        for algo in self.algos:
            if algo not in ALGORITHMS:
                raise field_error(ConfigError, "algos", algo, f"choose from {', '.join(ALGORITHMS)}")
        if self.transfer not in TRANSFERS:
            raise field_error(ConfigError, "transfer", self.transfer, f"choose from {', '.join(TRANSFERS)}")
        if not 0 < self.target <= 1:
            raise field_error(ConfigError, "target", self.target, "must be a test accuracy in (0, 1]")
        if self.max_epochs < 1 or (self.patience is not None and self.patience < 1):
            raise field_error(ConfigError, "max_epochs/patience", (self.max_epochs, self.patience), "must be >= 1")

    @classmethod
    def full(cls) -> EnergyExperiment:
        """The paper's scale: all of MNIST, 95 % target, at most 15 epochs (Fig. 5 reaches 95 % well before 25)."""
        return cls(train_samples=None, test_samples=None, target=0.95, max_epochs=15, patience=4)


RUN_CHECKPOINTS = "runs/*/checkpoint.npz"
"""The checkpoints of an energy experiment's runs in its folder (what ``--resume`` continues)."""


def run_energy_experiment(out: str | Path, exp: EnergyExperiment = EnergyExperiment(), progress: bool = True,
                          **options) -> pd.DataFrame:
    """Run every (width, algorithm); write ``summary.csv``, ``summary.md``, ``curves.csv``, ``energy_vs_epochs.png``.

    ``options`` go to :func:`labctl.training.train` (e.g. ``lr``). Runs live in ``out/runs/<width>-<algo>``
    and resume from their checkpoints; the outputs are rewritten after every finished run.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    data = load_mnist(exp.train_samples, exp.test_samples)
    summary, curves = [], []
    for algo in exp.algos:  # algorithm-major: the key mpsgd sweep over all widths finishes first
        for width in exp.widths:
            df = _train_to_target(exp, width, algo, out / "runs" / f"{width}-{algo}", data, progress, options)
            curve = df.assign(width=width, algo=algo, cumulative_energy_j=df["energy_j"].cumsum(),
                              cumulative_pulses=df["pulses"].cumsum())
            curves.append(curve)
            summary.append(summarize(curve, exp.target, df.attrs))
            write_outputs(out, pd.DataFrame(summary, columns=SUMMARY_COLUMNS), pd.concat(curves, ignore_index=True),
                          exp.target)
    return pd.DataFrame(summary, columns=SUMMARY_COLUMNS)


def _train_to_target(exp: EnergyExperiment, width: str, algo: str, run_dir: Path, data, progress: bool,
                     options: dict) -> pd.DataFrame:
    """Train one epoch at a time (resuming the run's checkpoint) until :func:`should_stop`."""
    for epoch in range(1, exp.max_epochs + 1):
        df = train(model=f"garg-hzo-{width}", algo=algo, epochs=epoch, layers=exp.layers, seed=exp.seed,
                   out=run_dir, progress=progress, data=data, resume=True,
                   transfer=exp.transfer if algo == "mpsgd" else "polarity", **options)
        if should_stop(df["test_accuracy"].to_numpy(), exp.target, exp.patience):
            break
    return df


def should_stop(accuracy: np.ndarray, target: float, patience: int | None) -> bool:
    """True once ``target`` is reached or the best accuracy is ``patience`` epochs old."""
    if len(accuracy) and accuracy.max() >= target:
        return True
    return patience is not None and len(accuracy) > patience and \
        accuracy[-patience:].max() <= accuracy[:-patience].max()


def summarize(curve: pd.DataFrame, target: float, attrs: dict) -> dict:
    """One summary row from a run's per-epoch ``curve`` (with cumulative columns) and ``train``'s attrs."""
    hit = curve[curve["test_accuracy"] >= target]
    first = hit.iloc[0] if len(hit) else None
    return {
        "width": curve["width"].iloc[0], "algo": curve["algo"].iloc[0], "target": target,
        "reached": first is not None,
        "epochs_to_target": int(first["epoch"]) if first is not None else np.nan,
        "pulses_to_target": int(first["cumulative_pulses"]) if first is not None else np.nan,
        "energy_to_target_j": float(first["cumulative_energy_j"]) if first is not None else np.nan,
        "final_accuracy": float(curve["test_accuracy"].iloc[-1]),
        "best_accuracy": float(curve["test_accuracy"].max()),
        "epochs_run": int(curve["epoch"].iloc[-1]),
        "energy_per_pulse_j": float(attrs.get("energy_per_pulse_j", np.nan)),
        "final_layer_weight_median": float(np.median(attrs["final_layer_weights"]))
        if "final_layer_weights" in attrs else np.nan,
        "setup_pulses": int(attrs.get("setup_pulses", 0)),
    }


def write_outputs(out: Path, summary: pd.DataFrame, curves: pd.DataFrame, target: float) -> None:
    """``summary.csv``, ``summary.md`` (readable), ``curves.csv`` and ``energy_vs_epochs.png`` in ``out``."""
    summary.to_csv(out / "summary.csv", index=False)
    curves.to_csv(out / "curves.csv", index=False)
    (out / "summary.md").write_text(markdown_table(readable_summary(summary)) + "\n")
    plot_energy_vs_epochs(curves, out / "energy_vs_epochs.png", target)


def readable_summary(summary: pd.DataFrame) -> pd.DataFrame:
    """The summary as people read it: percentages, "not reached" with the final accuracy."""
    rows = []
    for r in summary.itertuples(index=False):
        rows.append({
            "width": r.width, "algorithm": r.algo,
            f"epochs to {100 * r.target:g} %": str(int(r.epochs_to_target)) if r.reached
            else f"not reached in {r.epochs_run}",
            "pulses to target": f"{r.pulses_to_target:.3g}" if r.reached else "-",
            "energy to target (J)": f"{r.energy_to_target_j:.3g}" if r.reached else "-",
            "final accuracy": f"{100 * r.final_accuracy:.1f} %",
            "best accuracy": f"{100 * r.best_accuracy:.1f} %",
            "final-layer weight median": f"{r.final_layer_weight_median:+.3f}",
        })
    return pd.DataFrame(rows)


def markdown_table(df: pd.DataFrame) -> str:
    """A GitHub markdown table of ``df`` (floats in compact scientific notation)."""
    def cell(v):
        if isinstance(v, (float, np.floating)):
            return "-" if np.isnan(v) else f"{v:.3g}"
        return str(v)

    lines = ["| " + " | ".join(df.columns) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)
