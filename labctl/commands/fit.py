"""``labctl fit``: measured LTP/LTD files -> a device model JSON, a fit-quality table and PNG plots."""

from __future__ import annotations

from pathlib import Path

import typer

from labctl.errors import ConfigError

COL = "a column name or 0-based number"


def register(app: typer.Typer) -> None:
    app.command("fit")(fit)


def fit(
    files: list[Path] = typer.Argument(None, help="Measured pulse-train files (our procedure CSV or CSV/TSV)."),
    out: Path = typer.Option(..., "--out", "-o", help="Model JSON to write; PNG plots go next to it."),
    columns: str = typer.Option(None, help="Names of the columns of a header-less file, comma-separated."),
    rows: str = typer.Option(None, help="Keep the rows where this pandas query is true, e.g. \"Type == 'read'\" "
                             "(backticks around names with spaces; `index` is the data row from 0)."),
    pulse_col: str = typer.Option(None, help=f"Pulse-number column ({COL}; a restart starts a new train)."),
    amplitude_col: str = typer.Option(None, help=f"Signed write-amplitude column in V ({COL})."),
    conductance_col: str = typer.Option(None, help=f"Conductance column(s) in S ({COL}; comma-separated to average)."),
    resistance_col: str = typer.Option(None, help="Resistance column(s) in ohm, e.g. R_neg_ohm,R_pos_ohm."),
    current_col: str = typer.Option(None, help="Read-current column(s) in A, averaged (needs a read voltage)."),
    read_voltage_col: str = typer.Option(None, help=f"Per-row read-voltage column in V ({COL})."),
    width_col: str = typer.Option(None, help=f"Pulse-width column in s ({COL})."),
    width_s: float = typer.Option(None, help="Pulse width in s when the file has no width column or header."),
    read_voltage: float = typer.Option(None, help="Read voltage in V."),
    polarity: str = typer.Option("auto", help="Amplitude sign that raises G: auto, positive or negative."),
    branch: str = typer.Option("both", help="Phases to fit: both, ltp or ltd (the other from the base model)."),
    scale: str = typer.Option("auto", help="Conductance axis: auto (log beyond a decade), linear or log."),
    force: bool = typer.Option(False, "--force", help="Write a model that fails the gate (marked \"gate\": \"failed\")."),
    base_model: str = typer.Option("garg-hzo-2us", help="Model whose kinetics/retention/transfer the fit keeps."),
    kind: str = typer.Option("pulse", "--kind", help="pulse (LTP/LTD trains -> a model) or retention "
                             "(G, R or I vs time -> a law and a projection with its interval)."),
    time_col: str = typer.Option(None, help=f"Retention: time-after-programming column ({COL}; unit from its name)."),
    project_s: float = typer.Option(None, help="Retention: projection time in s after programming (default 10 years)."),
    retention: Path = typer.Option(None, "--retention", help="Retention JSON (labctl fit FILE --kind retention): "
                                   "the model's devices relax as measured instead of as the base model's."),
    runs: str = typer.Option(None, "--runs", help="Fit every complete cataloged procedure run matching this "
                             "query, e.g. \"name=ltp_ltd chip=C7 width=20e-9\" (see `labctl runs list`)."),
    pool: bool = typer.Option(False, "--pool", help="Let --runs pool runs of different pulse widths or amplitudes."),
) -> None:
    """Fit LTP/LTD step curves (poly5 vs soft bounds by AIC), bounds and noise; gate and write a model JSON.
    With --kind retention, fit a retention log instead: its law, a projection with its interval, a PNG."""
    from rich.console import Console

    from device_models.fitting import fit_files, save_fit
    from device_models.fitting.retention import with_measured_retention
    from labctl.catalog import recorded
    from labctl.catalog.fitruns import files_of_query

    if kind == "retention":
        from labctl.retention_fit import fit_retention_file

        return fit_retention_file(list(files or []), out, project_s, time_col=time_col, conductance_col=conductance_col,
                                  resistance_col=resistance_col, current_col=current_col, read_voltage=read_voltage,
                                  read_voltage_col=read_voltage_col, columns=columns, rows=rows)
    if kind != "pulse":
        raise ConfigError(f"--kind {kind!r}: choose pulse or retention")
    selected, pooled = files_of_query(runs, pool=pool) if runs else ([], "")
    files = list(files or []) + selected
    if not files:
        raise ConfigError("give measured files or --runs QUERY")
    options = {k: v for k, v in dict(pulse_col=pulse_col, amplitude_col=amplitude_col,
                                     conductance_col=conductance_col, resistance_col=resistance_col,
                                     current_col=current_col, width_col=width_col, width_s=width_s,
                                     read_voltage=read_voltage, polarity=polarity, columns=columns, rows=rows,
                                     read_voltage_col=read_voltage_col, branch=branch, scale=scale).items()
               if v is not None}
    console = Console(highlight=False, soft_wrap=True)
    recorded_as = {"base_model": base_model, "runs": runs, "retention": str(retention) if retention else None,
                   "force": force}
    with recorded("fit", out.stem, out, extra={"parameters": {**recorded_as, **options}}):
        result = fit_files(list(files), base_model=base_model, **options)
        if retention is not None:
            result.model = with_measured_retention(result.model, retention)
        for ms in result.measurements:
            console.print(f"{ms.path}:")
            for line in ms.decisions:
                console.print(f"  {line}")
        for line in result.decisions:
            console.print(line)
        if pooled:
            console.print(pooled)
        print_report(console, result, len(files), retention)
        written = save_fit(result, out, force=force)
    if result.gate:
        console.print(f"warning: the model fails the gate ({'; '.join(result.gate)}); written because of --force, "
                      "marked \"gate\": \"failed\"")
    console.print("wrote " + ", ".join(str(p) for p in written))


def print_report(console, result, n_files: int, retention: Path | None = None) -> None:
    """The fit-quality table, one column per fitted phase, the spreads, retention and symmetry point."""
    from rich.table import Table

    from device_models.fitting.variation import why_borrowed

    report = result.report
    table = Table("quantity", *report.index, title=f"fit of {n_files} file(s)")
    rows = [("model (lower AIC)", "model", "{}"), ("nRMSE, mean trace vs fit", "nrmse_mean", "{:.4f}"),
            ("nRMSE, every reading vs fit", "nrmse_readings", "{:.4f}"),
            ("nRMSE, replay of the protocol", "replay_nrmse", "{:.4f}"), ("AIC poly5", "aic_poly5", "{:.1f}"),
            ("AIC soft bounds", "aic_soft_bounds", "{:.1f}"), ("Gmin (S)", "g_min_s", "{:.4g}"),
            ("Gmax (S)", "g_max_s", "{:.4g}"), ("c2c write noise (rel.)", "c2c_write", "{:.3f}"),
            ("c2c from", "c2c_source", "{}"),
            ("bound (LTP: Gmax, LTD: Gmin)", "bound", "{}"),
            ("read noise (rel.)", "read_noise", "{:.3f}"), ("d2d step spread (rel.)", "d2d_step", "{:.3f}"),
            ("d2d step from", "d2d_step_source", "{}"),
            ("trains", "n_trains", "{}")]
    for label, column, fmt in rows:
        table.add_row(label, *(fmt.format(v) for v in report[column]))
    console.print(table)
    devices = {d for tr in result.trains.values() for d in tr.device}
    v = result.model.weight.variation
    base = result.model.provenance["base_model"]
    borrowed = "".join(f"; {k} from base model {base!r}: {why}" for k in ("bounds", "step")
                       if (why := why_borrowed(report[f"d2d_{k}_source"].iloc[0])) is not None)
    console.print(f"device-to-device spread over {len(devices)} devices in {n_files} file(s): "
                  f"bounds {v.d2d_bounds:.4f}, step {v.d2d_step:.4f} (relative{borrowed})")
    if retention is not None:
        r = result.model.provenance["retention"]
        console.print(f"retention from {retention}: relaxes toward {r['relaxed_state']:.3f} of the range with "
                      f"nu {r['nu']:.3g}, t0 {r['t0_s']:.3g} s ({r['law']} law)"
                      + (f"; {r['held']}" if "held" in r else ""))
    console.print(f"symmetry point {result.symmetry_point:.3f} of the range; gate "
                  + ("passed" if not result.gate else "FAILED: " + "; ".join(result.gate)))
