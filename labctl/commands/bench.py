"""``labctl bench check`` and ``labctl bench safe``: inspect the bench, or force it into a safe state."""

from __future__ import annotations

from pathlib import Path

import typer

CONFIG_HELP = "bench file (bench.yaml), or sim-instruments for the simulated bench"
FAULT_HELP = "inject a simulated fault KIND@N (repeatable; simulated instruments only), see labctl run --help"
LOG_HELP = "write one line per instrument message: t_s, instrument, write|query|read, message"


def register(app: typer.Typer) -> None:
    bench = typer.Typer(no_args_is_help=True, help="Check the bench instruments or put them in a safe state.")
    app.add_typer(bench, name="bench")

    @bench.command("check")
    def check(config: str = typer.Option(..., "--config", help=CONFIG_HELP),
              visa_log: Path | None = typer.Option(None, "--visa-log", help=LOG_HELP),
              store: bool = typer.Option(False, "--store", help="write the measured round trip into the bench file"),
              fault: list[str] = typer.Option([], "--fault", help=FAULT_HELP)) -> None:
        """Read IDNs, modules and cards, compare them with the bench file and probe-card map.

        Sends queries only: nothing on the bench changes (``--store`` edits the bench file, not the bench).
        """
        from rich.console import Console
        from rich.table import Table

        from labctl.backends import fault_options, open_bench_link
        from labctl.benchcheck import check_bench, make_safe, store_round_trip
        from labctl.journal import recover_unclean
        from labctl.errors import ConfigError, InstrumentError
        from labctl.visalog import VisaLog, WallClock

        cfg, adapters, world = open_bench_link(config, **fault_options(config, fault))
        clock = world.clock if world else WallClock()
        log = VisaLog(visa_log, clock)
        try:
            recover_unclean(cfg.path, lambda: make_safe(cfg, adapters, log))
            rows, round_trip = check_bench(cfg, adapters, clock, log)
        finally:
            log.close()
        table = Table("check", "expected", "found", "ok", title=f"bench check: {cfg.path}")
        for row in rows:
            table.add_row(row.item, row.expected, row.found, "[green]yes[/green]" if row.ok else "[red]NO[/red]")
        Console().print(table)
        Console().print(f"measured round trip {round_trip:.4g} s per query; {log.messages} messages sent")
        if store:
            if world is not None and config == "sim-instruments":
                raise ConfigError("--store: pass a bench file path, not sim-instruments (the shipped file)")
            store_round_trip(cfg.path, round_trip)
            Console().print(f"stored timings.round_trip_s = {round_trip:.4g} in {cfg.path}")
        failed = [r.item for r in rows if not r.ok]
        if failed:
            raise InstrumentError(f"bench check failed: {', '.join(failed)}")

    @bench.command("safe")
    def safe(config: str = typer.Option(..., "--config", help=CONFIG_HELP),
             visa_log: Path | None = typer.Option(None, "--visa-log", help=LOG_HELP),
             fault: list[str] = typer.Option([], "--fault", help=FAULT_HELP)) -> None:
        """Switch every B1500 output off, then open every relay (after a crash or an interrupted run)."""
        from labctl.backends import fault_options, open_bench_link
        from labctl.benchcheck import make_safe
        from labctl.journal import clear_unclean
        from labctl.visalog import VisaLog, WallClock

        cfg, adapters, world = open_bench_link(config, **fault_options(config, fault))
        log = VisaLog(visa_log, world.clock if world else WallClock())
        try:
            make_safe(cfg, adapters, log)
        finally:
            log.close()
        cleared = clear_unclean(cfg.path)
        note = f"; cleared {cleared} unclean session marker(s)" if cleared else ""
        typer.echo(f"outputs off, relays open on {', '.join(cfg.switches)} ({log.messages} messages){note}")
