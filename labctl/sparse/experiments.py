"""Seed 000's sparse experiments: VAU error and accuracy, sparse letters, granularity.

Defaults are sized for minutes on the simulated chip; every function writes CSV + PNG into ``out``
and returns its table. The synthetic letters (:func:`labctl.sparse.letters.synthetic_letters`) are
the data unless a ``data`` set is passed (e.g. real EMNIST via ``load_emnist_letters``).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from device_models import load_model
from device_models.plotstyle import plots_wanted
from labctl.backends import open_backend
from labctl.layout import CellLayout
from labctl.training import device_steps
from labctl.training.data import Dataset
from labctl.training.plots import _pyplot

from .estimate import CostAssumptions, assumptions_markdown, estimate_costs
from .layer import SparseAnalogLayer
from .letters import LETTERS, Distortion, class_indices, synthetic_letters
from .pruning import GRANULARITIES, PruneSchedule
from .training import SparseRun, train_msnet
from .vau import plan_vau, update_mse

WORD = "sparse"
DEFAULT_CLASSES = "aenprs"
"""The 6-class configuration: the letters of 'sparse' plus n."""


def random_update_counts(shape, rng: np.random.Generator, batch: int = 20, max_pulses: int = 15) -> np.ndarray:
    """Signed pulse counts of a realistic gradient: a batch sum of outer products (ReLU inputs x softmax errors)."""
    x = np.maximum(rng.standard_normal((batch, shape[0])), 0)
    err = rng.dirichlet(np.ones(shape[1]), batch) - np.eye(shape[1])[rng.integers(shape[1], size=batch)]
    change = -(x.T @ err)
    change *= max_pulses / 2 / np.abs(change).max()
    counts = np.floor(np.abs(change) + rng.random(shape))
    return (np.sign(change) * np.minimum(counts, max_pulses)).astype(np.int64)


def vau_mse(runs: int = 50, sparsities=(0.0, 0.25, 0.5, 0.75, 0.9), shape=(75, 6), seed: int = 0,
            model: str = "ning-mos2-fefet") -> pd.DataFrame:
    """MSE (normalised weight units) of the VAU update vs the exact cell-by-cell update, per sparsity and run."""
    up, down = device_steps(load_model(model))
    step = (up + down) / 4  # mean change of one pulse in w = G / g_max units at mid range
    rng = np.random.default_rng(seed)
    rows = []
    for sparsity in sparsities:
        for run in range(runs):
            active = rng.random(shape) >= sparsity
            exact = np.where(active, random_update_counts(shape, rng), 0)
            plan = plan_vau(exact, 15)
            rows.append({"sparsity": sparsity, "run": run, "mse": update_mse(step * exact, step * plan.delivered(), active),
                         "exact_pulses": int(np.abs(exact).sum()), "vau_pulses": int(np.abs(plan.delivered()).sum()),
                         "cell_operations": int((exact != 0).sum()), "vau_operations": plan.operations()})
    return pd.DataFrame(rows)


def update_transactions(backend: str = "sim-instruments", seed: int = 0) -> pd.DataFrame:
    """Bench transactions and pulses of one update of every cell of the 30x15-cell tile: VAU vs cell by cell."""
    model = load_model("ning-mos2-fefet")
    rng = np.random.default_rng(seed)
    counts = rng.choice([-3, -2, -1, 1, 2, 3], (30, 15))  # every cell of the tile gets an update
    rows = []
    for update, cellwise in (("vau", False), ("cell", True)):
        chip = open_backend(backend, model=model, seed=seed, layout=CellLayout.sparse())
        try:
            layer = SparseAnalogLayer(chip, model, 30, 15, update=update, cell_by_cell=cellwise)
            layer.set_sparsity(np.ones_like(layer.s), on=True)
            pulses, transactions = layer.apply_counts(counts)
        finally:
            chip.close()
        rows.append({"update": "vau" if update == "vau" else "cell-by-cell", "rows": 30, "cols": 15,
                     "cells_updated": int((counts != 0).sum()), "pulses": pulses, "transactions": transactions})
    return pd.DataFrame(rows)


def vau_accuracy(seeds: int = 20, data: Dataset | None = None, run: SparseRun | None = None) -> pd.DataFrame:
    """Final test accuracy of cell-by-cell vs VAU training over ``seeds`` seeds (the chip's 10 % write
    and 4.25 % read noise are the ``ning-mos2-fefet`` preset's)."""
    data = data or synthetic_letters(600, 300, DEFAULT_CLASSES, seed=0)
    run = run or SparseRun(epochs=4, batch_size=50, lr=0.1, schedule=PruneSchedule(0.75, 1, 3))
    rows = []
    for seed in range(seeds):
        for update in ("cell", "vau"):
            df, _ = train_msnet(data, replace(run, update=update, seed=seed))
            last = df.iloc[-1]
            rows.append({"seed": seed, "update": update, "test_accuracy": float(last["test_accuracy"]),
                         "sparsity": float(last["sparsity"]), "pulses": int(df["pulses"].sum()),
                         "transactions": int(df["transactions"].sum())})
    return pd.DataFrame(rows)


def run_vau_mse(out, runs: int = 50, seeds: int = 20, accuracy_data: Dataset | None = None,
                accuracy_run: SparseRun | None = None, transactions_backend: str | None = "sim-instruments") -> dict:
    """Write vau_mse.csv/png, vau_accuracy.csv/summary and update_transactions.csv into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    mse = vau_mse(runs)
    mse.to_csv(out / "vau_mse.csv", index=False)
    acc = vau_accuracy(seeds, accuracy_data, accuracy_run) if seeds else pd.DataFrame()
    summary = pd.DataFrame()
    if len(acc):
        acc.to_csv(out / "vau_accuracy.csv", index=False)
        summary = acc.groupby("update")["test_accuracy"].agg(["mean", "std", "min", "max", "count"]).reset_index()
        summary.to_csv(out / "vau_accuracy_summary.csv", index=False)
    tx = update_transactions(transactions_backend) if transactions_backend else pd.DataFrame()
    if len(tx):
        tx.to_csv(out / "update_transactions.csv", index=False)
    if plots_wanted():
        _plot_vau(mse, acc, out / "vau_mse.png")
    return {"mse": mse, "accuracy": acc, "summary": summary, "transactions": tx}


def _plot_vau(mse: pd.DataFrame, acc: pd.DataFrame, path: Path) -> None:
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2 if len(acc) else 1, figsize=(9 if len(acc) else 5, 3.5), squeeze=False)
    levels = sorted(mse["sparsity"].unique())
    axes[0, 0].boxplot([mse.loc[mse["sparsity"] == s, "mse"] for s in levels], tick_labels=[f"{s:.0%}" for s in levels])
    axes[0, 0].set(xlabel="sparsity", ylabel="MSE of VAU vs cell-by-cell (w units)")
    if len(acc):
        axes[0, 1].boxplot([100 * acc.loc[acc["update"] == u, "test_accuracy"] for u in ("cell", "vau")],
                           tick_labels=["cell-by-cell", "VAU"], whis=(0, 100))
        axes[0, 1].set(ylabel="test accuracy (%)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def classify_word(net, word: str = WORD, classes: str = DEFAULT_CLASSES, seed: int = 12345) -> tuple[np.ndarray, str]:
    """Render ``word`` letter by letter (a fresh synthetic stream) and classify each; (images, prediction)."""
    from .letters import _fonts, _render

    rng = np.random.default_rng(seed)
    fonts = _fonts()
    picked = class_indices(classes)
    images = np.stack([_render(c, fonts, rng, Distortion()) for c in word]).reshape(len(word), -1)
    predicted = "".join(LETTERS[picked[k]] for k in net.predict(images))
    return images, predicted


def run_sparse_letters(out, sparsity: float = 0.75, backend: str = "sim", update: str = "vau", epochs: int = 20,
                       classes: str | None = DEFAULT_CLASSES, train_samples: int = 6000, test_samples: int = 1000,
                       data: Dataset | None = None, snapshot_epochs=(2, 4, 6, 9, 12, 20), seed: int = 0,
                       features: int | None = None, resume: bool = False, progress: bool = False,
                       visa_log: str | Path | None = None) -> pd.DataFrame:
    """Train MSNet with the FC layer on ``backend`` at ``sparsity``; curve, maps and the word 's-p-a-r-s-e'.

    ``visa_log=FILE`` writes every instrument message of the FC layer's bench (as ``labctl run --visa-log``).
    """
    out = Path(out)
    data = data or synthetic_letters(train_samples, test_samples, classes, seed=seed)
    features = features or (75 if backend == "sim" else 25)
    run = SparseRun(backend=backend, update=update, epochs=epochs, lr=0.1, lr_final=0.03, batch_size=20, max_pulses=5, features=features,
                    schedule=PruneSchedule(sparsity, 3, max(3, min(9, epochs - 2))), seed=seed,
                    snapshot_epochs=tuple(snapshot_epochs), extra={"visa_log": str(visa_log)} if visa_log else {})
    df, net = train_msnet(data, run, out=out, resume=resume, progress=progress, close=False)
    try:  # the word is classified on the trained array, so it stays open until then
        if plots_wanted():
            _plot_maps(df.attrs["maps"], out / "maps.png")
        word_classes = classes or LETTERS
        if set(WORD) <= set(word_classes):
            images, predicted = classify_word(net, WORD, word_classes)
            if plots_wanted():
                _plot_word(images, predicted, out / "word.png")
            (out / "word.txt").write_text(f"true: {'-'.join(WORD)}\npredicted: {'-'.join(predicted)}\n")
            df.attrs["word"] = predicted
    finally:
        if isinstance(net.fc, SparseAnalogLayer):
            net.fc.backend.close()
    return df


def _plot_maps(maps: dict, path: Path) -> None:
    if not maps:
        return
    plt = _pyplot()
    epochs = sorted(maps)
    fig, axes = plt.subplots(2, len(epochs), figsize=(1.6 * len(epochs) + 1, 6), squeeze=False)
    for k, e in enumerate(epochs):
        axes[0, k].imshow(np.array(maps[e]["weight"]) * np.array(maps[e]["sparsity"]), aspect="auto", cmap="viridis", vmin=0, vmax=1)
        axes[0, k].set_title(f"W_eff, epoch {e}", fontsize=8)
        axes[1, k].imshow(maps[e]["sparsity"], aspect="auto", cmap="gray", vmin=0, vmax=1)
        axes[1, k].set_title(f"S, epoch {e}", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _plot_word(images: np.ndarray, predicted: str, path: Path) -> None:
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(images), figsize=(1.2 * len(images), 1.6))
    for ax, img, p in zip(np.atleast_1d(axes), images, predicted):
        ax.imshow(img.reshape(28, 28), cmap="gray")
        ax.set_title(p)
        ax.axis("off")
    fig.savefig(path, dpi=100)
    plt.close(fig)


def run_granularity(out, sparsity: float = 0.75, update: str = "float", epochs: int = 8, train_samples: int = 2000,
                    test_samples: int = 500, classes: str | None = DEFAULT_CLASSES, seed: int = 0,
                    data: Dataset | None = None, assumptions: CostAssumptions = CostAssumptions()) -> pd.DataFrame:
    """Accuracy vs granularity (same schedule) and the latency/energy estimate; writes CSV, MD and PNG."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    data = data or synthetic_letters(train_samples, test_samples, classes, seed=seed)
    rows = []
    for granularity in ("none",) + GRANULARITIES:
        target = 0.0 if granularity == "none" else sparsity
        run = SparseRun(update=update, epochs=epochs, lr=0.1, batch_size=50, seed=seed,
                        granularity="element" if granularity == "none" else granularity,
                        schedule=PruneSchedule(target, 1, max(1, epochs - 2)))
        df, _ = train_msnet(data, run)
        rows.append({"granularity": granularity, "target_sparsity": target, "sparsity": float(df["sparsity"].iloc[-1]),
                     "test_accuracy": float(df["test_accuracy"].iloc[-1])})
    table = pd.DataFrame(rows)
    table.to_csv(out / "granularity.csv", index=False)
    costs = estimate_costs(75, data.n_classes, sparsity, load_model("ning-mos2-fefet"), assumptions)
    costs.to_csv(out / "costs.csv", index=False)
    from labctl.training.experiment import markdown_table

    (out / "granularity.md").write_text(
        f"# Accuracy vs sparsity granularity (FC {update}, {len(data.x_train)} training samples)\n\n"
        + markdown_table(table) + "\n\n# Latency / energy per inference of the 75 x "
        f"{data.n_classes} FC layer at {sparsity:.0%} sparsity\n\n" + markdown_table(costs)
        + "\n\n## Assumptions of the estimator\n\n" + assumptions_markdown(assumptions) + "\n")
    if plots_wanted():
        _plot_granularity(table, out / "granularity.png")
    return table


def _plot_granularity(table: pd.DataFrame, path: Path) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.bar(table["granularity"], 100 * table["test_accuracy"])
    ax.set(ylabel="test accuracy (%)", ylim=(max(0, 100 * table["test_accuracy"].min() - 10), 100))
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
