"""``labctl experiment``: the papers' experiments as one command each."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    experiment = typer.Typer(no_args_is_help=True, help="Reproduce the papers' experiments on the simulated chip.")
    app.add_typer(experiment, name="experiment")

    @experiment.command("garg-energy")
    def garg_energy(
        out: Path = typer.Option(..., help="output directory"),
        full: bool = typer.Option(False, "--full", help="paper scale: all MNIST, 95 % target, at most 15 epochs "
                                  "(about an hour on two cores)"),
        widths: str = typer.Option(None, help="comma-separated subset of 20ns,200ns,2us,20us,200us"),
        algos: str = typer.Option(None, help="comma-separated subset of mpsgd,sgd,symshift"),
        target: float = typer.Option(None, help="test accuracy that counts as reached (default 0.80, --full 0.95)"),
        max_epochs: int = typer.Option(None, help="epoch cap per run (default 8, --full 15)"),
        train_samples: int = typer.Option(None, help="MNIST training samples (default 5000, --full all 60000)"),
        test_samples: int = typer.Option(None, help="MNIST test samples (default and --full: all 10000)"),
        seed: int = typer.Option(0, help="seed of every run"),
        transfer: str = typer.Option("aihwkit", help="mixed-precision transfer: aihwkit (one granularity, "
                                     "as seed 002 ran it) | polarity (labctl train's default)"),
        resume: bool = typer.Option(False, "--resume", help="continue the experiment in OUT (its runs' checkpoints)"),
        overwrite: bool = typer.Option(False, "--overwrite", help="start again in a non-empty OUT "
                                       "(refused without --resume or --overwrite)"),
        progress: bool = typer.Option(True, "--progress/--no-progress"),
    ) -> None:
        """Epochs, pulses and energy to reach the target accuracy, per pulse width and algorithm (seed 002).

        An interrupted experiment continues with the same command and --resume.
        """
        from dataclasses import replace

        from rich.console import Console

        from labctl.runfolder import claim, interrupting
        from labctl.training.experiment import (
            RUN_CHECKPOINTS,
            EnergyExperiment,
            markdown_table,
            readable_summary,
            run_energy_experiment,
        )

        exp = EnergyExperiment.full() if full else EnergyExperiment()
        changes = {"widths": tuple(widths.split(",")) if widths else None,
                   "algos": tuple(algos.split(",")) if algos else None,
                   "target": target, "max_epochs": max_epochs, "train_samples": train_samples,
                   "test_samples": test_samples, "transfer": transfer}
        exp = replace(exp, seed=seed, **{k: v for k, v in changes.items() if v is not None})
        claim(out, resume=resume, overwrite=overwrite, checkpoints=RUN_CHECKPOINTS)
        with interrupting(out, RUN_CHECKPOINTS):
            table = run_energy_experiment(out, exp, progress=progress)
        Console().print(markdown_table(readable_summary(table)))
        Console().print(f"wrote {out / 'summary.csv'}, {out / 'summary.md'}, {out / 'energy_vs_epochs.png'}")
