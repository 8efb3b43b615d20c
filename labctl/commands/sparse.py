"""``labctl experiment vau-mse | sparse-letters | granularity``: seed 000's sparse-training experiments.

The commands join the ``experiment`` group that :mod:`labctl.commands.experiment` creates (modules
register in name order, so it exists by now); without it they get their own group.
"""

from __future__ import annotations

from pathlib import Path

import typer


def _experiment_group(app: typer.Typer) -> typer.Typer:
    for group in app.registered_groups:
        if group.name == "experiment":
            return group.typer_instance
    group = typer.Typer(no_args_is_help=True, help="Reproduce the papers' experiments on the simulated chip.")
    app.add_typer(group, name="experiment")
    return group


def _data(emnist: Path | None, classes: str | None, train: int, test: int, seed: int):
    if emnist is None:
        return None
    from labctl.sparse.letters import load_emnist_letters

    return load_emnist_letters(emnist, classes, train, test)


def register(app: typer.Typer) -> None:
    experiment = _experiment_group(app)

    @experiment.command("vau-mse")
    def vau_mse(
        out: Path = typer.Option(..., help="output directory"),
        runs: int = typer.Option(50, help="random updates per sparsity level"),
        seeds: int = typer.Option(20, help="training seeds per update method (0 skips the accuracy part)"),
        epochs: int = typer.Option(4, help="epochs of each accuracy run"),
        train_samples: int = typer.Option(600, help="synthetic training letters per accuracy run"),
        transactions_backend: str = typer.Option("sim-instruments", help="backend of the transaction count ('' skips)"),
    ) -> None:
        """MSE of VAU vs cell-by-cell per sparsity, accuracy of both over seeds, bench transactions per update."""
        from rich.console import Console

        from labctl.sparse.experiments import DEFAULT_CLASSES, run_vau_mse
        from labctl.sparse.letters import synthetic_letters
        from labctl.sparse.pruning import PruneSchedule
        from labctl.sparse.training import SparseRun
        from labctl.training.experiment import markdown_table

        run = SparseRun(epochs=epochs, batch_size=50, lr=0.1, schedule=PruneSchedule(0.75, 1, max(1, epochs - 1)))
        data = synthetic_letters(train_samples, max(train_samples // 2, 100), DEFAULT_CLASSES, seed=0)
        result = run_vau_mse(out, runs, seeds, data, run, transactions_backend or None)
        console = Console()
        console.print(markdown_table(result["mse"].groupby("sparsity")[["mse", "vau_operations", "cell_operations"]]
                                     .median().reset_index()))
        if len(result["summary"]):
            console.print(markdown_table(result["summary"]))
        if len(result["transactions"]):
            console.print(markdown_table(result["transactions"]))
        console.print(f"wrote {out}")

    @experiment.command("sparse-letters")
    def sparse_letters(
        out: Path = typer.Option(..., help="output directory"),
        sparsity: float = typer.Option(0.75, help="target sparsity of the FC layer"),
        backend: str = typer.Option("sim", help="sim | sim-instruments | BENCH.yaml (the FC layer's array)"),
        update: str = typer.Option("vau", help="vau | cell | float"),
        epochs: int = typer.Option(20),
        classes: str = typer.Option("aenprs", help="letters to classify ('all' = 26 classes)"),
        train_samples: int = typer.Option(6000),
        test_samples: int = typer.Option(1000),
        emnist: Path = typer.Option(None, help="directory of EMNIST-letters idx files (default: synthetic letters)"),
        seed: int = typer.Option(0),
        resume: bool = typer.Option(False, "--resume", help="continue from OUT/checkpoint.npz"),
        overwrite: bool = typer.Option(False, "--overwrite", help="replace the run in a non-empty OUT "
                                       "(refused without --resume or --overwrite)"),
        visa_log: Path = typer.Option(None, "--visa-log", help="write one line per instrument message to this file"),
    ) -> None:
        """MSNet with the FC layer on the array: accuracy curve, weight/sparsity maps, 's-p-a-r-s-e'."""
        from labctl.runfolder import claim, interrupting
        from labctl.sparse.experiments import run_sparse_letters

        picked = None if classes == "all" else classes
        claim(out, resume=resume, overwrite=overwrite)
        with interrupting(out):
            df = run_sparse_letters(out, sparsity, backend, update, epochs, picked, train_samples, test_samples,
                                    data=_data(emnist, picked, train_samples, test_samples, seed), seed=seed,
                                    resume=resume, progress=True, visa_log=visa_log)
        typer.echo(f"final accuracy {df['test_accuracy'].iloc[-1]:.4f} at sparsity {df['sparsity'].iloc[-1]:.3f}; "
                   f"word: {'-'.join(df.attrs.get('word', '')) or 'n/a'}; wrote {out}")

    @experiment.command("granularity")
    def granularity(
        out: Path = typer.Option(..., help="output directory"),
        sparsity: float = typer.Option(0.75),
        update: str = typer.Option("float", help="float (fast) | cell | vau"),
        epochs: int = typer.Option(8),
        train_samples: int = typer.Option(2000),
    ) -> None:
        """Accuracy vs sparsity granularity, and latency/energy of index-free vs dense vs index-based storage."""
        from labctl.sparse.experiments import run_granularity
        from labctl.training.experiment import markdown_table

        table = run_granularity(out, sparsity, update, epochs, train_samples)
        typer.echo(markdown_table(table))
        typer.echo((out / "granularity.md").read_text().split("# Latency")[1])
