"""``labctl sweep SPEC.yaml --out DIR``: fan simulated procedure runs over a parameter grid with dask."""

from __future__ import annotations

from pathlib import Path

import typer


def sweep(spec_file: Path = typer.Argument(..., help="Sweep spec (YAML): kind (procedure|train), grid, "
                                           "backend, params."),
          out: Path = typer.Option(Path("sweep"), "--out", help="Output folder (created)."),
          scheduler: str = typer.Option("", "--scheduler", help="tcp://host:port of a running dask scheduler "
                                        "(default: a LocalCluster of --workers processes)."),
          workers: int = typer.Option(2, "--workers", help="LocalCluster worker processes.", min=1),
          overwrite: bool = typer.Option(False, "--overwrite", help="Replace the sweep in a non-empty --out "
                                         "(refused without it).")) -> None:
    """Run a simulated procedure or training over every grid point on dask; gather sweep.csv (+ parquet), sweep.png."""
    from rich.console import Console

    from labctl.errors import LabctlError
    from labctl.sweep import load_sweep, open_client, run_sweep, write_outputs

    from labctl.runfolder import claim

    spec = load_sweep(spec_file)
    claim(out, resume=False, overwrite=overwrite)
    err = Console(stderr=True)
    client, cluster = open_client(scheduler or None, workers)
    try:
        where = scheduler or f"LocalCluster ({workers} processes)"
        err.print(f"sweep: {len(spec.points())} runs of {spec.procedure} on {where}", highlight=False)
        result = run_sweep(spec, client, out, say=lambda line: err.print(line, highlight=False, soft_wrap=True))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    paths = write_outputs(result, spec, out)
    Console().print(f"sweep: {len(result.table) - result.failed} completed, {result.failed} failed in "
                    f"{result.wall_s:.1f} s -> {', '.join(str(p) for p in paths)}", highlight=False)
    if result.failed:
        raise LabctlError(f"sweep: {result.failed} of {len(result.table)} runs failed (see {paths[0]})")


def register(app: typer.Typer) -> None:
    app.command("sweep")(sweep)
