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
        full: bool = typer.Option(False, "--full", help="paper scale: all MNIST, 95 % target, 25 epochs (hours)"),
        widths: str = typer.Option(None, help="comma-separated subset of 20ns,200ns,2us,20us,200us"),
        algos: str = typer.Option(None, help="comma-separated subset of mpsgd,sgd,symshift"),
        progress: bool = typer.Option(True, "--progress/--no-progress"),
    ) -> None:
        """Epochs, pulses and energy to reach the target accuracy, per pulse width and algorithm (seed 002)."""
        from dataclasses import replace

        from rich.console import Console

        from labctl.training.experiment import EnergyExperiment, markdown_table, run_energy_experiment

        exp = EnergyExperiment.full() if full else EnergyExperiment()
        if widths:
            exp = replace(exp, widths=tuple(widths.split(",")))
        if algos:
            exp = replace(exp, algos=tuple(algos.split(",")))
        table = run_energy_experiment(out, exp, progress=progress)
        Console().print(markdown_table(table))
        Console().print(f"wrote {out / 'summary.csv'}, {out / 'summary.md'}, {out / 'energy_vs_epochs.png'}")
