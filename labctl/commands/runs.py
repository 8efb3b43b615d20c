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
        from rich.table import Table

        from labctl.catalog import Catalog, parse_query, select_runs

        rows = select_runs(Catalog(), {**parse_query(query), "kind": kind, "name": name, "chip": chip,
                                       "since": since, "status": status})
        table = Table(title=f"{len(rows)} run(s)")
        table.add_column("id", no_wrap=True, min_width=12)  # never cut: `labctl runs show ID` needs it
        for column in ("kind", "name", "status", "chip", "devices", "model", "started (UTC)"):
            table.add_column(column, no_wrap=True)
        table.add_column("folder", overflow="fold")
        for r in rows[:limit]:
            table.add_row(r["id"], r["kind"], r["name"], _status(r["status"]), r["chip_id"] or "",
                          _short(r["device_ids"]), r["model_id"] or "", (r["started"] or "")[:19],
                          r["folder"], end_section=False)
        Console().print(table)

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
        """Rebuild the catalog rows from the run folders (sidecars and metadata files)."""
        from labctl.catalog import Catalog, reindex

        report = reindex(Catalog(), roots or [])
        typer.echo(f"indexed {report.indexed} run(s) under {', '.join(map(str, report.roots)) or 'no root'}; "
                   f"removed {report.removed}; marked interrupted {len(report.interrupted)}")


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
