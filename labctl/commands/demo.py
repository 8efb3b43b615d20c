"""``labctl demo``: the main job on the simulated chip (what ``make demo`` runs)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        out: Annotated[Optional[Path], typer.Option(help="Run folder (default runs/<timestamp>).")] = None,
        quick: Annotated[bool, typer.Option(help="Small version that finishes in under 2 minutes.")] = False,
        seed: Annotated[int, typer.Option(help="Seed of the simulated chip and the training.")] = 0,
        overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace the run in a non-empty --out "
                                                "(refused without it).")] = False,
    ) -> None:
        """Characterise the simulated chip, fit a device model, train a network with it."""
        from rich.console import Console

        from labctl.demo import default_run_dir, run_demo
        from labctl.runfolder import claim

        out = out or default_run_dir()
        claim(out, resume=False, overwrite=overwrite)
        summary = run_demo(out, quick=quick, seed=seed)
        console = Console()
        console.print(f"[bold]run folder[/bold] {out}")
        console.print(f"test accuracy {summary['train']['final_test_accuracy']:.3f}, "
                      f"{summary['train']['pulses']} pulses, {summary['train']['energy_j']:.3g} J")
        stages = ", ".join(f"{k.removesuffix('_s')} {v:.3g} s" for k, v in summary["timing_s"].items())
        console.print(f"wall time: {stages}", highlight=False)
