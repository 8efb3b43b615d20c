"""The ``labctl`` command line: a thin layer over the Python API (typer + rich)."""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.table import Column, Table

from .errors import LabctlError

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None,
                  help="FeFET crossbar chip: bench procedures, device models, simulated chip, training.")
console = Console()


@app.callback()
def _root(catalog: str = typer.Option(None, "--catalog", envvar="LABCTL_CATALOG", show_envvar=True,
                                      help="Run catalog file (default in the user data dir; off disables).")) -> None:
    """FeFET crossbar chip: bench procedures, device models, simulated chip, training."""
    from .catalog.session import start_session

    start_session(catalog)


@app.command()
def models() -> None:
    """List the shipped device-model presets with their operating points."""
    from device_models import load_preset, preset_names

    from .units import si

    table = Table(Column("preset", no_wrap=True), "write pulse", "G range", "sparsity device")  # a name: never cut
    for name in preset_names():
        m = load_preset(name)
        op = m.operating_point
        table.add_row(name, f"{si(op.write_amplitude_v, 'V', 4)}, {si(op.write_width_s, 's')}",
                      f"{si(m.weight.g_min_s, 'S')}..{si(m.weight.g_max_s, 'S')}", "yes" if m.sparsity else "no")
    console.print(table)


def _register_commands() -> None:
    """Let every module of :mod:`labctl.commands` add its commands (imports stay lazy inside them)."""
    import importlib
    import pkgutil

    from . import commands

    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        importlib.import_module(f"{commands.__name__}.{info.name}").register(app)


_register_commands()


def main() -> None:
    """Entry point: a ``LabctlError`` becomes a one-line message and exit code 2."""
    try:
        app()
    except LabctlError as exc:
        from rich.markup import escape

        console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(2)
