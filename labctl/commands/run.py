"""``labctl run PROCEDURE``: a procedure headless into a run folder, with a progress bar.

Ctrl-C stops the procedure after the current point (inside a point, before its next backend
operation: ``procedures.replay.StopRequested``): the CSV stays valid up to it, the backend is
closed (outputs off, relays open) and the command exits with code 130 and a one-line message; a
second Ctrl-C interrupts at once (the CSV is still flushed up to the last point).
``--resume`` continues the newest interrupted run of the procedure in ``--out`` after its last
complete point (any procedure; a faulted run too, once the fault is mended). On a bench backend the run is
first simulated (``procedures.dryrun``: seconds, then scaled by the progress made) to print its estimated
bench time and command count; ``--dry-run`` simulates all of it, prints them (every operation of array_map)
and sends nothing. After the run the
bench time (named simulated on a simulated bench), the wall time and the commands are printed and stored
in the run's JSON (``bench_time``); the summary is printed as tables (all digits in the JSON).
"""

from __future__ import annotations

import signal
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from labctl.errors import ConfigError, field_error

EXIT_INTERRUPTED = 130
"""Exit code after Ctrl-C (128 + SIGINT), as shells report it."""

console = Console(stderr=True)
FAULT_HELP = ("Inject a simulated fault KIND@N (repeatable): timeout|disconnect|compliance|error at message N, "
              "stuck-on|stuck-off device N, dead-line row N.")


def parse_params(pairs: list[str]) -> dict[str, str]:
    """``["name=value", ...]`` -> dict; the procedure converts and range-checks the values."""
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise field_error(ConfigError, "--param", pair, "expected name=value")
        out[name.strip()] = value.strip()
    return out


def list_procedures() -> None:
    """Print every procedure with its parameters, units and defaults."""
    from procedures import NAMES, get_spec
    from procedures.params import describe

    out = Console()
    for name in NAMES:
        spec = get_spec(name)
        table = Table("parameter", "label", "unit", "default", "range", title=f"{name}: {spec.title}",
                      title_justify="left")
        for info in describe(spec.params_cls):
            rng = "|".join(map(str, info.choices)) if info.choices else (
                f"{info.minimum:g} .. {info.maximum:g}" if info.minimum is not None else "")
            table.add_row(info.name, info.label, info.units or "", repr(info.default), rng)
        out.print(table)


class _StopFlag:
    """SIGINT handler: the first Ctrl-C asks the procedure to stop, the second raises at once."""

    def __init__(self) -> None:
        self.requested = False
        self._previous = None

    def __call__(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self):
        self._previous = signal.signal(signal.SIGINT, self)
        return self

    def __exit__(self, *exc) -> None:
        signal.signal(signal.SIGINT, self._previous)


@contextmanager
def estimating(what: str, backend: str, how: str):
    """A status line while ``what``'s bench-time estimate runs on a simulated copy of ``backend`` (``how``);
    Ctrl-C ends it and the command (exit 130), saying that nothing was sent."""
    try:
        with console.status(f"estimating {what} on {backend} ({how}; Ctrl-C stops)"):
            yield
    except KeyboardInterrupt:
        console.print(f"interrupted: the estimate of {what} stopped; nothing was sent to the bench and no run "
                      "was started (run the same command again)", highlight=False, soft_wrap=True)
        sys.exit(EXIT_INTERRUPTED)


def confirm_long_run(what: str, estimated_s: float, max_bench_hours: float, known: bool = True) -> None:
    """Ask at a terminal before a run longer than ``max_bench_hours``; refuse (``ConfigError``) elsewhere.

    ``known`` False: the estimate stopped before the run's first point, so its length is unknown beyond
    ``estimated_s``: asked about alike."""
    why = f"{what} would take over {estimated_s / 3600:.1f} h of bench time" if known else \
        (f"{what}'s estimate stopped before its first point, after {estimated_s:.0f} s of bench time: its length "
         "is unknown")
    if sys.stdin.isatty() and sys.stdout.isatty():
        if typer.confirm(f"{why} (more than --max-bench-hours {max_bench_hours:g}). Run it?", default=False):
            return
        raise field_error(ConfigError, "--max-bench-hours", max_bench_hours, f"{why}: not started")
    raise field_error(ConfigError, "--max-bench-hours", max_bench_hours, f"{why}: pass --yes to run it "
                      "(or narrow the run)")


def _chip_of(procedure: str, out: Path, resume: bool, model: str | None, seed: int | None) -> tuple[str, int]:
    """(model, seed) to open: the ones given, else (with ``--resume``) the interrupted run's, else the defaults."""
    from labctl.api import DEFAULT_CHIP_MODEL
    from procedures.runner import interrupted_run

    original = (interrupted_run(procedure, out) or {}) if resume else {}
    return (model or original.get("model") or DEFAULT_CHIP_MODEL,
            seed if seed is not None else int(original.get("seed") or 0))


def run(
    procedure: str = typer.Argument(None, help="Procedure name (see --list)."),
    backend: str = typer.Option("sim", "--backend", help="sim | sim-instruments | BENCH.yaml"),
    model: str = typer.Option(None, "--model", help="Model preset name or model.json [default: ning-mos2-fefet; "
                              "with --resume: the interrupted run's]."),
    seed: int = typer.Option(None, "--seed", help="Seed of the simulated chip [default: 0; with --resume: the "
                             "interrupted run's]."),
    out: Path = typer.Option(Path("runs"), "--out", help="Run folder (created)."),
    param: list[str] = typer.Option([], "--param", help="Procedure parameter name=value (repeatable)."),
    chip_id: str = typer.Option("", "--chip-id", help="Chip id for the header (default: backend and seed)."),
    resume: bool = typer.Option(False, "--resume", help="Continue the interrupted run of PROCEDURE in --out "
                                "from its last complete point."),
    list_: bool = typer.Option(False, "--list", help="List procedures and their parameters."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print command count and estimated bench time "
                                 "(a run on simulated instruments); send nothing."),
    fault: list[str] = typer.Option([], "--fault", help=FAULT_HELP),
    visa_log: Path | None = typer.Option(None, "--visa-log", help="Write one line per instrument message."),
    max_bench_hours: float = typer.Option(8.0, "--max-bench-hours", help="A run estimated longer asks for --yes "
                                          "(refused when not at a terminal)."),
    yes: bool = typer.Option(False, "--yes", help="Run even if the estimate exceeds --max-bench-hours."),
) -> None:
    """Run a bench procedure headless: CSV + plots in --out."""
    if list_:
        list_procedures()
        return
    if not procedure:
        raise field_error(ConfigError, "procedure", procedure, "give a procedure name or --list")
    from procedures import get_spec

    get_spec(procedure)  # a mistyped name is refused before the run's stack loads (~0.5 s)
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from labctl.api import run_procedure
    from labctl.backends import open_backend
    from labctl.summary import summary_tables
    from procedures.dryrun import ESTIMATE_WALL_S, bench_counters, describe_elapsed, describe_estimate, record_bench_time
    from procedures.dryrun import dry_run as estimate_run

    params = parse_params(param)
    model, seed = _chip_of(procedure, out, resume, model, seed)
    estimates = []
    # the estimate, before anything is sent (a resumed run's was printed when it started: a fresh dry
    # run would time the whole run, with today's command-line parameters, against the remainder)
    if dry_run or (backend != "sim" and not resume):
        # seconds before a run (ESTIMATE_WALL_S), minutes for --dry-run of a large one
        with estimating(procedure, backend, "a run on simulated instruments"):
            estimates = estimate_run(procedure, backend, model, seed, params, every_operation=dry_run,
                                     max_bench_s=None if dry_run or yes else 3600 * max_bench_hours,
                                     max_wall_s=None if dry_run else ESTIMATE_WALL_S)
        for e in estimates:
            Console().print(f"{procedure} on {backend}: {describe_estimate(e)}", highlight=False, soft_wrap=True)
        if dry_run:
            return
    estimate = next((e for e in estimates if e.chosen), None)
    if estimate is not None and not yes:
        if estimate.estimated_s > 3600 * max_bench_hours:
            confirm_long_run(procedure, estimate.estimated_s, max_bench_hours)
        elif not estimate.known:  # stopped before its first point, below the budget: how long is unknown
            confirm_long_run(procedure, estimate.estimated_s, max_bench_hours, known=False)
    extra = {"chip_id": chip_id} if chip_id else {}  # else the backend's own (describe())
    bar = Progress(TextColumn(f"[bold]{procedure}"), BarColumn(), TextColumn("{task.percentage:>5.1f}%"),
                   TimeElapsedColumn(), console=console)
    task = bar.add_task(procedure, total=100, start=False)

    def on_emit(topic, value):
        if topic == "progress":
            if not bar.live.is_started:  # started at the first point: refusals print no bar
                bar.start()
                bar.start_task(task)
            bar.update(task, completed=float(value))

    with _StopFlag() as stop, open_backend(backend, model=model, seed=seed, visa_log=visa_log, faults=fault) as chip:
        start, wall_start = bench_counters(chip), time.perf_counter()
        try:
            df, _ = run_procedure(procedure, chip, out, emit=on_emit, resume=resume,
                                  should_stop=lambda: stop.requested, **extra, **params)
            csv = df.attrs["csv_path"]
        except KeyboardInterrupt:
            bar.stop()
            chip.close()
            console.print(f"interrupted: {procedure} stopped at once, outputs off and relays open; data up to the "
                          f"last point in {out} (continue with --resume)", highlight=False, soft_wrap=True)
            sys.exit(EXIT_INTERRUPTED)
        finally:
            bar.stop()
        elapsed_s, commands = (b - a for a, b in zip(start, bench_counters(chip)))
        simulated = chip.simulation is not None
    timing = record_bench_time(csv.with_suffix(".json"), estimate, elapsed_s, int(commands),
                               time.perf_counter() - wall_start, simulated)
    Console().print(f"{procedure}: {describe_elapsed(timing)}", highlight=False, soft_wrap=True)
    if df.attrs.get("status") != "completed":
        console.print(f"interrupted: {procedure} stopped after {len(df)} records, outputs off and relays open; "
                      f"CSV valid: {csv} (continue with --resume)",
                      highlight=False, soft_wrap=True)
        sys.exit(EXIT_INTERRUPTED)
    out_console = Console()
    out_console.print(f"{procedure}: {len(df)} records -> {csv}; summary (all digits in {csv.stem}.json):")
    for table in summary_tables(df.attrs.get("summary", {}), procedure):
        out_console.print(table)


def register(app: typer.Typer) -> None:
    app.command("run")(run)
