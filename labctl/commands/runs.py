"""``labctl runs``: list, show, export and reindex the run catalog (see :mod:`labctl.catalog`)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

QUERY_HELP = "filters key=value, e.g. \"name=ltp_ltd chip=C7 width=20e-9\" (parameters match with or without unit)"


def register(app: typer.Typer) -> None:
    runs = typer.Typer(no_args_is_help=True, help="The run catalog: every procedure, fit, training and demo run.")
    app.add_typer(runs, name="runs")

    @runs.command("list")
    def list_runs(kind: str = typer.Option(None, help="procedure | fit | train | experiment | sweep | demo"),
                  name: str = typer.Option(None, help="procedure name, model name or algorithm"),
                  chip: str = typer.Option(None, help="chip id"),
                  since: str = typer.Option(None, help="started on or after this date/time (ISO, local time)"),
                  status: str = typer.Option(None, help="running | complete | interrupted | failed"),
                  query: str = typer.Option(None, "--query", "-q", help=QUERY_HELP),
                  limit: int = typer.Option(50, help="show at most this many (newest first)")) -> None:
        """Runs in the catalog, newest first."""
        from rich.console import Console

        from labctl.catalog import Catalog, parse_query, select_runs

        catalog = Catalog()
        rows = select_runs(catalog, _filters(parse_query(query), kind=kind, name=name, chip=chip, since=since,
                                             status=status))
        console = Console()
        console.print(_runs_table(rows[:limit], len(rows), console.width))
        console.print(f"catalog {catalog.path} (--catalog or LABCTL_CATALOG to use another)", highlight=False,
                      soft_wrap=True)

    @runs.command("show")
    def show(run_id: str = typer.Argument(..., help="run id (a unique prefix is enough)")) -> None:
        """Parameters, files and lineage (input runs, runs that used it, stages) of one run."""
        from rich.console import Console
        from rich.table import Table

        from labctl.catalog import Catalog

        catalog = Catalog()
        full = catalog.resolve(run_id)
        r = catalog.runs("WHERE id=?", (full,))[0]
        console = Console()
        console.print(f"[bold]{r['kind']} {r['name']}[/bold] {r['id']}  {_status(r['status'])}")
        for key in ("started", "ended", "folder", "primary_file", "backend", "chip_id", "device_ids", "model_id",
                    "seed", "temperature_k", "git_revision", "instrument_idns", "pid", "host", "parent_id"):
            if r[key] not in (None, ""):
                console.print(f"  {key}: {r[key]}", highlight=False, soft_wrap=True)
        _kv_table(console, "parameters", r["parameters"])
        _kv_table(console, "summary", r["summary"])
        files = Table("file", "bytes", "sha256", title="files")
        for f in catalog.files(full):
            files.add_row(f["path"], str(f["size_bytes"]), f["sha256"][:16])
        console.print(files)
        inputs = catalog.input_runs(full)
        lineage = Table("relation", "run", "kind", "name", "chip", "via", title=f"lineage ({len(inputs)} input runs)")
        for i in inputs:
            lineage.add_row(f"input ({i['role']})", i["id"], i["kind"], i["name"], i["chip_id"] or "", i["input"])
        for o in catalog.output_runs(full):
            lineage.add_row(f"used by ({o['role']})", o["id"], o["kind"], o["name"], "", "")
        for c in catalog.children(full):
            lineage.add_row("stage", c["id"], c["kind"], c["name"], "", c["status"])
        console.print(lineage)

    @runs.command("export")
    def export(query: str = typer.Argument("", help=QUERY_HELP),
               out: Path = typer.Option(..., "--out", "-o", help="CSV file to write")) -> None:
        """Write the matching runs as a CSV table (one row per run, parameters as JSON)."""
        from labctl.catalog import query as run_query

        df = run_query(query)
        for column in ("parameters", "summary"):
            df[column] = [json.dumps(v, sort_keys=True, default=str) for v in df[column]]
        out.parent.mkdir(parents=True, exist_ok=True)
        df.to_csv(out, index=False)
        typer.echo(f"{len(df)} run(s) -> {out}")

    @runs.command("reindex")
    def reindex_command(roots: list[Path] = typer.Argument(None, help="run folders to walk (remembered); "
                                                           "default: the remembered ones")) -> None:
        """Rebuild the catalog rows from the run folders; drop rows whose run file is gone (all, without ROOTS)."""
        from labctl.catalog import Catalog, reindex

        report = reindex(Catalog(), roots or [])
        typer.echo(f"indexed {report.indexed} run(s) under {', '.join(map(str, report.roots)) or 'no root'}; "
                   f"removed {report.removed} row(s) whose run file is gone; marked interrupted "
                   f"{len(report.interrupted)}")


WIDE = 120
"""Terminal width from which ``runs list`` adds devices, start time and folder (narrower, they would
squeeze the names one types into a query)."""


def _runs_table(rows: list[dict], matched: int, width: int):
    """The ``runs list`` table: ids never wrap, names wrap whole (``overflow="fold"``), nothing is cut."""
    from rich.table import Table

    wide = width >= WIDE
    table = Table(title=f"{matched} run(s)" if wide or not rows else
                  f"{matched} run(s); devices, start and folder: `labctl runs show ID` or a wider terminal")
    table.add_column("id", no_wrap=True, min_width=12)  # `labctl runs show ID` needs it whole
    extra = ("devices", "started (UTC)", "folder") if wide else ()
    for column in ("kind", "name", "status", "chip", "model", *extra):
        table.add_column(column, overflow="fold", no_wrap=column in ("kind", "status"))
    for r in rows:
        cells = [r["id"], r["kind"], r["name"], _status(r["status"]), r["chip_id"] or "", r["model_id"] or ""]
        if wide:
            cells += [_short(r["device_ids"]), (r["started"] or "")[:19], r["folder"]]
        table.add_row(*cells)
    return table


def _filters(query: dict, **options) -> dict:
    """The query's filters and the options given; an option contradicting the query's key is refused."""
    from labctl.errors import ConfigError

    given = {key: value for key, value in options.items() if value is not None}
    for key, value in given.items():
        if key in query and query[key] != value:
            raise ConfigError(f"--query {key}={query[key]} contradicts --{key} {value}: give one")
    return {**query, **given}


def _status(status: str) -> str:
    colour = {"complete": "green", "running": "cyan", "interrupted": "yellow", "failed": "red"}.get(status, "white")
    return f"[{colour}]{status}[/{colour}]"


def _short(text: str | None, n: int = 24) -> str:
    text = text or ""
    return text if len(text) <= n else text[: n - 1] + "…"


def _kv_table(console, title: str, values: dict) -> None:
    from rich.table import Table

    if not values:
        return
    table = Table("key", "value", title=title)
    for key, value in values.items():
        text = json.dumps(value, default=str) if isinstance(value, (dict, list)) else str(value)
        table.add_row(key, _short(text, 120))
    console.print(table)
